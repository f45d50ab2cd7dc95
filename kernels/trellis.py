"""Viterbi search over QTIP's bitshift trellis (Tseng et al., "QTIP", NeurIPS 2024).

States are L-bit windows of the bit stream; each step shifts in kV new bits, so the high L - kV bits of a
state are the low L - kV bits of the state before it. `values[s]` (2^L, V) is the code's value of state
s. A sequence of T steps (T V weights) is encoded by the state path minimising the squared error.

Three searches with the same paths: the per-state `_viterbi_one` (the fallback for L < 2 kV, and the
reference the tests and benchmarks compare the others with); `_viterbi_blocked` (L >= 2 kV: contiguous,
vectorised passes over the predecessors per step on the groups' best costs, back pointers kept; the
default for V = 1, kV = 2, its four-slot pass); `_viterbi_history` (L >= 2 kV: the same passes keeping
only the minimum and every step's best costs, predecessors recomputed on the traceback; the default
otherwise, e.g. V = 2, kV = 4).
"""

import numba as nb
import numpy as np

INF = np.float32(3.0e38)


# not inlined: every search calls this one compiled function, so their first costs are the same bits
@nb.njit(cache=True, fastmath=True)
def _first_costs(x, values, kv, start_hi, cost):
    """cost[s]: the squared error of state s's values against the first V inputs; INF where the state's
    high bits are not start_hi (unless -1)."""
    for s in range(values.shape[0]):
        d = np.float32(0.0)
        for v in range(values.shape[1]):
            t = values[s, v] - x[v]
            d += t * t
        if start_hi >= 0 and (s >> kv) != start_hi:
            d = INF
        cost[s] = d


@nb.njit(cache=True, fastmath=True, inline="always")
def _best_end(cost, nstate, ngroup, end_lo):
    """The cheapest final state (the lowest on ties), among those whose low bits are end_lo unless -1."""
    best = INF
    bs = 0
    for s in range(nstate):
        if end_lo >= 0 and (s & (ngroup - 1)) != end_lo:
            continue
        if cost[s] < best:
            best = cost[s]
            bs = s
    return bs


@nb.njit(cache=True, fastmath=True, inline="always")
def _group_min(cost, gmin, garg, ngroup, npred):
    """gmin[g], garg[g]: the cheapest of the predecessors g + j ngroup (j < npred) of group g and its j, the
    lowest j on ties (strict <, as every search)."""
    for g in range(ngroup):
        gmin[g] = cost[g]
        garg[g] = 0
    for j in range(1, npred):
        cj = cost[j * ngroup:(j + 1) * ngroup]
        for g in range(ngroup):
            c = cj[g]
            better = c < gmin[g]
            gmin[g] = c if better else gmin[g]
            garg[g] = j if better else garg[g]


@nb.njit(cache=True, fastmath=True, inline="always")
def _last_costs(x, v0, v1, G, kv, V, T, cost):
    """cost[s] = G[s >> kv] + the squared error of state s's values against the last V inputs. Inlined into
    each search, so it compiles under that search's fastmath flags (their paths stay as they were)."""
    xa = x[V * (T - 1)]
    xb = x[V * (T - 1) + V - 1]
    for s in range(cost.shape[0]):
        e = v0[s] - xa
        if V == 1:
            cost[s] = G[s >> kv] + e * e
        else:
            f = v1[s] - xb
            cost[s] = G[s >> kv] + e * e + f * f


@nb.njit(cache=True, fastmath=True)
def _viterbi_one(x, values, v0, v1, L, kv, start_hi, end_lo, back, cost, ncost, gmin, garg):
    """One sequence. start_hi / end_lo: -1 for free, else the required high bits of the first state /
    low bits of the last state. Returns the state path (T,)."""
    nstate = 1 << L
    ngroup = 1 << (L - kv)
    npred = 1 << kv
    V = values.shape[1]
    T = x.shape[0] // V
    _first_costs(x, values, kv, start_hi, cost)
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
    path = np.empty(T, np.int64)
    path[T - 1] = _best_end(cost, nstate, ngroup, end_lo)
    for t in range(T - 1, 0, -1):
        g = path[t] >> kv
        path[t - 1] = g | (np.int64(back[t, g]) << (L - kv))
    return path


@nb.njit(cache=True)
def _permute_values(v, L, kv):
    """State values in the order the blocked search reads them: out[(j 2^kV + r) M + h] = v[j 2^(L-kV) + h 2^kV
    + r] with M = 2^(L - 2kV) (j: predecessor slot, h r: the group h 2^kV + r)."""
    R = 1 << kv
    N = 1 << (L - kv)
    M = N >> kv
    out = np.empty(1 << L, np.float32)
    for j in range(R):
        for r in range(R):
            dst = out[(j * R + r) * M:(j * R + r + 1) * M]
            for h in range(M):
                dst[h] = v[j * N + h * R + r]
    return out


@nb.njit(cache=True, fastmath=True)
def _four_slots(gmin, vp, gp, ga, r, M, xa):
    """kV = 2, V = 1: the groups h 4 + r of the next step from their four predecessor slots, candidates
    G + e e compared in ascending slot order with strict < (the first minimum wins, as in per-slot passes)."""
    g0 = gmin[0:M]
    g1 = gmin[M:2 * M]
    g2 = gmin[2 * M:3 * M]
    g3 = gmin[3 * M:4 * M]
    a0 = vp[r * M:(r + 1) * M]
    a1 = vp[(4 + r) * M:(5 + r) * M]
    a2 = vp[(8 + r) * M:(9 + r) * M]
    a3 = vp[(12 + r) * M:(13 + r) * M]
    for h in range(M):
        e = a0[h] - xa
        best = g0[h] + e * e
        arg = np.int32(0)
        e = a1[h] - xa
        c = g1[h] + e * e
        arg = np.int32(1) if c < best else arg
        best = min(c, best)
        e = a2[h] - xa
        c = g2[h] + e * e
        arg = np.int32(2) if c < best else arg
        best = min(c, best)
        e = a3[h] - xa
        c = g3[h] + e * e
        arg = np.int32(3) if c < best else arg
        best = min(c, best)
        gp[h] = best
        ga[h] = arg


@nb.njit(cache=True, fastmath=True)
def _viterbi_blocked(x, values, v0, v1, v0p, v1p, L, kv, start_hi, end_lo, back, cost, gmin, gperm, garg):
    """`_viterbi_one` for L >= 2 kV with the same paths, in one pass over the predecessors per step.

    cost_t[s] = G_t[s >> kV] + d_t(s), G_t[g] the best predecessor cost of group g. The groups g = h 2^kV + r
    (r: low kV bits) of step t + 1 have predecessors s = j 2^(L-kV) + g, whose group at step t is
    j M + h (M = 2^(L-2kV)): for fixed (j, r) the loop over h reads G_t[j M + h], the permuted values
    v0p and writes G_{t+1} (permuted: gperm[r M + h]) all contiguously -- long branch-free loops that
    vectorise, no 2^L cost array per step, a working set (values, G_t, G_{t+1}) that fits in L2. G_{t+1}
    is then put back in natural order (M 2^kV elements); back pointers stay permuted (back[t, r M + h]
    for group h 2^kV + r). Every cost is the per-state form's float32 expression (G + e e, or
    G + e e + f f) and ties keep the lowest j, so paths are bit for bit `_viterbi_one`'s."""
    nstate = 1 << L
    ngroup = 1 << (L - kv)
    npred = 1 << kv
    R = npred
    M = ngroup >> kv
    V = values.shape[1]
    T = x.shape[0] // V
    _first_costs(x, values, kv, start_hi, cost)
    _group_min(cost, gmin, garg, ngroup, npred)
    if T > 1:
        b1 = back[1]
        for r in range(R):
            dst = b1[r * M:(r + 1) * M]
            for h in range(M):
                dst[h] = garg[h * R + r]
    for t in range(1, T - 1):
        xa = x[V * t]
        xb = x[V * t + V - 1]
        if V == 1 and npred == 4 and M >= 1024:
            # k = 2, V = 1 (QTIP's usual case): the four predecessor slots in one pass over h, a quarter of
            # the loads and stores of G_{t+1}. (V = 2 or wider kV: the per-slot passes below measured
            # faster here.)
            for r in range(R):
                _four_slots(gmin, v0p, gperm[r * M:(r + 1) * M], garg[r * M:(r + 1) * M], r, M, xa)
            npass = 0
        else:
            npass = npred
        for j in range(npass):
            gj = gmin[j * M:(j + 1) * M]
            for r in range(R):
                q = j * R + r
                va = v0p[q * M:(q + 1) * M]
                vb = v1p[q * M:(q + 1) * M]
                gp = gperm[r * M:(r + 1) * M]
                ga = garg[r * M:(r + 1) * M]
                if j == 0:
                    if V == 1:
                        for h in range(M):
                            e = va[h] - xa
                            gp[h] = gj[h] + e * e
                            ga[h] = 0
                    else:
                        for h in range(M):
                            e = va[h] - xa
                            f = vb[h] - xb
                            gp[h] = gj[h] + e * e + f * f
                            ga[h] = 0
                elif V == 1:
                    for h in range(M):
                        e = va[h] - xa
                        c = gj[h] + e * e
                        better = c < gp[h]
                        gp[h] = min(c, gp[h])
                        ga[h] = j if better else ga[h]
                else:
                    for h in range(M):
                        e = va[h] - xa
                        f = vb[h] - xb
                        c = gj[h] + e * e + f * f
                        better = c < gp[h]
                        gp[h] = min(c, gp[h])
                        ga[h] = j if better else ga[h]
        bt = back[t + 1]
        for g in range(ngroup):
            bt[g] = garg[g]
        for r in range(R):
            src = gperm[r * M:(r + 1) * M]
            for h in range(M):
                gmin[h * R + r] = src[h]
    if T > 1:  # the last step's per-state costs, for the choice of the end state
        _last_costs(x, v0, v1, gmin, kv, V, T, cost)
    path = np.empty(T, np.int64)
    path[T - 1] = _best_end(cost, nstate, ngroup, end_lo)
    for t in range(T - 1, 0, -1):
        g = path[t] >> kv
        path[t - 1] = g | (np.int64(back[t, (g & (R - 1)) * M + (g >> kv)]) << (L - kv))
    return path


# The history search's flags: fastmath without reassociation, so that each candidate cost is (G + e e) + f f
# in that order (two FMAs where the CPU has them), in the vector passes and in the scalar traceback alike.
_NO_REASSOC = {"nnan", "ninf", "nsz", "contract", "arcp"}


@nb.njit(cache=True, fastmath=_NO_REASSOC)
def _history_step(G, Gn, A, B, v0p, v1p, xa, xb, R, M, V):
    """One step of `_viterbi_history`: Gn (natural order) = the groups' best costs of the next step from
    G, this step's: the minimum over the predecessor slots j, two slots per pass (a pair per loop measured
    ~15 % faster than one slot, and four slower), with A and B as ping-pong accumulators in the permuted order
    r M + h. Only the minimum's value is kept, which no order of the slots changes."""
    for jp in range(R // 2):
        j = 2 * jp
        g0 = G[j * M:(j + 1) * M]
        g1 = G[(j + 1) * M:(j + 2) * M]
        # read one accumulator and write the other: an in-place `acc = c if c < acc else acc` becomes a
        # masked store (vmaskmovps), measured 2-3x slower than vminps and a plain store
        src = B if jp % 2 == 0 else A
        dst = A if jp % 2 == 0 else B
        for r in range(R):
            q0 = (j * R + r) * M
            q1 = q0 + R * M
            a0 = v0p[q0:q0 + M]
            b0 = v1p[q0:q0 + M]
            a1 = v0p[q1:q1 + M]
            b1 = v1p[q1:q1 + M]
            gi = src[r * M:(r + 1) * M]
            go = dst[r * M:(r + 1) * M]
            if V == 1:
                for h in range(M):
                    e = a0[h] - xa
                    c = g0[h] + e * e
                    e = a1[h] - xa
                    d = g1[h] + e * e
                    c = d if d < c else c
                    g = gi[h] if jp > 0 else c
                    go[h] = c if c < g else g
            else:
                for h in range(M):
                    e = a0[h] - xa
                    f = b0[h] - xb
                    c = g0[h] + e * e + f * f
                    e = a1[h] - xa
                    f = b1[h] - xb
                    d = g1[h] + e * e + f * f
                    c = d if d < c else c
                    g = gi[h] if jp > 0 else c
                    go[h] = c if c < g else g
    last = A if (R // 2) % 2 == 1 else B
    for r in range(R):
        src = last[r * M:(r + 1) * M]
        for h in range(M):
            Gn[h * R + r] = src[h]


@nb.njit(cache=True, fastmath=_NO_REASSOC)
def _viterbi_history(x, values, v0, v1, v0p, v1p, L, kv, start_hi, end_lo, back1, cost, hist, A, B, garg):
    """`_viterbi_one` for L >= 2 kV with the same paths, without back pointers in the forward pass.

    hist (T, 2^(L-kV)) keeps every step's G_t, the groups' best predecessor costs (cost_t[s] = G_t[s >> kV]
    + d_t(s)): float32, 4x the memory of uint8 back pointers. Each step computes G_{t+1} from G_t alone as
    `_viterbi_blocked` does (the groups h 2^kV + r of step t + 1 have predecessors in the groups j M + h of
    step t, M = 2^(L-2kV), so for fixed (j, r) the loop over h is contiguous in G_t, in the permuted values
    and in G_{t+1} permuted), but keeps only the minimum, so that each loop writes one array and LLVM
    vectorises it (with the argmin as well, the blocked passes compile to scalar code, most likely because
    their runtime alias checks exceed LLVM's limit). The traceback recomputes the one chosen group's 2^kV
    candidates per step from hist, the same expression under the same flags, lowest slot on ties; step 1's
    back pointers (back1) come from the first step's full cost array."""
    nstate = 1 << L
    N = 1 << (L - kv)
    R = 1 << kv
    M = N >> kv
    V = values.shape[1]
    T = x.shape[0] // V
    path = np.empty(T, np.int64)
    _first_costs(x, values, kv, start_hi, cost)
    if T == 1:
        path[0] = _best_end(cost, nstate, N, end_lo)
        return path
    g1 = hist[1]
    _group_min(cost, g1, garg, N, R)
    for g in range(N):
        back1[g] = garg[g]
    for t in range(1, T - 1):
        _history_step(hist[t], hist[t + 1], A, B, v0p, v1p, x[V * t], x[V * t + V - 1], R, M, V)
    # the last step's per-state costs, for the choice of the end state
    _last_costs(x, v0, v1, hist[T - 1], kv, V, T, cost)
    path[T - 1] = _best_end(cost, nstate, N, end_lo)
    for t in range(T - 1, 1, -1):
        # the lowest slot j minimising cost_{t-1}[j 2^(L-kV) + g] (strict <, as the forward passes)
        g = path[t] >> kv
        G = hist[t - 1]
        xa = x[V * (t - 1)]
        xb = x[V * (t - 1) + V - 1]
        best = np.float32(0.0)
        bj = 0
        for j in range(R):
            s = j * N + g
            e = v0[s] - xa
            if V == 1:
                c = G[s >> kv] + e * e
            else:
                f = v1[s] - xb
                c = G[s >> kv] + e * e + f * f
            if j == 0 or c < best:
                best = c
                bj = j
        path[t - 1] = bj * N + g
    g = path[1] >> kv
    path[0] = g | (np.int64(back1[g]) << (L - kv))
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
    # method passed explicitly: one compiled signature shared with the callers that choose a method
    return _viterbi(np.ascontiguousarray(x), np.ascontiguousarray(values), int(L), int(kv),
                    start_hi.astype(np.int64), end_lo.astype(np.int64), -1)


@nb.njit(cache=True, parallel=True)
def _viterbi(x: np.ndarray, values: np.ndarray, L: int, kv: int, start_hi: np.ndarray,
             end_lo: np.ndarray, method: int = -1) -> np.ndarray:
    """viterbi's kernel (arguments checked there). method: 0 the per-state `_viterbi_one` (the reference),
    1 `_viterbi_blocked`, 2 `_viterbi_history`, -1 the default (1 for V = 1, kV = 2, else 2); 1 and 2 need
    L >= 2 kV and fall back to 0 otherwise. The same paths from every method."""
    B = x.shape[0]
    V = values.shape[1]
    T = x.shape[1] // V
    out = np.empty((B, T), np.int64)
    v0 = np.ascontiguousarray(values[:, 0])
    v1 = np.ascontiguousarray(values[:, V - 1])
    if method < 0:
        method = 1 if V == 1 and kv == 2 else 2
    if L < 2 * kv:
        method = 0
    v0p = _permute_values(v0, L, kv) if method > 0 else v0
    v1p = _permute_values(v1, L, kv) if method > 0 else v1
    N = 1 << (L - kv)
    for b in nb.prange(B):
        cost = np.empty(1 << L, np.float32)
        garg = np.empty(N, np.int32)
        if method == 2:
            out[b] = _viterbi_history(x[b], values, v0, v1, v0p, v1p, L, kv, start_hi[b], end_lo[b],
                                      np.empty(N, np.uint8), cost, np.empty((T, N), np.float32),
                                      np.empty(N, np.float32), np.empty(N, np.float32), garg)
        elif method == 1:
            out[b] = _viterbi_blocked(x[b], values, v0, v1, v0p, v1p, L, kv, start_hi[b], end_lo[b],
                                      np.empty((T, N), np.uint8), cost, np.empty(N, np.float32),
                                      np.empty(N, np.float32), garg)
        else:
            out[b] = _viterbi_one(x[b], values, v0, v1, L, kv, start_hi[b], end_lo[b], np.empty((T, N), np.uint8),
                                  cost, np.empty(1 << L, np.float32), np.empty(N, np.float32), garg)
    return out
