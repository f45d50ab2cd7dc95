"""Latency and energy of GEMMs on crossbar tiles: action counts (tile MVMs, ADC and DAC conversions,
cell reads, digital partial-sum operations) and their energies, each with its source.

- MVM latency: `t_mvm_s` per phase (default 133 ns: the IBM HERMES chip's one-phase 8-bit MVM, 2 x 256
  x 256 ops per core / (63.1 TOPS / 64 cores); Le Gallo et al., Nat. Electron. 6, 680 (2023)); bit-serial
  inputs take one phase per magnitude bit; `adc_share` columns per integrating ADC serialise their
  conversions, each a full window. The tiles of one GEMM work in parallel (weights stay resident: a
  GEMM needing more tiles than `cores` raises).
- ADC and DAC: Walden figure of merit, E = FOM 2^bits per conversion (Walden, IEEE JSAC 1999); FOM
  10 fJ/conversion-step, the order of the best reported converters (B. Murmann, "ADC Performance
  Survey 1997-2024": record Walden FOMs of a few fJ/step). Ideal (None-bit) converters cost nothing:
  they exist to isolate device effects.
- Array: each cell dissipates G V_read^2 for the fraction |x| of the window its PWM input is on
  (V_read = 0.2 V, the low read voltage PCM arrays use to avoid disturbing the state; Sebastian et al.,
  J. Appl. Phys. 124, 111101, 2018).
- Digital periphery: per output and K tile, one FP32 multiply (input and weight scales) and one FP32
  add (partial-sum accumulation): Horowitz ISSCC 2014, scaled to `node_nm` (accel.energy).
- Bit-sliced weights (`weight_bits` / `bits_per_cell`, `slices` cells per weight): a Walden tile keeps
  `cols` weight columns and their column ADCs; each of a weight's slices is a column read converted on
  its own, one after another through the same ADC, so ADC conversions and the MVM window both scale
  with the slices (component macros count every physical column already: accel.analog.macros).
- Drift compensation (`compensation` not None): each run of a GEMM reads the reference once on every
  tile it occupies (aihwkit's drift readout: one extra MVM per tile per compensation event, full-scale
  inputs), counted as ("compensation", "reference_mvm") and costed as one more input vector at full
  duty; the reference taken at programming time is part of programming and not costed here.
"""


import numpy as np

from ..energy import mac_pj, node_scale
from .components import magnitude_bits
from .crossbar import Crossbar, _signed_levels, dac_codes, weight_codes
from .macros import conductance_fraction, slice_values


def _walden_pj(fom_fj: float, bits: int | None) -> float:
    return 0.0 if bits is None else fom_fj * 2.0 ** bits * 1e-3


def mean_abs_fractions(w: np.ndarray, x: np.ndarray, xbar: Crossbar, with_mean: bool = False) -> tuple:
    """The conductance and pulse duty the array energy needs, as the numerics program and drive the tiles:
    mean over the weights of |w| / the max |w| of its own tile (each tile maps its own max |w| to g_max; for
    bit-sliced weights what their cells hold, `_cell_fraction`),
    and mean over the inputs of |x| / the max |x| of its vector's slice on one tile (each tile scales its
    slice of an input vector by that slice's max; with a fixed `dac_range`, |x| / dac_range clipped at 1).
    `w` (K, N) and `x` (M, K) start on a tile boundary (run._operands' windows do). `with_mean`: the weights'
    mean signed cell value (`cell_mean`) too, from the same pass over the cells: (w_act, x_act, w_mean)."""
    r = xbar.weight_rows()
    wf, wm = _weight_stats(w, xbar, with_mean)
    x = np.abs(np.asarray(x, np.float64))
    if type(xbar.periphery) is not str:  # a component macro: what its DAC emits, on the codes it emits
        xf = input_activity(x, xbar)
    elif xbar.dac_range is not None:  # a fixed full scale: the pulse is |x| / dac_range, clipped at full scale
        xf = float(np.mean(np.minimum(x / xbar.dac_range, 1.0))) if x.size else 0.0
    else:
        xf = _tile_fraction(x, 1, r)
    return (wf, xf, wm) if with_mean else (wf, xf)


def input_activity(x: np.ndarray, xbar: Crossbar) -> float:
    """x_act of a component macro's inputs x (M, K; |x|, from a tile boundary): the fraction of its input drive
    the DAC emits, on the codes it emits (each vector's slice on one tile scaled by that slice's max |x|, or by
    the fixed dac_range, clipped, and rounded to the DAC's levels: crossbar.dac_codes, what the tiles are driven
    with), in the unit the periphery spends per input (macros._cost multiplies every input-driven energy by it):
    - bit-serial inputs, and PWM drivers that switch once per bit (`drive_per_bit`): the fraction of the
      magnitude bits set (each bit plane drives, and charges its cells, where its bit is 1);
    - other PWM inputs: the unit pulses emitted over the most the slices could emit, sum_s mean(v_s) / sum_s
      (2^s - 1) for slice values v_s (macros.slice_values; one slice: mean |q| / levels), so that every slice's
      pulses x this fraction add up to the pulses driven;
    - a voltage DAC: the mean level, mean |q| / levels.
    One number per MVM serves every input-driven energy, which is exact where they share a unit: drivers and
    resistive cells per pulse (PWM), drivers and charge cells per bit (bit-serial). Charge cells under PWM charge once
    per slice whatever its pulses, so with two slices of unequal width (odd magnitude bits) their energy is weighted
    by the slices' pulses instead (9-14 % low on sinangil-sram-like's cells with input_phases=2, review s34); a
    Periphery refuses per-bit drivers with pulsed resistive cells, whose units differ.
    For a one-phase PWM input this is mean |x| / max |x| up to the rounding to levels; for few-bit or
    bit-serial inputs the two differ (Gaussian inputs at 2 bits: about 0.07 of the bits set against a mean
    |x| / max |x| of 0.22; audit s34)."""
    if x.size == 0:
        return 0.0
    r = xbar.weight_rows()
    # the codes the tiles are driven with, one row split (tile) at a time, as ProgrammedMatrix scales them
    q = np.concatenate([np.abs(dac_codes(x[:, i:i + r], xbar)[0]) for i in range(0, x.shape[1], r)], axis=1)
    q = q.astype(np.int64)
    p = xbar.periphery
    if p.dac_kind == "voltage":
        return float(q.sum()) / (x.size * _signed_levels(xbar.dac_bits))
    bits = magnitude_bits(xbar.dac_bits)
    if p.dac_kind == "bit_serial" or p.drive_per_bit:
        return sum(int(((q >> b) & 1).sum()) for b in range(bits)) / (x.size * bits)
    parts = slice_values(q, xbar)
    return sum(int(v.sum()) for _, _, v in parts) / (x.size * sum(top for top, _, _ in parts))


def cell_mean(w: np.ndarray, xbar: Crossbar) -> float:
    """The mean signed cell value, in [-1, 1], of weights w (K, N; from a tile boundary) as the tiles program them,
    for offset-mapped sign-magnitude or analog weights (a cell of value v holds (v + 1) / 2 g_max, so their mean
    conductance is (1 + this) / 2: macros.conductance_fraction): analog weights w / the max |w| of their own tile,
    sign-magnitude slices each digit / its cell's range, signed by its weight. 0 for symmetric weights."""
    return _weight_stats(w, xbar, True)[1]


def _weight_stats(w, xbar: Crossbar, with_mean: bool) -> tuple[float, float]:
    """(w_act, the mean signed cell value or 0.0 unless `with_mean`) of weights w, in one pass over their cells."""
    w = np.asarray(w, np.float64)
    r, c = xbar.weight_rows(), xbar.weight_cols()
    if xbar.weight_bits is None:  # analog weights: each tile's own max |w| is its full scale
        return _tile_fraction(np.abs(w), r, c), _tile_fraction(w, r, c) if with_mean else 0.0
    if w.size == 0:
        return 0.0, 0.0
    held, signed = _cell_sums(w, r, c, xbar)
    cells = xbar.slices * w.size
    return held / cells, signed / cells if with_mean else 0.0


def _cell_sums(w: np.ndarray, r: int, c: int, xbar: Crossbar) -> tuple[float, float]:
    """(the sum of |cell value|, the sum of signed cell values) over the cells of bit-sliced weights w, each r x c
    block (from (0, 0)) quantised by its own max |w| as a tile is (crossbar.weight_codes, exact at the quantiser's
    ties): a sign-magnitude digit's |cell value| is digit / its cell's range, signed by its weight's sign; a two's
    complement or XNOR cell counts its stored 1 bit (their signed sum, which nothing reads, is left 0). A tile of
    zeros stores 0 as its encoding does (no magnitude or 1 bits; in XNOR the top cell +1, the others -1). Rows of
    tiles go a few at a time (about 2^20 weights), so the slices never hold more than that."""
    R, C = w.shape
    r, c = min(r, R), min(c, C)  # a tile larger than the sample is one block of it (padding it would allocate the tile)
    pr, pc = -(-R // r) * r, -(-C // c) * c
    step = max(1, (1 << 20) // (r * pc))  # rows of tiles per chunk
    held = signed = 0.0
    for i0 in range(0, pr, step * r):
        part = w[i0:i0 + step * r]
        n = -(-part.shape[0] // r) * r  # the chunk's rows, its last tile row padded
        blocks = np.pad(part, ((0, n - part.shape[0]), (0, pc - C))).reshape(n // r, r, pc // c, c)
        top = np.abs(blocks).max(axis=(1, 3), keepdims=True)
        real = np.zeros((n, pc), bool)
        real[:part.shape[0], :C] = True  # the padding's cells are not the workload's
        real = real.reshape(blocks.shape)
        u, bpc, n_slices, sign = weight_codes(blocks, np.where(top > 0, top, 1.0), xbar)
        u = u[real]
        cell_max = 2 ** bpc - 1  # a digit's |cell value| is digit / cell_max; a 1 bit of XNOR and two's complement
        digits = [(u >> (bpc * s)) & cell_max for s in range(n_slices)]
        held += sum(int(d.sum()) for d in digits) / cell_max
        if sign is not None:
            sg = sign[real].astype(np.int64)
            signed += sum(int((d * sg).sum()) for d in digits) / cell_max
    return held, signed


def _tile_fraction(v: np.ndarray, r: int, c: int) -> float:
    """Mean of v / (max of |v| over its r x c block), blocks from (0, 0); an all-zero block counts as 0."""
    if v.size == 0:
        return 0.0
    R, C = v.shape
    r, c = min(r, R), min(c, C)  # a block larger than v is v itself: zero padding changes no block's max or sum
    pr, pc = -(-R // r) * r, -(-C // c) * c
    if (pr, pc) != (R, C):
        v = np.pad(v, ((0, pr - R), (0, pc - C)))
    blocks = v.reshape(pr // r, r, pc // c, c)
    top = np.abs(blocks).max(axis=(1, 3), keepdims=True)
    # each value over its block's max before summing: every term lies in [-1, 1], so the sum of n terms rounds to
    # within [-n, n] and the mean to within [-1, 1] (summed first, a block of 0.1 repeated 2048 times came an ulp
    # past 2048 x 0.1 and x_act past 1, audit s33; values near 1e308 overflowed the sum); an all-zero block is 0
    return float(np.sum(blocks / np.where(top > 0, top, 1.0))) / (R * C)


# bytes of one output the tiles' digital accumulator leaves in (Crossbar.accumulator; "exact": a float64 result)
_OUT_BYTES = {"fp32": 4, "fp16": 2, "exact": 8}


def buffer_traffic(xbar: Crossbar, m: int, n: int, k: int, count: int, levels: int) -> list:
    """Bytes each of a Crossbar design's `levels` memory levels (the activations' buffers, listed from the arrays
    outwards) moves for m input vectors through `count` k x n weight matrices. Weights stay in the cells: no weight
    traffic. Each input element is read once and broadcast to the tiles that share its rows (each N tile of its K
    tile row); the drivers hold it through its slices and read phases. Each output is written once, after the
    periphery's digital adders have summed its K tiles' partial outputs, in the accumulator's format
    (`_OUT_BYTES`). An input takes dac_bits / 8 bytes (the DAC's signed code, packed), or 4 where the DAC is
    ideal (None: the float32 the ideal converter takes; a crossbar reads no workload format). As for a digital
    design's levels (accel.timing), a
    level moves what it hands inwards and what it takes from the level outside it, and outputs pass through
    every level to the outermost (in once, out once; once at the outermost)."""
    ein = xbar.dac_bits / 8 if xbar.dac_bits is not None else 4
    a = m * k * count * ein
    c = m * n * count * _OUT_BYTES[xbar.accumulator]
    return [(a + c) * (1 if i == levels - 1 else 2) for i in range(levels)]


def check_fits(xbar: Crossbar, k: int, n: int) -> tuple[int, int]:
    """(K tiles, N tiles) of a k x n weight matrix, by integer arithmetic; ValueError when they outnumber
    the cores (weights stay resident). A component macro's array of rows x cols cells holds rows x
    (cols / devices per weight) weights (its columns hold the slices and pairs of each weight), or rows / 2
    x (cols / slices) where each pair lies on two rows (Crossbar.weight_rows)."""
    rows, cols = xbar.weight_rows(), xbar.weight_cols()
    k_tiles, n_tiles = -(-k // rows), -(-n // cols)
    if k_tiles * n_tiles > xbar.cores:
        raise ValueError(f"a {k} x {n} weight matrix needs {k_tiles * n_tiles} tiles of {rows} x {cols}; "
                         f"the design has {xbar.cores} (weights must stay resident)")
    return k_tiles, n_tiles


def check_resident(xbar: Crossbar, mats, owner: str) -> None:
    """ValueError unless every weight matrix of `mats` [(name, count, k, n)] fits the crossbar at once, each of
    a GEMM's `count` matrices and each layer on tiles of its own (weights stay resident: reprogramming is not
    modelled); `owner` names what holds the cores ("design 'hermes-like'")."""
    need = []
    for name, count, k, n in mats:
        try:
            k_tiles, n_tiles = check_fits(xbar, k, n)  # one matrix alone: its own message, naming the GEMM
        except ValueError as err:
            raise ValueError(f"GEMM {name!r} on {owner}: {err}") from None
        need.append((name, count * k_tiles * n_tiles))
    total = sum(t for _, t in need)
    if total > xbar.cores:
        parts = ", ".join(f"{name} {t}" for name, t in need[:6]) + (", ..." if len(need) > 6 else "")
        cores = f"{xbar.cores} {'core' if xbar.cores == 1 else 'cores'}"
        raise ValueError(f"the workload needs {total} tiles of {xbar.weight_rows()} x {xbar.weight_cols()} weights "
                         f"({parts}: each GEMM's count matrices and each layer on tiles of its own), but {owner} has "
                         f"{cores}: a crossbar holds every weight resident (reprogramming between GEMMs is not "
                         f"modelled)")


def crossbar_cost(xbar: Crossbar, m: int, n: int, k: int, w_frac: float, x_frac: float, count: int = 1,
                  reference_reads: bool = False, w_mean: float = 0.0) -> dict:
    """Counts, seconds and energy (pJ per component) of m input vectors through a k x n weight matrix (`count`
    such matrices); `reference_reads`: plus one drift-compensation reference MVM per tile and matrix; `w_mean`: the
    weights' mean signed cell value (`cell_mean`, where macros.needs_cell_mean)."""
    k_tiles, n_tiles = check_fits(xbar, k, n)
    cost = _macro_cost if type(xbar.periphery) is not str else _walden_cost  # "walden": the only str
    c = cost(xbar, m, n, k, k_tiles, n_tiles, w_frac, x_frac, count, w_mean)
    if reference_reads:
        ref = cost(xbar, 1, n, k, k_tiles, n_tiles, w_frac, 1.0, count, w_mean)
        c["seconds"] += ref["seconds"]
        for key, v in ref["energy_pj"].items():
            c["energy_pj"][key] = c["energy_pj"].get(key, 0.0) + v
        for key, v in ref["counts"].items():
            c["counts"][key] = c["counts"].get(key, 0) + v
        c["counts"][("compensation", "reference_mvm")] = k_tiles * n_tiles * count
    return c


def _walden_cost(xbar: Crossbar, m: int, n: int, k: int, k_tiles: int, n_tiles: int, w_frac: float, x_frac: float,
                 count: int, w_mean: float = 0.0) -> dict:
    """The converter-only cost (the module's docstring): every weight slice is its own conversion and window."""
    phases = xbar.phases
    window = xbar.t_mvm_s * xbar.adc_share * xbar.slices
    seconds = m * phases * window * count
    adc = m * phases * n * k_tiles * count * xbar.slices
    dac = m * phases * k * n_tiles * count
    cells = m * k * n * xbar.devices_per_weight() * count
    # mean conductance per device: differential pairs hold |w| on one of two devices; offset holds
    # (w + 1) / 2 on one (by weight_encoding: macros.conductance_fraction)
    g_mean_us = xbar.g_max_us * conductance_fraction(xbar, w_frac, w_mean)
    duty = x_frac if xbar.input_mode == "pwm" else 0.5 * x_frac  # bit planes: about half the bits set
    array_pj = cells * g_mean_us * 1e-6 * xbar.v_read ** 2 * xbar.t_mvm_s * duty * phases * 1e12
    import numerics as nx
    fp32 = nx.get_format("fp32")
    fma_pj = mac_pj(fp32, nx.get_accumulator("fp32")) * node_scale(xbar.node_in_use(), 0.9)
    digital_pj = m * n * k_tiles * count * fma_pj
    energy = {"adc": adc * _walden_pj(xbar.adc_fom_fj, xbar.adc_bits),
              "dac": dac * _walden_pj(xbar.adc_fom_fj, xbar.dac_bits),
              "array": array_pj, "digital": digital_pj}
    counts = {("tile", "mvm"): m * phases * k_tiles * n_tiles * count, ("adc", "conversion"): adc,
              ("dac", "conversion"): dac, ("cell", "read"): cells * phases,
              ("digital", "fp32_mac"): m * n * k_tiles * count}
    return {"seconds": seconds, "energy_pj": energy, "counts": counts}


def _macro_cost(xbar: Crossbar, m: int, n: int, k: int, k_tiles: int, n_tiles: int, w_frac: float, x_frac: float,
                count: int, w_mean: float = 0.0) -> dict:
    """A component macro (accel.analog.macros): every tile of the GEMM runs one MVM per input vector, all
    tiles in parallel (weights resident); energy per component from mvm_cost, each tile priced by the
    weight rows and columns it holds (the last tile along K or N holds the remainder)."""
    from .macros import mvm_cost
    wr, wc = xbar.weight_rows(), xbar.weight_cols()
    rows = [(wr, k_tiles - 1), (k - (k_tiles - 1) * wr, 1)]  # (weight rows used, tiles), full ones then the last
    cols = [(wc, n_tiles - 1), (n - (n_tiles - 1) * wc, 1)]
    vectors = m * count
    energy: dict = {}
    conversions = 0
    seconds = 0.0
    for r, nr in rows:
        for c_used, nc in cols:
            if nr * nc == 0:
                continue
            c = mvm_cost(xbar, x_frac, w_frac, rows_used=r, cols_used=c_used, w_mean=w_mean)
            for key, v in c["energy_pj"].items():
                energy[key] = energy.get(key, 0.0) + v * nr * nc * vectors
            conversions += c["conversions"] * nr * nc
            seconds = c["seconds"]  # every tile's MVM takes the array's time
    counts = {("tile", "mvm"): vectors * k_tiles * n_tiles, ("adc", "conversion"): vectors * conversions}
    return {"seconds": vectors * seconds, "energy_pj": energy, "counts": counts}
