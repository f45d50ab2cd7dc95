"""Workloads: a GEMM, and networks of GEMMs (a digits MLP with real trained weights, a transformer block
with MiniLM's shapes and two of its real weight matrices)."""

import dataclasses
import re
from dataclasses import dataclass, field

import numpy as np

from .design import element_name

_SPARSITY = re.compile(r"(\d+):(\d+)")
DISTRIBUTIONS = ("normal", "uniform", "laplace", "student_t3")


def parse_sparsity(s) -> tuple[int, int] | None:
    """"2:4" -> (2, 4); None -> None."""
    if s is None:
        return None
    if not isinstance(s, str) or not _SPARSITY.fullmatch(s):
        raise ValueError(f"sparsity must be None or 'n:m' such as '2:4', got {s!r}")
    n, m = (int(v) for v in _SPARSITY.fullmatch(s).groups())
    if not 0 < n < m:
        raise ValueError(f"sparsity {s!r} needs 0 < n < m")
    return n, m


def check_analog_fields(w) -> None:
    t = w.t_seconds
    if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t < float("inf"):
        raise ValueError(f"{type(w).__name__}.t_seconds must be a finite number >= 0, got {t!r}")
    if w.compensation not in (None, "global", "column"):
        raise ValueError(f"{type(w).__name__}.compensation must be None, 'global' or 'column', got {w.compensation!r}")


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
    share the waves and the kernel pays one launch; False: `count` separate kernels."""

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

    def __post_init__(self) -> None:
        if not isinstance(self.batched, bool):
            raise TypeError(f"Gemm.batched must be a bool, got {self.batched!r}")
        for f in ("m", "n", "k", "count"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"Gemm.{f} must be a positive int, got {v!r}")
            object.__setattr__(self, f, int(v))
        element_name(self.a_format)
        element_name(self.b_fmt)
        parse_sparsity(self.sparsity)
        if self.dist not in DISTRIBUTIONS:
            raise ValueError(f"Gemm.dist must be one of {DISTRIBUTIONS}, got {self.dist!r}")
        if self.scaling not in ("auto", "tensor", "channel", "none"):
            raise ValueError(f"Gemm.scaling must be 'auto', 'tensor', 'channel' or 'none', got {self.scaling!r}")
        element_name(self.out_fmt)
        check_analog_fields(self)
        for which, arr, shape in (("a", self.a, (self.m, self.k)), ("b", self.b, (self.k, self.n))):
            if arr is not None:
                arr = np.asarray(arr)
                if arr.shape != shape:
                    raise ValueError(f"Gemm.{which} must have shape {shape}, got {arr.shape}")
                if arr.dtype.kind != "f" or not np.isfinite(arr).all():
                    raise ValueError(f"Gemm.{which} must be a finite float array")
                object.__setattr__(self, which, arr)

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
        return dataclasses.replace(self, **changes)

    def gemms(self) -> list["Gemm"]:
        return [self]

    def describe(self) -> dict:
        return {"workload": self.name, "m": self.m, "n": self.n, "k": self.k, "count": self.count,
                "a_format": self.a_format, "b_format": self.b_fmt, "sparsity": self.sparsity,
                "t_seconds": self.t_seconds, "compensation": self.compensation, "batched": self.batched}
