"""Posit encode/decode speed: lowbit against SoftPosit (the reference C library, called per element
from Python as its API offers), in one run.

Usage: python benchmarks/bench_posits.py [--n 4194304] [--sp-n 20000]
Target (issue #4): >= 300x SoftPosit; >= 100 M encodes/s and >= 500 M decodes/s for posit16.
Decode is timed both allocating its float64 result (page faults included) and into a reused
buffer (`decode(codes, out=buf)`), against SoftPosit's cheapest per-element conversion
(`convertPX2ToDouble` on a prepared posit struct); its class API (`float(posit_2(x=n, bits=c))`) is
timed too.
"""

import argparse
import time

import numpy as np
import softposit as sp
from _timing import best

import numerics as nx


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4_194_304)
    ap.add_argument("--sp-n", type=int, default=20_000, help="elements timed through SoftPosit")
    args = ap.parse_args()
    x = np.random.default_rng(0).standard_normal(args.n)
    sub = x[:args.sp_n].tolist()
    print(f"{args.n:,} float64 N(0,1) values (SoftPosit timed on {args.sp_n:,}); per element")
    # (name, SoftPosit encoder, SoftPosit decoder, SoftPosit class from bits)
    cases = [("posit8", lambda v: sp.convertDoubleToPX2(v, 8), sp.convertPX2ToDouble,
              lambda c: sp.posit_2(x=8, bits=c)),
             ("posit16", lambda v: sp.convertDoubleToPX2(v, 16), sp.convertPX2ToDouble,
              lambda c: sp.posit_2(x=16, bits=c)),
             ("posit16_1", sp.convertDoubleToP16, sp.convertP16ToDouble, lambda c: sp.posit16(bits=c))]
    for name, enc, dec, from_bits in cases:
        f = nx.get_format(name)
        t0 = time.perf_counter()
        sp_codes = [enc(v) for v in sub]
        t_sp_enc = (time.perf_counter() - t0) / len(sub)
        t0 = time.perf_counter()
        for c in sp_codes:
            dec(c)
        t_sp_dec = (time.perf_counter() - t0) / len(sub)
        int_codes = [int(c) for c in nx.get_format(name).encode(np.array(sub))]
        t0 = time.perf_counter()
        for c in int_codes:
            float(from_bits(c))
        t_sp_cls = (time.perf_counter() - t0) / len(sub)
        t_enc = best(lambda f=f: f.encode(x)) / args.n
        codes = f.encode(x)
        # allocating: the OS's first 32 MB mappings can stall in huge-page compaction; best of 15
        t_dec = best(lambda f=f, c=codes: f.decode(c), repeat=15) / args.n
        buf = np.empty(codes.shape)
        t_dec_out = best(lambda f=f, c=codes, b=buf: f.decode(c, out=b)) / args.n
        buf32 = np.empty(codes.shape, np.float32)
        t_dec_32 = best(lambda f=f, c=codes, b=buf32: f.decode(c, out=b)) / args.n
        print(f"{name:10} encode: SoftPosit {t_sp_enc * 1e9:5.0f} ns, lowbit {t_enc * 1e9:5.2f} ns "
              f"({t_sp_enc / t_enc:5.0f}x, {1e-6 / t_enc:4.0f} M/s) | decode: SoftPosit {t_sp_dec * 1e9:4.0f} ns, "
              f"lowbit {t_dec * 1e9:4.2f} ns ({t_sp_dec / t_dec:4.0f}x, {1e-6 / t_dec:4.0f} M/s), "
              f"into out= {t_dec_out * 1e9:4.2f} ns ({t_sp_dec / t_dec_out:4.0f}x, {1e-6 / t_dec_out:4.0f} M/s), "
              f"into a float32 out= {t_dec_32 * 1e9:4.2f} ns ({t_sp_dec / t_dec_32:4.0f}x); "
              f"SoftPosit class float(posit(bits=c)) {t_sp_cls * 1e9:4.0f} ns: {t_sp_cls / t_dec:4.0f}x allocating")


if __name__ == "__main__":
    main()
