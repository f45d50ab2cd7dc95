"""The fast Viterbi searches (issue #17, item 7) give the per-state search's paths bit for bit, on seeded
inputs, for every code (1MAD, 3INST, HYB), free and tail-biting constraints, and each of their paths:
`_viterbi_blocked` (the k = 2, V = 1 four-slot pass; the per-slot passes), `_viterbi_history` (its vector
passes and the traceback's recomputed predecessors) and the per-state fallback for L < 2 kV. Optimality
of the per-state search itself is checked against brute force in tests/test_compress.py."""

import numpy as np
import pytest

from kernels import trellis as kt
from numerics.compress import trellis

# methods of kt._viterbi checked against the per-state search (method 0); -1: the default
FAST = [1, 2, -1]


def _check(x, vals, L, kv, start, end):
    args = (np.ascontiguousarray(x, dtype=np.float32), vals, L, kv, start.astype(np.int64), end.astype(np.int64))
    old = kt._viterbi(*args, 0)
    for method in FAST:
        np.testing.assert_array_equal(kt._viterbi(*args, method), old, err_msg=f"method {method}")
    return old


@pytest.mark.parametrize("code,L,k", [("1mad", 16, 2), ("3inst", 16, 2), ("hyb", 16, 2), ("1mad", 14, 2),
                                      ("1mad", 16, 4), ("3inst", 12, 3), ("hyb", 12, 1), ("hyb", 12, 3),
                                      ("1mad", 10, 1), ("hyb", 9, 4)])
def test_fast_searches_give_the_per_state_paths(code, L, k):
    V = 2 if code == "hyb" else 1
    kv = k * V
    vals = trellis.state_values(code, L)
    rng = np.random.default_rng(L * 10 + k)
    B = 5
    T = 40 if L >= 16 else 60
    x = (rng.standard_normal((B, T * V)) * rng.uniform(0.3, 2.0, (B, 1))).astype(np.float32)
    free = np.full(B, -1)
    con = rng.integers(0, 1 << (L - kv), B)
    mixed = np.where(rng.random(B) < 0.5, con, -1)
    for start, end in ((free, free), (con, con), (mixed, free), (free, mixed)):
        _check(x, vals, L, kv, start, end)
    # ties: a sequence of repeated values and an all-zero one (many equal costs)
    x2 = np.repeat(x[:, :V], T, axis=1)
    x2[0] = 0.0
    _check(x2, vals, L, kv, free, free)


@pytest.mark.parametrize("T", [1, 2, 3, 4])
@pytest.mark.parametrize("code,L,k", [("1mad", 14, 2), ("hyb", 16, 2)])
def test_fast_searches_short_sequences(code, L, k, T):
    V = 2 if code == "hyb" else 1
    vals = trellis.state_values(code, L)
    x = np.random.default_rng(T).standard_normal((3, T * V)).astype(np.float32)
    con = np.array([5, -1, 7])
    _check(x, vals, L, k * V, con, con[::-1].copy())


def test_history_search_traceback_on_ties():
    """Constant inputs make whole sets of candidates equal: the recomputed predecessor must still be the
    lowest slot, as the forward pass's strict < keeps it."""
    vals = trellis.state_values("hyb", 16)
    x = np.tile(vals[123], (4, 24)).astype(np.float32)
    x[1] = 0.0
    x[2, ::2] = 1e3  # far from every point: large costs, equal to float32 precision
    free = np.full(4, -1)
    _check(x, vals, 16, 4, free, free)
    _check(x, vals, 16, 4, np.arange(4) * 1000, free)


@pytest.mark.parametrize("n", [16, 64, 256])
def test_encode_sequences_unchanged(monkeypatch, n):
    """End to end (tail-biting, two searches): the same paths as with the per-state search, for several
    sequence lengths."""
    x = np.random.default_rng(n).standard_normal((4, n))
    for code in trellis.CODES:
        new = trellis.encode_sequences(x, code, 16, 2)
        with monkeypatch.context() as m:
            m.setattr(trellis, "viterbi", lambda x, v, L, kv, s, e: kt._viterbi(x, v, L, kv, s, e, 0))
            old = trellis.encode_sequences(x, code, 16, 2)
        np.testing.assert_array_equal(new, old)


@pytest.mark.parametrize("q", [3, pytest.param(9, marks=pytest.mark.slow)])
def test_vendored_hyb_tables_are_the_fit(q):
    """numerics/data/hyb_tables.npz is fit_hyb_table(q, 0): bit for bit here; within one Lloyd label flip
    (a different BLAS may round a distance differently) anywhere."""
    fresh, vendored = trellis.fit_hyb_table(q, 0), trellis.hyb_table(q, 0)
    assert vendored.shape == (1 << q, 2) and vendored.dtype == np.float64
    assert np.max(np.abs(fresh - vendored)) < 0.02
    assert trellis.hyb_table(q, 1).shape == (1 << q, 2)  # other seeds are fitted on demand
