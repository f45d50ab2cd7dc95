"""Speed of one whole transformer layer's timing + energy evaluation (no accuracy): the GPT-3 175B layer
of issue #15 (d 12288, 96 heads, batch 8, 4-way tensor parallel, FP16) on a100-like, prefill at 2048
tokens and decode at 3072 keys; 12 ops each (6 GEMMs with the tile choice, 4 element-wise kernels, 2
all-reduces). LLMCompass takes about 16 minutes per evaluation (its paper); target: well under 1 ms.

Usage: python benchmarks/bench_layer.py [--repeat 200]
"""

import argparse
import time

import accel


def _per_call(fn, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    d = accel.get_design("a100-like")
    for phase, seq, kv in (("prefill", 2048, None), ("decode", 1, 3072)):
        layer = accel.transformer_layer(12288, 96, 8, seq, phase=phase, kv_len=kv, tp=4)
        accel.simulate(d, layer, accuracy=False)  # warm-up: format lookups
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                accel.simulate(d, layer, accuracy=False)
            best = min(best, (time.perf_counter() - t0) / args.repeat)
        r = accel.simulate(d, layer, accuracy=False)
        print(f"{phase}: {best * 1e6:,.0f} us per layer evaluation (best of 5 x {args.repeat}); "
              f"layer time {r.seconds * 1e3:.4f} ms")
    # a reference in the same run (the machine's load varies): one GEMM point on tpu-v1-like, whose timing
    # path this model did not change (docs/benchmarks.md: 16-19 us on an idle core)
    ref_d, ref_g = accel.get_design("tpu-v1-like"), accel.Gemm(512, 512, 512, a_format="int8")
    ref = min(_per_call(lambda: accel.simulate(ref_d, ref_g, accuracy=False), args.repeat) for _ in range(5))
    print(f"reference: one tpu-v1-like GEMM point {ref * 1e6:.1f} us in this run")
    t0 = time.perf_counter()
    layer = accel.transformer_layer(12288, 96, 8, 1, phase="decode", kv_len=3072, tp=4)
    accel.simulate(d, layer, accuracy=True)
    print(f"decode with accuracy=True (each GEMM's error on 32 x 32 sampled outputs): "
          f"{time.perf_counter() - t0:.2f} s (first call includes numba compilation)")


if __name__ == "__main__":
    main()
