"""Loading real weight matrices: .npy, .npz and .safetensors (the safetensors package's numpy API, an
optional extra: pip install "lowbit[safetensors]")."""

from pathlib import Path

import numpy as np


def load_weights(path, name: str | None = None) -> np.ndarray:
    """A weight matrix from `path`. For .npz and .safetensors files with several tensors, `name` picks
    one (a file with a single tensor needs none). Returns the array as stored (float32/16/bf16 kept)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no weight file at {p}")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        return np.load(p, allow_pickle=False)
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            return _pick({k: z[k] for k in z.files}, name, p)
    if suffix == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:
            msg = "reading .safetensors needs the safetensors package: pip install 'lowbit[safetensors]'"
            raise ImportError(msg) from None
        return _pick(load_file(str(p)), name, p)
    raise ValueError(f"unsupported weight file {p.name!r}: expected .npy, .npz or .safetensors")


def _pick(tensors: dict, name, p):
    if name is None:
        if len(tensors) != 1:
            raise ValueError(f"{p.name} holds {len(tensors)} tensors; name one of {sorted(tensors)[:10]}")
        return next(iter(tensors.values()))
    if name not in tensors:
        raise KeyError(f"{p.name} has no tensor {name!r}; it has {sorted(tensors)[:10]}")
    return tensors[name]


def minilm(which: str = "layer0_output_dense") -> np.ndarray:
    """The vendored all-MiniLM-L6-v2 matrices (numerics/data/minilm, Apache-2.0): "layer0_output_dense"
    (384 x 1536, heavy outliers) or "layer5_attention_query" (384 x 384)."""
    from importlib import resources
    f = resources.files("numerics") / "data" / "minilm" / f"{which}.npy"
    if not f.is_file():
        raise ValueError(f"which must be 'layer0_output_dense' or 'layer5_attention_query', got {which!r}")
    with f.open("rb") as fh:
        return np.load(fh)
