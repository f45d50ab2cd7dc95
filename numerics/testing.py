"""A property-testing toolkit for people testing their own quantizers and hardware against lowbit:
hypothesis strategies over a format's codes, values and rounding boundaries, and an assertion that
compares codes the way bit-exact work needs (NaN-class and signed-zero aware, with a readable report)."""

from functools import lru_cache

import numpy as np

from .blocks import get_block_format
from .formats import FloatFormat, PositFormat, ScalarFormat, get_format


def _fmt(fmt) -> ScalarFormat:
    return get_format(fmt) if isinstance(fmt, str) else fmt


def _st():
    try:
        from hypothesis import strategies as st
    except ImportError:  # pragma: no cover - hypothesis is in the test extra
        raise ImportError("numerics.testing strategies need hypothesis: pip install hypothesis") from None
    return st


def codes(fmt):
    """Every code of the format, uniformly (NaN and infinity codes included)."""
    f = _fmt(fmt)
    return _st().integers(0, (1 << f.bits) - 1).map(lambda c: f.code_dtype.type(c))


def values(fmt, finite: bool = True):
    """Values the format represents exactly (float64): every one for formats of <= 16 bits, decoded
    random codes for wider ones; `finite=False` adds the infinities and NaN the format has."""
    f = _fmt(fmt)
    st = _st()
    if f.bits <= 16:
        v = f.decode(np.arange(1 << f.bits).astype(f.code_dtype))
        pool = np.unique(v[np.isfinite(v)]) if finite else v
        extra = [-0.0] if finite and isinstance(f, FloatFormat) and f.signed and f.nan.name != "FNUZ" else []
        return st.sampled_from([float(x) for x in pool] + extra)
    strat = codes(f).map(lambda c: float(f.decode(np.array([c]))[0]))
    return strat.filter(np.isfinite) if finite else strat


@lru_cache(maxsize=64)
def _boundaries(f: ScalarFormat, source: type) -> tuple:
    src = np.dtype(source)
    v = f.decode(np.arange(1 << f.bits).astype(f.code_dtype))
    fin = np.unique(v[np.isfinite(v)])
    pos = fin[fin > 0]
    cands = [fin, (fin[1:] + fin[:-1]) / 2]          # every value and every midpoint between neighbours
    if np.isfinite(f.max):
        top = float(f.max)
        ulp_top = top - float(pos[-2]) if len(pos) > 1 else top
        cands.append(np.array([top + ulp_top / 2, top + ulp_top, 2 * top, -top - ulp_top / 2]))  # overflow thresholds
    if len(pos):
        cands.append(np.array([pos[0] / 2, pos[0] / 4, -pos[0] / 2]))  # below the smallest: underflow edges
    base = np.concatenate(cands).astype(src)
    finite = base[np.isfinite(base)]
    up = np.nextafter(finite, np.array(np.inf, src))      # one ulp of the source type either side
    down = np.nextafter(finite, np.array(-np.inf, src))
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], src)
    allv = np.concatenate([base, up, down, special])
    return tuple(float(x) for x in allv)


def boundary_values(fmt, source=np.float32):
    """The inputs where rounding into `fmt` can go wrong, as values of the `source` type: every
    representable value, every midpoint between neighbours, and one source ulp either side of each;
    the overflow thresholds; the edges below the smallest subnormal; signed zeros, infinities, NaN.
    Formats of <= 16 bits (their value lists are finite)."""
    f = _fmt(fmt)
    if f.bits > 16:
        raise ValueError(f"boundary_values enumerates formats of at most 16 bits; {f.name} has {f.bits}")
    return _st().sampled_from(_boundaries(f, source))


def arrays(fmt, shape, finite: bool = True):
    """float64 arrays of `shape` whose elements are values of `fmt`."""
    from hypothesis.extra import numpy as hnp
    return hnp.arrays(np.float64, shape, elements=values(fmt, finite))


def block_tensors(block_fmt, shape, axis: int = -1):
    """BlockTensors of `block_fmt` encoding arrays of `shape` whose blocks span many scales (each row
    drawn with its own magnitude, zeros and sign mixes included)."""
    from hypothesis.extra import numpy as hnp
    st = _st()
    bf = get_block_format(block_fmt) if isinstance(block_fmt, str) else block_fmt
    elems = st.floats(-1.0, 1.0, allow_nan=False, width=32)
    scale = st.integers(-20, 20)
    return st.tuples(hnp.arrays(np.float32, shape, elements=elems), scale).map(
        lambda t: bf.encode((t[0] * np.float32(2.0) ** t[1]).astype(np.float32), axis=axis))


def _nan_mask(f, c):
    with np.errstate(invalid="ignore"):
        return np.isnan(f.decode(c))


def assert_codes_equal(actual, expected, fmt, inputs=None, max_report: int = 10) -> None:
    """Assert that two arrays of codes of `fmt` are equal: every NaN code matches every NaN code (NaN
    class, not payload), +0 and -0 are different codes and reported as such. On failure, raise
    AssertionError listing the first mismatches as hex codes with their decoded values (and the
    `inputs` that produced them, when given)."""
    f = _fmt(fmt)
    a = np.asarray(actual)
    e = np.asarray(expected)
    if a.shape != e.shape:
        raise AssertionError(f"shapes differ: actual {a.shape}, expected {e.shape}")
    a64, e64 = a.astype(np.int64).reshape(-1), e.astype(np.int64).reshape(-1)
    for name, c in (("actual", a64), ("expected", e64)):
        if (c < 0).any() or (c >= 1 << f.bits).any():
            raise AssertionError(f"{name} holds values that are not {f.bits}-bit codes of {f.name}")
    both_nan = _nan_mask(f, a64) & _nan_mask(f, e64)
    if isinstance(f, PositFormat):
        both_nan = (a64 == f.nan_code) & (e64 == f.nan_code)
    bad = np.flatnonzero((a64 != e64) & ~both_nan)
    if bad.size == 0:
        return
    width = (f.bits + 3) // 4
    av, ev = f.decode(a64[bad]), f.decode(e64[bad])
    src = None if inputs is None else np.asarray(inputs).reshape(-1)
    lines = [f"{bad.size} of {a64.size} codes of {f.name} differ; first {min(bad.size, max_report)}:"]
    for j, i in enumerate(bad[:max_report]):
        what = (f"  [{i}] actual 0x{a64[i]:0{width}X} ({float(av[j])!r}) != expected 0x{e64[i]:0{width}X} "
                f"({float(ev[j])!r})")
        if av[j] == ev[j] and av[j] == 0:
            what += "  (signed zeros differ)"
        if src is not None:
            what += f"  input {src[i].item()!r}"
        lines.append(what)
    raise AssertionError("\n".join(lines))


__all__ = ["arrays", "assert_codes_equal", "block_tensors", "boundary_values", "codes", "values"]
