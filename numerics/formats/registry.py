"""Named formats: one registry, plus any eXmY parsed on demand."""

import re

from ..naming import Registry
from .base import ScalarFormat
from .floats import FloatFormat, NanPolicy
from .ints import IntFormat
from .lookup import LogFormat, LookupFormat
from .posits import PositFormat

_FORMATS = Registry("format", ScalarFormat)
_EXMY = re.compile(r"e(\d+)m(\d+)")
_POSIT = re.compile(r"posit(\d+)_(\d+)")


def register_format(name: str, fmt) -> None:
    """Add a named format (names are unique; the first name given to a format is its canonical name).

    A name `get_format` parses itself (`eXmY`, `posit<n>_<es>`) may only be given to the format it
    parses to: anything else would silently change what that documented name means.
    """
    if isinstance(name, str) and name not in _FORMATS.names():
        parsed = None
        if _EXMY.fullmatch(name) or _POSIT.fullmatch(name):
            try:
                parsed = get_format(name)
            except ValueError:
                parsed = None
            if parsed is not None and parsed != fmt:
                raise ValueError(f"format name {name!r} is reserved: get_format parses it as {parsed!r}; "
                                 "choose another name")
    _FORMATS.register(name, fmt)


def format_names() -> list[str]:
    """Every registered name, in registration order."""
    return _FORMATS.names()


def get_format(name: str):
    """The format called `name`; any `eXmY` (1 <= X <= 8, 0 <= Y <= 23) is an IEEE-style float and
    any `posit<n>_<es>` a posit."""
    fmt = _FORMATS.get(name)
    if fmt is not None:
        return fmt
    m = _EXMY.fullmatch(name)
    if m:
        x, y = int(m.group(1)), int(m.group(2))
        if 1 <= x <= 8 and 0 <= y <= 23:
            return FloatFormat.ieee(x, y)
        raise ValueError(f"eXmY formats need 1 <= X <= 8 and 0 <= Y <= 23, got {name!r}")
    m = _POSIT.fullmatch(name)
    if m:
        return PositFormat(bits=int(m.group(1)), es=int(m.group(2)))
    raise _FORMATS.unknown(name, "format_names() lists all")


def name_of(fmt) -> str:
    """Registered name of a format, else a descriptive one."""
    name = _FORMATS.name_of(fmt)
    if name is not None:
        return name
    if isinstance(fmt, LogFormat):
        return f"lns{fmt.bits}_f{fmt.frac_bits}" + ("_linear" if fmt.domain == "linear" else "")
    if isinstance(fmt, LookupFormat):
        return f"lookup{len(fmt.levels)}"
    if isinstance(fmt, PositFormat):
        return f"posit{fmt.bits}_{fmt.es}"
    if isinstance(fmt, IntFormat):
        frac = f"_frac{fmt.frac_bits}" if fmt.frac_bits else ""
        return f"{'int' if fmt.signed else 'uint'}{fmt.bits}{'_narrow' if fmt.narrow else ''}{frac}"
    if isinstance(fmt, FloatFormat):
        s = f"{'' if fmt.signed else 'u'}e{fmt.exp_bits}m{fmt.man_bits}"
        if fmt.bias != (1 << (fmt.exp_bits - 1)) - 1:
            s += f"_b{fmt.bias}"
        if fmt.nan != NanPolicy.IEEE:
            s += "_" + fmt.nan.value
        if not fmt.zero:
            s += "_nozero"
        elif not fmt.subnormals:
            s += "_ftz"
        return s
    return repr(fmt)


def _register_builtins() -> None:
    fin = dict(inf=False, nan=NanPolicy.NONE)
    fn = dict(inf=False, nan=NanPolicy.FN)
    fnuz = dict(inf=False, nan=NanPolicy.FNUZ)
    # OCP OFP8 v1.0
    _FORMATS.register("e4m3", FloatFormat(exp_bits=4, man_bits=3, bias=7, **fn))
    _FORMATS.register("e5m2", FloatFormat(exp_bits=5, man_bits=2, bias=15))
    # Graphcore / AMD MI300 FNUZ variants (bias one larger, NaN = 0x80)
    _FORMATS.register("e4m3fnuz", FloatFormat(exp_bits=4, man_bits=3, bias=8, **fnuz))
    _FORMATS.register("e5m2fnuz", FloatFormat(exp_bits=5, man_bits=2, bias=16, **fnuz))
    # IEEE-style E3M4 (as ml_dtypes float8_e3m4)
    _FORMATS.register("e3m4", FloatFormat(exp_bits=3, man_bits=4, bias=3))
    # OCP MX v1.0 §5.3 element types
    _FORMATS.register("e2m3", FloatFormat(exp_bits=2, man_bits=3, bias=1, **fin))
    _FORMATS.register("e3m2", FloatFormat(exp_bits=3, man_bits=2, bias=3, **fin))
    _FORMATS.register("e2m1", FloatFormat(exp_bits=2, man_bits=1, bias=1, **fin))
    # OCP MX v1.0 §5.4.1 scale: unsigned, no zero, 0xFF NaN
    _FORMATS.register("e8m0", FloatFormat(exp_bits=8, man_bits=0, bias=127, signed=False,
                                        subnormals=False, zero=False, **fn))
    # NVFP4 block scale: E4M3 with the sign bit 0 (stored as one byte)
    _FORMATS.register("ue4m3", FloatFormat(exp_bits=4, man_bits=3, bias=7, signed=False, **fn))
    # issue #20 (docs/formats_2026.md): UE5M3 block scale: bias 15, subnormals, the all-ones exponent kept
    # for specials so the largest finite value is 61440 (arXiv 2605.08565's code clee1994/finer_is_better
    # benchmark_ue5m3.py grid; Graphcore's MrHuff/ue5m3-fp4@59868e71 formats.py); inf/NaN there as IEEE
    # binary16 without its sign is lowbit's assumption. float4 E1M2 as Huawei CANN defines float4_e1m2
    # (cann/opbase include/nnopbase/opdev/float4_e1m2.h: bias 1, max 1.75, no inf / NaN), not the eXmY
    # rule's bias 0; HiFloat8 (arXiv 2409.16626)
    _FORMATS.register("ue5m3", FloatFormat(exp_bits=5, man_bits=3, bias=15, signed=False))
    _FORMATS.register("e1m2", FloatFormat(exp_bits=1, man_bits=2, bias=1, **fin))
    from .hifloat8 import HIFLOAT8
    _FORMATS.register("hifloat8", HIFLOAT8)
    # IEEE 754-2019 binary16 / bfloat16 / NVIDIA TF32 / binary32
    _FORMATS.register("fp16", FloatFormat(exp_bits=5, man_bits=10, bias=15))
    _FORMATS.register("bf16", FloatFormat(exp_bits=8, man_bits=7, bias=127))
    _FORMATS.register("tf32", FloatFormat(exp_bits=8, man_bits=10, bias=127))
    _FORMATS.register("fp32", FloatFormat(exp_bits=8, man_bits=23, bias=127))
    for b in range(2, 9):
        _FORMATS.register(f"int{b}", IntFormat(bits=b))
    for b in range(2, 9):
        _FORMATS.register(f"uint{b}", IntFormat(bits=b, signed=False))
    _FORMATS.register("int16", IntFormat(bits=16))
    _FORMATS.register("int32", IntFormat(bits=32))
    # Posit Standard (2022): es = 2 for every width
    for b in (8, 16, 32):
        _FORMATS.register(f"posit{b}", PositFormat(bits=b, es=2))
    # legacy draft, as SoftPosit implements it: posit<8,0>, <16,1>, <32,2> (the last equals posit32)
    _FORMATS.register("posit8_0", PositFormat(bits=8, es=0))
    _FORMATS.register("posit16_1", PositFormat(bits=16, es=1))
    _FORMATS.register("posit32_2", PositFormat(bits=32, es=2))
    # logarithmic: sign + 7-bit log2 magnitude with 3 fraction bits (2^-7.875 .. 2^7.875); power-of-two
    _FORMATS.register("lns8", LogFormat(bits=8, frac_bits=3))
    _FORMATS.register("pot4", LogFormat(bits=4, frac_bits=0))
    _FORMATS.register("apot4", LookupFormat(levels=apot_levels(4, 2)))
    _FORMATS.register("nf4", LookupFormat(levels=NF4_LEVELS))


# QLoRA NormalFloat-4 (Dettmers et al., NeurIPS 2023, appendix E; bitsandbytes' float32 table)
NF4_LEVELS = (-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
              -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
              0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
              0.7229568362236023, 1.0)


def apot_levels(b: int, k: int) -> tuple:
    """Additive Powers-of-Two levels (Li, Dong, Wang, ICLR 2020, eq. 5): n = b / k terms, term i from
    {0, 2^-i, 2^-(i+n), ..., 2^-(i+(2^k-2)n)}; every sum, scaled by gamma so the largest level is 1."""
    import itertools
    from fractions import Fraction
    if b % k:
        raise ValueError(f"APoT needs k to divide b, got b={b}, k={k}")
    n = b // k
    terms = [[Fraction(0)] + [Fraction(1, 2 ** (i + j * n)) for j in range(2 ** k - 1)] for i in range(n)]
    sums = sorted({sum(c) for c in itertools.product(*terms)})
    gamma = 1 / sums[-1]
    return tuple(float(s * gamma) for s in sums)


_register_builtins()
