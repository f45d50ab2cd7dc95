"""Weight-compression speed: QTIP trellis encoding (tail-biting Viterbi, L = 16, k = 2, V = 1, 1MAD), E8P
exact nearest-point search, and the fast Walsh-Hadamard transform against a dense Hadamard matmul.

Usage: python benchmarks/bench_compress.py
Target (issue #8): QTIP encoding >= 10^4 weights/s on this machine.
"""

import numpy as np
from _timing import best

from kernels import fwht
from numerics.compress import lattice, trellis
from numerics.compress.hadamard import hadamard_matrix


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 256))
    trellis.encode_sequences(x[:2], "1mad", 16, 2)  # compile
    t = best(lambda: trellis.encode_sequences(x, "1mad", 16, 2), 3)
    print(f"QTIP tail-biting Viterbi, L=16 k=2 V=1 1MAD: {x.size / t:,.0f} weights/s "
          f"({x.shape[0]} sequences of {x.shape[1]})")
    y = rng.standard_normal((65536, 8))
    lattice.e8p_quantize(y[:10])
    t = best(lambda: lattice.e8p_quantize(y), 3)
    print(f"E8P exact nearest point: {y.shape[0] / t:,.0f} vectors/s ({y.size / t:,.0f} weights/s)")
    for n in (1024, 4096):
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
