"""Timing and action counts of a GEMM on a design: tile it onto the unit, count compute cycles (fill and
drain, partial tiles and partial waves included), count the bytes each memory level moves given the
reuse the tiling allows, and bound the time by the slowest of compute and every level (a roofline per
level). Pure arithmetic on Python ints: a design point evaluates in microseconds.

Traffic model. Levels are listed from the unit outwards. The bytes read from level i are those of the
operands re-read once per block of outputs that the level inside it holds:

    A: m k a_bytes ceil(n / bn_i),   B: k n b_bytes ceil(m / bm_i),

with (bm_i, bn_i) the warp tile for the innermost level of a TensorCore (registers hold it), the thread-
block tile for the next (shared memory holds it; with fewer tiles than SMs, K is split over the idle SMs
and the fp32 partial tiles make one more round trip through that level), and for every outer level the
largest square block whose full-K panels of A and B fit in one instance of the level inside (b = size /
(k (a_bytes + b_bytes)); never smaller than the block before; the whole operands when they fit). A
systolic array's innermost level feeds it per SCALE-Sim's dataflows (per fold: OS re-reads A for every
column fold and B for every row fold; WS keeps B stationary and re-reads A per column fold; IS keeps A
and re-reads B per row fold; WS and IS write partial sums once per K fold). Every level also takes the
fills from the level outside it, and sees the output once (the outermost) or twice (written in, read
out). 2:4-sparse B moves half its values plus its metadata (the unit's bits per kept value).
"""

from dataclasses import dataclass
from math import ceil

from .design import Design, SparseTensorCore, SystolicArray, TensorCore, element_name, format_info
from .gemm_model import choose_tile
from .systolic import compute_cycles
from .workloads import Gemm, mma_formats, parse_sparsity


@dataclass(frozen=True)
class Timing:
    """Result of the timing model for one GEMM (all `count` repeats)."""

    cycles: float
    seconds: float
    compute_cycles: int
    bound: str                 # "compute" or the name of the memory level that bounds the time
    level_seconds: dict        # level name -> seconds its traffic needs
    counts: dict               # (component, action) -> number


def _bytes_per_element(fmt: str) -> float:
    return format_info(fmt)[1] / 8


def _block_size(fmt: str) -> int | None:
    return format_info(fmt)[2]


def _capacity_block(level_bytes: int, m: int, n: int, k: int, ea: float, eb: float, prev: tuple) -> tuple:
    if m * k * ea + k * n * eb <= level_bytes:
        return m, n
    b = int(level_bytes // (k * (ea + eb)))
    return min(m, max(prev[0], b)), min(n, max(prev[1], b))


def _wave_block(level_bytes: int, m: int, n: int, tile_m: int, tile_n: int, tile_k: int, sms: int,
                ea: float, eb: float) -> tuple:
    """The output block that one wave of thread-block tiles covers: the tiles running at once step
    through K together, so the level that holds their current K slices (double-buffered) serves each
    operand panel to all the wave's tiles that share it, however long K is (the reuse CUTLASS's
    threadblock swizzle arranges). The block is as square as the wave allows; (0, 0) when the wave's
    K slices do not fit in the level."""
    rows, cols = -(-m // tile_m), -(-n // tile_n)
    per_wave = min(sms, rows * cols)
    r = max(1, min(rows, per_wave, round((per_wave * tile_n / tile_m) ** 0.5)))
    c = max(1, min(cols, per_wave // r))
    bm, bn = min(m, r * tile_m), min(n, c * tile_n)
    if 2 * tile_k * (bm * ea + bn * eb) > level_bytes:
        return 0, 0
    return bm, bn


def gemm_timing(design: Design, w: Gemm) -> Timing:
    """Cycles, seconds, bound and action counts of `w` on `design` (one repeat scaled by w.count)."""
    if not isinstance(design, Design):
        raise TypeError(f"design must be a Design, got {type(design).__name__}")
    if not isinstance(w, Gemm):
        raise TypeError(f"w must be a Gemm, got {type(w).__name__}")
    unit = design.unit
    if not isinstance(unit, TensorCore | SystolicArray):
        raise TypeError(f"gemm_timing models digital units; {unit.name} is a {type(unit).__name__} (use simulate)")
    m, n, k = w.m, w.n, w.k
    sp = parse_sparsity(w.sparsity)
    sparse = sp is not None
    if sparse:
        if not isinstance(unit, SparseTensorCore):
            raise ValueError(f"{unit.name} has no 2:4 sparse mode; the workload asks for sparsity {w.sparsity!r}")
        if sp != (unit.sparse_n, unit.sparse_m):
            raise ValueError(f"{unit.name} supports {unit.sparse_n}:{unit.sparse_m} sparsity, not {w.sparsity!r}")
    # mixed precision: the formats the MMA consumes (a dequantised operand enters in the other's format,
    # workloads.mma_formats); operands are stored and moved in their own formats
    mma_a, mma_b, _ = mma_formats(w.a_format, w.b_fmt)
    el_a, el_b = element_name(mma_a), element_name(mma_b)
    if el_a != el_b and (el_a not in unit.formats() or el_b not in unit.formats()):  # one format: its rate says
        how = "" if (mma_a, mma_b) == (w.a_format, w.b_fmt) else f" (the MMA runs in {mma_a!r} x {mma_b!r})"
        missing = [f for f in (el_a, el_b) if f not in unit.formats()]
        wider = el_a if missing == [el_b] else el_b if missing == [el_a] else None
        hint = (f"; a unit without {missing[0]!r} MMA runs such a GEMM with the {missing[0]!r} operand dequantised "
                f"to {wider!r} (W4A8 kernels expand INT4 weights so): give that operand as {wider!r}, or as a "
                f"group-scaled block format (e.g. int4_g128_e4m3), which the model dequantises"
                if wider is not None else "")
        raise ValueError(f"{unit.name} computes {unit.formats()}; got a in {w.a_format!r}, b in {w.b_fmt!r}{how}"
                         f"{hint}")
    # mixed-format operands run at the slower of the two rates
    rate_fmt = min((mma_a, mma_b), key=lambda f: unit.macs_per_clock(f))
    ea, eb, ec = _bytes_per_element(w.a_format), _bytes_per_element(w.b_fmt), _bytes_per_element(w.out_fmt)
    b_bytes_total = k * n * eb
    if sparse:  # kept values plus index metadata
        keep = unit.sparse_n / unit.sparse_m
        b_bytes_total = k * n * keep * (eb + unit.metadata_bits / 8)
    a_total, c_total = m * k * ea, m * n * ec
    counts: dict = {}
    # a batched Gemm's `count` GEMMs run as one kernel on a TensorCore (their tiles share the waves)
    batch = w.count if w.batched and isinstance(unit, TensorCore) else 1
    kernels = w.count // batch

    if isinstance(unit, TensorCore):
        rate_sm = unit.macs_per_clock(rate_fmt, sparse) // unit.sm_count
        # measured kernels sustain only a fraction of the peak math rate (1.0: the ideal roofline); the
        # tile, waves, split-K, fill/drain and prologue latency: accel.gemm_model
        eff = unit.sparse_kernel_efficiency if sparse else unit.kernel_efficiency
        tc = choose_tile(design, unit, m, n, k, batch, rate_sm, ea, eb, ec, eff, a_total, b_bytes_total)
        split = tc.split
        comp = ceil(tc.cycles)
        im, in_, ik = unit.instruction
        counts[("mma", "instruction")] = (tc.tiles * split * (tc.tile_m // im) * ceil(tc.tile_n / in_)
                                          * (tc.k_pad // ik) * kernels)
        blocks = [(min(m, tc.warp_m), min(n, tc.warp_n)), (min(m, tc.tile_m), min(n, tc.tile_n))]
        wave = (tc.tile_m, tc.tile_n, tc.tile_k, unit.sm_count)
        inner_reads = None
    else:
        assert isinstance(unit, SystolicArray)
        comp = compute_cycles(m, n, k, unit.rows, unit.cols, unit.dataflow)
        rate = unit.formats_per_pe[element_name(rate_fmt)]
        comp = ceil(comp / rate) if rate > 1 else comp
        r, c = unit.rows, unit.cols
        df = unit.dataflow.value
        if df == "os":
            inner_reads = (a_total * ceil(n / c), b_bytes_total * ceil(m / r), c_total)
        elif df == "ws":
            inner_reads = (a_total * ceil(n / c), b_bytes_total, c_total * ceil(k / r))
        else:
            inner_reads = (a_total, b_bytes_total * ceil(m / c), c_total * ceil(k / r))
        blocks = [(min(m, r), min(n, c))]
        wave = None
        split = 1

    # bytes read from each level, innermost first
    reads = []
    prev = blocks[0]
    for i in range(len(design.memories)):
        if i == 0 and inner_reads is not None:
            reads.append(inner_reads[0] + inner_reads[1])
            continue
        if i < len(blocks):
            bm, bn = blocks[i]
        else:
            size = design.memories[i - 1].size_bytes
            bm, bn = _capacity_block(size, m, n, k, ea, eb, prev)
            if wave is not None and i == len(blocks):
                wm, wn = _wave_block(size, m, n, *wave, ea, eb)
                bm, bn = max(bm, wm), max(bn, wn)
        prev = (bm, bn)
        reads.append(a_total * ceil(n / bn) + b_bytes_total * ceil(m / bm))
    if isinstance(unit, TensorCore) and split > 1 and len(design.memories) > 1:
        reads[1] += 2 * (split - 1) * m * n * 4  # fp32 partial tiles out to L2 and back for the reduction
    level_seconds = {}
    last = len(design.memories) - 1
    for i, mem in enumerate(design.memories):
        out_bytes = inner_reads[2] if (i == 0 and inner_reads is not None) else c_total
        traffic = reads[i] + (reads[i + 1] if i < last else 0) + out_bytes * (1 if i == last else 2)
        traffic *= w.count
        counts[(mem.name, "byte")] = traffic
        level_seconds[mem.name] = traffic / mem.sustained_bandwidth_bytes_per_s

    comp *= kernels
    compute_s = comp / design.clock_hz
    seconds, bound = compute_s, "compute"
    for name, s in level_seconds.items():
        if s > seconds:
            seconds, bound = s, name
    if isinstance(unit, TensorCore) and unit.launch_s:  # every kernel's launch floor (accel.gemm_model)
        if unit.launch_s * kernels > seconds:
            bound = "launch"
        seconds += unit.launch_s * kernels
    macs = m * n * k * w.count
    counts[("mac", element_name(rate_fmt))] = macs * (unit.sparse_n / unit.sparse_m if sparse else 1)
    blk = _block_size(w.a_format) or _block_size(w.b_fmt)
    if blk:  # block-scaled operands: one FP32 scale product-add per output per K block
        counts[("scale", "fp32_mac")] = m * n * ceil(k / blk) * w.count
    return Timing(cycles=seconds * design.clock_hz, seconds=seconds, compute_cycles=comp, bound=bound,
                  level_seconds=level_seconds, counts=counts)
