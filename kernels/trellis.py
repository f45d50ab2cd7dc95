"""Viterbi search over QTIP's bitshift trellis (Tseng et al., "QTIP", NeurIPS 2024).

States are L-bit windows of the bit stream; each step shifts in kV new bits, so the high L - kV bits of a
state are the low L - kV bits of the state before it. `values[s]` (2^L, V) is the code's value of state
s. A sequence of T steps (T V weights) is encoded by the state path minimising the squared error.
"""

import numba as nb
import numpy as np

INF = np.float32(3.0e38)


@nb.njit(cache=True, fastmath=True)
def _viterbi_one(x, values, v0, v1, L, kv, start_hi, end_lo, back, cost, ncost, gmin, garg):
    """One sequence. start_hi / end_lo: -1 for free, else the required high bits of the first state /
    low bits of the last state. Returns the state path (T,)."""
    nstate = 1 << L
    ngroup = 1 << (L - kv)
    npred = 1 << kv
    V = values.shape[1]
    T = x.shape[0] // V
    for s in range(nstate):
        d = np.float32(0.0)
        for v in range(V):
            t = values[s, v] - x[v]
            d += t * t
        if start_hi >= 0 and (s >> kv) != start_hi:
            d = INF
        cost[s] = d
    for t in range(1, T):
        # the best predecessor of each group g of states sharing their high L - kV bits: predecessors
        # g + j 2^(L - kV) (contiguous runs of cost); branch-free so that the loops vectorise
        for g in range(ngroup):
            gmin[g] = cost[g]
            garg[g] = 0
        for j in range(1, npred):
            off = j << (L - kv)
            for g in range(ngroup):
                c = cost[off + g]
                better = c < gmin[g]
                gmin[g] = min(c, gmin[g])
                garg[g] = j if better else garg[g]
        bt = back[t]
        for g in range(ngroup):
            bt[g] = garg[g]
        # state s belongs to group s >> kV; flat loops vectorise (a nested loop over the group does not)
        if V == 1:
            xt = x[t]
            for s in range(nstate):
                e = v0[s] - xt
                ncost[s] = gmin[s >> kv] + e * e
        else:
            xa = x[2 * t]
            xb = x[2 * t + 1]
            for s in range(nstate):
                e = v0[s] - xa
                f = v1[s] - xb
                ncost[s] = gmin[s >> kv] + e * e + f * f
        for s in range(nstate):
            cost[s] = ncost[s]
    best = INF
    bs = 0
    for s in range(nstate):
        if end_lo >= 0 and (s & (ngroup - 1)) != end_lo:
            continue
        if cost[s] < best:
            best = cost[s]
            bs = s
    path = np.empty(T, np.int64)
    path[T - 1] = bs
    for t in range(T - 1, 0, -1):
        g = path[t] >> kv
        path[t - 1] = g | (np.int64(back[t, g]) << (L - kv))
    return path


def viterbi(x: np.ndarray, values: np.ndarray, L: int, kv: int, start_hi: np.ndarray, end_lo: np.ndarray) -> np.ndarray:
    """x: (B, T V) float32 sequences; values (2^L, V) float32, V = 1 or 2. start_hi, end_lo: (B,) int64 constraints
    (-1: free, else an (L - kV)-bit value). Returns the state paths (B, T) int64. Every shape, dtype and
    range the kernel indexes with is checked here first."""
    for name, v in (("L", L), ("kv", kv)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"{name} must be an int, got {v!r}")
    if not 1 <= kv <= 8 or not kv < L <= 24:
        raise ValueError(f"need 1 <= kv <= 8 (back pointers are uint8) and kv < L <= 24, got L = {L}, kv = {kv}")
    if not (isinstance(values, np.ndarray) and values.dtype == np.float32 and values.ndim == 2
            and values.shape[0] == 1 << L and values.shape[1] in (1, 2)):
        raise ValueError(f"values must be a (2^L = {1 << L}, V) float32 array with V = 1 or 2, got "
                         f"{getattr(values, 'dtype', type(values))} {getattr(values, 'shape', '')}")
    V = values.shape[1]
    if not (isinstance(x, np.ndarray) and x.dtype == np.float32 and x.ndim == 2 and x.shape[1] % V == 0
            and x.shape[1] // V >= 1):
        raise ValueError(f"x must be a (B, T V) float32 array with T >= 1 steps of V = {V}, got "
                         f"{getattr(x, 'dtype', type(x))} {getattr(x, 'shape', '')}")
    if not np.isfinite(x).all() or not np.isfinite(values).all():
        raise ValueError("x and values must be finite")
    for name, c in (("start_hi", start_hi), ("end_lo", end_lo)):
        if not (isinstance(c, np.ndarray) and c.dtype.kind == "i" and c.shape == (x.shape[0],)):
            raise ValueError(f"{name} must be a ({x.shape[0]},) integer array, got {getattr(c, 'shape', c)!r}")
        if c.size and (c.min() < -1 or c.max() >= 1 << (L - kv)):
            raise ValueError(f"{name} must be -1 (free) or an (L - kv)-bit value in 0..{(1 << (L - kv)) - 1}")
    return _viterbi(np.ascontiguousarray(x), np.ascontiguousarray(values), int(L), int(kv),
                    start_hi.astype(np.int64), end_lo.astype(np.int64))


@nb.njit(cache=True, parallel=True)
def _viterbi(x: np.ndarray, values: np.ndarray, L: int, kv: int, start_hi: np.ndarray,
             end_lo: np.ndarray) -> np.ndarray:
    """viterbi's kernel (arguments checked there)."""
    B = x.shape[0]
    V = values.shape[1]
    T = x.shape[1] // V
    out = np.empty((B, T), np.int64)
    v0 = np.ascontiguousarray(values[:, 0])
    v1 = np.ascontiguousarray(values[:, V - 1])
    for b in nb.prange(B):
        back = np.empty((T, 1 << (L - kv)), np.uint8)
        cost = np.empty(1 << L, np.float32)
        ncost = np.empty(1 << L, np.float32)
        gmin = np.empty(1 << (L - kv), np.float32)
        garg = np.empty(1 << (L - kv), np.int32)
        out[b] = _viterbi_one(x[b], values, v0, v1, L, kv, start_hi[b], end_lo[b], back, cost, ncost, gmin, garg)
    return out
