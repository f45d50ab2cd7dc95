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
from concurrent.futures import ThreadPoolExecutor, wait

import numba

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    """After fork: the parent's worker threads do not exist in the child; start a new pool on demand."""
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def _get_pool() -> ThreadPoolExecutor:
    """One pool for the process, never replaced (a replaced pool could be shut down under a thread still
    submitting to it): NUMBA_NUM_THREADS - 1 workers, numba.get_num_threads()'s ceiling, the calling thread
    being the last one; the executor starts its threads as work arrives."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                       thread_name_prefix="lowbit-kernel")
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
    pool = _get_pool()
    futures = [pool.submit(fn, *args, b[i], b[i + 1]) for i in range(1, len(b) - 1)]
    try:
        first = fn(*args, b[0], b[1])
    finally:
        wait(futures)  # every range has finished writing before this returns or raises
    return [first] + [f.result() for f in futures]
