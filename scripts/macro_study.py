"""Compute-in-memory macros side by side: TOPS/W vs TOPS vs accuracy under drift for the five macro presets at
their papers' settings, plus one line of design exploration (ADC bits 4-10 on neurram-like), and the
validation table of docs/validation.md (every published point next to lowbit's, with its error).

    python scripts/macro_study.py                 # comparison table
    python scripts/macro_study.py --plot fig.png  # and the figure
    python scripts/macro_study.py --validation    # the validation table and per-macro summary (markdown)

Accuracy: relative Frobenius error of one full array of Gaussian operands (64 input vectors) with global
drift compensation, at 1 s, 1 h and 1 day after programming; RRAM's statistics are fitted at 1 s, 1 day and
2 days (Wan et al. 2022, aihwkit), so NeuRRAM's 1 h point is interpolated in ln t between the 1 s and 1-day fits
(marked "interp."; accel.RRAM); SRAM does not drift (one point, t = 0).
"""

import argparse

import accel
from accel.analog.validation import summary, table_markdown, validate

MACROS = ["hermes-like", "neurram-like", "jia-sram-like", "sinangil-sram-like", "wang-c2c-like"]
TIMES = {"1 s": 1.0, "1 h": 3600.0, "1 day": 86400.0}
# Jia et al.'s headline figures are 1-bit (the preset's calibration point); a network runs it bit-scaled, so the
# comparison takes its 4-bit inputs and weights (dac_bits 5: 4 magnitude bits; 4 columns per weight)
SETTINGS = {"jia-sram-like": {"dac_bits": 5, "weight_bits": 4}}


def _times(design) -> dict:
    dev = type(design.unit.device).__name__
    if dev == "SRAM":
        return {"t = 0 (no drift)": 0.0}
    if dev == "RRAM":  # a time between two of Wan et al.'s fits says so
        fitted = dict(design.unit.device.coeffs)
        return {k if v in fitted else f"{k} (interp.)": v for k, v in TIMES.items()}
    return TIMES


def comparison() -> list[dict]:
    rows = []
    for name in MACROS:
        d = accel.get_design(name)
        for k, v in SETTINGS.get(name, {}).items():
            d = accel.set_field(d, f"unit.{k}", v)
        t = _times(d)
        r = accel.macro_report(d, times=list(t.values()))
        label = name + "".join(f" {k}={v}" for k, v in SETTINGS.get(name, {}).items())
        rows.append({"design": label, "tops": r["tops"], "tops_per_w": r["tops_per_w"],
                     "accuracy": {k: r["accuracy"][v] for k, v in t.items()}})
    return rows


def adc_sweep(bits=range(4, 11)) -> list[dict]:
    d = accel.get_design("neurram-like")
    out = []
    for b in bits:
        e = accel.set_field(d, "unit.adc_bits", b)
        r = accel.macro_report(e, times=[86400.0])
        out.append({"adc_bits": b, "tops": r["tops"], "tops_per_w": r["tops_per_w"],
                    "err_1day": r["accuracy"][86400.0]})
    return out


def print_tables(rows, sweep) -> None:
    print("| macro (paper settings) | TOPS | TOPS/W | rel. error of W x (global compensation) |")
    print("|---|---|---|---|")
    for r in rows:
        acc = ", ".join(f"{k}: {v:.3f}" for k, v in r["accuracy"].items())
        print(f"| {r['design']} | {r['tops']:.4g} | {r['tops_per_w']:.4g} | {acc} |")
    print()
    print("| neurram-like, adc_bits | TOPS | TOPS/W | rel. error at 1 day |")
    print("|---|---|---|---|")
    for s in sweep:
        print(f"| {s['adc_bits']} | {s['tops']:.4g} | {s['tops_per_w']:.4g} | {s['err_1day']:.3f} |")


def plot(rows, sweep, path=None):
    """The comparison figure (returned; saved to `path` when given). Notebooks show it inline."""
    import matplotlib.pyplot as plt
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for r in rows:
        err = list(r["accuracy"].values())[-1]
        ax.scatter(r["tops"], r["tops_per_w"], s=40 + 600 * err, alpha=0.7, label=f"{r['design']} (err {err:.2f})")
    ax.plot([s["tops"] for s in sweep], [s["tops_per_w"] for s in sweep], "k.-", lw=1,
            label="neurram-like, ADC 4-10 bits")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("TOPS (full utilisation)")
    ax.set_ylabel("TOPS/W")
    ax.set_title("Macros at their papers' settings (marker size: error at the last time)")
    ax.legend(fontsize=7)
    for r in rows:
        xs = [list(TIMES).index(b) if (b := k.removesuffix(" (interp.)")) in TIMES else 0 for k in r["accuracy"]]
        bx.plot(xs, list(r["accuracy"].values()), "o-", label=r["design"])
    bx.set_xticks(range(3), list(TIMES))
    bx.set_ylabel("relative error of W x")
    bx.set_title("Error after programming (SRAM at t = 0, drawn at 1 s)")
    bx.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


# What each (macro, metric) of the summary covers, in the page's words (docs/validation.md)
LABELS = {
    ("hermes-like", "tops"): "TOPS (four-phase; one HERMES core; 8 and 32 cores in part used, Table 1)",
    ("hermes-like", "tops_per_w"): "TOPS/W (four-phase; one HERMES core; 8 and 32 cores in part used, Table 1)",
    ("hermes-like", "tops_per_mm2"): "TOPS/mm² (one- and four-phase, full and part use, Table 1)",
    ("neurram-like", "tops"): "TOPS",
    ("neurram-like", "tops_per_w"): "TOPS/W",
    ("neurram-like", "energy_share"): "energy shares (WL / neuron / input)",
    ("jia-sram-like", "tops"): "TOPS (1.2 V; 2- and 4-bit inputs)",
    ("jia-sram-like", "tops_per_w_cimu"): "1b-TOPS/W of the CIMU (1.2 V)",
    ("jia-sram-like", "tops_per_mm2_cimu"): "TOPS/mm² of the CIMU (0.85, 1.2 V)",
    ("jia-sram-like", "energy_share"): "energy shares (1.2 V)",
    ("sinangil-sram-like", "tops"): "TOPS (1.0 V)",
    ("sinangil-sram-like", "tops_per_w"): "TOPS/W (output 6 at 0.8 V; 0, 6, 15 at 1.0 V, Table I)",
    ("sinangil-sram-like", "energy_pj_per_mvm"): "energy per MVM vs output value and supply (Fig. 13)",
    ("wang-c2c-like", "tops"): "TOPS (0.7-1.1 V)",
    ("wang-c2c-like", "tops_per_w"): "TOPS/W (0.7-1.1 V)",
    ("wang-c2c-like", "tops_per_mm2"): "TOPS/mm² (0.7, 1.1 V)",
}


def print_validation() -> None:
    rows = validate()
    print(table_markdown(rows))
    print()
    print("| macro | metric | predictions | mean abs. error | target met |")
    print("|---|---|---|---|---|")
    rank = {key: i for i, key in enumerate(LABELS)}  # the page's order; a metric without a label after its macro's
    for (m, k), (mean, n) in sorted(summary(rows).items(),
                                    key=lambda kv: (MACROS.index(kv[0][0]), rank.get(kv[0], len(rank)), kv[0][1])):
        share = k.endswith("share")
        err = f"{mean:.1f} pp" if share else f"{100 * mean:.1f} %"
        met = "yes" if (mean <= 10.0 if share else mean <= 0.10) else "**no**"
        print(f"| {m} | {LABELS.get((m, k), k)} | {n} | {err} | {met} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plot", help="save the comparison figure to this path")
    ap.add_argument("--validation", action="store_true", help="print the validation table instead")
    args = ap.parse_args()
    if args.plot:  # before the minutes of work, not after
        from pathlib import Path
        folder = Path(args.plot).resolve().parent
        if not folder.is_dir():
            ap.error(f"--plot {args.plot}: folder {folder} does not exist")
    if args.validation:
        print_validation()
        return
    rows, sweep = comparison(), adc_sweep()
    print_tables(rows, sweep)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        plot(rows, sweep, args.plot)


if __name__ == "__main__":
    main()
