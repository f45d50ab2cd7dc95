"""Accuracy over time of analog PCM crossbars, with and without drift compensation: a 256 x 256 tile on
Gaussian weights and inputs (relative Frobenius error of W x), and the digits MLP on hermes-like
(top-1 of 500 test images). Prints the markdown tables docs/analog.md shows; --plot PATH saves a figure.

    python scripts/analog_drift_study.py [--plot drift.png]
"""

import argparse

import numpy as np

import accel

TIMES = {"1 s": 1.0, "1 h": 3600.0, "1 day": 86400.0, "1 month": 2.6e6, "1 year": 3.15e7}
COMPS = (None, "global", "column")


def tile_errors(tile, seed=0):
    rng = np.random.default_rng(seed)
    w, x = rng.standard_normal((256, 256)), rng.standard_normal((256, 256))
    ref = w @ x
    return {c: [float(np.linalg.norm(accel.analog_matmul(w, x, tile=tile, t_seconds=t, compensation=c, seed=1) - ref)
                      / np.linalg.norm(ref)) for t in TIMES.values()] for c in COMPS}


def digits_top1(design):
    return {c: [accel.simulate(design, accel.digits_mlp().replace(t_seconds=t, compensation=c)).accuracy["top1"]
                for t in TIMES.values()] for c in COMPS}


def table(title, rows, fmt):
    lines = [f"| {title} | " + " | ".join(TIMES) + " |", "|---|" + "---|" * len(TIMES)]
    for name, vals in rows.items():
        lines.append(f"| {name} | " + " | ".join(fmt.format(v) for v in vals) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot")
    args = ap.parse_args()
    perfect_io = accel.Crossbar(rows=256, cols=256, device="pcm")
    with_io = accel.Crossbar(rows=256, cols=256, device="pcm", dac_bits=8, adc_bits=8)
    e1, e2 = tile_errors(perfect_io), tile_errors(with_io)
    rows = {f"perfect I/O, compensation {c}": e1[c] for c in COMPS}
    rows.update({f"8-bit DAC/ADC, compensation {c}": e2[c] for c in COMPS})
    print(table("256 x 256 PCM tile: rel. Frobenius error", rows, "{:.3f}"))
    print()
    top = digits_top1(accel.get_design("hermes-like"))
    print(table("digits MLP on hermes-like: top-1 (float model 0.984)",
                {f"compensation {c}": top[c] for c in COMPS}, "{:.3f}"))
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        t = list(TIMES.values())
        for c in COMPS:
            a1.plot(t, e1[c], "o-", label=f"perfect I/O, {c}")
            a1.plot(t, e2[c], "s--", label=f"8-bit I/O, {c}")
            a2.plot(t, top[c], "o-", label=f"compensation {c}")
        for a in (a1, a2):
            a.set_xscale("log")
            a.set_xlabel("time since programming [s]")
            a.legend(fontsize=7)
        a1.set_ylabel("relative Frobenius error (256x256 tile)")
        a2.set_ylabel("digits MLP top-1")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)


if __name__ == "__main__":
    main()
