"""One device and thread choice for every model user, steered by env vars."""

import os

import torch

from pipeline.core.device import set_torch_threads, threads_per_process, torch_device


def test_env_var_overrides_the_device(monkeypatch):
    monkeypatch.setenv("PROFILEGEN_AVATAR_DEVICE", "cpu")
    monkeypatch.setenv("PROFILEGEN_BIO_DEVICE", "cuda:1")
    assert torch_device("avatar") == "cpu"
    assert torch_device("bio") == "cuda:1"


def test_without_env_cuda_when_visible(monkeypatch):
    monkeypatch.delenv("PROFILEGEN_AVATAR_DEVICE", raising=False)
    monkeypatch.delenv("PROFILEGEN_BIO_DEVICE", raising=False)
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert torch_device("avatar") == torch_device("bio") == want


def test_set_torch_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("PROFILEGEN_TORCH_THREADS", "1")
        assert set_torch_threads() == 1 and torch.get_num_threads() == 1
        assert set_torch_threads() == 1 and torch.get_num_threads() == 1  # again: no change
        monkeypatch.delenv("PROFILEGEN_TORCH_THREADS")
        assert set_torch_threads() == (os.cpu_count() or 1) == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def test_threads_per_process_shares_out_the_cores():
    cores = os.cpu_count() or 1
    assert threads_per_process(1) == cores
    assert threads_per_process(cores * 4) == 1
    assert threads_per_process(2) == max(1, cores // 2)
