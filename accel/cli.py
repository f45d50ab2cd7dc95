"""The `lowbit` command line."""

import argparse
import math
import os
import sys

import numerics as nx


def _fmt_value(v: float) -> str:
    if v == 0:
        return "0"
    if float(v).is_integer() and v < 2**32:
        return str(int(v))
    e = math.log2(v)
    if e == int(e) and abs(e) >= 4:
        return f"2^{int(e)}"
    return f"{v:.6g}"


def _specials(f) -> str:
    if isinstance(f, nx.PositFormat):
        return f"posit<{f.bits},{f.es}>, NaR = 0x{f.nan_code:X}, quire {f.quire_bits} bits"
    if isinstance(f, nx.LogFormat):
        return f"sign + log2 with {f.frac_bits} fraction bits, zero; no inf/NaN"
    if isinstance(f, nx.LookupFormat):
        return f"{len(f.levels)} levels; no inf/NaN"
    if isinstance(f, nx.IntFormat):
        rng = f"{f.lowest}..{f.highest}"
        return f"integer {rng}; NaN/inf: error"
    if isinstance(f, nx.FloatFormat):
        parts = ["±inf" if f.has_inf else "no inf"]
        parts.append({nx.NanPolicy.IEEE: "NaN: exp all ones", nx.NanPolicy.FN: "NaN: all ones",
                      nx.NanPolicy.FNUZ: "NaN: 0x80.. (no -0)", nx.NanPolicy.NONE: "no NaN"}[f.nan])
        if not f.signed:
            parts.append("unsigned")
        if not f.zero:
            parts.append("no zero")
        return ", ".join(parts)
    return ""


def format_table(names: list[str]) -> str:
    """The table `lowbit formats` prints."""
    rows = [("name", "bits", "max", "min normal", "min subnormal", "inf / NaN")]
    for name in names:
        f = nx.get_format(name)
        sub = f.min_subnormal
        has_sub = getattr(f, "subnormals", False) and getattr(f, "zero", True) and sub != f.min_normal
        rows.append((name, str(f.bits), _fmt_value(f.max), _fmt_value(f.min_normal),
                     _fmt_value(sub) if has_sub else "none", _specials(f)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_formats(args) -> int:
    names = args.names or nx.format_names()
    try:
        print(format_table(names))
    except ValueError as err:
        print(f"lowbit formats: {err}", file=sys.stderr)
        return 2
    return 0


# -- the accelerator model ---------------------------------------------------------------------------

def _design(spec: str):
    import accel
    if spec.endswith(".toml") or os.path.sep in spec:
        return accel.load_design(spec)
    return accel.get_design(spec)


def _workload(spec: dict):
    """A workload from a TOML/CLI table: {gemm = [m, n, k], ...} or {network = "digits-mlp"|"transformer"}."""
    import accel
    spec = dict(spec)
    if "gemm" in spec:
        m, n, k = spec.pop("gemm")
        return accel.Gemm(m, n, k, **spec)
    if "network" in spec:
        name = spec.pop("network")
        analog = {k: spec.pop(k) for k in ("t_seconds", "compensation") if k in spec}
        if name == "digits-mlp":
            return accel.digits_mlp(**spec).replace(**analog)
        if name == "transformer":
            return accel.transformer_block(**spec).replace(**analog)
        raise ValueError(f"network must be 'digits-mlp' or 'transformer', got {name!r}")
    raise ValueError(f"a workload needs 'gemm = [m, n, k]' or 'network = ...', got {sorted(spec)}")


_UNITS = {"seconds": ("us", 1e6), "energy_j": ("nJ", 1e9), "ops_per_s": ("TOPS", 1e-12),
          "ops_per_j": ("TOPS/W", 1e-12)}


def _unit(key: str):
    if key.startswith("energy_") and key.endswith("_j"):
        return _UNITS["energy_j"]
    return _UNITS.get(key)


def _cell(key: str, v) -> str:
    if _unit(key) and isinstance(v, int | float):
        v = v * _unit(key)[1]
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def table(rows: list[dict], columns: list[str]) -> str:
    """Rows as an aligned text table; times in us, energy in nJ, throughput in TOPS, efficiency TOPS/W."""
    head = [f"{c} [{_unit(c)[0]}]" if _unit(c) else c for c in columns]
    body = [[_cell(c, r.get(c)) for c in columns] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in body]
    return "\n".join(lines)


_DEFAULT_COLUMNS = ["design", "workload", "a_format", "sparsity", "seconds", "energy_j", "ops_per_s", "ops_per_j",
                    "utilisation", "bound", "rel_fro_err", "top1"]


def _cmd_simulate(args) -> int:
    import json

    import accel
    spec = {"gemm": args.gemm} if args.gemm else {"network": args.network}
    for key in ("a_format", "b_format", "sparsity", "t_seconds", "compensation"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    r = accel.simulate(_design(args.design), _workload(spec), accuracy=not args.no_accuracy)
    d = r.to_dict()
    if args.json:
        print(json.dumps(d, indent=1))
    else:
        cols = [c for c in _DEFAULT_COLUMNS if c in d] + ["cycles", "compute_cycles"]
        cols += [c for c in d if c.startswith("energy_") and c != "energy_j"]
        cols += [c for c in (r.accuracy or {}) if c not in cols]
        print("\n".join(f"{c:24s} {_cell(c, d[c])}" + (f" {_unit(c)[0]}" if _unit(c) else "") for c in cols))
    return 0


def _load_grid(path: str) -> dict:
    import tomllib
    with open(path, "rb") as fh:
        try:
            doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path} does not parse: {err}") from None
    if "design" not in doc or "workloads" not in doc:
        raise ValueError(f"{path} needs design = \"<preset or .toml>\" and at least one [[workloads]] table")
    return doc


def _finish_sweep(rows: list[dict], out_dir: str | None, columns: list[str]) -> None:
    import accel
    print(table(rows, [c for c in columns if any(c in r for r in rows)]))
    errors = [r for r in rows if "error" in r]
    if errors:
        print(f"\n{len(errors)} point(s) failed, e.g.: {errors[0]['error']}")
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        ok = [r for r in rows if "error" not in r]
        color = "top1" if any("top1" in r for r in ok) else ("sqnr_db" if any("sqnr_db" in r for r in ok) else None)
        accel.plot_pareto(ok, x="energy_j", y="ops_per_s", color=color, path=os.path.join(out_dir, "pareto.png"))
        if color:
            accel.plot_pareto(ok, x="energy_j", y=color, color="ops_per_s", logy=False,
                              path=os.path.join(out_dir, f"energy_vs_{color}.png"))
        print(f"\nplots in {out_dir}/")


def _cmd_sweep(args) -> int:
    import accel
    doc = _load_grid(args.grid)
    design = _design(doc["design"])
    workloads = [_workload(w) for w in doc["workloads"]]
    executor = None
    if args.workers == 1:
        from concurrent.futures import ThreadPoolExecutor
        executor = ThreadPoolExecutor(1)
    rows = accel.sweep(design, doc.get("grid", {}), workloads, executor=executor, out=args.out,
                       accuracy=doc.get("accuracy", False), progress=not args.no_progress)
    if args.csv:
        accel.write_csv(rows, args.csv)
    keys = list(doc.get("grid", {}))
    _finish_sweep(rows, args.plots, keys + _DEFAULT_COLUMNS)
    return 0


def _cmd_report(args) -> int:
    import accel
    rows = accel.read_results(args.results)
    if not rows:
        raise ValueError(f"{args.results} holds no results")
    if args.pareto:
        rows = accel.pareto_front([r for r in rows if "error" not in r], maximize=("ops_per_s",),
                                  minimize=("energy_j",))
    if args.sort:
        rows = sorted(rows, key=lambda r: (r.get(args.sort) is None, r.get(args.sort)))
    cols = args.columns.split(",") if args.columns else None
    if cols is None:
        grid_keys = [k for k in rows[0] if k.startswith(("design.", "workload."))]
        cols = [c for c in grid_keys + _DEFAULT_COLUMNS if any(c in r for r in rows)]
    print(table(rows, cols))
    return 0


def _cmd_vectors(args) -> int:
    from . import vectors
    names, rows, widths = vectors.generate(args.format, args.op, n=args.n, seed=args.seed, rounding=args.rounding,
                                           to=args.to, accumulator=args.accumulator, k=args.k)
    extra = f"to {args.to}" if args.op == "convert" else (f"accumulator {args.accumulator}, K {args.k}"
                                                          if args.op == "dot" else "")
    vectors.write(args.out, args.format, args.op, names, rows, widths, style=args.style, rounding=args.rounding,
                  seed=args.seed, extra=extra)
    print(f"wrote {len(rows)} {args.op} vectors of {args.format} to {args.out}")
    return 0


def default_study(out_dir: str | None = "lowbit-study", progress: bool = False) -> list[dict]:
    """The built-in study: the digits MLP (real trained weights, 500 test images) on the edge NPU with
    square arrays of 16 to 128 PEs a side, in INT8 and INT4; prints the table and writes the plots."""
    import accel
    grid = {"design.unit.rows": [16, 32, 64, 128], "design.unit.cols": [16, 32, 64, 128],
            "workload.a_format": ["int8", "int4"]}
    path = None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "results.jsonl")
        if os.path.exists(path):
            os.remove(path)  # the study takes seconds: always recompute
    rows = accel.sweep(accel.get_design("edge-npu"), grid, [accel.digits_mlp()], accuracy=True, progress=progress,
                       out=path)
    print("lowbit default study: digits MLP (64-64-10, 500 test images) on edge-npu, array size x format\n")
    _finish_sweep(rows, out_dir, ["design.unit.rows", "design.unit.cols", "a_format", "seconds", "energy_j",
                                  "ops_per_j", "utilisation", "bound", "top1", "top1_float", "rel_fro_err"])
    return rows


def main(argv: list[str] | None = None) -> int:
    """Entry point. With no command, runs the built-in default study."""
    parser = argparse.ArgumentParser(prog="lowbit", description="Bit-accurate number formats and accelerator model. "
                                     "With no command: the default study (digits MLP on the edge NPU).")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("formats", help="table of every registered format (bits, range, inf/NaN rules)")
    p.add_argument("names", nargs="*", help="format names (default: all registered)")
    p.set_defaults(func=_cmd_formats)
    p = sub.add_parser("simulate", help="one design point on one workload")
    p.add_argument("design", help="preset name (see accel.design_names()) or a design .toml")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--gemm", nargs=3, type=int, metavar=("M", "N", "K"))
    g.add_argument("--network", choices=["digits-mlp", "transformer"])
    p.add_argument("--a-format", dest="a_format")
    p.add_argument("--b-format", dest="b_format")
    p.add_argument("--sparsity", help="'2:4' for structured-sparse weights")
    p.add_argument("--t-seconds", dest="t_seconds", type=float, help="analog designs: time since programming")
    p.add_argument("--compensation", choices=["global", "column"], help="analog designs: drift compensation")
    p.add_argument("--no-accuracy", action="store_true", help="timing and energy only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_simulate)
    p = sub.add_parser("sweep", help="a grid of design points from a TOML file -> JSONL (+ CSV, plots)")
    p.add_argument("grid", help="TOML with design, [grid] and [[workloads]] (docs/accel.md)")
    p.add_argument("--out", default="sweep.jsonl", help="JSONL results, appended and resumed (default sweep.jsonl)")
    p.add_argument("--csv")
    p.add_argument("--plots", help="folder for the Pareto plots")
    p.add_argument("--workers", type=int, default=0, help="1: in this process; default: local processes")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_sweep)
    p = sub.add_parser("report", help="table from a results file")
    p.add_argument("results")
    p.add_argument("--columns", help="comma-separated columns")
    p.add_argument("--sort", help="column to sort by")
    p.add_argument("--pareto", action="store_true", help="only the throughput/energy Pareto front")
    p.set_defaults(func=_cmd_report)
    p = sub.add_parser("vectors", help="golden input/output bit patterns for RTL verification")
    p.add_argument("format")
    p.add_argument("--op", required=True, choices=["encode", "decode", "add", "mul", "fma", "dot", "convert"])
    p.add_argument("--rounding", default="TIES_TO_EVEN", help="a RoundMode name (default TIES_TO_EVEN)")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--as", dest="style", default="hex", choices=["hex", "csv", "readmemh"])
    p.add_argument("--to", help="convert: the target format")
    p.add_argument("--accumulator", default="fp32", help="dot: an accumulator preset (e.g. nv_hopper_fp8)")
    p.add_argument("--k", type=int, default=16, help="dot: vector length")
    p.set_defaults(func=_cmd_vectors)
    p = sub.add_parser("study", help="the built-in default study (what `lowbit` alone runs)")
    p.add_argument("--out-dir", default="lowbit-study")
    p.set_defaults(func=lambda a: (default_study(a.out_dir), 0)[1])
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["study"])
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, KeyError) as err:
        print(f"lowbit {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
