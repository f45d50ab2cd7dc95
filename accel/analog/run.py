"""Workloads on crossbar designs: timing and energy from accel.analog.cost, accuracy from the tiles'
simulated physics, repeated over seeded device draws (Network.draws) with a mean and a 95 % interval."""

import math

import numpy as np

from ..accuracy import chain_accuracy as _chain
from ..accuracy import error_metrics, reference_product, sample_note
from ..workloads import draw
from .cost import check_fits, crossbar_cost, mean_abs_fractions
from .crossbar import Crossbar, ProgrammedMatrix
from .devices import check_no_compensation, check_read_time
from .macros import needs_cell_mean

# Weights drawn for one GEMM's energy statistics or accuracy: 2**22, what HERMES's 64 cores of 256 x 256 hold,
# so every GEMM that fits the preset is computed whole; larger weight matrices (crossbars with more or larger
# cores) are sampled: at most 256 output columns and the K rows that fill the budget, in whole tiles where a
# tile fits, at seeded tile-aligned offsets.
MAX_WEIGHTS = 2 ** 22


def _window(total: int, size: int, tile: int, rng) -> int:
    """A seeded start for `size` of `total` indices, a multiple of `tile` (0 when the slack is under one
    tile): the window's blocks are the tiles themselves (the energy's per-tile activity needs that)."""
    if size >= total or tile > total - size:
        return 0
    return tile * int(rng.integers(0, (total - size) // tile + 1))


def _operands(g, max_rows: int = 128, xbar: Crossbar | None = None, max_weights: int = MAX_WEIGHTS,
              nonzero: bool = False):
    """Sampled rows of A (inputs) and a window of B (weights) of a Gemm, as float64: all of B when it has
    at most `max_weights` entries (the module's budget), else at most 256 columns and the rows of K that
    fill the budget. `nonzero` (the accuracy sample): where a Gemm's own B holds no nonzero weight in the seeded
    window, the next tile-aligned window along N that holds one (cyclically), since a zero window has no relative
    error (the energy's sample keeps the seeded window: zero weights cost what they cost)."""
    # the rows from a stream of their own: default_rng(g.seed) is the stream of draw 0's device noise (draw_seed)
    rng = np.random.default_rng([g.seed, 5])
    rows = np.sort(rng.choice(g.m, max_rows, replace=False)) if g.m > max_rows else np.arange(g.m)
    k, n = g.k, g.n
    if k * n <= max_weights:
        k0, ks, c0, cs = 0, k, 0, n
    else:
        tr, tc = (xbar.weight_rows(), xbar.weight_cols()) if xbar is not None else (1, 1)
        cs = min(n, 256)
        ks = min(k, max(1, max_weights // cs))
        if tr <= ks < k:
            ks = ks // tr * tr  # whole tiles along K
        win = np.random.default_rng([g.seed, 4])
        k0, c0 = _window(k, ks, tr, win), _window(n, cs, tc, win)
        if nonzero and g.b is not None and not np.any(g.b[k0:k0 + ks, c0:c0 + cs]):
            # the columns holding a weight in this K slice, read once; the first tile-aligned window after the
            # seeded one (cyclically) that covers one of them
            held = np.flatnonzero(np.any(g.b[k0:k0 + ks], axis=0))
            starts = range(0, n - cs + 1, tc) if tc <= n - cs else [0]
            later = [c for c in starts if c > c0] + [c for c in starts if c < c0]
            pos = np.searchsorted(held, later)  # the first held column at or after each start
            c0 = next((c for c, i in zip(later, pos) if i < len(held) and held[i] < c + cs), c0)
    a = np.asarray(g.a[rows, k0:k0 + ks], np.float64) if g.a is not None else \
        draw(g.dist, (len(rows), ks), np.random.default_rng([g.seed, 1]))
    b = np.asarray(g.b[k0:k0 + ks, c0:c0 + cs], np.float64) if g.b is not None else \
        draw(g.dist, (ks, cs), np.random.default_rng([g.seed, 2]))
    return a, b


def gemm_cost(xbar: Crossbar, g) -> dict:
    """Counts, seconds and energy of `g` on the crossbar design. The tile count is checked first, by
    arithmetic (a weight matrix that does not fit raises before anything is drawn); the conductance and
    pulse statistics then come from a bounded sample of the operands (`_operands`). With drift
    compensation each run of the GEMM also reads its reference (crossbar_cost's `reference_reads`)."""
    check_fits(xbar, g.k, g.n)
    check_read_time(xbar.device, g.t_seconds)
    check_no_compensation(xbar.device, g.compensation)
    wf, xf, wm = _fractions(g, xbar)
    return crossbar_cost(xbar, g.m, g.n, g.k, wf, xf, g.count, reference_reads=g.compensation is not None, w_mean=wm)


_FRACTIONS: dict = {}  # drawn operands' statistics, by everything they depend on (_fractions)
_FRACTIONS_MAX = 4096


def _fractions(g, xbar: Crossbar) -> tuple[float, float, float]:
    """mean_abs_fractions of the energy sample of `g` (_operands, 64 rows of A), and the weights' mean signed cell
    value where the array energy reads it (macros.needs_cell_mean; else 0.0). Operands drawn from the
    Gemm's `dist` and `seed` are a function of (dist, seed, m, k, n) and the tile shape that places the
    sample window, and the fractions of that, the tile's `dac_range`, on a component macro its DAC's codes (dac_bits,
    input_phases, the periphery's dac_kind and drive_per_bit: cost.input_activity) and, for bit-sliced weights, how
    they are quantised and sliced (encoding, weight_bits, bits_per_cell: mean_abs_fractions counts their cells): those
    are memoised, so a sweep over macro settings draws each workload once. Real operands (Gemm.a, Gemm.b) are
    read every time."""
    drawn = g.a is None and g.b is None
    bits = (xbar.weight_encoding, xbar.weight_bits, xbar.bits_per_cell) if xbar.weight_bits is not None else None
    mean = needs_cell_mean(xbar)
    p = xbar.periphery
    # a component macro's input activity is counted on its DAC's codes, in its periphery's unit (input_activity)
    codes = None if type(p) is str else (xbar.dac_bits, xbar.input_phases, p.dac_kind, p.drive_per_bit)
    key = (g.dist, g.seed, g.m, g.k, g.n, xbar.weight_rows(), xbar.weight_cols(), xbar.dac_range, bits, mean,
           codes) if drawn else None
    out = _FRACTIONS.get(key) if drawn else None
    if out is None:
        a, b = _operands(g, max_rows=64, xbar=xbar)
        out = mean_abs_fractions(b, a, xbar, with_mean=mean)
        out = out if mean else (*out, 0.0)
        if drawn:
            if len(_FRACTIONS) >= _FRACTIONS_MAX:
                _FRACTIONS.clear()
            _FRACTIONS[key] = out
    return out


def draw_seed(seed: int, draw: int, *base: int) -> list:
    """The device seed of one draw: `base` (what a single draw has always used) for draw 0 of seed 0, so
    that draws=1, seed=0 reproduces earlier results; `base` + [seed, draw] otherwise, with a 1 after a draw
    of 0: numpy's SeedSequence drops trailing zeros, so [base, 2, 0] would be [base, 2], the stream the
    operands' weights are drawn from (_operands: [g.seed, 1] inputs, [g.seed, 2] weights, [g.seed, 4] the
    sampling window, [g.seed, 5] the sampled rows of A), and the device noise would repeat the weights."""
    if seed == 0 and draw == 0:
        return list(base)
    return [*base, seed, draw] if draw else [*base, seed, 0, 1]


def gemm_accuracy(xbar: Crossbar, g, seed: int = 0, draw: int = 0) -> dict:
    """Error metrics of `g` on programmed tiles, on the bounded sample of `_operands`; "outputs_computed"
    and "k_sampled" (the K rows programmed) say what was computed. `seed`, `draw`: the device draw
    (draw_seed); the operands depend on g.seed only."""
    a, b = _operands(g, xbar=xbar, nonzero=True)
    # before the tiles run: a reference out of float64's range, or of zeros, says so
    ref = reference_product(a, b, f"workload {g.name!r}", sample=sample_note(g, a, b))
    pm = ProgrammedMatrix(b.T, xbar, seed=draw_seed(seed, draw, g.seed))
    y = pm.matmul(a, g.t_seconds, g.compensation)
    res = error_metrics(y, ref, f"workload {g.name!r}")
    res["outputs_computed"] = int(y.size)
    res["k_sampled"] = int(b.shape[0])
    return res


def chain_accuracy(xbar: Crossbar, net, draw: int = 0) -> dict:
    """The Dense chain run end to end on programmed tiles (one programming per layer, seeded by
    net.seed and `draw`)."""
    return _chain(net, lambda i, x, w: ProgrammedMatrix(w.T, xbar, seed=draw_seed(net.seed, draw, i, 7)).matmul(
        x, net.t_seconds, net.compensation))


def network_accuracy(xbar: Crossbar, workload) -> dict:
    """Accuracy of a Gemm or Network on the crossbar: one device draw, or for a Network with draws > 1
    the summary over its draws (summarise_draws)."""
    from ..accuracy import worst_gemm
    from ..network import Network
    if not isinstance(workload, Network):
        return gemm_accuracy(xbar, workload)
    gemms = None if workload.is_chain else workload.gemms()

    def one(d):
        if gemms is None:
            return chain_accuracy(xbar, workload, d)
        return worst_gemm(gemms, lambda g: gemm_accuracy(xbar, g, workload.seed, d))
    runs = [one(d) for d in range(workload.draws)]
    return runs[0] if workload.draws == 1 else summarise_draws(runs)


def t_quantile_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with `df` degrees of freedom, by bisection on its exact CDF for
    integer df (Abramowitz and Stegun 26.7.3-26.7.4: P(|T| < t) as a finite series in cos(atan(t/sqrt(df))))."""
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")

    def central(t):
        th = math.atan(t / math.sqrt(df))
        c2 = math.cos(th) ** 2
        if df % 2:  # odd: (2/pi)(theta + sin cos (1 + 2/3 c2 + 2 4/(3 5) c2^2 + ...)), (df - 3)/2 terms
            term, acc = 1.0, 1.0 if df > 1 else 0.0
            for j in range(1, (df - 1) // 2):
                term *= c2 * (2 * j) / (2 * j + 1)
                acc += term
            return 2.0 / math.pi * (th + math.sin(th) * math.cos(th) * acc)
        term, acc = 1.0, 1.0  # even: sin (1 + 1/2 c2 + 1 3/(2 4) c2^2 + ...), (df - 2)/2 terms
        for j in range(1, df // 2):
            term *= c2 * (2 * j - 1) / (2 * j)
            acc += term
        return math.sin(th) * acc
    lo, hi = 0.0, 1.0
    while central(hi) < 0.95:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if central(mid) < 0.95 else (lo, mid)
    return 0.5 * (lo + hi)


# the values a metric can take, where they are bounded (errors named rel_* are >= 0 too): summarise_draws
_METRIC_RANGE = {"max_abs_err": (0.0, math.inf), "top1": (0.0, 1.0), "top1_float": (0.0, 1.0),
                 "agreement": (0.0, 1.0)}


def summarise_draws(runs: list) -> dict:
    """Metrics of several device draws as one dict: each metric that varies by draw (a float) is the mean
    over the draws, with `<metric>_std` (sample standard deviation) and the 95 % confidence interval of
    the mean, `<metric>_ci95_lo` / `_ci95_hi` = mean -+ t_{0.975, n-1} std / sqrt(n) (Student t; the
    draws are independent runs of the same model), cut to the values the metric can take (errors >= 0,
    top-1 and agreement in [0, 1]: the cut interval keeps its coverage; with few draws t_{0.975, n-1} is large,
    12.7 for two, and the uncut interval would reach below 0). A metric that is infinite in some draw (an output
    that overflowed) has an infinite mean and std, and its interval is the range of the draws.
    Integers (counts) come from the first draw; "draws" says how many there were."""
    n = len(runs)
    out: dict = {}
    tq = t_quantile_975(n - 1)
    for key, v0 in runs[0].items():
        if not isinstance(v0, float | np.floating):
            out[key] = v0
            continue
        vals = np.array([float(r[key]) for r in runs])
        if not np.isfinite(vals).all():  # an overflowing draw: its inf (same sign per metric) dominates the mean
            out.update({key: float(np.mean(vals)), f"{key}_std": math.inf, f"{key}_ci95_lo": float(vals.min()),
                        f"{key}_ci95_hi": float(vals.max())})
            continue
        mean, std = float(np.mean(vals)), float(np.std(vals, ddof=1))
        half = tq * std / math.sqrt(n)
        lo, hi = _METRIC_RANGE.get(key, (0.0, math.inf) if key.startswith("rel_") else (-math.inf, math.inf))
        out.update({key: mean, f"{key}_std": std, f"{key}_ci95_lo": max(mean - half, lo),
                    f"{key}_ci95_hi": min(mean + half, hi)})
    out["draws"] = n
    return out
