"""Block-format speed: lowbit against the same formats composed by hand from numpy + ml_dtypes
(reshape, amax, frexp, astype), and against gfloat's block API on a subset, in one run.

Usage: python benchmarks/bench_blocks.py [--n 4194304] [--repeat 5] [--gfloat-blocks 256]
Targets (issue #3): >= 3x the numpy+ml_dtypes composition, >= 1000x gfloat's block API,
MXFP4 encode >= 150 M elements/s, NVFP4 encode >= 100 M elements/s. The script checks that the
composition and lowbit produce identical codes and scales.
"""

import argparse
import time

import gfloat
import gfloat.formats as gff
import ml_dtypes
import numpy as np
from _timing import best

import numerics as nx


def mx_compose(x, emax, elem_max, dt):
    """OCP MX §6.3 FLOOR composed from numpy + ml_dtypes: codes, scale codes, decoded values."""
    b = x.reshape(-1, 32)
    amax = np.abs(b).max(axis=1)
    _, e = np.frexp(amax)
    shared = np.where(amax > 0, np.clip(e - 1 - emax, -127, 127), -127)
    scaled = b * np.ldexp(np.float32(1), -shared)[:, None]
    codes = np.clip(scaled, -elem_max, elem_max).astype(dt)
    return codes, (shared + 127).astype(np.uint8)


def mx_decode(codes, scales):
    return codes.astype(np.float32) * np.ldexp(np.float32(1), scales.astype(np.int32) - 127)[:, None]


def nvfp4_compose(x):
    """torchao's NVFP4 recipe composed from numpy float32 + ml_dtypes casts."""
    f32 = np.float32
    b = x.reshape(-1, 16)
    amax = np.abs(b).max(axis=1)
    pts = f32(np.abs(x).max()) / f32(448 * 6)
    s = np.clip((amax / f32(6)) / pts, f32(2**-6), f32(448)).astype(ml_dtypes.float8_e4m3fn)
    total = pts * s.astype(f32)
    codes = np.clip(b / total[:, None], -6, 6).astype(ml_dtypes.float4_e2m1fn)
    return codes, s, pts


def nvfp4_decode(codes, s, pts):
    return codes.astype(np.float32) * (pts * s.astype(np.float32))[:, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4_194_304)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gfloat-blocks", type=int, default=256)
    args = ap.parse_args()
    x = np.random.default_rng(0).standard_normal(args.n).astype(np.float32)
    print(f"{args.n:,} float32 N(0,1) values, best of {args.repeat}; times in ms")
    print(f"{'format':11} {'compose enc':>11} {'lowbit enc':>10} {'ratio':>6} {'M/s':>6} | "
          f"{'compose e+d':>11} {'lowbit e+d':>10} {'ratio':>6}")
    cases = [("mxfp4", (2, 6.0, ml_dtypes.float4_e2m1fn)), ("mxfp8_e4m3", (8, 448.0, ml_dtypes.float8_e4m3fn)),
             ("nvfp4", None)]
    for name, mx in cases:
        bf = nx.get_block_format(name)
        if mx is not None:
            def comp(mx=mx):
                return mx_compose(x, *mx)

            def comp_ed(mx=mx):
                return mx_decode(*mx_compose(x, *mx))

            codes, scales = comp()
            bt = bf.encode(x)
            assert np.array_equal(bt.codes, codes.reshape(-1).view(np.uint8)), name
            assert np.array_equal(bt.scales, scales), name
        else:
            def comp():
                return nvfp4_compose(x)

            def comp_ed():
                return nvfp4_decode(*nvfp4_compose(x))

            codes, s, _ = comp()
            bt = bf.encode(x)
            assert np.array_equal(bt.codes, codes.reshape(-1).view(np.uint8)), name
            assert np.array_equal(bt.scales, s.view(np.uint8)), name
        t_c = best(comp, args.repeat)
        t_l = best(lambda bf=bf: bf.encode(x), args.repeat)
        t_ced = best(comp_ed, args.repeat)
        t_led = best(lambda bf=bf: bf.encode(x).decode(), args.repeat)
        print(f"{name:11} {t_c * 1e3:11.2f} {t_l * 1e3:10.2f} {t_c / t_l:5.1f}x {args.n / t_l / 1e6:6.0f} | "
              f"{t_ced * 1e3:11.2f} {t_led * 1e3:10.2f} {t_ced / t_led:5.1f}x")
    # gfloat's block API (pure Python per element) on a subset, per element
    gf = [("mxfp4", gff.format_info_mxfp4_e2m1), ("mxfp8_e4m3", gff.format_info_mxfp8_e4m3)]
    nb = args.gfloat_blocks
    sub = x[:nb * 32].astype(np.float64).reshape(nb, 32)
    for name, fi in gf:
        t0 = time.perf_counter()
        for blk in sub:
            gfloat.quantize_block(fi, blk, gfloat.compute_scale_amax)
        t_g = (time.perf_counter() - t0) / sub.size
        bf = nx.get_block_format(name)
        t_l = best(lambda bf=bf: bf.quantize(x), args.repeat) / x.size
        print(f"{name:11} gfloat quantize_block {t_g * 1e9:9.0f} ns/elem, lowbit {t_l * 1e9:6.2f} ns/elem: "
              f"{t_g / t_l:8.0f}x")


if __name__ == "__main__":
    main()
