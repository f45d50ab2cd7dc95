"""Encode/decode speed of lowbit against ml_dtypes on the same data, in one run.

Usage: python benchmarks/bench_formats.py [--n 4194304] [--repeat 7]
Prints milliseconds (best of --repeat) and the ratios; targets (issue #2): encode >= 3x ml_dtypes,
decode >= 5x ml_dtypes, stochastic rounding >= 150 M elements/s. Decode is against ml_dtypes' cast
to float64 (lowbit's output type), both allocating a fresh result and both writing into a reused
buffer (`buf[...] = codes` for ml_dtypes, `decode(codes, out=buf)` for lowbit): a fresh 32 MB result
costs page faults that can dominate and vary between runs.
"""

import argparse

import ml_dtypes
import numpy as np
from _timing import best

import numerics as nx

FORMATS = [("e4m3", ml_dtypes.float8_e4m3fn), ("e5m2", ml_dtypes.float8_e5m2), ("e2m1", ml_dtypes.float4_e2m1fn)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4_194_304)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    x = (np.random.default_rng(0).standard_normal(args.n) * 100).astype(np.float32)
    print(f"{args.n:,} float32 N(0,1)*100 values; best of {args.repeat}; times in ms")
    print(f"{'format':6} {'ml enc':>8} {'lb enc':>8} {'ratio':>6} | {'ml dec':>8} {'lb dec':>8} {'ratio':>6} | "
          f"{'ml ->buf':>8} {'lb ->buf':>8} {'ratio':>6} | {'lb SR':>8} {'SR M/s':>7}")
    buf = np.empty(args.n)
    for name, dt in FORMATS:
        f = nx.get_format(name)
        # ml_dtypes casts do not saturate: clip first so both produce the same codes
        xc = np.clip(x, -f.max, f.max)
        t_ml_enc = best(lambda xc=xc, dt=dt: xc.astype(dt), args.repeat)
        t_lb_enc = best(lambda f=f: f.encode(x), args.repeat)
        codes = f.encode(x)
        ml_codes = xc.astype(dt)
        assert np.array_equal(codes, ml_codes.view(np.uint8)), f"{name}: codes differ from ml_dtypes"
        t_ml_dec = best(lambda c=ml_codes: c.astype(np.float64), args.repeat)
        t_lb_dec = best(lambda f=f, c=codes: f.decode(c), args.repeat)

        def ml_into(c=ml_codes):
            buf[...] = c  # ml_dtypes' cast into an existing float64 buffer

        t_ml_buf = best(ml_into, args.repeat)
        t_lb_buf = best(lambda f=f, c=codes: f.decode(c, out=buf), args.repeat)
        assert np.array_equal(f.decode(codes), ml_codes.astype(np.float64))
        t_sr = best(lambda f=f: f.encode(x, rounding=nx.RoundMode.STOCHASTIC, rng=1), args.repeat)
        print(f"{name:6} {t_ml_enc * 1e3:8.2f} {t_lb_enc * 1e3:8.2f} {t_ml_enc / t_lb_enc:5.1f}x | "
              f"{t_ml_dec * 1e3:8.2f} {t_lb_dec * 1e3:8.2f} {t_ml_dec / t_lb_dec:5.1f}x | "
              f"{t_ml_buf * 1e3:8.2f} {t_lb_buf * 1e3:8.2f} {t_ml_buf / t_lb_buf:5.1f}x | "
              f"{t_sr * 1e3:8.2f} {args.n / t_sr / 1e6:7.0f}")


if __name__ == "__main__":
    main()
