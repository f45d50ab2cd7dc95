"""Workloads on crossbar designs: timing and energy from accel.analog.cost, accuracy from the tiles'
simulated physics."""

import numpy as np

from ..accuracy import chain_accuracy as _chain
from ..accuracy import error_metrics
from ..workloads import draw
from .cost import check_fits, crossbar_cost, mean_abs_fractions
from .crossbar import Crossbar, ProgrammedMatrix
from .devices import check_no_drift

# Weights drawn for one GEMM's energy statistics or accuracy: 2**22, what HERMES's 64 cores of 256 x 256 hold,
# so every GEMM that fits the preset is computed whole; larger weight matrices (crossbars with more or larger
# cores) are sampled: at most 256 output columns and the K rows that fill the budget, in whole tiles where a
# tile fits, at seeded tile-aligned offsets.
MAX_WEIGHTS = 2 ** 22


def _window(total: int, size: int, tile: int, rng) -> int:
    """A seeded start for `size` of `total` indices, a multiple of `tile` when it can be."""
    if size >= total:
        return 0
    step = tile if tile <= total - size else 1
    return step * int(rng.integers(0, (total - size) // step + 1))


def _operands(g, max_rows: int = 128, xbar: Crossbar | None = None, max_weights: int = MAX_WEIGHTS):
    """Sampled rows of A (inputs) and a window of B (weights) of a Gemm, as float64: all of B when it has
    at most `max_weights` entries (the module's budget), else at most 256 columns and the rows of K that
    fill the budget."""
    rng = np.random.default_rng(g.seed)
    rows = np.sort(rng.choice(g.m, max_rows, replace=False)) if g.m > max_rows else np.arange(g.m)
    k, n = g.k, g.n
    if k * n <= max_weights:
        k0, ks, c0, cs = 0, k, 0, n
    else:
        tr, tc = (xbar.rows, xbar.cols) if xbar is not None else (1, 1)
        cs = min(n, 256)
        ks = min(k, max(1, max_weights // cs))
        if tr <= ks < k:
            ks = ks // tr * tr  # whole tiles along K
        win = np.random.default_rng([g.seed, 4])
        k0, c0 = _window(k, ks, tr, win), _window(n, cs, tc, win)
    a = np.asarray(g.a[rows, k0:k0 + ks], np.float64) if g.a is not None else \
        draw(g.dist, (len(rows), ks), np.random.default_rng([g.seed, 1]))
    b = np.asarray(g.b[k0:k0 + ks, c0:c0 + cs], np.float64) if g.b is not None else \
        draw(g.dist, (ks, cs), np.random.default_rng([g.seed, 2]))
    return a, b


def gemm_cost(xbar: Crossbar, g) -> dict:
    """Counts, seconds and energy of `g` on the crossbar design. The tile count is checked first, by
    arithmetic (a weight matrix that does not fit raises before anything is drawn); the conductance and
    pulse statistics then come from a bounded sample of the operands (`_operands`)."""
    check_fits(xbar, g.k, g.n)
    check_no_drift(xbar.device, g.t_seconds)
    a, b = _operands(g, max_rows=64, xbar=xbar)
    wf, xf = mean_abs_fractions(b, a, xbar)
    return crossbar_cost(xbar, g.m, g.n, g.k, wf, xf, g.count)


def gemm_accuracy(xbar: Crossbar, g) -> dict:
    """Error metrics of `g` on programmed tiles, on the bounded sample of `_operands`; "outputs_computed"
    and "k_sampled" (the K rows programmed) say what was computed."""
    a, b = _operands(g, xbar=xbar)
    pm = ProgrammedMatrix(b.T, xbar, seed=g.seed)
    y = pm.matmul(a, g.t_seconds, g.compensation)
    res = error_metrics(y, a @ b)
    res["outputs_computed"] = int(y.size)
    res["k_sampled"] = int(b.shape[0])
    return res


def chain_accuracy(xbar: Crossbar, net) -> dict:
    """The Dense chain run end to end on programmed tiles (one programming per layer, seeded)."""
    return _chain(net, lambda i, x, w: ProgrammedMatrix(w.T, xbar, seed=[i, 7]).matmul(x, net.t_seconds,
                                                                                      net.compensation))
