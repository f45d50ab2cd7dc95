"""Named block formats, plus group-wise INT-N names parsed on demand (int4_g128, uint4_g128_asym, ...)."""

import dataclasses
import re

from ..formats import IntFormat, get_format
from ..naming import Registry
from .format import RECIPES, BlockFormat
from .rules import ScaleRule, scale_rule_arg

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


def get_block_format(name: str, scale_rule=None, recipe: str | None = None) -> BlockFormat:
    """The block format called `name`. Also any `intN_gK` (symmetric, fp16 scale per K elements),
    `intN_gK_asym` (uint N with a zero point, GPTQ), `intN_channel` (fp32 scale per whole axis).

    `scale_rule` (a ScaleRule or its name: "ocp", "cuda_mxfp8", "tilelang", "trainium", "triton_up",
    "four_over_six", ...) and `recipe` ("lowbit", "torchao", "transformer_engine": the NVFP4 float32
    arithmetic) return the format with that rule or recipe instead (docs/formats_2026.md).
    """
    fmt = _named(name)
    changes = {}
    if scale_rule is not None:
        changes["scale_rule"] = scale_rule_arg(scale_rule)
    if recipe is not None:
        if not isinstance(recipe, str):
            raise TypeError(f"recipe must be a str ({', '.join(map(repr, RECIPES))}), got {type(recipe).__name__}")
        if recipe not in RECIPES:
            raise ValueError(f"unknown recipe {recipe!r}; choose one of {', '.join(map(repr, RECIPES))}")
        changes["recipe"] = recipe
    return dataclasses.replace(fmt, **changes) if changes else fmt


def _named(name: str) -> BlockFormat:
    if not isinstance(name, str):
        raise TypeError(f"block format name must be a str, got {type(name).__name__}")
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
    if fmt.recipe != "lowbit":
        parts.append(fmt.recipe)
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
    # issue #20 formats (docs/formats_2026.md gives each one's source)
    # MXFP4 with 16-element blocks (E8M0 scale, OCP FLOOR rule)
    register_block_format("mxfp4_b16", BlockFormat(element=get_format("e2m1"), scale=e8m0, block_size=16))
    # NVFP4 with UE5M3 block scales (arXiv 2605.08565): unsigned E5M3, bias 15, max 61440 (formats registry)
    register_block_format("nvfp4_ue5m3", BlockFormat(element=get_format("e2m1"), scale=get_format("ue5m3"),
                                                     block_size=16, scale_rule=ScaleRule.AMAX, tensor_scale=True))
    # DeepSeek-V3 FP8 (report §3.3.1): E4M3 elements, one FP32 scale amax / 448 per 1 x 128 run
    # (encode(w, block_shape=(128, 128)) gives its 128 x 128 weight tiles)
    register_block_format("fp8_b128", BlockFormat(element=get_format("e4m3"), scale=get_format("fp32"),
                                                  block_size=128, scale_rule=ScaleRule.AMAX))
    # W4A8 weights: symmetric INT4 with one FP8-E4M3 scale amax / 7 per 128 elements
    register_block_format("int4_g128_e4m3", BlockFormat(element=IntFormat(bits=4), scale=get_format("e4m3"),
                                                        block_size=128, scale_rule=ScaleRule.AMAX))
    for name in ("int4_g32", "int4_g64", "int4_g128", "int4_g128_asym", "int8_g128", "int4_channel",
                 "int8_channel"):
        register_block_format(name, get_block_format(name))


_register_builtins()
