"""Loading real weight matrices: .npy, .npz and .safetensors (the safetensors package's numpy API, an
optional extra: pip install "lowbit[safetensors]")."""

import os
import zipfile
from pathlib import Path

import numpy as np

_SUFFIXES = (".npy", ".npz", ".safetensors")


def _is_float(a: np.ndarray) -> bool:
    return a.dtype.kind == "f" or a.dtype.kind == "V" and a.dtype.name.startswith(("bfloat16", "float8_"))


def load_weights(path, name: str | None = None) -> np.ndarray:
    """A float weight array from `path` (.npy, .npz or .safetensors). For .npz and .safetensors files with
    several tensors, `name` picks one (a file with a single tensor needs none; a .npy file takes none).
    Returns the array as stored (float32/16/bf16 kept).

    Raises:
        FileNotFoundError / IsADirectoryError (OSError): no file at `path`, or a directory.
        ValueError: an unsupported suffix, a file that is not valid for its suffix (naming the file), a
            missing tensor name (listing the names there), several tensors and no name, a non-float tensor.
        TypeError: `path` not a str or path, `name` not a str.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str (a tensor name) or None, got {name!r}")
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p} is a directory, not a weight file ({', '.join(_SUFFIXES)})")
    if not p.exists():
        raise FileNotFoundError(f"no weight file at {p}")
    suffix = p.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"unsupported weight file {p.name!r}: expected {', '.join(_SUFFIXES)}")
    if suffix == ".npy":
        if name is not None:
            raise ValueError(f"{p.name} is a .npy file holding one array: name must be None, got {name!r}")
        a = _read(p, lambda: np.load(p, allow_pickle=False))
        return _checked(a, p, None)
    if suffix == ".npz":
        def read_npz():
            with np.load(p, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        return _pick(_read(p, read_npz), name, p)
    try:
        from safetensors.numpy import load_file
    except ImportError:
        msg = "reading .safetensors needs the safetensors package: pip install 'lowbit[safetensors]'"
        raise ImportError(msg) from None
    return _pick(_read(p, lambda: load_file(str(p))), name, p)


def _read(p: Path, reader):
    """reader() with numpy's, zipfile's and safetensors' exceptions for a malformed file turned into
    ValueError naming the file; OSError (permissions, I/O) passes through with the file named."""
    try:
        return reader()
    except OSError as e:
        if isinstance(e, PermissionError | FileNotFoundError | IsADirectoryError):
            raise type(e)(f"cannot read {p}: {e}") from e
        raise ValueError(f"{p.name} is not a valid {p.suffix} weight file: {e}") from None
    except (ValueError, EOFError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise ValueError(f"{p.name} is not a valid {p.suffix} weight file: {e}") from None
    except Exception as e:  # safetensors raises its own SafetensorError (and TypeError on unknown dtypes)
        if type(e).__name__ in ("SafetensorError", "TypeError") or type(e).__module__.startswith("safetensors"):
            raise ValueError(f"{p.name} is not a valid {p.suffix} weight file: {e}") from None
        raise


def _checked(a: np.ndarray, p: Path, key) -> np.ndarray:
    if not _is_float(a):
        where = f"tensor {key!r} in {p.name}" if key is not None else p.name
        raise ValueError(f"{where} holds {a.dtype} values, not float weights (float16, bfloat16, float32, float64)")
    return a


def _pick(tensors: dict, name, p):
    names = sorted(tensors)
    if not names:
        raise ValueError(f"{p.name} holds no tensors")
    if name is None:
        if len(tensors) != 1:
            raise ValueError(f"{p.name} holds {len(tensors)} tensors; name one of {names[:20]}"
                             + (f" (+{len(names) - 20} more)" if len(names) > 20 else ""))
        key = names[0]
    else:
        if name not in tensors:
            import difflib
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"; close matches: {close}" if close else ""
            raise ValueError(f"{p.name} has no tensor {name!r}{hint}; it has {names[:20]}"
                             + (f" (+{len(names) - 20} more)" if len(names) > 20 else ""))
        key = name
    return _checked(tensors[key], p, key)


def minilm(which: str = "layer0_output_dense") -> np.ndarray:
    """The vendored all-MiniLM-L6-v2 matrices (numerics/data/minilm, Apache-2.0): "layer0_output_dense"
    (384 x 1536, heavy outliers) or "layer5_attention_query" (384 x 384)."""
    from importlib import resources
    valid = ("layer0_output_dense", "layer5_attention_query")
    if which not in valid:
        raise ValueError(f"which must be one of {valid}, got {which!r}")
    f = resources.files("numerics") / "data" / "minilm" / f"{which}.npy"
    with f.open("rb") as fh:
        return np.load(fh)
