"""The blocked Viterbi search (issue #17, item 7) gives the per-state search's paths bit for bit, on seeded
inputs, for every code (1MAD, 3INST, HYB), free and tail-biting constraints, and each of its paths (the
k = 2, V = 1 four-slot pass; the per-slot passes; the per-state fallback for L < 2 kV). Optimality of
the per-state search itself is checked against brute force in tests/test_compress.py."""

import numpy as np
import pytest

from kernels import trellis as kt
from numerics.compress import trellis


def _both(x, vals, L, kv, start, end):
    args = (np.ascontiguousarray(x), vals, L, kv, start.astype(np.int64), end.astype(np.int64))
    return kt._viterbi(*args, True), kt._viterbi(*args, False)


@pytest.mark.parametrize("code,L,k", [("1mad", 16, 2), ("3inst", 16, 2), ("hyb", 16, 2), ("1mad", 14, 2),
                                      ("3inst", 12, 3), ("hyb", 12, 1), ("1mad", 10, 1), ("hyb", 9, 4)])
def test_blocked_search_gives_the_per_state_paths(code, L, k):
    V = 2 if code == "hyb" else 1
    kv = k * V
    vals = trellis.state_values(code, L)
    rng = np.random.default_rng(L * 10 + k)
    B = 5  # not a multiple of anything the kernels group by
    x = (rng.standard_normal((B, 40 * V)) * rng.uniform(0.3, 2.0, (B, 1))).astype(np.float32)
    free = np.full(B, -1)
    con = rng.integers(0, 1 << (L - kv), B)
    mixed = np.where(rng.random(B) < 0.5, con, -1)
    for start, end in ((free, free), (con, con), (mixed, free), (free, mixed)):
        new, old = _both(x, vals, L, kv, start, end)
        np.testing.assert_array_equal(new, old)
    # ties: a sequence of repeated values and an all-zero one (many equal costs)
    x2 = np.repeat(x[:, :V], 40, axis=1)
    x2[0] = 0.0
    new, old = _both(x2, vals, L, kv, free, free)
    np.testing.assert_array_equal(new, old)


@pytest.mark.parametrize("T", [1, 2, 3])
def test_blocked_search_short_sequences(T):
    vals = trellis.state_values("1mad", 14)
    x = np.random.default_rng(T).standard_normal((3, T)).astype(np.float32)
    con = np.array([5, -1, 7])
    new, old = _both(x, vals, 14, 2, con, con[::-1].copy())
    np.testing.assert_array_equal(new, old)


def test_encode_sequences_unchanged(monkeypatch):
    """End to end (tail-biting, two searches): the same paths as with the per-state search."""
    x = np.random.default_rng(9).standard_normal((4, 256))
    for code in trellis.CODES:
        new = trellis.encode_sequences(x, code, 16, 2)
        with monkeypatch.context() as m:
            m.setattr(trellis, "viterbi", lambda x, v, L, kv, s, e: kt._viterbi(x, v, L, kv, s, e, False))
            old = trellis.encode_sequences(x, code, 16, 2)
        np.testing.assert_array_equal(new, old)
