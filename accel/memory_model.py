"""Memory technologies, area and leakage of digital designs (issue #17 item 5). Every constant is cited
here and in docs/constants.md.

Memory energy follows the memory. A MemoryLevel whose `technology` is "" keeps its `energy_pj_per_byte`
(a datasheet figure a preset pins); "sram" takes the SRAM rule of accel.energy (Horowitz's 64-bit reads:
10 pJ at 8 KB growing as sqrt(capacity), banks of at most 1 MB) at the design's node, from the level's
capacity per instance, so an SRAM-size sweep moves the energy; a DRAM technology name takes its published
energy per bit (DRAM_PJ_PER_BIT; DRAM is not node-scaled).

Area (mm², on-die only: DRAM is off-die). SRAM: capacity x bit-cell area at the node / array efficiency.
MACs: the unit's peak MACs per clock x one MAC's area (multiplier + accumulator adder, Horowitz's 45 nm
areas interpolated with the same power laws as the energies), for the format whose datapath is largest
(formats share multipliers in real units, so the largest is a floor). Logic area scales as (node / 45)^2.
Control, interconnect, I/O, register files and vector units are not counted: area_mm2 is a lower bound.

Leakage: a power density per mm² at the node (LEAKAGE_W_PER_MM2) x area x the run's seconds.
"""

import math

from .energy import _power_law, node_scale, sram_pj_per_byte

# DRAM access energy per bit moved (array, periphery and I/O), pJ/bit.
DRAM_PJ_PER_BIT = {
    # Horowitz ISSCC 2014: DDR3-class 1.3 nJ per 64-bit access (the low end of his 1.3-2.6 nJ)
    "ddr3": 1300.0 / 64,
    # O'Connor et al., "Fine-Grained DRAM", MICRO 2017, Fig. 1 / Sec. 2: GDDR5 14.0, HBM2 3.9 pJ/bit
    "gddr5": 14.0,
    "hbm2": 3.9,
    # Micron, "Ultra-Bandwidth Solutions" memory comparison (product page): average device power 7.5 pJ/bit
    # GDDR6 (14-16 Gb/s/pin), 7.25 GDDR6X, 6.0 HBM2E (3.2-3.6 Gb/s/pin). A vendor's device figure with its
    # I/O, not O'Connor's accounting of HBM2 above: the two bases differ, so HBM2E > HBM2 here is theirs
    "hbm2e": 6.0,
    # HBM3, HBM3E: no per-bit access energy found in a published paper or datasheet at the time of writing;
    # they take HBM2's 3.9 pJ/bit (an assumption, marked so in docs/constants.md)
    "hbm3": 3.9,
    "hbm3e": 3.9,
    "gddr6": 7.5,
    # LPDDR4: H. Ha, "Understanding and improving the energy efficiency of DRAM", PhD thesis, Stanford
    # 2018 (DramDSE, 32 Gb single-die LPDDR4 at 3.2 Gb/s/pin): 14.0 pJ/bit
    "lpddr4": 14.0,
    # LPDDR5: Samsung's LPDDR5 announcement (July 2018): up to 30 % less power than LPDDR4X at the same
    # work -> 0.7 x 14.0 pJ/bit
    "lpddr5": 0.7 * 14.0,
}
TECHNOLOGIES = ("", "sram", *DRAM_PJ_PER_BIT)

# 6T high-density SRAM bit cell, µm², by node (nm): Intel 45 nm (Mistry et al., IEDM 2007) 0.346; TSMC
# 28 nm (IEDM 2009) 0.127; TSMC 16FF+ (Wu et al., IEDM 2013) 0.070; TSMC N7 (Wu et al., IEDM 2016) 0.027;
# TSMC N5 (Yeap et al., IEDM 2019) 0.021; TSMC N3 (Chang et al., IEDM 2022) 0.0199.
SRAM_CELL_UM2 = {45.0: 0.346, 28.0: 0.127, 16.0: 0.070, 7.0: 0.027, 5.0: 0.021, 3.0: 0.0199}
# Array efficiency (bit cells / macro area): TSMC N5's 0.021 µm² cell (47.6 Mb/mm² of cells) against its
# published macro density of 31.8 Mb/mm² (WikiChip, TSMC N5/N3E SRAM density, IEDM 2022 coverage): 0.67.
SRAM_ARRAY_EFFICIENCY = 31.8 / (1.0 / 0.021)

# Horowitz ISSCC 2014 (45 nm), area in µm² of one operator (as reproduced in Dally's lectures and Han et
# al., EIE, ISCA 2016): int8 add 36, int32 add 137, int8 mult 282, int32 mult 3495, fp16 add 1360, fp32
# add 4184, fp16 mult 1640, fp32 mult 7700.
_INT_ADD_UM2 = {8: 36.0, 32: 137.0}
_INT_MUL_UM2 = {8: 282.0, 32: 3495.0}
_FP_ADD_UM2 = {16: 1360.0, 32: 4184.0}
_FP_MUL_UM2 = {11: 1640.0, 24: 7700.0}   # keyed by significand bits, as in accel.energy

# Leakage power density, W/mm², from CACTI 7 SRAM outputs (itrs-hp devices) that Bitfusion's configuration
# gives (tabulated in Dongyunkam/DRAM_info, README §5.2): 45 nm 128 B: 0.259873 mW / 0.00149898 mm²
# (0.173 W/mm²); 28 nm 128 B, 4 KB, 8 KB: 0.136585 / 0.00102563, 3.11199 / 0.0460667, 5.75335 / 0.0555835
# mW / mm² (mean 0.101 W/mm²). Nodes below 28 nm keep the 28 nm figure (no cited FinFET figure); between
# and above, the nearer point. High-performance devices: an upper bound for low-leakage libraries.
LEAKAGE_W_PER_MM2 = {45.0: 0.259873 / 0.00149898 / 1e3,
                     28.0: (0.136585 / 0.00102563 + 3.11199 / 0.0460667 + 5.75335 / 0.0555835) / 3 / 1e3}


def _log_interp(table: dict, x: float) -> float:
    """Piecewise power law through the table's points (log-log), held flat outside them."""
    pts = sorted(table.items())
    if x <= pts[0][0]:
        return pts[0][1]
    if x >= pts[-1][0]:
        return pts[-1][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            a = math.log(y1 / y0) / math.log(x1 / x0)
            return y0 * (x / x0) ** a
    raise AssertionError("unreachable")


def check_technology(owner: str, tech) -> str:
    if not isinstance(tech, str):
        raise TypeError(f"{owner}.technology must be a str, one of {list(TECHNOLOGIES)}, got {type(tech).__name__}")
    if tech not in TECHNOLOGIES:
        raise ValueError(f"{owner}.technology must be one of {list(TECHNOLOGIES)} ('' keeps energy_pj_per_byte), "
                         f"got {tech!r}")
    return tech


def level_pj_per_byte(level, node_nm: float) -> float:
    """Energy per byte of a MemoryLevel at the design's node (module docstring)."""
    tech = getattr(level, "technology", "")
    if tech == "":
        return level.energy_pj_per_byte
    if tech == "sram":  # rounded to 1e-4 pJ as the presets' pinned values always were
        return round(sram_pj_per_byte(level.size_bytes) * node_scale(node_nm, 0.9), 4)
    return DRAM_PJ_PER_BIT[tech] * 8


def sram_mm2_per_mb(node_nm: float) -> float:
    """Area of one MiB of SRAM macro at `node_nm`: 2^23 bit cells / array efficiency."""
    return (1 << 23) * _log_interp(SRAM_CELL_UM2, node_nm) / SRAM_ARRAY_EFFICIENCY * 1e-6


def mac_um2(element, accumulator, node_nm: float) -> float:
    """Area of one MAC of `element` operands with `accumulator` at `node_nm` (µm²)."""
    from numerics import AccMethod, FloatFormat
    if isinstance(element, FloatFormat):
        mul = _power_law(_FP_MUL_UM2, element.man_bits + 1)
    else:  # integers; posits, log and lookup formats as a multiplier of their width (as accel.energy)
        mul = _power_law(_INT_MUL_UM2, element.bits)
    if accumulator.method == AccMethod.INTEGER or accumulator.out_format is None:
        add = _power_law(_INT_ADD_UM2, 32 if accumulator.out_format is None else min(accumulator.int_bits, 32))
    else:
        of = accumulator.out_format
        add = _power_law(_FP_ADD_UM2, of.bits) if isinstance(of, FloatFormat) else _power_law(_INT_ADD_UM2, of.bits)
    return (mul + add) * (node_nm / 45.0) ** 2


def leakage_w_per_mm2(node_nm: float) -> float:
    return _log_interp(LEAKAGE_W_PER_MM2, node_nm)


def design_area_mm2(design) -> dict:
    """{"mac": mm², <sram level name>: mm², ...} of a digital design (module docstring)."""
    from numerics import get_accumulator, get_format
    unit = design.unit
    mac = 0.0
    for fmt in unit.formats():
        acc = get_accumulator(unit.accumulator_for(fmt))
        mac = max(mac, unit.macs_per_clock(fmt) * mac_um2(get_format(fmt), acc, design.node_nm) * 1e-6)
    out = {"mac": mac}
    for m in design.memories:
        if getattr(m, "technology", "") in DRAM_PJ_PER_BIT:
            continue  # off-die
        if getattr(m, "technology", "") == "" and m.size_bytes > (1 << 30):
            continue  # a pinned level of more than 1 GiB is DRAM
        out[m.name] = m.size_bytes * m.instances / (1 << 20) * sram_mm2_per_mb(design.node_nm)
    return out
