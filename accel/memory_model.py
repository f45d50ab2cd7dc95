"""Memory technologies, area and leakage of digital designs (issue #17 item 5). Every constant is cited
here and in docs/constants.md.

Memory energy follows the memory. A MemoryLevel whose `technology` is "" keeps its `energy_pj_per_byte`
(a datasheet figure a preset pins); "sram" takes CACTI 7's read energy for one bank of the level's capacity
per instance and access width (`word_bytes`) at the design's node (the CACTI fit below), so a sweep over
capacity or word width moves the energy; a DRAM technology name takes its published energy per bit
(DRAM_PJ_PER_BIT; DRAM is not node-scaled).

The CACTI fit (accel/data/cacti/sram.csv, made by scripts/cacti_sram_table.py; README there). CACTI 7 ran
plain one-bank, one-port scratchpads (no tags, no ECC, itrs-hp cells at 360 K) of 1 KiB-32 MiB and words of
1-128 bytes at 22, 32, 45, 65 and 90 nm. Between the table's points: piecewise power laws (linear in
log-log) in capacity along each tabulated word width, then in word width, then in node; at a tabulated
point the table's own value. Outside: the word held at the table's edge (a word of more than 128 bytes
costs per byte what 128 bytes does; levels are banked below the table's largest capacity, see Banks);
capacities too small for their word (16 words or fewer: CACTI finds no organisation) take the smallest
tabulated capacity for that word (an upper bound). Nodes below 22 nm:
energy x node / 22 (node_scale's C V^2 rule from CACTI's smallest node); area x the published bit-cell
area ratio (SRAM_CELL_UM2) from 22 nm. Nodes above 90 nm: energy x node / 90, area x (node / 90)^2.
Writes are charged at the read energy: the timing model counts bytes moved, not their direction (CACTI's
write energy is tabulated; `sram_pj_per_byte(..., op="write")`).

Banks: a level larger than SRAM_BANK_MAX_BYTES (1 MiB, the largest array Horowitz's ISSCC 2014 SRAM
energies cover) is built of banks of that size and one access reads one bank, as the previous rule had it
(large caches are sliced; a 40 MB L2 is no single array). The network between banks is not counted, so
large levels' energies are a lower bound.

Area (mm², on-die only: DRAM is off-die). SRAM: CACTI's bank area per MiB (the fit above, at the bank size)
x capacity.
MACs: the unit's peak MACs per clock x one MAC's area (multiplier + accumulator adder, Horowitz's 45 nm
areas interpolated with the same power laws as the energies), for the format whose datapath is largest
(formats share multipliers in real units, so the largest is a floor). Logic area scales as (node / 45)^2.
Control, interconnect, I/O, register files and vector units are not counted: area_mm2 is a lower bound.

Leakage: a power density per mm² at the node (LEAKAGE_W_PER_MM2, above 45 nm with CACTI's node trend) x
area x the run's seconds, for logic and SRAM alike. CACTI's own leakage column (itrs-hp cells at 360 K, the
leakiest of its cell choices) is kept in the table but not used: docs/constants.md gives the argument.
"""

import csv
import functools
import math
from pathlib import Path

from .energy import _power_law, node_scale

# Micron's HBM2E figure (below), the base of the HBM3E and HBM3 entries
_MICRON_HBM2E_PJ_PER_BIT = 6.0
# HBM3E: Micron's press release "Micron Delivers Industry's Fastest, Highest-Capacity HBM to Advance
# Generative AI Innovation" (26 July 2023): its HBM3 Gen2 (Micron's name for its HBM3E: 9.2 Gb/s/pin,
# 1.2 TB/s, 24 GB 8-high, the part NVIDIA's H200 ships) has "2.5x performance per watt" over Micron's
# previous generation, HBM2E. Bandwidth per watt is bits per joule, so 6.0 / 2.5 = 2.4 pJ/bit: derived from
# Micron's two figures, on Micron's device basis (I/O included, as its HBM2E entry).
_HBM3E_PJ_PER_BIT = _MICRON_HBM2E_PJ_PER_BIT / 2.5
# HBM3: Samsung (Memory Tech Day, 20 Oct 2023, as AnandTech reported it: "Samsung Announces 'Shinebolt'
# HBM3E Memory"): its HBM3E (Shinebolt) moves a bit with 10 % less energy than its HBM3 (Icebolt) at the
# same clock -> 2.4 / 0.9 = 2.67 pJ/bit. A cross-vendor estimate (Micron's level, Samsung's step). Micron
# also claims 30 % less power than competitors' HBM3E (Micron blog, May 2024), so other vendors' parts may
# sit up to 1 / 0.7 = 1.43x higher (HBM3E 3.4, HBM3 3.8 pJ/bit): the uncertainty of both entries.
# No vendor datasheet, JEDEC JESD238 or ISSCC HBM3/HBM3E paper found states a device pJ/bit (the search
# is listed in docs/constants.md); a 4 nm HBM3 host interface ("A 4-nm 1.15 TB/s HBM3 Interface ...",
# IEEE JSSC 59(1), 2024) takes 0.29 pJ/bit: the host PHY's I/O alone, a part of the device figures here.
_HBM3_PJ_PER_BIT = _HBM3E_PJ_PER_BIT / 0.9

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
    "hbm2e": _MICRON_HBM2E_PJ_PER_BIT,
    "gddr6": 7.5,
    # HBM3 2.67, HBM3E 2.4 pJ/bit: Micron's basis, derived above
    "hbm3": _HBM3_PJ_PER_BIT,
    "hbm3e": _HBM3E_PJ_PER_BIT,
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
# CACTI 7 (HewlettPackard/cacti, commit 1ffd8dfb; accel/data/cacti/README.md) runs of one-bank scratchpads.
CACTI_SRAM_CSV = Path(__file__).parent / "data" / "cacti" / "sram.csv"
CACTI_NODES_NM = (22.0, 32.0, 45.0, 65.0, 90.0)   # every node CACTI 7 enables (16 nm is commented out)
SRAM_OPS = ("read", "write")

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
# mW / mm² (mean 0.101 W/mm²). Between the two: a power law; below 28 nm the 28 nm figure (no cited FinFET
# figure); above 45 nm, 45 nm's figure x CACTI's own node trend (LEAKAGE_TREND_BANK, below).
LEAKAGE_W_PER_MM2 = {45.0: 0.259873 / 0.00149898 / 1e3,
                     28.0: (0.136585 / 0.00102563 + 3.11199 / 0.0460667 + 5.75335 / 0.0555835) / 3 / 1e3}
# Above 45 nm: the leakage density of the same cells (itrs-hp, 360 K) in the CACTI table this module fits
# (sram.csv: a 1 MiB bank of 64-bit words) falls from 0.349 W/mm² at 45 nm to 0.172 at 65 and 0.033 at 90 nm
# (older planar nodes leak less). Holding 45 nm's density flat would put a 90 nm design 5x above CACTI's
# leakiest corner, so the density above 45 nm is scaled by that trend (log-log between 45, 65 and 90 nm,
# held beyond 90).
LEAKAGE_TREND_BANK = (1 << 20, 8)  # (capacity, word bytes) of the CACTI rows that give the trend
# CACTI's leakage column itself is not used as the SRAM's leakage (docs/constants.md, "Leakage"): it is the
# leakiest corner of CACTI's cell choices (itrs-hp cells and periphery at 360 K); for 1 MiB of 64-bit words
# the model's density gives 0.30-0.50 x that column at 22-90 nm, between it and CACTI's low-standby-power
# cells (itrs-lstp cells, itrs-hp periphery: 0.10-0.11 x at 22 and 45 nm).


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


def _loglog(xs: tuple, ys: tuple, x: float) -> float:
    """Piecewise power law through (xs, ys) (xs ascending), held at the end points outside them; a
    tabulated x returns its y exactly."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:]):
        if x == x0:
            return y0
        if x0 < x < x1:
            return y0 * (x / x0) ** (math.log(y1 / y0) / math.log(x1 / x0))
    raise AssertionError("unreachable")


@functools.cache
def cacti_sram_table() -> dict:
    """{node_nm: {word_bytes: (capacities, {quantity: values})}} from accel/data/cacti/sram.csv, the
    capacities ascending; quantities: read_pj_per_byte, write_pj_per_byte, mm2_per_mb, and the raw
    per-access columns (read_nj, write_nj, leakage_mw, area_mm2, access_ns, cycle_ns)."""
    rows: dict = {}
    with CACTI_SRAM_CSV.open(newline="") as f:
        for r in csv.DictReader(f):
            node, cap, word = float(r["node_nm"]), int(r["capacity_bytes"]), int(r["word_bits"]) // 8
            q = {k: float(v) for k, v in r.items() if k not in ("node_nm", "capacity_bytes", "word_bits")}
            q["read_pj_per_byte"] = q["read_nj"] * 1e3 / word
            q["write_pj_per_byte"] = q["write_nj"] * 1e3 / word
            q["mm2_per_mb"] = q["area_mm2"] / (cap / (1 << 20))
            rows.setdefault(node, {}).setdefault(word, []).append((cap, q))
    out: dict = {}
    for node, words in rows.items():
        out[node] = {}
        for word, pts in sorted(words.items()):
            pts.sort(key=lambda p: p[0])
            caps = tuple(c for c, _ in pts)
            out[node][word] = (caps, {k: tuple(q[k] for _, q in pts) for k in pts[0][1]})
    return out


def _at_cacti_node(node: float, size_bytes: float, word_bytes: float, quantity: str) -> float:
    """The table's `quantity` at a CACTI node: log-log in capacity along each tabulated word, then in word."""
    words = cacti_sram_table()[node]
    ws = tuple(words)
    w = min(max(word_bytes, ws[0]), ws[-1])
    i = max(j for j, x in enumerate(ws) if x <= w)
    along = [_loglog(words[x][0], words[x][1][quantity], size_bytes) for x in ws[i:i + 2]]
    if ws[i] == w:
        return along[0]
    return _loglog(ws[i:i + 2], tuple(along), w)


@functools.lru_cache(maxsize=4096)
def _cacti_fit(node_nm: float, size_bytes: int, word_bytes: int, quantity: str) -> float:
    """The fit at any node: log-log between CACTI's nodes; outside them the edge node's value scaled
    (module docstring): energies by node_scale, area by the bit cells below 22 nm and (node / 90)^2 above.
    Cached: a sweep asks for the same few levels at every point."""
    lo, hi = CACTI_NODES_NM[0], CACTI_NODES_NM[-1]
    area = quantity == "mm2_per_mb"
    if node_nm < lo:
        f = (_log_interp(SRAM_CELL_UM2, node_nm) / _log_interp(SRAM_CELL_UM2, lo) if area
             else node_scale(node_nm, 0.9) / node_scale(lo, 0.9))
        return _at_cacti_node(lo, size_bytes, word_bytes, quantity) * f
    if node_nm > hi:
        f = (node_nm / hi) ** 2 if area else node_scale(node_nm, 0.9) / node_scale(hi, 0.9)
        return _at_cacti_node(hi, size_bytes, word_bytes, quantity) * f
    at = [_at_cacti_node(n, size_bytes, word_bytes, quantity) for n in CACTI_NODES_NM]
    return _loglog(CACTI_NODES_NM, tuple(at), node_nm)


def _check_sram_args(size_bytes, word_bytes, node_nm) -> None:
    from .checks import check_int, check_real
    check_int("sram", "size_bytes", size_bytes)
    check_int("MemoryLevel", "word_bytes", word_bytes)
    check_real("sram", "node_nm", node_nm, lo=0)
    if word_bytes > size_bytes:
        raise ValueError(f"MemoryLevel.word_bytes ({word_bytes}) must be at most size_bytes ({size_bytes})")


def sram_pj_per_byte(size_bytes: int, word_bytes: int, node_nm: float, op: str = "read") -> float:
    """SRAM energy per byte read (op="read") or written (op="write") in one access of `word_bytes` to a bank
    of `size_bytes` at `node_nm` (0.9 V): the CACTI fit (module docstring)."""
    _check_sram_args(size_bytes, word_bytes, node_nm)
    if op not in SRAM_OPS:
        raise ValueError(f"op must be one of {list(SRAM_OPS)}, got {op!r}")
    return _cacti_fit(float(node_nm), int(size_bytes), int(word_bytes), f"{op}_pj_per_byte")


def sram_mm2_per_mb(size_bytes: int, word_bytes: int, node_nm: float) -> float:
    """Area of one MiB of an SRAM bank of `size_bytes` with `word_bytes` words at `node_nm`: the CACTI fit;
    below 22 nm scaled by the published bit cells' area (SRAM_CELL_UM2), above 90 nm by (node / 90)^2."""
    _check_sram_args(size_bytes, word_bytes, node_nm)
    return _cacti_fit(float(node_nm), int(size_bytes), int(word_bytes), "mm2_per_mb")


SRAM_BANK_MAX_BYTES = 1 << 20  # Horowitz ISSCC 2014's largest SRAM (1 MB); see the module docstring


def sram_bank_bytes(size_bytes: int, word_bytes: int) -> int:
    """The bank one access of a level of `size_bytes` reads: the level itself up to SRAM_BANK_MAX_BYTES, else
    a bank of that size (never smaller than one word)."""
    return max(min(size_bytes, SRAM_BANK_MAX_BYTES), word_bytes)


def level_pj_per_byte(level, node_nm: float) -> float:
    """Energy per byte of a MemoryLevel at the design's node (module docstring)."""
    tech = getattr(level, "technology", "")
    if tech == "":
        return level.energy_pj_per_byte
    if tech == "sram":  # a MemoryLevel has checked its fields: straight to the (cached) fit
        return _cacti_fit(float(node_nm), sram_bank_bytes(level.size_bytes, level.word_bytes), level.word_bytes,
                          "read_pj_per_byte")
    return DRAM_PJ_PER_BIT[tech] * 8


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


@functools.cache
def _cacti_leakage_density(node_nm: float) -> float:
    """CACTI's leakage / area (W/mm²) of the LEAKAGE_TREND_BANK at one of its nodes."""
    cap, word = LEAKAGE_TREND_BANK
    caps, q = cacti_sram_table()[node_nm][word]
    i = caps.index(cap)
    return q["leakage_mw"][i] / 1e3 / q["area_mm2"][i]


def leakage_w_per_mm2(node_nm: float) -> float:
    """Static power density of a digital design at `node_nm` (LEAKAGE_W_PER_MM2; above 45 nm times CACTI's
    node trend, LEAKAGE_TREND_BANK)."""
    if node_nm <= 45.0:
        return _log_interp(LEAKAGE_W_PER_MM2, node_nm)
    nodes = tuple(n for n in CACTI_NODES_NM if n >= 45.0)
    trend = _loglog(nodes, tuple(_cacti_leakage_density(n) for n in nodes), node_nm)
    return LEAKAGE_W_PER_MM2[45.0] * trend / _cacti_leakage_density(45.0)


def design_area_mm2(design) -> dict:
    """{"mac": mm², <sram level name>: mm², ...} of a digital design (module docstring)."""
    from numerics import get_accumulator, get_format
    unit = design.unit
    mac = 0.0
    for fmt in unit.formats():
        acc = get_accumulator(unit.accumulator_for(fmt))
        mac = max(mac, unit.macs_per_clock(fmt) * mac_um2(get_format(fmt), acc, design.node_nm) * 1e-6)
    return {"mac": mac, **memories_area_mm2(design.memories, design.node_nm)}


def memories_area_mm2(memories, node_nm: float) -> dict:
    """{level name: mm²} of the on-die levels of `memories` at `node_nm` (CACTI's bank area, module docstring);
    DRAM levels (a DRAM technology, or a pinned level of more than 1 GiB) are off-die and absent."""
    out = {}
    for m in memories:
        if getattr(m, "technology", "") in DRAM_PJ_PER_BIT:
            continue  # off-die
        if getattr(m, "technology", "") == "" and m.size_bytes > (1 << 30):
            continue  # a pinned level of more than 1 GiB is DRAM
        mm2_per_mb = _cacti_fit(float(node_nm), sram_bank_bytes(m.size_bytes, m.word_bytes), m.word_bytes,
                                "mm2_per_mb")
        out[m.name] = m.size_bytes * m.instances / (1 << 20) * mm2_per_mb
    return out
