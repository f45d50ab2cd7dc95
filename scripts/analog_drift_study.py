"""Accuracy over time of analog PCM crossbars, with and without drift compensation: a 256 x 256 tile on
Gaussian weights and inputs (relative Frobenius error of W x), and the digits MLP on hermes-like
(top-1 of 500 test images). Each point is the mean over DRAWS independent device draws with its Student-t
95 % interval (accel.analog.run.summarise_draws, what Network(draws=) reports). Prints the markdown
tables docs/analog.md shows; --plot PATH saves a figure with the intervals as error bars.

    python scripts/analog_drift_study.py [--plot drift.png]
"""

import argparse

import numpy as np

import accel
from accel.analog.run import summarise_draws

TIMES = {"1 s": 1.0, "1 h": 3600.0, "1 day": 86400.0, "1 month": 2.6e6, "1 year": 3.15e7}
COMPS = {None: "no", "global": "global", "column": "per-column"}
DRAWS = 10


def point(summary: dict, key: str) -> tuple:
    """(mean, ci95 lo, ci95 hi) of `key` in a summarise_draws dict."""
    return summary[key], summary[f"{key}_ci95_lo"], summary[f"{key}_ci95_hi"]


def tile_errors(tile, times=TIMES, draws=DRAWS) -> dict:
    """{compensation: [(mean, lo, hi) per time]} of the tile's relative Frobenius error over device draws
    with analog_matmul seeds 0..draws-1 (one draw is one programmed tile followed through time); W and x
    are the same in every draw."""
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((256, 256)), rng.standard_normal((256, 256))
    ref = w @ x

    def err(t, c, s):
        y = accel.analog_matmul(w, x, tile=tile, t_seconds=t, compensation=c, seed=s)
        return float(np.linalg.norm(y - ref) / np.linalg.norm(ref))
    return {c: [point(summarise_draws([{"e": err(t, c, s)} for s in range(draws)]), "e") for t in times.values()]
            for c in COMPS}


def digits_top1(design, times=TIMES, draws=DRAWS) -> tuple:
    """({compensation: [(mean, lo, hi) per time]} of the digits MLP's top-1, float model's top-1): the
    network's own draws (Network(draws=draws, seed=0), draws 0..draws-1)."""
    acc = {c: [accel.simulate(design, accel.digits_mlp().replace(t_seconds=t, compensation=c, draws=draws,
                                                                   seed=0)).accuracy for t in times.values()]
           for c in COMPS}
    return {c: [point(a, "top1") for a in acc[c]] for c in COMPS}, acc[None][0]["top1_float"]


def study(times=TIMES, draws=DRAWS) -> dict:
    """{table title: {row name: [(mean, lo, hi) per time]}} for the tile and the digits MLP."""
    if draws < 2:
        raise ValueError(f"draws must be >= 2 for an interval, got {draws}")
    perfect_io = accel.Crossbar(rows=256, cols=256, device="pcm")
    with_io = accel.Crossbar(rows=256, cols=256, device="pcm", dac_bits=8, adc_bits=8)
    e1, e2 = tile_errors(perfect_io, times, draws), tile_errors(with_io, times, draws)
    tile_rows = {f"perfect I/O, {n} compensation": e1[c] for c, n in COMPS.items()}
    tile_rows.update({f"8-bit DAC/ADC, {n} compensation": e2[c] for c, n in COMPS.items()})
    top, top_float = digits_top1(accel.get_design("hermes-like"), times, draws)
    return {"256 × 256 PCM tile, Gaussian W and x: rel. Frobenius error of W x": tile_rows,
            f"digits MLP on `hermes-like`: top-1 of 500 test images (float model {top_float:.3f})":
                {f"{n} compensation": top[c] for c, n in COMPS.items()}}


def table(title: str, rows: dict, times=TIMES) -> str:
    """A markdown table, each cell "mean [lo, hi]"."""
    lines = [f"| {title} | " + " | ".join(times) + " |", "|---|" + "---|" * len(times)]
    for name, vals in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in vals) + " |")
    return "\n".join(lines)


def plot(res: dict, path: str, times=TIMES) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    t = np.array(list(times.values()))
    for ax, rows in zip(axes, res.values(), strict=True):
        for i, (name, vals) in enumerate(rows.items()):
            m, lo, hi = (np.array(v) for v in zip(*vals, strict=True))
            # nudge each curve along log t so overlapping error bars stay readable
            ax.errorbar(t * 1.08 ** (i - len(rows) / 2), m, yerr=[m - lo, hi - m], fmt="o-" if i < 3 else "s--",
                        capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("time since programming [s]")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("relative Frobenius error (256x256 tile)")
    axes[1].set_ylabel("digits MLP top-1")
    fig.suptitle(f"mean and Student-t 95 % interval over {DRAWS} device draws", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot")
    args = ap.parse_args()
    res = study()
    print("\n\n".join(table(title, rows) for title, rows in res.items()))
    if args.plot:
        plot(res, args.plot)


if __name__ == "__main__":
    main()
