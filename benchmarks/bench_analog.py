"""Analog crossbar speed: a 1024 x 1024 weight matrix on 256 x 256 PCM tiles (16 tiles, differential
pairs), a batch of 256 inputs, at one time point, end to end (programming noise and drift draws for
2 x 1024^2 devices, one-hot drift-compensation readouts, 8-bit DACs and ADCs, the MVMs, digital
partial sums).

Usage: python benchmarks/bench_analog.py
Target (issue #7): <= 0.5 s on this machine.
"""

import time

import numpy as np

import accel


def main():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((1024, 1024))
    x = rng.standard_normal((1024, 256))
    tile = accel.Crossbar(rows=256, cols=256, device="pcm", dac_bits=8, adc_bits=8)
    for comp in (None, "global"):
        accel.analog_matmul(w, x, tile=tile, t_seconds=3600.0, compensation=comp, seed=1)  # warm-up
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            accel.analog_matmul(w, x, tile=tile, t_seconds=3600.0, compensation=comp, seed=1)
            times.append(time.perf_counter() - t0)
        print(f"1024x1024 on 256x256 PCM tiles, batch 256, t = 1 h, compensation={comp}: "
              f"{min(times):.3f} s (best of 5)")


if __name__ == "__main__":
    main()
