"""CompressedWeight: what a compression method stores (every array counted in bits) and how the
hardware decodes it; the method registry behind numerics.compress, and the checks every method's input
and every stored part pass before any kernel sees them."""

import contextvars
import difflib
import inspect
import math
import numbers
from dataclasses import dataclass, field

import numpy as np

_METHODS: dict = {}
_COMMON = ("w", "bits", "hessian", "seed")  # compress()'s own arguments, passed to every encoder


# whether compress()'s long loops draw a tqdm bar (its `progress` argument; methods called directly: no bar)
_PROGRESS = contextvars.ContextVar("lowbit_compress_progress", default=False)
PROGRESS_DELAY_S = 1.0  # a bar appears only once the loop has run this long: quick calls stay silent


def steps(iterable, total: int, desc: str):
    """`iterable` wrapped in a tqdm bar (to stderr, shown after PROGRESS_DELAY_S) while compress() runs with
    progress=True; the iterable itself otherwise."""
    if not _PROGRESS.get():
        return iterable
    from ..progress import progress_bar
    return progress_bar(iterable, total=total, desc=desc, delay=PROGRESS_DELAY_S, leave=False)


def register(name: str, encode, decode) -> None:
    _METHODS[name] = (encode, decode)


def compression_methods() -> list[str]:
    """Every method name compress() accepts."""
    return list(_METHODS)


def method_options(method: str) -> list[str]:
    """The method-specific keywords compress(w, method, ...) accepts (besides bits, hessian and seed)."""
    return [p for p in inspect.signature(_METHODS[_check_method(method)][0]).parameters if p not in _COMMON]


@dataclass(frozen=True)
class Stored:
    """One stored array and the bits each of its elements takes on the hardware."""

    data: np.ndarray = field(repr=False)
    bits: float

    @property
    def total_bits(self) -> float:
        return float(self.data.size * self.bits)


@dataclass(frozen=True)
class CompressedWeight:
    """A compressed weight matrix (rows = output channels, columns = input features).

    `parts` holds everything stored ({name: Stored}); `meta` the method's fixed configuration (not stored
    per matrix: the trellis shape, the codebook family...); `decode()` rebuilds the float64 matrix from
    the parts alone; `hardware` says what the hardware must store and do to decode."""

    method: str
    shape: tuple
    parts: dict = field(repr=False)
    meta: dict = field(default_factory=dict)
    hardware: dict = field(default_factory=dict)

    def decode(self) -> np.ndarray:
        """The float64 (out, in) matrix. Raises ValueError when a part is missing or was altered so that
        it no longer fits the shape or the code ranges (checked before anything indexes with it)."""
        method = _check_method(self.method)
        shape = self.shape
        if (not isinstance(shape, tuple) or len(shape) != 2
                or not all(isinstance(d, int | np.integer) and not isinstance(d, bool) and d > 0 for d in shape)):
            raise ValueError(f"CompressedWeight.shape must be a tuple of two positive ints, got {shape!r}")
        if not isinstance(self.parts, dict) or not all(isinstance(p, Stored) for p in self.parts.values()):
            raise ValueError("CompressedWeight.parts must be a dict of Stored arrays")
        return _METHODS[method][1](self)

    @property
    def storage_bits(self) -> dict:
        return {k: v.total_bits for k, v in self.parts.items()}

    @property
    def total_bits(self) -> float:
        return float(sum(self.storage_bits.values()))

    @property
    def bits_per_weight(self) -> float:
        """Everything stored (codes, scales, zero points, codebooks, sign vectors, masks) per weight."""
        return self.total_bits / math.prod(self.shape)

    def error(self, w, hessian=None) -> dict:
        """Relative MSE ||W_hat - W||^2 / ||W||^2 (inf for W = 0 unless W_hat = W, then 0) and, with a
        Hessian, the proxy loss tr((W_hat - W) H (W_hat - W)^T)."""
        w = check_weight(w)
        if w.shape != tuple(self.shape):
            raise ValueError(f"w has shape {w.shape}, this CompressedWeight {tuple(self.shape)}")
        d = self.decode() - w
        num, den = float(np.sum(d * d)), float(np.sum(w * w))
        rel = num / den if den > 0 else (0.0 if num == 0 else math.inf)
        out = {"rel_mse": rel, "mse": float(np.mean(d * d))}
        if hessian is not None:
            out["proxy"] = float(np.einsum("ij,jk,ik->", d, check_hessian(hessian, w.shape[1]), d))
        return out


# -- input checks (compress() runs them before any method) ---------------------------------------------------

def _check_method(method) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, one of {compression_methods()}; got {method!r}")
    if method not in _METHODS:
        close = difflib.get_close_matches(method, _METHODS, n=3, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown compression method {method!r}{hint} (valid: {', '.join(_METHODS)})")
    return method


_ML_FLOATS = ("bfloat16", "float8_", "float6_", "float4_")  # ml_dtypes' float types (numpy kind 'V')


def _as_real_array(x, arg: str) -> np.ndarray:
    """x as float64 when its values convert exactly (float16/32/64, bfloat16 and the other ml_dtypes
    floats, integers up to 2^53); TypeError for bool, complex, object, string and wider float dtypes."""
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{arg} must be a rectangular numeric array: {e}") from None
    dt = a.dtype
    if dt.kind == "f" and dt.itemsize <= 8 or dt.kind == "V" and dt.name.startswith(_ML_FLOATS):
        return a.astype(np.float64)
    if dt.kind in "iu":
        if a.size and np.max(np.abs(a.astype(np.float64))) > 2.0**53:
            raise ValueError(f"{arg} holds integers beyond 2^53, which float64 does not hold exactly")
        return a.astype(np.float64)
    what = {"b": "bool (a mask?)", "c": "complex", "O": "object", "U": "string", "S": "bytes"}.get(dt.kind, dt.name)
    raise TypeError(f"{arg} must be a real float (float16, bfloat16, float32, float64) or integer array, "
                    f"got dtype {dt} ({what})")


def check_weight(w) -> np.ndarray:
    """w as a finite float64 (out, in) matrix with at least one row and one column."""
    w = _as_real_array(w, "w")
    if w.ndim != 2:
        hint = "; reshape it to (out, in)" if w.ndim > 2 else ""
        raise ValueError(f"w must be a 2-D (out, in) weight matrix, got shape {w.shape}{hint}")
    if 0 in w.shape:
        raise ValueError(f"w must have at least one row and one column, got shape {w.shape}")
    bad = ~np.isfinite(w)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"w must be finite: w[{i}, {j}] = {w[i, j]} ({int(bad.sum())} non-finite entries)")
    return w


def check_hessian(h, n: int, damp: float = 0.01) -> np.ndarray | None:
    """H (n x n, X^T X over the n input features) as float64: finite, symmetric, with a non-negative
    diagonal that is not all zero, and positive definite once damped by `damp` times its mean diagonal
    (the 1 % the Hessian-aware methods add; any positive semidefinite X^T X passes)."""
    if h is None:
        return None
    h = _as_real_array(h, "hessian")
    if h.shape != (n, n):
        raise ValueError(f"hessian must be ({n}, {n}) (X^T X over the {n} input features), got {h.shape}")
    if not np.isfinite(h).all():
        raise ValueError("hessian must be finite (X^T X of calibration activations)")
    amax = np.abs(h).max()
    if not np.allclose(h, h.T, rtol=1e-8, atol=1e-8 * amax):
        raise ValueError("hessian must be symmetric (X^T X of calibration activations)")
    d = np.diag(h)
    if (d < 0).any():
        j = int(np.argmax(d < 0))
        raise ValueError(f"hessian must be positive semidefinite (X^T X): hessian[{j}, {j}] = {d[j]} < 0")
    if not (d > 0).any():
        raise ValueError("hessian has an all-zero diagonal: no calibration activation reached any input feature")
    damped = h + damp * np.mean(d) * np.eye(n)
    try:
        np.linalg.cholesky(damped)
    except np.linalg.LinAlgError:
        raise ValueError(f"hessian is not positive semidefinite: H + {damp} mean(diag H) I (the damping the "
                         "Hessian-aware methods add) has no Cholesky factor; pass X^T X") from None
    return h


def check_seed(seed):
    """None, a numpy Generator, or an int >= 0 (what numpy.random.default_rng takes)."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int >= 0, a numpy.random.Generator or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return int(seed)


def check_int(value, name: str, lo: int, hi: int | None = None, method: str = "") -> int:
    """An int (not bool) in lo..hi; ValueError naming the option and the valid range otherwise."""
    rng = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
    where = f" for {method}" if method else ""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo or (hi is not None
                                                                                            and value > hi):
        raise ValueError(f"{name} must be an int {rng}{where}, got {value!r}")
    return int(value)


def check_float(value, name: str, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
    """A real number in [lo, hi] (open ends as asked); ValueError naming the option otherwise."""
    interval = f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def check_bool(value, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_bits_choice(bits, valid: tuple, method: str, default):
    """bits among `valid` (ints, or None where listed); ValueError listing them otherwise."""
    if bits is None:
        if None in valid or default is not None:
            return default
    elif not isinstance(bits, bool) and isinstance(bits, int | np.integer) and int(bits) in valid:
        return int(bits)
    raise ValueError(f"bits must be one of {list(valid)} for {method}, got {bits!r}")


# -- the float formats scales are stored in ----------------------------------------------------------------

SCALE_FORMATS = ("fp16", "bf16", "fp32")
_FMAX = {"fp16": 65504.0, "bf16": 3.3895313892515355e38, "fp32": 3.4028234663852886e38}
_FMIN = {"fp16": 2.0**-24, "bf16": 2.0**-133, "fp32": 2.0**-149}  # smallest positive (subnormal)
_BITS = {"fp16": 16, "bf16": 16, "fp32": 32}


def check_scale_format(fmt, name: str = "scale_format") -> str:
    if fmt not in SCALE_FORMATS:
        raise ValueError(f"{name} must be one of {SCALE_FORMATS}, got {fmt!r}")
    return fmt


def scale_bits(fmt: str) -> int:
    return _BITS[fmt]


def to_format(x, fmt: str) -> np.ndarray:
    """Values rounded (ties to even) into fp16, bf16 or fp32, back in float64; overflow gives inf."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        if fmt == "fp16":
            return x.astype(np.float16).astype(np.float64)
        if fmt == "fp32":
            return x.astype(np.float32).astype(np.float64)
    import numerics as nx  # bf16 directly from float64 (a cast through float32 would round twice)
    return nx.get_format("bf16").quantize(x, saturate=False)


def store_scales(x, fmt: str = "fp16", what: str = "scales", hint: str = "", floor: bool = True) -> np.ndarray:
    """Non-negative scales rounded (ties to even) into `fmt`. Overflow (a scale beyond the format's largest
    finite value) raises ValueError naming w, the largest value and the fix. With `floor` (scales that
    divide) a scale that rounds to zero becomes the format's smallest positive value (weights that small
    then decode to multiples of it); without (magnitudes such as binarization alphas) it stays zero."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        s = to_format(x, fmt)
    if not np.isfinite(s).all():
        big = float(np.max(np.where(np.isfinite(x), x, np.inf)))
        fix = ("pass scale_format='fp32' (largest 3.4e38) or scale w down" if fmt != "fp32"
               else "scale w down")
        raise ValueError(f"w is too large for this method's {what} in {fmt}: one would be {big:.4g}, beyond "
                         f"{fmt}'s largest {_FMAX[fmt]:.6g}{hint}; {fix}")
    return np.where(s > 0, s, _FMIN[fmt]) if floor else s


def matrix_scale(x: float, what: str) -> float:
    """The one fp32 scale of a codebook method (E8P, QTIP) whose codebook has no zero: past fp32's largest
    value or below its smallest normal (2^-126, where the scale would lose precision or amplify tiny
    weights to multiples of 2^-149) ValueError; x = 0 (an all-zero matrix) stays 0."""
    s = float(store_scales(np.array([x]), "fp32", what=what, floor=False)[0])
    if x > 0 and s < 2.0**-126:
        raise ValueError(f"w is too small for this method's {what} in fp32: it would be {x:.4g}, below fp32's "
                         f"smallest normal {2.0**-126:.6g}; scale w up")
    return s


def fp16(x) -> np.ndarray:
    """Values as stored in fp16 (scales, codebooks), back in float64."""
    return np.asarray(x, np.float64).astype(np.float16).astype(np.float64)


def rms(x: np.ndarray, axis=None) -> np.ndarray:
    """Root mean square sqrt(mean(x^2)) without overflow or underflow for any finite float64 input: where
    x^2 would leave float64's range (|x| past 1e150 or below 1e-150) the sum is taken of (x / max|x|)^2."""
    x = np.asarray(x, np.float64)
    amax = np.max(np.abs(x), axis=axis, keepdims=True)
    plain = np.sqrt(np.mean(x * x, axis=axis, keepdims=True)) if np.all(amax < 1e150) else None
    if plain is None or np.any((amax > 0) & (amax < 1e-150)):
        safe = np.where(amax > 0, amax, 1.0)
        scaled = np.where(amax > 0, safe * np.sqrt(np.mean((x / safe) ** 2, axis=axis, keepdims=True)), 0.0)
        plain = scaled if plain is None else np.where((amax >= 1e-150) | (amax == 0), plain, scaled)
    return plain.reshape(()) if axis is None else np.squeeze(plain, axis=axis)


# -- stored parts, checked before a decoder indexes with them ----------------------------------------------

def part(cw: CompressedWeight, name: str, shape=None, lo=None, hi=None, integer: bool = False) -> np.ndarray:
    """The data of stored part `name`, checked: present, of `shape` (if given; None entries are free),
    integer-valued if asked, finite, within [lo, hi]. ValueError naming the part otherwise."""
    if name not in cw.parts:
        raise ValueError(f"{cw.method} CompressedWeight has no stored part {name!r} (has {sorted(cw.parts)})")
    a = np.asarray(cw.parts[name].data)
    if shape is not None:
        shape = tuple(shape)
        if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
            raise ValueError(f"{cw.method} part {name!r} has shape {a.shape}, expected {shape} for a "
                             f"{tuple(cw.shape)} matrix")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{cw.method} part {name!r} must be numeric, got dtype {a.dtype}")
    if integer and a.dtype.kind == "f":
        raise ValueError(f"{cw.method} part {name!r} holds codes and must be an integer array, got {a.dtype}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise ValueError(f"{cw.method} part {name!r} holds non-finite values")
    if a.size and ((lo is not None and a.min() < lo) or (hi is not None and a.max() > hi)):
        raise ValueError(f"{cw.method} part {name!r} holds values outside {lo}..{hi} "
                         f"(min {a.min()}, max {a.max()})")
    return a


def meta(cw: CompressedWeight, key: str, valid=None):
    """A meta field, present and (when `valid` is given) one of `valid`."""
    if key not in cw.meta:
        raise ValueError(f"{cw.method} CompressedWeight meta has no {key!r}")
    v = cw.meta[key]
    if valid is not None and v not in valid:
        raise ValueError(f"{cw.method} meta {key!r} = {v!r} is not one of {list(valid)}")
    return v


# -- the one entry point -------------------------------------------------------------------------------------

def compress(w, method: str = "rtn", bits: float | None = None, hessian=None, seed=0, progress: bool = True,
             **options) -> CompressedWeight:
    """Compress the weight matrix `w` (out, in) with `method` at `bits` per weight.

    `hessian` (in x in, X^T X of calibration activations) enables the Hessian-aware methods (GPTQ,
    QuIP#'s BlockLDLQ, QTIP, SliM's allocation, Wanda, SparseGPT); without it the proxy is plain MSE.
    Options are method specific (docs/compression.md lists them; method_options(method) too); an unknown
    option raises TypeError naming it and the valid ones. `progress`: a tqdm bar (stderr) over the
    method's long loops (QTIP's and QuIP#'s column blocks, GPTQ's, AQLM's iterations) once a call has
    run PROGRESS_DELAY_S (1 s); False: never.

    Raises:
        ValueError: w not a finite non-empty 2-D matrix; hessian of the wrong shape, not finite, not
            symmetric, or not positive semidefinite; bits or an option out of range; a dimension the method
            cannot handle; values beyond what the method's stored scale format holds.
        TypeError: non-real dtypes (bool, complex, object), a non-str method, an unknown option, a bad seed.
    """
    method = _check_method(method)
    encode = _METHODS[method][0]
    valid = method_options(method)
    unknown = [k for k in options if k not in valid]
    if unknown:
        raise TypeError(f"{method} takes no option {unknown[0]!r}; its options are {valid or 'none'} "
                        "(besides bits, hessian, seed)")
    w = check_weight(w)
    h = check_hessian(hessian, w.shape[1])
    seed = check_seed(seed)
    progress = check_bool(progress, "progress")
    token = _PROGRESS.set(progress)
    try:
        cw = encode(w, bits=bits, hessian=h, seed=seed, **options)
    finally:
        _PROGRESS.reset(token)
    # the last line of defence: every method checks its own ranges, and a result that still is not finite
    # (values past what a stored format holds) is an error, never a silent NaN
    with np.errstate(all="ignore"):
        bad = not np.isfinite(cw.decode()).all()
    if bad:
        raise ValueError(f"{method} cannot represent this w (max |w| = {np.abs(w).max():.4g}): its stored "
                         "formats overflow; scale w down")
    return cw
