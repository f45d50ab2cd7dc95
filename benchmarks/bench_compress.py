"""Weight-compression speed: QTIP trellis encoding (tail-biting Viterbi, L = 16, k = 2; 1MAD, 3INST and HYB),
the default search (kernels.trellis: `_viterbi_blocked` for 1MAD and 3INST, `_viterbi_history` for HYB)
against the per-state search it replaced (kernels.trellis._viterbi(..., method=0), kept as the fallback
for L < 2 kV) in the same run on the same sequences, paths compared; E8P exact nearest-point search; the
fast Walsh-Hadamard transform against a dense Hadamard matmul.

Usage: python benchmarks/bench_compress.py [--threads N]
Targets: QTIP encoding >= 10^4 weights/s (issue #8), >= 4x the per-state search (issue #17).
"""

import argparse
import time

import numba
import numpy as np
from _timing import SMOKE, best

from kernels import fwht
from kernels import trellis as kt
from numerics.compress import lattice, trellis
from numerics.compress.hadamard import hadamard_matrix


def _per_state(x, values, L, kv, start_hi, end_lo):
    return kt._viterbi(x, values, L, kv, start_hi, end_lo, 0)


def qtip_old_vs_new(x, rounds: int = 3) -> None:
    """encode_sequences with the default search and with the per-state one, interleaved, best of `rounds`
    (HYB: V = 2, the 256 weights of a sequence in 128 steps)."""
    for code in trellis.CODES:
        new = trellis.encode_sequences(x[:2], code, 16, 2)  # compile
        t_new = t_old = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            new = trellis.encode_sequences(x, code, 16, 2)
            t_new = min(t_new, time.perf_counter() - t0)
            trellis.viterbi, saved = _per_state, trellis.viterbi
            try:
                t0 = time.perf_counter()
                old = trellis.encode_sequences(x, code, 16, 2)
                t_old = min(t_old, time.perf_counter() - t0)
            finally:
                trellis.viterbi = saved
        print(f"QTIP {code:5s} L=16 k=2: fast {x.size / t_new:9,.0f} weights/s, per-state {x.size / t_old:8,.0f} "
              f"weights/s: {t_old / t_new:4.1f}x; identical paths: {np.array_equal(new, old)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    args = ap.parse_args()
    if args.threads:
        numba.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 256) if SMOKE else (16, 256))  # SMOKE: benchmarks/_timing.py
    print(f"QTIP tail-biting Viterbi, {x.shape[0]} sequences of {x.shape[1]} weights, {numba.get_num_threads()} "
          "thread(s)")
    qtip_old_vs_new(x)
    y = rng.standard_normal((1024 if SMOKE else 65536, 8))
    lattice.e8p_quantize(y[:10])
    t = best(lambda: lattice.e8p_quantize(y), 3)
    print(f"E8P exact nearest point: {y.shape[0] / t:,.0f} vectors/s ({y.size / t:,.0f} weights/s)")
    for n in (1024,) if SMOKE else (1024, 4096):
        a = rng.standard_normal((256, n))
        h = hadamard_matrix(n) * np.sqrt(n)
        b = a.copy()
        fwht(b)
        t_f = best(lambda a=a: fwht(a.copy()), 5)
        t_d = best(lambda a=a, h=h: a @ h, 3)
        print(f"FWHT 256 x {n}: {t_f * 1e3:.2f} ms vs dense Hadamard matmul {t_d * 1e3:.2f} ms "
              f"({t_d / t_f:.1f}x faster)")


if __name__ == "__main__":
    main()
