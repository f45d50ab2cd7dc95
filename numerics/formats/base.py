"""What every scalar format shares: the encode/decode/quantize/values front end."""

from functools import cached_property

import numpy as np

from ..rounding import RoundMode
from . import inputs

TABLE_MAX_BITS = 16  # formats this narrow decode by table lookup and list their values


def int_fields(obj, *names: str) -> None:
    """Check that each named field of a frozen dataclass is an integer (numpy integers are stored as
    Python ints, so equal formats hash equal); bools and floats are a TypeError naming the field."""
    for f in names:
        v = getattr(obj, f)
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | np.integer):
            raise TypeError(f"{f} must be an int, got {v!r}")
        object.__setattr__(obj, f, int(v))


def bool_fields(obj, *names: str) -> None:
    """Check that each named field is a bool (numpy bools are stored as Python bools)."""
    for f in names:
        v = getattr(obj, f)
        if not isinstance(v, bool | np.bool_):
            raise TypeError(f"{f} must be a bool, got {v!r}")
        object.__setattr__(obj, f, bool(v))


class ScalarFormat:
    """Mixin for the frozen format dataclasses: subclasses supply `bits`, `_encode_flat`, `_decode_flat`."""

    bits: int
    _takes_sr_bits = True  # level formats (lookup, log) draw a float64 uniform instead of sr_bits bits

    # Each family supplies _encode_flat(flat, rounding, saturate, sr_k, key, invalid_code) -> (codes,
    # n_invalid) and _decode_flat(codes) -> float64, both over 1-D arrays.
    def _invalid_reason(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        """Mask of inputs this format cannot represent (used only to explain an error)."""
        return ~np.isfinite(x)

    def _check_codes(self, codes: np.ndarray) -> None:
        """Extra code validity rules beyond the bit width (e.g. narrow-range integers)."""

    # -- shared front end -------------------------------------------------------------------------
    @cached_property
    def code_dtype(self) -> np.dtype:
        """Smallest unsigned dtype that holds a code."""
        return inputs.code_dtype(self.bits)

    @property
    def name(self) -> str:
        from .registry import name_of
        return name_of(self)

    def encode(self, x, rounding: RoundMode = RoundMode.TIES_TO_EVEN, saturate: bool = True,
               rng=None, sr_bits: int | None = None, nan_code: int | None = None, rbits=None) -> np.ndarray:
        """Round `x` into this format and return its bit patterns (uint8/16/32, shape of x).

        Args:
            x: float16, bfloat16, float32 or float64 values, each rounded once from its own precision;
                Python floats and exactly convertible Python ints (alone or in lists) become float64.
                Other dtypes (integer and bool arrays too), str, None, complex: TypeError.
            rounding: a `RoundMode` (anything else, names as strings too: TypeError).
            saturate: a bool: clamp overflow to ±max; False gives ±inf, else NaN (IEEE 754 / OCP OFP8 rules).
            rng: int seed >= 0 or numpy Generator for `RoundMode.STOCHASTIC` (same seed, same codes); given
                with another mode it is a ValueError rather than silently ignored.
            sr_bits: random bits added below the kept last bit (stochastic only; default 62, "all");
                lookup and log formats take none (ValueError).
            nan_code: a valid code for inputs the format cannot represent; default: raise ValueError.
            rbits: caller-supplied random bits for `RoundMode.STOCHASTIC` (E2M1, E2M3, E3M2, E4M3, E5M2 and
                bf16: 0..65535 per element; fp16: 0..8191), an unsigned array of x's shape, as PTX cvt.rs
                takes them: they are added with their top bit just below the last kept mantissa bit and the
                sum truncated, so zeros round toward zero (numerics/formats/rbits.py; `rbits_from_ptx` turns
                the instruction's 32-bit operands into these; replaces rng and sr_bits).
        """
        if rbits is not None:
            return self._encode_rbits(x, rounding, saturate, rng, sr_bits, nan_code, rbits)
        rounding = inputs.rounding_mode(rounding)
        if not isinstance(saturate, bool | np.bool_):
            raise TypeError(f"saturate must be a bool, got {type(saturate).__name__}")
        sr_k, key = inputs.stochastic_args(rounding, rng, sr_bits)
        if sr_bits is not None and not self._takes_sr_bits:
            raise ValueError(f"sr_bits applies to float, integer and posit formats; {self.name} rounds "
                             "stochastically between its two neighbouring levels with probability proportional "
                             "to the distance (a float64 uniform draw), without a bit count")
        nan_code = inputs.nan_code_arg(nan_code, self.bits)
        if nan_code is not None:
            self._check_codes(np.array([nan_code], self.code_dtype))  # e.g. a narrow int's dropped code
        x = inputs.float_input(x)
        flat = x.reshape(-1)
        codes, n_invalid = self._encode_flat(flat, int(rounding), bool(saturate), sr_k, key,
                                             0 if nan_code is None else nan_code)
        if n_invalid and nan_code is None:
            bad = np.flatnonzero(self._invalid_reason(flat.astype(np.float64), bool(saturate)))
            where = f"{float(flat[bad[0]])!r} at flat index {bad[0]}" if bad.size else "an input"
            raise ValueError(
                f"{self.name} cannot represent {n_invalid} input(s), first {where} "
                f"(saturate={saturate}); pass nan_code= to choose their code")
        return codes.reshape(x.shape)

    def _encode_rbits(self, x, rounding, saturate, rng, sr_bits, nan_code, rbits) -> np.ndarray:
        """encode(..., rbits=): every rule checked before any rounding (numerics/formats/rbits.py)."""
        from .rbits import check_rbits, encode_rbits
        rounding = inputs.rounding_mode(rounding)
        if rounding != RoundMode.STOCHASTIC:
            raise ValueError(f"rbits is only used with rounding=RoundMode.STOCHASTIC, got rounding={rounding}")
        if rng is not None or sr_bits is not None or nan_code is not None:
            raise ValueError("rbits replaces rng and sr_bits (and satfinite leaves nothing for nan_code): pass "
                             "rbits alone")
        if not isinstance(saturate, bool | np.bool_):
            raise TypeError(f"saturate must be a bool, got {type(saturate).__name__}")
        x = inputs.float_input(x)
        return encode_rbits(self, x, check_rbits(self, x, rbits, bool(saturate)), bool(saturate))

    def decode(self, codes, out: np.ndarray | None = None) -> np.ndarray:
        """Exact float64 values of `codes` (any integer array of this format's codes).

        `out`, a C-contiguous float64 array of the codes' shape, receives the values (no allocation:
        for hot loops). A float32 `out` is accepted for formats of <= 16 bits whose every value float32
        holds exactly (fp16, bf16, FP8/6/4, posit16 and narrower...): the same values, 40 % less memory
        traffic.
        """
        codes = inputs.code_input(codes, self.bits, self.name)
        self._check_codes(codes)
        flat = codes.reshape(-1)
        if out is not None:
            if not isinstance(out, np.ndarray):
                raise TypeError(f"out must be a numpy array or None, got {type(out).__name__}")
            f32 = out.dtype == np.float32 and self.bits <= TABLE_MAX_BITS
            want = (f"out must be a C-contiguous float64 array of shape {codes.shape} (or float32 for formats of "
                    "<= 16 bits that float32 holds exactly), writeable")
            if out.dtype != np.float64 and not f32:
                raise ValueError(f"{want}; got dtype {out.dtype}")
            if out.shape != codes.shape or not out.flags.c_contiguous or not out.flags.writeable:
                raise ValueError(f"{want}; got shape {out.shape}"
                                 + ("" if out.flags.c_contiguous else ", not C-contiguous")
                                 + ("" if out.flags.writeable else ", read-only"))
            if np.may_share_memory(out, codes):
                raise ValueError("out must not overlap codes")
            if f32 and self._table32 is None:
                raise ValueError(f"{self.name} has values float32 cannot hold exactly: pass a float64 out")
        if self.bits <= TABLE_MAX_BITS:
            from kernels import take_table
            dst = np.empty(flat.shape, np.float64) if out is None else out.reshape(-1)
            # the exact float32 table, where there is one, halves the gather's cache footprint
            table = self._table32 if dst.dtype == np.float32 or (self.bits > 8 and self._table32 is not None) \
                else self._table
            res = take_table(table, flat, dst)
        else:
            res = self._decode_flat(flat)
            if out is not None:
                out.reshape(-1)[:] = res
        return res.reshape(codes.shape) if out is None else out

    def quantize(self, x, rounding: RoundMode = RoundMode.TIES_TO_EVEN, saturate: bool = True,
                 rng=None, sr_bits: int | None = None, nan_code: int | None = None) -> np.ndarray:
        """decode(encode(x, ...)): the float64 values `x` rounds to."""
        return self.decode(self.encode(x, rounding, saturate, rng, sr_bits, nan_code))

    @cached_property
    def _table(self) -> np.ndarray:
        codes = np.arange(1 << self.bits, dtype=self.code_dtype)
        table = self._decode_flat(codes)
        table.setflags(write=False)
        return table

    @cached_property
    def _table32(self) -> np.ndarray | None:
        """The decode table in float32 when every value (NaN aside) converts exactly, else None."""
        t = self._table
        t32 = t.astype(np.float32)
        same = (t32.astype(np.float64) == t) | (np.isnan(t) & np.isnan(t32))
        if not same.all():
            return None
        t32.setflags(write=False)
        return t32

    def values(self) -> np.ndarray:
        """Sorted distinct finite values (one zero), for formats of at most 16 bits."""
        if self.bits > TABLE_MAX_BITS:
            raise ValueError(f"values() lists formats of at most {TABLE_MAX_BITS} bits; "
                             f"{self.name} has {self.bits}")
        codes = np.arange(1 << self.bits, dtype=self.code_dtype)
        try:
            self._check_codes(codes)
        except ValueError:
            codes = codes[self._valid_code_mask(codes)]
        v = self._table[codes]
        return np.unique(v[np.isfinite(v)])

    def _valid_code_mask(self, codes: np.ndarray) -> np.ndarray:
        return np.ones(codes.shape, bool)
