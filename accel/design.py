"""Design points: frozen dataclasses that validate themselves, with units in field names and every
constant's source beside it (in the presets); TOML in and out."""

import dataclasses
import functools
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass, field

import numpy as np

from .checks import check_int, check_real, check_str
from .checks import replace as _replace
from .energy import mac_pj, node_scale
from .interconnect import Interconnect
from .parts import PART_KEYS, custom_parts, register_parts  # now: what numerics registered so far is built in
from .systolic import Dataflow


def _check_positive(obj, *names: str, allow_inf: bool = False) -> None:
    """Finite positive numbers (inf too with allow_inf), normalised to float."""
    for name in names:
        v = getattr(obj, name)
        if type(v) is float and 0.0 < v < math.inf:  # already what the check makes: nothing to do
            continue
        object.__setattr__(obj, name, check_real(type(obj).__name__, name, v, lo=0, allow_inf=allow_inf))


def _check_int(obj, *names: str) -> None:
    for name in names:
        object.__setattr__(obj, name, check_int(type(obj).__name__, name, getattr(obj, name)))


def _check_fraction(obj, *names: str) -> None:
    for name in names:
        object.__setattr__(obj, name, check_real(type(obj).__name__, name, getattr(obj, name), lo=0, hi=1))


def _check_gemm_mechanisms(obj) -> None:
    """launch_s, tile_latency_s finite and >= 0; tile_shapes a tuple of (tile_m, tile_n) positive ints
    (lists from TOML become tuples)."""
    for name in ("launch_s", "tile_latency_s"):
        v = getattr(obj, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
            raise ValueError(f"{type(obj).__name__}.{name} must be a finite number of seconds >= 0, got {v!r}")
    shapes = obj.tile_shapes
    ok = isinstance(shapes, list | tuple) and all(
        isinstance(t, list | tuple) and len(t) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and x > 0
                                                            for x in t) for t in shapes)
    if not ok:
        raise ValueError(f"{type(obj).__name__}.tile_shapes must be a tuple of (tile_m, tile_n) positive ints, got "
                         f"{shapes!r}")
    object.__setattr__(obj, "tile_shapes", tuple(tuple(t) for t in shapes))


def _check_rates(obj, rates: dict, what: str) -> dict:
    """The {format name: positive int rate} table, normalised: numpy ints to int, and block-format names
    to their element's name (a rate is the element's MAC rate: `mxfp4` is e2m1 with its E8M0 scale traffic
    counted from the workload's format), so {"mxfp4": 4096} means {"e2m1": 4096}."""
    owner = type(obj).__name__
    if not isinstance(rates, dict):
        raise TypeError(f"{owner}.{what} must be a non-empty {{format name: rate}} table, got {type(rates).__name__}")
    if not rates:
        raise ValueError(f"{owner}.{what} must be a non-empty {{format name: rate}} table")
    out: dict = {}
    given: dict = {}
    for fmt, rate in rates.items():
        try:
            el = _known_format(fmt)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{owner}.{what}: {err}") from None
        v = check_int(owner, f"{what}[{fmt!r}]", rate)
        if el in out and out[el] != v:
            raise ValueError(f"{owner}.{what}: {given[el]!r} and {fmt!r} both name the element format {el!r} "
                             f"with different rates ({out[el]} and {v})")
        out[el], given[el] = v, fmt
    return out


def _known_format(fmt) -> str:
    """The element format name of a scalar or block format name; an unknown name raises a ValueError that
    lists close matches from both registries (scalar and block), so `mxfp5` suggests `mxfp4`."""
    import difflib

    import numerics as nx
    if not isinstance(fmt, str):
        raise TypeError(f"format name must be a str, got {type(fmt).__name__}")
    try:
        return element_name(fmt)
    except ValueError:
        pass
    scalar, block = nx.format_names(), nx.block_format_names()
    close = difflib.get_close_matches(fmt, scalar + block, n=4, cutoff=0.6)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    raise ValueError(f"unknown format {fmt!r}{hint} (a scalar format: numerics.format_names(), any eXmY; or a "
                     f"block format, rated as its element: numerics.block_format_names())")


@functools.cache
def format_info(fmt_name: str) -> tuple[str, float, int | None]:
    """(element format name, bits per element with scales, block size or None) of a scalar or block
    format name; cached (sweeps ask for the same few names millions of times)."""
    import numerics as nx
    if not isinstance(fmt_name, str):
        raise TypeError(f"format name must be a str, got {type(fmt_name).__name__}")
    if fmt_name in nx.format_names():
        return fmt_name, float(nx.get_format(fmt_name).bits), None
    if fmt_name in nx.block_format_names() or re.fullmatch(r"int\d+_(g\d+|channel)(_asym)?", fmt_name):
        bf = nx.get_block_format(fmt_name)
        bs = bf.block_size if isinstance(bf.block_size, int) else None
        bits = bf.bits_per_element if bs else float(bf.element.bits)
        return bf.element.name, bits, bs
    try:
        nx.get_format(fmt_name)  # parsed names (eXmY, posit<n>_<es>)
        return fmt_name, float(nx.get_format(fmt_name).bits), None
    except ValueError:
        raise ValueError(f"unknown format {fmt_name!r}: neither a scalar format (format_names()) nor a block "
                         f"format (block_format_names())") from None


def element_name(fmt_name: str) -> str:
    """The scalar element format of a format name: the name itself for scalar formats, the element's
    name for block formats (mxfp4 -> e2m1)."""
    return format_info(fmt_name)[0]


def _normalise_accumulators(obj, acc, formats) -> dict:
    """`accumulator` as given (one preset name, or {format name or "default": preset}) -> a dict."""
    from numerics import get_accumulator
    owner = type(obj).__name__
    table = {"default": acc} if isinstance(acc, str) else acc
    if not isinstance(table, dict):
        raise TypeError(f"{owner}.accumulator must be a preset name or a {{format: preset}} table, got {acc!r}")
    if not table:
        raise ValueError(f"{owner}.accumulator must be a preset name or a non-empty {{format: preset}} table")
    for key, name in table.items():
        try:
            get_accumulator(name)
            if key != "default":
                element_name(key)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{owner}.accumulator[{key!r}]: {err}") from None
    if "default" not in table and not all(f in table for f in formats):
        raise ValueError(f"{type(obj).__name__}.accumulator names no preset for some of {list(formats)} "
                         "and has no 'default'")
    return dict(table)


class _Unit:
    """What every digital compute unit shares; each also provides formats() and macs_per_clock()."""

    def accumulator_for(self, fmt_name: str) -> str:
        """The accumulator preset the unit uses for operands of `fmt_name` (scalar or block)."""
        acc = self.accumulator
        for key in (fmt_name, element_name(fmt_name)):
            if key in acc:
                return acc[key]
        return acc["default"]


@dataclass(frozen=True)
class MemoryLevel:
    """One level of the memory hierarchy: `instances` copies (e.g. one shared memory per SM) each of
    `size_bytes` and `bandwidth_bytes_per_s`; `energy_pj_per_byte` per byte read or written. A level
    whose bandwidth is not published may be given math.inf: it then models reuse and energy only.
    `sustained_fraction`: the share of the datasheet bandwidth that streaming kernels reach (DRAM refresh,
    page misses and read/write turnarounds the datasheet peak leaves out); 1.0, the default, is the
    datasheet. Set it only from a measurement (a100-like: see its preset). `word_bytes`: the access width of
    one instance (bytes per access), which an "sram" level's energy and every on-die level's area follow
    (accel.memory_model): any int from 1 to size_bytes (the fit interpolates between CACTI's powers of two);
    the default 8 is a 64-bit access, Horowitz's SRAM figures' width."""

    name: str
    size_bytes: int
    bandwidth_bytes_per_s: float
    energy_pj_per_byte: float
    instances: int = 1
    technology: str = ""  # "": energy_pj_per_byte as given; "sram" or a DRAM name: accel.memory_model's
    sustained_fraction: float = 1.0
    word_bytes: int = 8

    def __post_init__(self) -> None:
        check_str("MemoryLevel", "name", self.name)
        from .memory_model import check_technology
        check_technology("MemoryLevel", self.technology)
        _check_int(self, "size_bytes", "instances")
        _check_positive(self, "energy_pj_per_byte")
        _check_positive(self, "bandwidth_bytes_per_s", allow_inf=True)  # inf: bandwidth unpublished
        _check_fraction(self, "sustained_fraction")
        _check_int(self, "word_bytes")
        if self.word_bytes > self.size_bytes:
            raise ValueError(f"MemoryLevel.word_bytes ({self.word_bytes}) must be at most size_bytes "
                             f"({self.size_bytes}): one access reads at most the whole level")

    @property
    def total_bandwidth_bytes_per_s(self) -> float:
        return self.bandwidth_bytes_per_s * self.instances

    @property
    def sustained_bandwidth_bytes_per_s(self) -> float:
        """All instances together at the sustained fraction: what the roofline of a GEMM uses."""
        return self.bandwidth_bytes_per_s * self.instances * self.sustained_fraction


@dataclass(frozen=True)
class TensorCore(_Unit):
    """GPU-style matrix units: `sm_count` SMs, each doing `macs_per_cycle[format]` dense MACs per clock
    (all its tensor cores together). A GEMM is tiled into `tile_m` x `tile_n` output tiles (one per SM
    at a time, K stepped by `tile_k`), each computed by warps holding `warp_m` x `warp_n` in registers and
    issuing MMA instructions of shape `instruction` (m, n, k), e.g. mma.m16n8k16 (PTX ISA).
    `accumulator`: one preset for every format, or {format name (scalar or block) or "default": preset}.
    `kernel_efficiency`: the fraction of the peak math rate that real GEMM kernels sustain while
    compute-bound (clock under the power limit, issue and operand-delivery stalls the bandwidth model
    does not see); 1.0, the default, is the ideal roofline. Set it only from a measurement (a100-like:
    see its preset). `launch_s`: each kernel's floor (launch and dispatch, as a measured call sees it);
    `tile_latency_s`: each tile's prologue wait for its first loads from global memory; `tile_shapes`:
    further (tile_m, tile_n) thread-block tiles the kernel library offers, the fastest is used (accel.
    gemm_model). The defaults (0, 0, none) are the ideal roofline's."""

    name: str
    sm_count: int
    macs_per_cycle: dict = field(hash=False)
    accumulator: str | dict = field(default="fp32", hash=False)
    tile_m: int = 128
    tile_n: int = 128
    tile_k: int = 32
    warp_m: int = 64
    warp_n: int = 64
    instruction: tuple = (16, 8, 16)
    kernel_efficiency: float = 1.0
    launch_s: float = 0.0
    tile_latency_s: float = 0.0
    tile_shapes: tuple = ()

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_str(owner, "name", self.name)
        _check_int(self, "sm_count", "tile_m", "tile_n", "tile_k", "warp_m", "warp_n")
        _check_fraction(self, "kernel_efficiency")
        _check_gemm_mechanisms(self)
        if not isinstance(self.instruction, list | tuple) or len(self.instruction) != 3:
            raise ValueError(f"{owner}.instruction must be (m, n, k) positive ints, got {self.instruction!r}")
        inst = tuple(check_int(owner, f"instruction[{i}]", v) for i, v in enumerate(self.instruction))
        object.__setattr__(self, "instruction", inst)
        if self.warp_m % inst[0] or self.warp_n % inst[1] or self.tile_k % inst[2]:
            raise ValueError(f"{type(self).__name__}: warp tile {self.warp_m} x {self.warp_n} and tile_k "
                             f"{self.tile_k} must be multiples of the instruction shape {inst}")
        object.__setattr__(self, "macs_per_cycle", _check_rates(self, self.macs_per_cycle, "macs_per_cycle"))
        if self.tile_m % self.warp_m or self.tile_n % self.warp_n:
            raise ValueError(f"{type(self).__name__}: the tile ({self.tile_m} x {self.tile_n}) must be a whole "
                             f"number of warp tiles ({self.warp_m} x {self.warp_n})")
        object.__setattr__(self, "accumulator",
                           _normalise_accumulators(self, self.accumulator, list(self.macs_per_cycle)))

    def formats(self) -> list[str]:
        return list(self.macs_per_cycle)

    def _rate(self, element: str) -> int:
        if element not in self.macs_per_cycle:
            raise ValueError(f"{self.name} has no {element!r} rate; it has {sorted(self.macs_per_cycle)}")
        return self.macs_per_cycle[element]

    def macs_per_clock(self, fmt: str, sparse: bool = False) -> int:
        """Whole-chip MACs per clock for `fmt` (scalar or block format name)."""
        rate = self.sm_count * self._rate(element_name(fmt))
        if sparse:
            raise ValueError(f"{self.name} has no 2:4 sparse mode (use a SparseTensorCore)")
        return rate


@dataclass(frozen=True)
class SparseTensorCore(TensorCore):
    """A TensorCore with N:M structured-sparse mode (NVIDIA Ampere and later: 2:4 on the K axis of one
    operand): twice the math rate on the compressed K, plus `metadata_bits` of index per kept value
    (2 bits for 2:4: NVIDIA A100 whitepaper, "Fine-grained structured sparsity"; Mishra et al.,
    arXiv 2104.08378). `sparse_kernel_efficiency` is `kernel_efficiency` for the sparse kernels; it may
    not make the sparse mode slower than the dense one (sparse_kernel_efficiency * m / n must be at least
    kernel_efficiency)."""

    sparse_n: int = 2
    sparse_m: int = 4
    metadata_bits: int = 2
    sparse_kernel_efficiency: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_int(self, "sparse_n", "sparse_m", "metadata_bits")
        if self.sparse_n >= self.sparse_m:
            raise ValueError(f"SparseTensorCore needs sparse_n < sparse_m, got {self.sparse_n}:{self.sparse_m}")
        _check_fraction(self, "sparse_kernel_efficiency")
        if self.sparse_kernel_efficiency * self.sparse_m < self.kernel_efficiency * self.sparse_n:
            raise ValueError(f"SparseTensorCore.sparse_kernel_efficiency {self.sparse_kernel_efficiency} would make "
                             f"the {self.sparse_n}:{self.sparse_m} mode slower than the dense one (kernel_efficiency "
                             f"{self.kernel_efficiency}); it must be at least "
                             f"{self.kernel_efficiency * self.sparse_n / self.sparse_m}")

    def macs_per_clock(self, fmt: str, sparse: bool = False) -> int:
        """Whole-chip effective MACs per clock; sparse mode does m/n times the dense rate (2x for 2:4)."""
        rate = self.sm_count * self._rate(element_name(fmt))
        return rate * self.sparse_m // self.sparse_n if sparse else rate


@dataclass(frozen=True)
class SystolicArray(_Unit):
    """TPU-style rows x cols MAC array with a dataflow (SCALE-Sim's OS/WS/IS). `formats` maps each
    format it computes to MACs per PE per clock (1 for its native width; a split multiplier may do 2
    narrower products, as NVIDIA's INT4 does twice INT8)."""

    name: str
    rows: int
    cols: int
    dataflow: Dataflow = Dataflow.WS
    formats_per_pe: dict = field(default_factory=lambda: {"int8": 1}, hash=False)
    accumulator: str | dict = field(default="int32", hash=False)

    def __post_init__(self) -> None:
        check_str("SystolicArray", "name", self.name)
        _check_int(self, "rows", "cols")
        if not isinstance(self.dataflow, Dataflow):
            raise TypeError(f"SystolicArray.dataflow must be a Dataflow (one of {[str(d) for d in Dataflow]}), got "
                            f"{self.dataflow!r}")
        object.__setattr__(self, "formats_per_pe", _check_rates(self, self.formats_per_pe, "formats_per_pe"))
        object.__setattr__(self, "accumulator",
                           _normalise_accumulators(self, self.accumulator, list(self.formats_per_pe)))

    def formats(self) -> list[str]:
        return list(self.formats_per_pe)

    def _rate(self, element: str) -> int:
        if element not in self.formats_per_pe:
            raise ValueError(f"{self.name} has no {element!r}; it computes {list(self.formats_per_pe)}")
        return self.formats_per_pe[element]

    def macs_per_clock(self, fmt: str, sparse: bool = False) -> int:
        rate = self._rate(element_name(fmt))
        if sparse:
            raise ValueError(f"{self.name} has no 2:4 sparse mode")
        return self.rows * self.cols * rate


@functools.cache
def _analog():
    from . import analog  # analog imports this module: resolved once, on first use
    return analog


def _crossbar():
    return _analog().Crossbar


def _check_crossbar_design(d) -> None:
    """A Crossbar's cost is its arrays' and periphery's alone, at its own node and supply (unit.node_nm,
    unit.vdd_v, a component periphery's node and reference supply): a design-level value it would silently
    ignore raises (a node or supply other than the default or the unit's own, element-wise costs, links, a
    MAC table; a node or supply set by name: check_crossbar_supply). Memory levels are the activations'
    buffers (accel.analog.cost.buffer_traffic); a level may not take the name of a cost component, whose energy
    it would merge with."""
    unused = [f for f, empty in (("elementwise", not d.elementwise), ("interconnect", d.interconnect is None),
                                 ("mac_pj", not d.mac_pj)) if not empty]
    if unused:
        raise ValueError(f"Design.{unused[0]} of a Crossbar design is not used: its cost is the arrays', their "
                         f"periphery's and its memory levels' (the activations' buffers) only (weights stay in the "
                         f"arrays; no element-wise ops, links or digital MAC table are priced); leave "
                         f"{', '.join(unused)} empty")
    # a report's energy, area and count keys: the MVM's energy parts, its area's "misc", the buffers' "leakage",
    # and the counts' tile MVMs, cell reads and compensation reads (accel.analog.cost)
    parts = (*_analog().macros.ENERGY_PARTS, "misc", "leakage", "tile", "cell", "compensation")
    taken = [m.name for m in d.memories if m.name in parts]
    if taken:
        raise ValueError(f"Design.memories: a Crossbar design's level may not be named {taken[0]!r}, a name its "
                         f"cost components use ({', '.join(parts)}); rename the level")
    check_crossbar_supply(d.unit, d.node_nm, d.vdd_v)


def check_crossbar_supply(u, node_nm: float, vdd_v: float, given: tuple = ()) -> None:
    """ValueError when a Crossbar design's node_nm or vdd_v is neither the default (left alone) nor the unit's own
    (_check_crossbar_design); `given` names the fields a caller set by name (set_field, a sweep), for which the
    default is a value like any other: anything but the unit's own raises (audit s33 F4: set_field(hermes-like,
    "vdd_v", 0.9), the default, was ignored silently)."""
    macro = u.periphery != "walden"
    node = u.node_in_use()
    supply = u.supply_v
    if node_nm not in ((node,) if "node_nm" in given else (_DEFAULT_NODE_NM, node)):
        where = "its periphery's" if macro else "unit.node_nm"
        leave = f"set Design.node_nm to {node}" if "node_nm" in given else \
            f"leave Design.node_nm at {_DEFAULT_NODE_NM} or {node}"
        raise ValueError(f"Design.node_nm {node_nm} of a Crossbar design is not used: its cost is at the unit's "
                         f"node ({node} nm, {where}); {leave}")
    if vdd_v not in ((supply,) if "vdd_v" in given else (_DEFAULT_VDD_V, supply)):
        where = f"the unit's {supply} V" if macro else "none (the 'walden' cost has no supply)"
        also = "" if supply is None else f" or {supply}"
        leave = ("set unit.vdd_v to change it" if macro else "leave Design.vdd_v out") if "vdd_v" in given else \
            ("set unit.vdd_v to change it, and " if macro else "") + f"leave Design.vdd_v at {_DEFAULT_VDD_V}{also}"
        raise ValueError(f"Design.vdd_v {vdd_v} of a Crossbar design is not used: the supply is {where}; {leave}")


_DEFAULT_NODE_NM = 45.0
_DEFAULT_VDD_V = 0.9

_UNITS = {"tensor_core": TensorCore, "sparse_tensor_core": SparseTensorCore, "systolic_array": SystolicArray}


def register_unit(kind: str, cls: type) -> None:
    """Make a custom compute unit loadable from TOML as [unit] kind = "<kind>" (and written so by to_toml).
    `cls` must be a frozen dataclass subclassing TensorCore or SystolicArray (the timing model knows those
    two dataflows); registering the same class again is fine, another class under a taken kind is not.
    The registration lives in this process: a fresh one must import the module that makes it."""
    if not isinstance(kind, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
        raise ValueError(f"register_unit: kind must be a lower-case identifier, got {kind!r}")
    if not (isinstance(cls, type) and issubclass(cls, TensorCore | SystolicArray) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"register_unit: {cls!r} must be a dataclass subclassing TensorCore or SystolicArray")
    if kind in _UNITS and _UNITS[kind] is not cls:
        raise ValueError(f"register_unit: kind {kind!r} is already {_UNITS[kind].__name__}; choose another")
    taken = [k for k, c in _UNITS.items() if c is cls and k != kind]
    if taken:
        raise ValueError(f"register_unit: {cls.__name__} is already registered as {taken[0]!r}")
    _UNITS[kind] = cls


@dataclass(frozen=True)
class Design:
    """A design point: a clock, one compute unit, the memory levels from the closest outwards (none:
    compute only), the logic node and supply for energy scaling, and energy-table overrides `mac_pj`
    ({format: pJ per MAC, "block_scale": pJ per FP32 block-scale product-add}); `energy_table` is the
    table in use: these entries, and Horowitz-derived values (accel.energy) scaled to node_nm and vdd_v
    for the rest (a Crossbar unit has its own node and supply: the design's must then be the defaults or
    the unit's). Memory energies are the levels' own `energy_pj_per_byte`. `elementwise`: {op kind:
    accel.ops.KernelCost} for non-GEMM kernels (kinds left out: the ideal roofline); `interconnect`: an
    accel.interconnect.Interconnect (links to peer devices, for tensor parallelism) or None."""

    name: str
    clock_hz: float
    unit: TensorCore | SystolicArray
    memories: tuple = ()
    node_nm: float = _DEFAULT_NODE_NM
    vdd_v: float = _DEFAULT_VDD_V
    mac_pj: dict = field(default_factory=dict, hash=False)
    elementwise: dict = field(default_factory=dict, hash=False)
    interconnect: object = None

    def __post_init__(self) -> None:
        check_str("Design", "name", self.name)
        _check_positive(self, "clock_hz", "node_nm", "vdd_v")
        if type(self.elementwise) is dict and not self.elementwise:
            object.__setattr__(self, "elementwise", {})  # a table of its own, as check_elementwise_table makes
        else:
            from .ops import check_elementwise_table  # ops imports this module
            object.__setattr__(self, "elementwise", check_elementwise_table(self.elementwise))
        if isinstance(self.interconnect, dict):
            try:
                object.__setattr__(self, "interconnect", Interconnect(**self.interconnect))
            except TypeError as err:
                raise ValueError(f"Design.interconnect: {err}") from None
        if self.interconnect is not None and not isinstance(self.interconnect, Interconnect):
            raise ValueError(f"Design.interconnect must be an Interconnect or None, got "
                             f"{type(self.interconnect).__name__}")
        if not isinstance(self.unit, TensorCore | SystolicArray | _crossbar()):
            raise TypeError(f"Design.unit must be a TensorCore, SparseTensorCore, SystolicArray or Crossbar, got "
                            f"{type(self.unit).__name__}")
        if isinstance(self.memories, list):
            object.__setattr__(self, "memories", tuple(self.memories))
        if isinstance(self.unit, _crossbar()):
            _check_crossbar_design(self)
        if not isinstance(self.memories, tuple) or not all(isinstance(m, MemoryLevel) for m in self.memories):
            raise TypeError(f"Design.memories must be a tuple of MemoryLevel, got {self.memories!r}")
        names = [m.name for m in self.memories]
        if len(set(names)) != len(names):
            raise ValueError(f"Design.memories names must be unique, got {names}")
        if not isinstance(self.mac_pj, dict):
            raise TypeError(f"Design.mac_pj must be a {{format: pJ}} table, got {self.mac_pj!r}")
        # an override the energy model never looks up would be silently ignored: only the unit's formats and
        # "block_scale" are keys of the table
        valid = ([] if isinstance(self.unit, _crossbar()) else self.unit.formats()) + ["block_scale"]
        table = {}
        for fmt, v in self.mac_pj.items():
            if fmt not in valid and isinstance(fmt, str) and fmt != "block_scale":
                try:  # a block-format name means its element, as in the unit's rate table
                    fmt = element_name(fmt) if element_name(fmt) in valid else fmt
                except ValueError:
                    pass
            if fmt not in valid:
                raise ValueError(f"Design.mac_pj has unknown key {fmt!r}; valid keys (the unit's formats and "
                                 f"'block_scale'): {valid}")
            table[fmt] = check_real("Design", f"mac_pj[{fmt!r}]", v, lo=0, desc="a positive number of pJ")
        object.__setattr__(self, "mac_pj", table)
        object.__setattr__(self, "_table", None)

    @property
    def energy_table(self) -> dict:
        """pJ per MAC for every format of the unit and per FP32 block-scale product ("block_scale"):
        the entries of `mac_pj`, and Horowitz-derived values (accel.energy) at this node and supply for
        the rest."""
        if self._table is None:
            from numerics import get_accumulator, get_format
            scale = node_scale(self.node_nm, self.vdd_v)
            table = {}
            formats = [] if isinstance(self.unit, _crossbar()) else self.unit.formats()
            for fmt in formats:
                acc = get_accumulator(self.unit.accumulator_for(fmt))
                table[fmt] = mac_pj(get_format(fmt), acc) * scale
            table["block_scale"] = mac_pj(get_format("fp32"), get_accumulator("fp32")) * scale
            table.update(self.mac_pj)
            object.__setattr__(self, "_table", table)
        return self._table

    def peak_ops_per_s(self, fmt: str | None = None, sparse: bool = False) -> float:
        """Datasheet-style peak: 2 ops per MAC x MACs per clock x clock (for a Crossbar: every core's weight MACs
        per MVM time, weight_rows() x weight_cols() on a component macro, a differential pair or sliced weight
        holding one, rows x cols for the 'walden' cost; `fmt` is then ignored)."""
        if not isinstance(sparse, bool | np.bool_):
            raise TypeError(f"peak_ops_per_s: sparse must be True or False, got {sparse!r}")
        if isinstance(self.unit, _crossbar()):
            if sparse:
                raise ValueError(f"{self.unit.name} has no 2:4 sparse mode")
            u = self.unit
            if u.periphery != "walden":  # a component macro: the papers' convention, 2 ops per weight MAC
                return _analog().macros.reference_cost(u)["ops_per_s"]
            # the 'walden' window: adc_share conversions in series, a sliced weight's slices one after another
            return 2.0 * u.rows * u.cols * u.cores / (u.t_mvm_s * u.phases * u.adc_share * u.slices)
        if not isinstance(fmt, str):
            raise TypeError(f"peak_ops_per_s needs fmt, a format name (the unit computes {self.unit.formats()}), got "
                            f"{fmt!r}")
        return 2.0 * self.unit.macs_per_clock(fmt, bool(sparse)) * self.clock_hz

    def peak_ops_per_j(self, fmt: str | None = None) -> float:
        """Peak energy efficiency at full utilisation, 2 ops per MAC. Crossbars: every core's full array
        at the periphery's reference data (`x_act_ref`, `w_act_ref`: the papers' headline conditions;
        2 ops per weight MAC, a differential pair or sliced weight holding one), or for the 'walden' cost
        one full tile of Gaussian operands; the arrays and periphery only, without the memory levels' traffic.
        Digital units: 2 / (pJ per MAC of `fmt`) (compute only)."""
        if isinstance(self.unit, _crossbar()):
            u = self.unit
            if u.periphery != "walden":
                return _analog().macros.reference_cost(u)["ops_per_j"]
            from .simulate import simulate
            from .workloads import Gemm
            return simulate(self.replace(memories=()), Gemm(256, u.cols, u.rows), accuracy=False).ops_per_j
        if not isinstance(fmt, str):
            raise TypeError(f"peak_ops_per_j needs fmt, a format name (the unit computes {self.unit.formats()}), got "
                            f"{fmt!r}")
        for name in (fmt, element_name(fmt)):
            if name in self.energy_table and name != "block_scale":
                return 2.0 / (self.energy_table[name] * 1e-12)
        raise ValueError(f"{self.name} has no {fmt!r}; it computes {self.unit.formats()}")

    def replace(self, **changes) -> "Design":
        return _replace(self, changes)

    # -- TOML ------------------------------------------------------------------------------------
    def to_toml(self) -> str:
        xbar = isinstance(self.unit, _crossbar())  # its cost is the unit's own (node, supply, periphery)
        derived = ", ".join(f"{k} {v:.4g}" for k, v in self.energy_table.items())
        if xbar:
            derived = "none (a Crossbar unit is costed by its own converters or periphery)"
        supply = f"vdd_v = {_toml(self.vdd_v)}"
        if xbar and self.unit.periphery != "walden" and self.vdd_v != self.unit.supply_v:
            supply = (f"# vdd_v: the default ({self.vdd_v:g} V) is not this macro's supply; it runs at its unit's "
                      f"{self.unit.supply_v:g} V (unit.vdd_v, else its periphery's reference)")
        clock, node = f"clock_hz = {_toml(self.clock_hz)}", f"node_nm = {_toml(self.node_nm)}"
        if xbar:
            clock += "  # counts the report's cycles only: a crossbar's time is its own (periphery or t_mvm_s)"
            if self.node_nm != self.unit.node_in_use():
                node = (f"# node_nm: the default ({self.node_nm:g} nm) is not this crossbar's node; it is costed at "
                        f"its unit's {self.unit.node_in_use():g} nm (unit.node_nm)")
        lines = ["[design]", f"name = {_toml(self.name)}", clock, node, supply,
                 f"# energy table in use (pJ per MAC): {derived}",
                 f"mac_pj = {_toml(self.mac_pj)}", "", "[unit]"]
        units = {**_UNITS, "crossbar": _crossbar()}
        kind = next(k for k, c in units.items() if type(self.unit) is c)
        lines.append(f'kind = "{kind}"')
        own_periphery = None  # a Periphery that is not registered: written whole, as [unit.periphery]
        own_device = None  # a device with statistics of its own: written whole, as [unit.device]
        for f in dataclasses.fields(self.unit):
            v = getattr(self.unit, f.name)
            if v is None:  # TOML has no null: omitted fields take their default (None)
                continue
            if f.name == "device":
                from .analog.devices import OWN_STATISTICS, device_name
                try:
                    v = device_name(v)
                except ValueError as err:  # statistics of its own (PCM, HermesPCM, RRAM with changed fields): whole
                    if type(v) not in OWN_STATISTICS.values():
                        raise ValueError(f"Design.to_toml: unit.device is a {type(v).__name__}, which a design file "
                                         f"cannot hold ({err}; a PCM, HermesPCM or RRAM with its own statistics is "
                                         f"written as a [unit.device] table); set it in code") from None
                    own_device = v
                    continue
            if f.name == "periphery":
                from .analog.macros import PERIPHERIES
                if v != "walden":
                    # a registered periphery by name, unless anything differs, its source included (which
                    # equality leaves out): then written whole, so the file keeps what the user changed
                    name = next((n for n, q in PERIPHERIES.items() if q == v and q.source == v.source), None)
                    if name is None:
                        own_periphery = v
                        continue
                    v = name
            lines.append(f"{f.name} = {_toml(v)}")
        if own_periphery is not None:
            lines += ["", "[unit.periphery]"] + [f"{f.name} = {_toml(getattr(own_periphery, f.name))}"
                                                 for f in dataclasses.fields(own_periphery)
                                                 if getattr(own_periphery, f.name) is not None]
        if own_device is not None:
            from .analog.devices import OWN_STATISTICS
            kind = next(n for n, c in OWN_STATISTICS.items() if type(own_device) is c)
            lines += ["", "[unit.device]", f"kind = {_toml(kind)}"] + [
                f"{f.name} = {_toml(getattr(own_device, f.name))}" for f in dataclasses.fields(own_device)]
        for m in self.memories:
            lines += ["", "[[memories]]"] + [f"{f.name} = {_toml(getattr(m, f.name))}"
                                              for f in dataclasses.fields(m)]
        for kind, cost in self.elementwise.items():
            lines += ["", f"[elementwise.{kind}]"] + [f"{f.name} = {_toml(getattr(cost, f.name))}"
                                                      for f in dataclasses.fields(cost)]
        if self.interconnect is not None:
            lines += ["", "[interconnect]"] + [f"{f.name} = {_toml(getattr(self.interconnect, f.name))}"
                                               for f in dataclasses.fields(self.interconnect)]
        # so the file loads in a process that never registered them
        for key, tables in custom_parts(self.unit).items():
            for t in tables:
                lines += ["", f"[[{key}]]"] + [f"{k} = {_toml(v)}" for k, v in t.items()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str, source: str = "design TOML") -> "Design":
        """A Design from TOML text: tables [design], [unit] (with `kind`), [[memories]], [elementwise.*],
        [interconnect], and custom parts [[formats]] / [[block_formats]] / [[accumulators]] (accel.parts:
        registered before the unit is built); no other tables or keys (a misspelt key would otherwise be
        silently ignored). Errors name `source` (the file)."""
        if not isinstance(text, str):
            raise TypeError(f"{source}: the TOML text must be a str, got {type(text).__name__}")
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{source} does not parse as TOML: {err}") from None
        units = {**_UNITS, "crossbar": _crossbar()}
        top = {"design": dict, "unit": dict, "memories": list, "elementwise": dict, "interconnect": dict,
               **dict.fromkeys(PART_KEYS, list)}
        _known_keys(source, "top-level tables", doc, list(top))
        for key in ("design", "unit"):
            if key not in doc:
                raise ValueError(f"{source} lacks {key!r} (the [{key}] table)")
        for key, kind in top.items():
            if key in doc and not isinstance(doc[key], kind):
                form = f"[[{key}]] tables" if kind is list else f"a [{key}] table"
                raise ValueError(f"{source}: {key!r} must be {form}")
        register_parts(doc, source)  # custom formats and accumulators, before the unit that names them
        d, u = dict(doc["design"]), dict(doc["unit"])
        if "kind" not in u:
            raise ValueError(f"{source}: [unit] lacks kind (one of {sorted(units)})")
        kind = u.pop("kind")
        if not isinstance(kind, str) or kind not in units:
            raise ValueError(f"{source}: unit.kind must be one of {sorted(units)}, got {kind!r}")
        unit_cls = units[kind]
        _known_fields(source, "[unit]", u, unit_cls, extra=["kind"])
        own_periphery = u.get("periphery") if unit_cls is _crossbar() else None
        if isinstance(own_periphery, dict):  # a macro's own periphery, every constant given ([unit.periphery])
            from .analog.macros import Periphery
            _known_fields(source, "[unit.periphery]", own_periphery, Periphery)
        own_device = u.get("device") if unit_cls is _crossbar() else None
        if isinstance(own_device, dict):  # a device's own statistics ([unit.device], kind "pcm" or "rram")
            from .analog.devices import OWN_STATISTICS
            own_device = dict(own_device)
            dev_kind = own_device.pop("kind", None)
            if dev_kind not in OWN_STATISTICS:
                raise ValueError(f"{source}: [unit.device] kind must be one of {list(OWN_STATISTICS)} (a device with "
                                 f"statistics of its own), got {dev_kind!r}")
            dev_cls = OWN_STATISTICS[dev_kind]
            _known_fields(source, "[unit.device]", own_device, dev_cls, extra=["kind"])
        _known_fields(source, "[design]", d, cls, skip=("unit", "memories", "elementwise", "interconnect"))
        from .ops import KernelCost
        if "interconnect" in doc:
            _known_fields(source, "[interconnect]", doc["interconnect"], Interconnect)
        for kind, cost in doc.get("elementwise", {}).items():
            if isinstance(cost, dict):
                _known_fields(source, f"[elementwise.{kind}]", cost, KernelCost)
        for i, m in enumerate(doc.get("memories", ())):  # named by the source once, outside the try below
            if not isinstance(m, dict):
                raise ValueError(f"{source}: memories[{i}] must be a [[memories]] table")
            _known_fields(source, f"[[memories]] #{i + 1}", m, MemoryLevel)
        try:
            if "dataflow" in u:
                try:
                    u["dataflow"] = Dataflow(u["dataflow"])
                except ValueError:
                    raise ValueError(f"unit.dataflow must be one of {[f.value for f in Dataflow]}, got "
                                     f"{u['dataflow']!r}") from None
            if isinstance(own_periphery, dict):
                u["periphery"] = Periphery(**own_periphery)
            if isinstance(own_device, dict):
                u["device"] = dev_cls(**own_device)
            unit = unit_cls(**u)
            mems = [MemoryLevel(**m) for m in doc.get("memories", ())]
            extra = {k: doc[k] for k in ("elementwise", "interconnect") if k in doc}
            return cls(unit=unit, memories=tuple(mems), **d, **extra)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{source}: {err}") from None


def _known_keys(source: str, where: str, table: dict, valid: list) -> None:
    unknown = [k for k in table if k not in valid]
    if unknown:
        import difflib
        close = difflib.get_close_matches(unknown[0], valid, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{source}: unknown key{'s' if len(unknown) > 1 else ''} {unknown} in {where}{hint}; "
                         f"valid keys: {valid}")


def _known_fields(source: str, where: str, table: dict, cls, skip=(), extra=()) -> None:
    """No unknown keys, and every field without a default present."""
    fields = [f for f in dataclasses.fields(cls) if f.init and f.name not in skip]
    _known_keys(source, where, table, list(extra) + [f.name for f in fields])
    missing = [f.name for f in fields if f.name not in table and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{source}: {where} lacks {missing} (required keys of {cls.__name__})")


def _toml(v) -> str:
    """One TOML value."""
    if v is None:
        raise TypeError("None has no TOML form")
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, Dataflow):
        return f'"{v.value}"'
    if isinstance(v, str):  # a TOML basic string: JSON's escapes, and DEL, which TOML wants escaped
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, float):
        return "inf" if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml(str(k))} = {_toml(x)}" for k, x in v.items()) + " }"
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def load_design(path) -> Design:
    """A Design from a TOML file (Design.from_toml); errors name the file."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"load_design: path must be a str or os.PathLike, got {type(path).__name__}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as err:
        raise type(err)(err.errno, f"cannot read design file: {err.strerror}", os.fspath(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{os.fspath(path)} is not UTF-8 text (TOML must be): {err}") from None
    return Design.from_toml(text, source=os.fspath(path))
