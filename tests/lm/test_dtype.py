"""`--bio-dtype auto`: decided from the device and the CPU's features, recorded with why."""

import pytest

from pipeline.lm import chat


@pytest.mark.parametrize(
    ("flags", "vendor", "want"),
    [
        ({"avx2", "avx512_bf16", "amx_bf16", "amx_tile"}, "GenuineIntel", "bfloat16"),
        ({"avx2", "avx512_bf16"}, "AuthenticAMD", "bfloat16"),
        # Intel's AVX512-BF16 without AMX: bf16 GEMMs measured slower than fp32 (issue 14).
        ({"avx2", "avx512_bf16"}, "GenuineIntel", "float32"),
        ({"avx2", "fma"}, "AuthenticAMD", "float32"),
        (set(), "", "float32"),
    ],
)
def test_auto_follows_the_cpu_features(monkeypatch, flags, vendor, want):
    monkeypatch.setattr(chat, "cpu_flags", lambda: (flags, vendor))
    monkeypatch.setattr(chat, "torch_device", lambda kind: "cpu")
    got, why = chat.dtype_choice("auto")
    assert got == want and why.startswith("auto: ")
    assert chat.resolve_dtype("auto") == want


def test_a_gpu_and_an_explicit_dtype(monkeypatch):
    monkeypatch.setattr(chat, "cpu_flags", lambda: ({"avx2"}, "GenuineIntel"))
    monkeypatch.setattr(chat, "torch_device", lambda kind: "cuda")
    assert chat.dtype_choice("auto") == ("bfloat16", "auto: a CUDA device")
    assert chat.dtype_choice("float32") == ("float32", "asked for")


def test_this_machine_is_read_and_recorded():
    flags, vendor = chat.cpu_flags()
    rec = chat.model_record(None, "auto", "ab" * 32)
    assert rec["dtype"] == chat.resolve_dtype("auto") and rec["dtype_rule"].startswith("auto: ")
    assert rec["name"] == "smollm2-135m"
    if vendor:  # Linux: /proc/cpuinfo names the vendor and lists the flags
        assert flags
