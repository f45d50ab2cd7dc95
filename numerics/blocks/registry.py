"""Named block formats, plus group-wise INT-N names parsed on demand (int4_g128, uint4_g128_asym, ...)."""

import re

from ..formats import IntFormat, get_format
from ..naming import Registry
from .format import BlockFormat
from .rules import ScaleRule

_BLOCKS = Registry("block format", BlockFormat)
_GROUP = re.compile(r"int(\d+)_(g(\d+)|channel)(_asym)?")


def register_block_format(name: str, fmt: BlockFormat) -> None:
    """Add a named block format (the first name given to a format is its canonical name)."""
    _BLOCKS.register(name, fmt)


def block_format_names() -> list[str]:
    return _BLOCKS.names()


def _int_group(bits: int, group: int | None, asym: bool) -> BlockFormat:
    """Group-wise (or per-channel when group is None) INT-N with an fp16 scale (fp32 per channel)."""
    if not 2 <= bits <= 16:
        raise ValueError(f"group-wise INT-N needs 2 <= N <= 16, got {bits}")
    elem = IntFormat(bits=bits, signed=not asym)
    scale = get_format("fp16" if group is not None else "fp32")
    return BlockFormat(element=elem, scale=scale, block_size=group, scale_rule=ScaleRule.AMAX,
                       zero_point=asym)


def get_block_format(name: str) -> BlockFormat:
    """The block format called `name`. Also any `intN_gK` (symmetric, fp16 scale per K elements),
    `intN_gK_asym` (uint N with a zero point, GPTQ), `intN_channel` (fp32 scale per whole axis)."""
    fmt = _BLOCKS.get(name)
    if fmt is not None:
        return fmt
    m = _GROUP.fullmatch(name)
    if m:
        group = None if m.group(2) == "channel" else int(m.group(3))
        if group is not None and group < 1:
            raise ValueError(f"group size must be positive in {name!r}")
        return _int_group(int(m.group(1)), group, bool(m.group(4)))
    raise _BLOCKS.unknown(name, "block_format_names() lists all; intN_gK, intN_gK_asym and intN_channel "
                                "are parsed")


def block_name_of(fmt: BlockFormat) -> str:
    name = _BLOCKS.name_of(fmt)
    if name is not None:
        return name
    bs = "x".join("all" if b is None else str(b) for b in
                  (fmt.block_size if isinstance(fmt.block_size, tuple) else (fmt.block_size,)))
    parts = [fmt.element.name, f"b{bs}", fmt.scale.name, fmt.scale_rule.value]
    if fmt.tensor_scale:
        parts.append("ts")
    if fmt.zero_point:
        parts.append("zp")
    return "_".join(parts)


def _register_builtins() -> None:
    e8m0 = get_format("e8m0")
    # OCP MX v1.0 §5 table 1 (concrete MX formats): block 32, E8M0 scale, §6.3 FLOOR rule
    for name, elem in [("mxfp8_e4m3", "e4m3"), ("mxfp8_e5m2", "e5m2"), ("mxfp6_e3m2", "e3m2"),
                       ("mxfp6_e2m3", "e2m3"), ("mxfp4", "e2m1")]:
        register_block_format(name, BlockFormat(element=get_format(elem), scale=e8m0, block_size=32))
    # MXINT8: two's complement with an implicit scale 2^-6 (OCP MX v1.0 §5.3.4)
    register_block_format("mxint8", BlockFormat(element=IntFormat(bits=8, frac_bits=6), scale=e8m0,
                                                block_size=32))
    # NVFP4: E2M1, block 16, UE4M3 block scale, FP32 tensor scale (torchao nvfp4_tensor.py recipe)
    register_block_format("nvfp4", BlockFormat(element=get_format("e2m1"), scale=get_format("ue4m3"),
                                               block_size=16, scale_rule=ScaleRule.AMAX, tensor_scale=True))
    for name in ("int4_g32", "int4_g64", "int4_g128", "int4_g128_asym", "int8_g128", "int4_channel",
                 "int8_channel"):
        register_block_format(name, get_block_format(name))


_register_builtins()
