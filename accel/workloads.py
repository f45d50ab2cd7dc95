"""Workloads: a GEMM, and networks of GEMMs (a digits MLP with real trained weights, a transformer block
with MiniLM's shapes and two of its real weight matrices)."""

import re
from dataclasses import dataclass, field

import numpy as np

from .checks import MAX_DIM, check_int, check_real, check_seed, check_str, real_array
from .checks import replace as _replace
from .design import element_name

_SPARSITY = re.compile(r"(\d+):(\d+)")
DISTRIBUTIONS = ("normal", "uniform", "laplace", "student_t3")
SCALINGS = ("auto", "tensor", "channel", "none")


def parse_sparsity(s) -> tuple[int, int] | None:
    """"2:4" -> (2, 4); None -> None."""
    if s is None:
        return None
    if not isinstance(s, str):
        raise TypeError(f"sparsity must be None or 'n:m' such as '2:4', got {s!r} ({type(s).__name__})")
    if not _SPARSITY.fullmatch(s):
        raise ValueError(f"sparsity must be None or 'n:m' such as '2:4', got {s!r}")
    n, m = (int(v) for v in _SPARSITY.fullmatch(s).groups())
    if not 0 < n < m:
        raise ValueError(f"sparsity {s!r} needs 0 < n < m")
    return n, m


def check_analog_fields(w) -> None:
    owner = type(w).__name__
    object.__setattr__(w, "t_seconds", check_real(owner, "t_seconds", w.t_seconds, lo=0, lo_open=False) + 0.0)
    c = w.compensation
    if not (c is None or (isinstance(c, str) and c in ("global", "column"))):
        raise (ValueError if isinstance(c, str) else TypeError)(
            f"{owner}.compensation must be None, 'global' or 'column', got {c!r}")


def _kind(fmt_name: str) -> tuple[str, int | None]:
    """("block", block size) for block formats, ("int", None) / ("float", None) for scalar formats."""
    import numerics as nx
    try:
        f = nx.get_format(fmt_name)
    except ValueError:
        return "block", nx.get_block_format(fmt_name).block_size
    return ("int" if isinstance(f, nx.IntFormat) else "float"), None


def mma_formats(a_format: str, b_format: str) -> tuple[str, str, str | None]:
    """(format A enters the MMA in, format B enters it in, the operand dequantised first or None).

    Mixed precision follows what kernels do. Pairs the emulated MMA takes natively run as they are: two
    scalar formats of one family (FP8 x FP4, INT8 x INT4, FP16 x FP8) and two block formats sharing a block
    size (MXFP8 x MXFP4). Otherwise one operand is dequantised, then the GEMM runs in the other's format
    (Marlin-style weight-only kernels: INT4 group-quantised weights expanded to FP16; W4A8 kernels: INT4 or
    FP4 weights expanded to INT8/FP8): a block-format operand facing a scalar one is decoded and re-rounded
    into the scalar format (with the workload's scaling); of an integer and a float scalar format, the
    narrower is converted to the wider (FP4 weights to INT8 for W4A8; INT8 weights to FP16 for W8A16; at
    equal widths the integer one becomes the float). Two block formats with different block sizes (NVFP4's
    16 x MXFP8's 32) have no kernel and are refused."""
    (ka, ba), (kb, bb) = _kind(a_format), _kind(b_format)
    if ka == "block" and kb == "block":
        if ba != bb:
            raise ValueError(f"a_format {a_format!r} (blocks of {ba}) and b_format {b_format!r} (blocks of {bb}): "
                             "block formats multiplied together must share the block size")
        return a_format, b_format, None
    if ka == "block":
        return b_format, b_format, "a"
    if kb == "block":
        return a_format, a_format, "b"
    if ka != kb:  # int x float: the narrower operand becomes the wider's format (ties: the integer one)
        import numerics as nx
        bits_a, bits_b = nx.get_format(a_format).bits, nx.get_format(b_format).bits
        if bits_a < bits_b or (bits_a == bits_b and ka == "int"):
            return b_format, b_format, "a"
        return a_format, a_format, "b"
    return a_format, b_format, None


def check_formats(w, fields=("a_format", "b_format", "out_format")) -> None:
    """Each format field names a scalar or block format (None: its default); the (a, b) pair is one
    mma_formats accepts (any pair but two block formats of different block sizes)."""
    owner = type(w).__name__
    for f in fields:
        v = getattr(w, f)
        if v is None and f != "a_format":
            continue
        try:
            element_name(v)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{owner}.{f}: {err}") from None
    try:
        mma_formats(w.a_format, w.b_fmt)
    except ValueError as err:
        raise ValueError(f"{owner}: {err}") from None


def check_operand(owner: str, which: str, arr, shape: tuple) -> np.ndarray:
    """A real operand of the given shape, finite; float arrays kept as they are, others made float64."""
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "f":
        a = arr
        if not np.isfinite(a).all():
            raise ValueError(f"{owner}.{which} must be a finite float array (it holds NaN or inf)")
    else:
        a = real_array(f"{owner}.{which}", arr)
    if a.shape != shape:
        raise ValueError(f"{owner}.{which} must have shape {shape}, got {a.shape}")
    return a


def draw(dist: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Operands from a named distribution (unit variance except 'uniform' on [-1, 1))."""
    if dist == "normal":
        return rng.standard_normal(shape)
    if dist == "uniform":
        return rng.uniform(-1.0, 1.0, shape)
    if dist == "laplace":
        return rng.laplace(0.0, 1.0 / np.sqrt(2.0), shape)
    if dist == "student_t3":  # heavy tails, like LLM activations with outliers
        return rng.standard_t(3, shape)
    raise ValueError(f"dist must be one of {DISTRIBUTIONS}, got {dist!r}")


@dataclass(frozen=True)
class Gemm:
    """D (m x n) = A (m x k) B (k x n), `count` times (e.g. attention heads). A holds activations in
    `a_format`, B weights in `b_format` (default: a_format), each a scalar or block format name; B may be
    N:M sparse along K (`sparsity="2:4"`). `a`/`b`: the real operands (float arrays), or None to draw them
    from `dist` with `seed`. `scaling`: "auto" (a per-tensor amax scale for formats of 8 bits or fewer,
    none for wider ones), "tensor", "channel" (per row of A, per column of B) or "none"; block formats
    carry their own scales. `out_format`: the stored result (default: fp32, int32 for integer formats).
    On analog crossbars, `t_seconds` is the time since programming and `compensation` the drift
    compensation (None, "global", "column"); digital units ignore both. `batched=True`: the `count` GEMMs
    run as one batched kernel (cuBLAS strided-batched, e.g. attention's Q K^T over heads): their tiles
    share the waves and the kernel pays one launch; False: `count` separate kernels. `b_weight`: whether B is a
    model's weights (True, the default) or activations computed at run time (attention's Q K^T and its product
    with V; the importers set it): a crossbar holds only weights in its cells, so it prices a GEMM of two
    activations as if B were resident and says so (a UserWarning; simulate_model's "b_operand" column)."""

    m: int
    n: int
    k: int
    a_format: str = "fp16"
    b_format: str | None = None
    sparsity: str | None = None
    a: np.ndarray | None = field(default=None, repr=False, compare=False)
    b: np.ndarray | None = field(default=None, repr=False, compare=False)
    seed: int = 0
    dist: str = "normal"
    scaling: str = "auto"
    out_format: str | None = None
    count: int = 1
    name: str = "gemm"
    t_seconds: float = 0.0
    compensation: str | None = None
    batched: bool = False
    b_weight: bool = field(default=True, metadata={"since": "2026-11-30"})  # sweep hashes: sweep.py

    def __post_init__(self) -> None:
        for f in ("batched", "b_weight"):
            if not isinstance(getattr(self, f), bool):
                raise TypeError(f"Gemm.{f} must be a bool, got {getattr(self, f)!r}")
        for f in ("m", "n", "k", "count"):
            v = check_int("Gemm", f, getattr(self, f))
            if v > MAX_DIM:  # the timing model's float arithmetic is exact below 2**53
                raise ValueError(f"Gemm.{f} must be a positive int at most 2**53, got {v!r}")
            object.__setattr__(self, f, v)
        check_formats(self)
        try:
            parse_sparsity(self.sparsity)
        except (ValueError, TypeError) as err:
            raise type(err)(f"Gemm.{err}") from None
        check_str("Gemm", "dist", self.dist, DISTRIBUTIONS)
        check_str("Gemm", "scaling", self.scaling, SCALINGS)
        check_str("Gemm", "name", self.name)
        object.__setattr__(self, "seed", check_seed("Gemm.seed", self.seed))
        check_analog_fields(self)
        for which, arr, shape in (("a", self.a, (self.m, self.k)), ("b", self.b, (self.k, self.n))):
            if arr is not None:
                object.__setattr__(self, which, check_operand("Gemm", which, arr, shape))

    @property
    def b_fmt(self) -> str:
        """b_format, or a_format when b_format is None."""
        return self.a_format if self.b_format is None else self.b_format

    @property
    def out_fmt(self) -> str:
        """out_format, or its default: int32 for integer operands, fp32 otherwise."""
        if self.out_format is not None:
            return self.out_format
        import numerics as nx
        return "int32" if isinstance(nx.get_format(element_name(self.a_format)), nx.IntFormat) else "fp32"

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.count

    def replace(self, **changes) -> "Gemm":
        return _replace(self, changes)

    def gemms(self) -> list["Gemm"]:
        return [self]

    def describe(self) -> dict:
        return {"workload": self.name, "m": self.m, "n": self.n, "k": self.k, "count": self.count,
                "a_format": self.a_format, "b_format": self.b_fmt, "sparsity": self.sparsity,
                "t_seconds": self.t_seconds, "compensation": self.compensation, "batched": self.batched}
