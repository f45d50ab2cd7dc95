"""kernels.threads under the ways a user calls it: several threads of the user's at once, a forked child
after the parent has used the pool (the sweep runner forks), a thread count set by numba.set_num_threads.
The codes must be the ones a single thread computes (stochastic rounding included: its random bits follow
the element index)."""

import multiprocessing as mp
import threading

import numba
import numpy as np
import pytest

import numerics as nx
from kernels import float_codec, threads

N = 5 * float_codec.CHUNK + 3
X = np.random.default_rng(2).standard_normal(N) * 3.0
X[::1001] = np.nan  # the general path too


def _encode(name="e4m3"):
    return nx.get_format(name).encode(X, rounding=nx.RoundMode.STOCHASTIC, rng=7)


def _one_thread(name="e4m3"):
    saved = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return _encode(name)
    finally:
        numba.set_num_threads(saved)


@pytest.mark.parametrize("per_chunk", [False, True])
def test_user_threads_at_once_get_single_thread_codes(per_chunk, monkeypatch):
    if per_chunk:  # every chunk its own task: the pool's queue shared by all callers
        monkeypatch.setattr(threads, "bounds", lambda n: list(range(n + 1)) if n > 1 else [0, n])
    want = _one_thread()
    got = [None] * 6
    errors = []

    def work(i):
        try:
            got[i] = _encode()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(got))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in ts)
    assert all(np.array_equal(g, want) for g in got)


def _child_codes(_):
    return _encode()


@pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="no fork on this platform")
def test_forked_child_after_the_parent_used_the_pool():
    want = _encode()  # the parent's pool now has threads; a forked child inherits none of them
    with mp.get_context("fork").Pool(1) as pool:
        got = pool.map_async(_child_codes, [0]).get(timeout=120)[0]
    assert np.array_equal(got, want)


def test_thread_count_follows_numba_set_num_threads():
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert threads.bounds(8) == [0, 8]
        numba.set_num_threads(saved)
        assert len(threads.bounds(8)) == min(saved, 8) + 1 and threads.bounds(0) == [0, 0]
    finally:
        numba.set_num_threads(saved)
