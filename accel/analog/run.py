"""Workloads on crossbar designs: timing and energy from accel.analog.cost, accuracy from the tiles'
simulated physics."""

import numpy as np

from ..accuracy import chain_accuracy as _chain
from ..accuracy import error_metrics
from ..workloads import draw
from .cost import crossbar_cost, mean_abs_fractions
from .crossbar import Crossbar, ProgrammedMatrix


def _operands(g, max_rows: int = 128):
    """Sampled rows of A (inputs) and the whole B (weights) of a Gemm, as float64."""
    rng = np.random.default_rng(g.seed)
    rows = np.sort(rng.choice(g.m, max_rows, replace=False)) if g.m > max_rows else np.arange(g.m)
    a = np.asarray(g.a, np.float64)[rows] if g.a is not None else draw(g.dist, (len(rows), g.k),
                                                                         np.random.default_rng([g.seed, 1]))
    b = np.asarray(g.b, np.float64) if g.b is not None else draw(g.dist, (g.k, g.n), np.random.default_rng([g.seed, 2]))
    return a, b


def gemm_cost(xbar: Crossbar, g) -> dict:
    a, b = _operands(g, max_rows=64)
    wf, xf = mean_abs_fractions(b, a, xbar)
    return crossbar_cost(xbar, g.m, g.n, g.k, wf, xf, g.count)


def gemm_accuracy(xbar: Crossbar, g) -> dict:
    a, b = _operands(g)
    pm = ProgrammedMatrix(b.T, xbar, seed=g.seed)
    y = pm.matmul(a, g.t_seconds, g.compensation)
    res = error_metrics(y, a @ b)
    res["outputs_computed"] = int(y.size)
    return res


def chain_accuracy(xbar: Crossbar, net) -> dict:
    """The Dense chain run end to end on programmed tiles (one programming per layer, seeded)."""
    return _chain(net, lambda i, x, w: ProgrammedMatrix(w.T, xbar, seed=[i, 7]).matmul(x, net.t_seconds,
                                                                                      net.compensation))
