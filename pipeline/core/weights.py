"""The one checkpoint format: `config.json` beside `model.safetensors` (the diffusers habit).

Every model of profilegen (AvatarGAN, AttributeNet, the bio Llama) saves and loads through
here, so a damaged or foreign checkpoint fails the same way for all of them: one
ProfilegenError line naming the file. torch is imported inside the functions only: the
config hash asks `checkpoint_sha256` for the avatar checkpoint, and must not pay for torch.
"""

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.core.files import atomic_path, atomic_write
from pipeline.errors import ProfilegenError

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"


def save_weights(
    path: str | Path,
    state_dict: dict,
    config: dict[str, Any],
    sort_keys: bool = False,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write PATH/model.safetensors, then PATH/config.json, each atomically. The config goes
    last: a folder with a config is a whole checkpoint. `sort_keys` is the model's choice
    (AvatarGAN keeps its order: `conditions` lists the label columns in order)."""
    from safetensors.torch import save_file

    path = Path(path)
    state = {k: v.detach().contiguous() for k, v in state_dict.items()}
    with atomic_path(path / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp), metadata=metadata)
    atomic_write(path / CONFIG_NAME, json.dumps(config, indent=2, sort_keys=sort_keys) + "\n")


def weight_files(path: str | Path) -> list[Path]:
    """model.safetensors, or the shards of a Hugging Face checkpoint (model-0000k-of-0000n)."""
    path = Path(path)
    if (path / WEIGHTS_NAME).is_file():
        return [path / WEIGHTS_NAME]
    return sorted(path.glob("*.safetensors"))


def load_config(path: str | Path, what: str = "model") -> dict[str, Any]:
    """PATH/config.json as a dict; ProfilegenError if PATH is not a checkpoint or it is no JSON
    object. `what` names the model in messages ("avatar", "attribute-net", ...)."""
    path = Path(path)
    if not (path / CONFIG_NAME).is_file() or not weight_files(path):
        a = "an" if what[:1] in "aeiou" else "a"
        raise ProfilegenError(
            f"{path} is not {a} {what} checkpoint (needs {CONFIG_NAME} and {WEIGHTS_NAME})"
        )
    try:
        config = json.loads((path / CONFIG_NAME).read_text())
        if not isinstance(config, dict):
            raise ValueError(f"a JSON object is needed, got {type(config).__name__}")
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as e:
        raise config_error(path, what, e) from None
    return config


def config_error(path: str | Path, what: str, e: Exception) -> ProfilegenError:
    """The error for a config.json that parses but does not describe a `what` model."""
    return ProfilegenError(f"{Path(path) / CONFIG_NAME} is not a valid {what} config: {e}")


def load_weights(path: str | Path, what: str = "model") -> tuple[dict[str, Any], dict]:
    """(config dict, state dict) of the checkpoint in PATH; every failure is a ProfilegenError."""
    config = load_config(path, what)
    return config, load_state(path)


def load_state(path: str | Path) -> dict:
    """The tensors of PATH's weight file(s), merged."""
    from safetensors.torch import load_file

    state = {}
    for f in weight_files(path):
        try:
            state.update(load_file(str(f)))
        except Exception as e:  # safetensors raises several types for a damaged file
            raise corrupt_error(f, e) from None
    return state


def load_into(module, state: dict, path: str | Path, assign: bool = False) -> None:
    """`module.load_state_dict(state)`, strict: a missing or extra tensor, or one of another
    shape, means the weights are not this model's. `assign`: the module's tensors become
    `state`'s (for a module built on the meta device: no init, no copy)."""
    try:
        module.load_state_dict(state, assign=assign)
    except Exception as e:
        raise corrupt_error(Path(path) / WEIGHTS_NAME, e) from None


def corrupt_error(file: Path, e: Exception) -> ProfilegenError:
    first = (str(e).splitlines() or [type(e).__name__])[0][:200]
    return ProfilegenError(f"{file} is corrupt or of another architecture: {first}")


def checkpoint_sha256(path: str | Path) -> str:
    """sha256 over config.json's bytes, then model.safetensors' bytes: what identifies a
    checkpoint in a dataset's provenance. Reads files only; no torch."""
    files = [Path(path) / CONFIG_NAME, Path(path) / WEIGHTS_NAME]
    for f in files:
        if not f.is_file():
            raise ProfilegenError(f"cannot read checkpoint file {f}: it does not exist")
    # Cached per (path, size, mtime) like core.files.sha256_file: the config hash asks for it
    # several times per shard, and the GAN's weights are 5 MB.
    return _checkpoint_sha256(tuple((str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns)
                                    for f in files))  # fmt: skip


@functools.lru_cache(maxsize=64)
def _checkpoint_sha256(files: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for path, _, _ in files:
        with open(path, "rb") as fh:
            for block in iter(functools.partial(fh.read, 1 << 20), b""):
                h.update(block)
    return h.hexdigest()
