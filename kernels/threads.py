"""Run a chunked kernel over threads: contiguous ranges of chunks, one per thread, each range a call of
one compiled (nogil) function, so every split of the same input runs the same code on the same elements
and gives the same bits.

The codecs (float_codec, posit_codec, int_codec) use this instead of numba parfors: a parfor driver took
about 4 s to compile per signature, on top of its body, and a format meets a dozen signatures (source
float width x code width x kernel); a range function is compiled once and serves one thread or many.
Threads: numba.get_num_threads() (NUMBA_NUM_THREADS, or numba.set_num_threads), capped at the number of
chunks; a single chunk runs on the calling thread without touching the pool.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _forget_pool() -> None:
    """After fork: the parent's worker threads do not exist in the child; start a new pool on demand."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


os.register_at_fork(after_in_child=_forget_pool)


def _get_pool(n: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size < n:
            old = _pool
            _pool, _pool_size = ThreadPoolExecutor(max_workers=n, thread_name_prefix="lowbit-kernel"), n
            if old is not None:
                old.shutdown(wait=False)
        return _pool


def bounds(n_chunks: int) -> list[int]:
    """Range edges: [0, ..., n_chunks] in numba.get_num_threads() near-equal parts (at most n_chunks)."""
    t = max(1, min(numba.get_num_threads(), n_chunks))
    return [n_chunks * i // t for i in range(t + 1)]


def run(fn, n_chunks: int, *args) -> list:
    """fn(*args, c0, c1) for each range of `bounds(n_chunks)`, the first on the calling thread; the results
    in range order."""
    if n_chunks <= 1:  # the small call: no thread count asked (2 us), no pool
        return [fn(*args, 0, n_chunks)]
    b = bounds(n_chunks)
    if len(b) == 2:
        return [fn(*args, b[0], b[1])]
    pool = _get_pool(len(b) - 2)
    futures = [pool.submit(fn, *args, b[i], b[i + 1]) for i in range(1, len(b) - 1)]
    first = fn(*args, b[0], b[1])
    return [first] + [f.result() for f in futures]
