"""How long a GEMM kernel's math takes on a GPU-style TensorCore, from mechanisms rather than one
efficiency constant:

- **tile choice**: the unit lists the thread-block tiles its library has (CUTLASS's SM80 FP16 tensor-op
  configurations, for example); like cuBLAS's heuristics, the kernel uses the tile that finishes first, so
  a skinny GEMM gets a small tile (more tiles to fill the SMs) and a square one a large tile (more reuse);
- **wave quantisation**: the output tiles of all the GEMMs of a batched kernel run in waves of one tile
  per SM; a partial wave costs a whole one; with fewer tiles than SMs, K is split over the idle SMs
  (CUTLASS split-K / stream-K);
- **per-tile pipeline**: each tile's main loop runs at `kernel_efficiency` of the SM's peak math rate; the
  first K step's operands (fill) and the output tile (drain) pass through the SM's share of the innermost
  memory level, and the prologue waits `tile_latency_s` for its first loads from global memory (the
  memory latency that dominates tiny problems);
- **launch floor**: every kernel costs `launch_s` on top (the host-side dispatch, launch and
  synchronisation that a measured call includes); a batched GEMM is one kernel and pays it once.

Pure arithmetic on ints and floats: choosing among six tiles costs a few microseconds.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TileChoice:
    """The tile a GEMM kernel runs with and what it costs in compute cycles (all its tiles, one kernel)."""

    tile_m: int
    tile_n: int
    tile_k: int
    warp_m: int
    warp_n: int
    tiles: int          # output tiles over every GEMM of the kernel (before split-K)
    split: int          # K split over this many SMs per tile
    waves: int
    k_pad: int          # K per split, padded to whole K steps
    cycles: float       # compute cycles of the kernel, fill/drain and prologue latency included


def tile_shapes(unit) -> tuple:
    """The (tile_m, tile_n) candidates of a TensorCore: its own tile first, then `unit.tile_shapes`."""
    own = (unit.tile_m, unit.tile_n)
    return (own, *(t for t in unit.tile_shapes if t != own))


def choose_tile(design, unit, m: int, n: int, k: int, batch: int, rate_sm: float, ea: float, eb: float,
                ec: float, efficiency: float, a_bytes: float, b_bytes: float) -> TileChoice:
    """The fastest tile for `batch` GEMMs of m x n x k run as one kernel on `unit`, each SM doing
    `rate_sm` MACs per clock at `efficiency` of that rate in the main loop; operand and output bytes per
    element ea, eb, ec; a_bytes, b_bytes: one GEMM's operands as stored. A tile's time is the largest of its
    compute cycles, the cycles the innermost level (shared memory) needs for the warps' operand reads, and
    the cycles the level outside the SMs needs to re-read the operands once per tile row and column
    (A ceil(n / tile_n) + B ceil(m / tile_m): the reuse the tile allows), write and read the output and
    move split-K's partial tiles; ties go to the earlier candidate, the unit's own tile first."""
    tk = unit.tile_k
    sms = unit.sm_count
    k_steps = -(-k // tk)
    per_sm = 0.0
    if design.memories:
        per_sm = design.memories[0].bandwidth_bytes_per_s / design.clock_hz
        if design.memories[0].instances == 1:
            per_sm /= sms
    latency = unit.tile_latency_s * design.clock_hz
    outer = design.memories[1].total_bandwidth_bytes_per_s / design.clock_hz if len(design.memories) > 1 else 0.0
    mn_out = 2 * m * n * ec
    best, best_score = None, math.inf
    for tm, tn in tile_shapes(unit):
        tiles = -(-m // tm) * -(-n // tn) * batch
        split = max(1, min(sms // tiles, k_steps)) if tiles < sms else 1
        waves = -(-(tiles * split) // sms)
        k_pad = -(-k_steps // split) * tk
        # fill: the first K step's operands; drain: the output tile, through one SM's share of the
        # innermost level (when there is one)
        fill_drain = ((tm * ea + tn * eb) * tk + tm * tn * ec) / per_sm if per_sm else 0.0
        cycles = waves * (tm * tn * k_pad / rate_sm / efficiency + fill_drain + latency)
        score = cycles
        if per_sm:
            # what the innermost level carries for this tile: each warp re-reads the A rows and B columns
            # of its warp tile, and the fills from outside are written into it once (B as stored: 2:4
            # sparse B moves its kept values and metadata)
            wm, wn = min(unit.warp_m, tm), min(unit.warp_n, tn)
            eb_stored = b_bytes / (k * n) if k * n else eb
            smem = (tm * ea * (-(-tn // wn) + 1) + tn * eb_stored * (-(-tm // wm) + 1)) * k_pad / per_sm
            score = max(score, waves * smem)
        if outer:
            # what the level outside the SMs carries for this tile: the operand re-reads, their fill from
            # further out (at least once), the output in and out, split-K's fp32 partial tiles there and back
            traffic = (a_bytes * (-(-n // tn) + 1) + b_bytes * (-(-m // tm) + 1) + mn_out
                       + 8 * (split - 1) * m * n) * batch / outer
            score = max(score, traffic)
        if score < best_score:
            best_score, best = score, (tm, tn, tiles, split, waves, k_pad, cycles)
    tm, tn, tiles, split, waves, k_pad, cycles = best
    return TileChoice(tm, tn, tk, min(unit.warp_m, tm), min(unit.warp_n, tn), tiles, split, waves, k_pad, cycles)
