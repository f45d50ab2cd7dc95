"""The `lowbit` command line."""

import argparse
import difflib
import math
import os
import sys
import warnings

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

def _input_file(path: str, what: str) -> str:
    """`path` if it is a readable file; else an OSError that says which argument it was."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} {path} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what} {path} is a directory, not a file")
    return path


def _output_file(path: str, what: str) -> str:
    """`path` if a file can be written there (checked before any work, so none is lost)."""
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{what} {path} is a directory, not a file")
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"{what} {path}: the directory {parent} does not exist")
    return path


def _design(spec):
    import accel
    if not isinstance(spec, str):
        raise ValueError(f"design must be a preset name or a design .toml path (a string), got {spec!r}")
    if spec.endswith(".toml") or os.path.sep in spec:
        try:
            return accel.load_design(_input_file(spec, "design file"))
        except (ValueError, TypeError) as err:
            if spec in str(err):
                raise
            raise (ValueError if isinstance(err, ValueError) else TypeError)(f"design file {spec}: {err}") from None
    return accel.get_design(spec)


def _keys_of(fn) -> list[str]:
    import inspect
    return list(inspect.signature(fn).parameters)


def _workload(spec: dict, where: str = "workload"):
    """A workload from a TOML/CLI table: {gemm = [m, n, k], ...} or {network = "digits-mlp"|"transformer"}."""
    import dataclasses

    import accel
    if not isinstance(spec, dict):
        raise ValueError(f"{where} must be a table with 'gemm = [m, n, k]' or 'network = ...', got {spec!r}")
    spec = dict(spec)
    if ("gemm" in spec) == ("network" in spec):
        raise ValueError(f"{where} needs exactly one of 'gemm = [m, n, k]' or 'network = ...', got keys {sorted(spec)}")
    analog_keys = ["t_seconds", "compensation"]
    if "gemm" in spec:
        mnk = spec.pop("gemm")
        if not isinstance(mnk, list) or len(mnk) != 3 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                    for v in mnk):
            raise ValueError(f"{where}: gemm must be [m, n, k], three positive integers, got {mnk!r}")
        allowed = [f.name for f in dataclasses.fields(accel.Gemm) if f.name not in ("m", "n", "k", "a", "b")]
        kind, build = "gemm", lambda: accel.Gemm(*mnk, **spec)
    else:
        name = spec.pop("network")
        makers = {"digits-mlp": accel.digits_mlp, "transformer": accel.transformer_block}
        if name not in makers:
            raise ValueError(f"{where}: network must be 'digits-mlp' or 'transformer', got {name!r}")
        allowed = _keys_of(makers[name]) + analog_keys
        kind = f"network {name!r}"

        def build():
            analog = {k: spec.pop(k) for k in analog_keys if k in spec}
            return makers[name](**spec).replace(**analog)
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, 1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{where}: unknown key {unknown[0]!r} for a {kind} workload{hint}; "
                         f"valid keys: {', '.join(allowed)}")
    return build()


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
    if args.layer:
        return _simulate_layer(args)
    spec = {"gemm": args.gemm} if args.gemm else {"network": args.network}
    for key in ("a_format", "b_format", "sparsity", "t_seconds", "compensation"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    design, workload = _design(args.design), _workload(spec, "simulate")
    try:
        r = accel.simulate(design, workload, accuracy=not args.no_accuracy)
    except MemoryError:
        advice = ("timing and energy alone need no operands: rerun with --no-accuracy" if not args.no_accuracy
                  else "try a smaller workload")
        raise MemoryError(f"out of memory simulating {workload.describe()} on {design.name}; {advice}") from None
    d = r.to_dict()
    if args.json:
        print(json.dumps(d, indent=1))
    else:
        cols = [c for c in _DEFAULT_COLUMNS if c in d] + ["cycles", "compute_cycles"]
        cols += [c for c in d if c.startswith("energy_") and c != "energy_j"]
        cols += [c for c in (r.accuracy or {}) if c not in cols]
        print("\n".join(f"{c:24s} {_cell(c, d[c])}" + (f" {_unit(c)[0]}" if _unit(c) else "") for c in cols))
    return 0


def _simulate_layer(args) -> int:
    """`lowbit simulate DESIGN --layer D_MODEL HEADS BATCH SEQ ...`: one transformer decoder layer, a row per op."""
    import json

    import accel
    for key in ("a_format", "b_format", "sparsity", "t_seconds", "compensation"):
        if getattr(args, key) is not None:
            raise ValueError(f"--{key.replace('_', '-')} applies to --gemm/--network; a layer takes --dtype")
    d_model, heads, batch, seq = args.layer
    layer = accel.transformer_layer(d_model, heads, batch, seq, phase=args.phase, kv_len=args.kv_len, tp=args.tp,
                                    dtype=args.dtype, ffn_mult=args.ffn_mult)
    design = _design(args.design)
    try:
        r = accel.simulate(design, layer, accuracy=not args.no_accuracy)
    except MemoryError:
        raise MemoryError(f"out of memory simulating the layer on {design.name}; rerun with --no-accuracy") from None
    if args.json:
        print(json.dumps({**r.to_dict(), "per_op": r.per_op}, indent=1, default=str))
        return 0
    cols = ["name", "kind", "seconds", "energy_j", "bound"] + (["rel_fro_err"] if not args.no_accuracy else [])
    rows = [{**op, "rel_fro_err": (op.get("accuracy") or {}).get("rel_fro_err")} for op in r.per_op]
    rows.append({"name": "total", "kind": "", "seconds": r.seconds, "energy_j": r.energy_j, "bound": r.bound,
                 "rel_fro_err": (r.accuracy or {}).get("rel_fro_err")})
    desc = ", ".join(f"{k} {v}" for k, v in layer.describe().items() if v is not None)
    print(f"{desc} on {design.name}\n")
    print(table(rows, cols))
    return 0


_GRID_FILE_KEYS = ("design", "accuracy", "grid", "workloads")


def _load_grid(path: str) -> dict:
    """The sweep file, checked: design (str), accuracy (bool), [grid] (arrays), [[workloads]] (tables)."""
    import tomllib
    with open(_input_file(path, "grid file"), "rb") as fh:
        try:
            doc = tomllib.load(fh)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is not a TOML grid file: {err}") from None
    for key in doc:
        if key not in _GRID_FILE_KEYS:
            close = difflib.get_close_matches(key, _GRID_FILE_KEYS, 1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{path}: unknown top-level key {key!r}{hint}; a grid file has "
                             "design = \"<preset or .toml>\", accuracy = true|false, [grid] and [[workloads]]")
    if "design" not in doc or "workloads" not in doc:
        raise ValueError(f"{path} needs design = \"<preset or .toml>\" and at least one [[workloads]] table")
    if not isinstance(doc["design"], str):
        raise ValueError(f"{path}: design must be a preset name or a .toml path (a string), got {doc['design']!r}")
    if not isinstance(doc.get("accuracy", False), bool):
        raise ValueError(f"{path}: accuracy must be true or false, got {doc['accuracy']!r}")
    grid = doc.get("grid", {})
    if not isinstance(grid, dict):
        raise ValueError(f"{path}: grid must be a [grid] table of \"dotted.field\" = [values], got {grid!r}")
    for key, vals in grid.items():
        if not isinstance(vals, list) or not vals:
            raise ValueError(f"{path}: [grid] {key!r} must be a non-empty array of values, got {vals!r}")
    wl = doc["workloads"]
    if not isinstance(wl, list) or not wl or not all(isinstance(w, dict) for w in wl):
        raise ValueError(f"{path}: workloads must be one or more [[workloads]] tables, got {wl!r}")
    return doc


def _finish_sweep(rows: list[dict], out_dir: str | None, columns: list[str]) -> None:
    import accel
    print(table(rows, [c for c in columns if any(c in r for r in rows)]))
    errors = [r for r in rows if "error" in r]
    if errors:
        print(f"\n{len(errors)} point(s) failed, e.g.: {errors[0]['error']}")
    ok = [r for r in rows if "error" not in r]
    if out_dir and not ok:
        print(f"\nno plots in {out_dir}/: every point failed")
    elif out_dir:
        os.makedirs(out_dir, exist_ok=True)
        color = "top1" if any("top1" in r for r in ok) else ("sqnr_db" if any("sqnr_db" in r for r in ok) else None)
        accel.plot_pareto(ok, x="energy_j", y="ops_per_s", color=color, path=os.path.join(out_dir, "pareto.png"))
        if color:
            accel.plot_pareto(ok, x="energy_j", y=color, color="ops_per_s", logy=False,
                              path=os.path.join(out_dir, f"energy_vs_{color}.png"))
        print(f"\nplots in {out_dir}/")


def _cmd_sweep(args) -> int:
    import accel
    doc = _load_grid(args.grid)
    _output_file(args.out, "--out")
    if args.csv:
        _output_file(args.csv, "--csv")
    design = _design(doc["design"])
    workloads = [_workload(w, f"{args.grid}: [[workloads]] #{i + 1}") for i, w in enumerate(doc["workloads"])]
    executor = None
    if args.workers == 1:
        from concurrent.futures import ThreadPoolExecutor
        executor = ThreadPoolExecutor(1)
    try:
        rows = accel.sweep(design, doc.get("grid", {}), workloads, executor=executor, out=args.out,
                           accuracy=doc.get("accuracy", False), progress=not args.no_progress, force=args.force)
    except MemoryError:
        raise MemoryError(f"out of memory; the points finished so far are saved in {args.out}: set accuracy = false "
                          f"in {args.grid} (timing and energy only) or use smaller workloads, then rerun "
                          "to resume") from None
    finally:
        if executor is not None:
            executor.shutdown()
    if args.csv:
        accel.write_csv(rows, args.csv)
    keys = list(doc.get("grid", {}))
    _finish_sweep(rows, args.plots, keys + _DEFAULT_COLUMNS)
    failed = [r for r in rows if "error" in r]
    if failed and (len(failed) == len(rows) or args.strict):
        what = "all" if len(failed) == len(rows) else f"{len(failed)} of"
        print(f"lowbit sweep: {what} {len(rows)} point(s) failed, e.g.: {failed[0]['error']}", file=sys.stderr)
        return 1
    return 0


def _sort_key(col: str):
    """Numbers in order, then other values by their text, then rows without the column."""
    def key(r):
        v = r.get(col)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return (0, v, "")
        return (1, 0, str(v)) if v is not None else (2, 0, "")
    return key


def _check_columns(names: list[str], rows: list[dict], option: str) -> None:
    avail: list = []
    for r in rows:
        avail += [k for k in r if k not in avail and k not in ("point", "hash")]
    bad = [c for c in names if c not in avail]
    if bad:
        close = difflib.get_close_matches(bad[0], avail, 1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{option}: unknown column {bad[0]!r}{hint}; the results have: {', '.join(avail)}")


def _cmd_report(args) -> int:
    import accel
    rows = accel.read_results(_input_file(args.results, "results file"))
    if not rows:
        raise ValueError(f"{args.results} holds no results")
    cols = args.columns.split(",") if args.columns is not None else None
    if cols is not None:
        _check_columns(cols, rows, "--columns")
    if args.sort:
        _check_columns([args.sort], rows, "--sort")
    if args.pareto:
        rows = accel.pareto_front([r for r in rows if "error" not in r], maximize=("ops_per_s",),
                                  minimize=("energy_j",))
        if not rows:
            print(f"lowbit report: {args.results} has no point with ops_per_s and energy_j (every point failed)",
                  file=sys.stderr)
            return 1
    if args.sort:
        rows = sorted(rows, key=_sort_key(args.sort))
    if cols is None:
        grid_keys: list = []
        for r in rows:
            grid_keys += [k for k in r if k.startswith(("design.", "workload.")) and k not in grid_keys]
        cols = [c for c in grid_keys + _DEFAULT_COLUMNS if any(c in r for r in rows)]
    print(table(rows, cols))
    return 0


def _cmd_vectors(args) -> int:
    from . import vectors
    mode = vectors.round_mode(args.rounding)
    _output_file(args.out, "--out")
    names, rows, widths = vectors.generate(args.format, args.op, n=args.n, seed=args.seed, rounding=mode,
                                           to=args.to, accumulator=args.accumulator, k=args.k)
    extra = f"to {args.to}" if args.op == "convert" else (f"accumulator {args.accumulator}, K {args.k}"
                                                          if args.op == "dot" else "")
    vectors.write(args.out, args.format, args.op, names, rows, widths, style=args.style, rounding=mode.name,
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
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise FileExistsError(f"--out-dir {out_dir} is a file, not a folder")
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
    g.add_argument("--layer", nargs=4, type=_int_at_least(1), metavar=("D_MODEL", "HEADS", "BATCH", "SEQ"),
                   help="one tensor-parallel transformer decoder layer (accel.transformer_layer); a row per op")
    p.add_argument("--phase", default="prefill", choices=["prefill", "decode"], help="--layer: default prefill")
    p.add_argument("--kv-len", dest="kv_len", type=_int_at_least(1),
                   help="--layer: keys attended to (default SEQ; decode of token 1025 after 2048: SEQ 1, 3072)")
    p.add_argument("--tp", type=_int_at_least(1), default=1, help="--layer: tensor-parallel devices (default 1)")
    p.add_argument("--dtype", default="fp16", help="--layer: GEMM operand format, any format name (default fp16)")
    p.add_argument("--ffn-mult", dest="ffn_mult", type=_int_at_least(1), default=4, help="--layer: default 4")
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
    p.add_argument("--workers", type=_int_at_least(0), default=0,
                   help="1: in this process; default: local processes")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--force", action="store_true",
                   help="if --out holds another sweep's rows, write to a new numbered file (default: refuse)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any point fails (default: only if all do)")
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
    p.add_argument("--n", type=_int_at_least(1), default=1000)
    p.add_argument("--seed", type=_int_at_least(0), default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--as", dest="style", default="hex", choices=["hex", "csv", "readmemh"])
    p.add_argument("--to", help="convert: the target format")
    p.add_argument("--accumulator", default="fp32", help="dot: an accumulator preset (e.g. nv_hopper_fp8)")
    p.add_argument("--k", type=_int_at_least(1), default=16, help="dot: vector length")
    p.set_defaults(func=_cmd_vectors)
    p = sub.add_parser("study", help="the built-in default study (what `lowbit` alone runs)")
    p.add_argument("--out-dir", default="lowbit-study")
    p.set_defaults(func=lambda a: (default_study(a.out_dir), 0)[1])
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["study"])
    return _run(args)


def _run(args) -> int:
    """Run a command: bad input, a missing file or too little memory is one line on stderr and exit 2;
    warnings (damaged log lines, a --force redirect) are lines on stderr too."""
    from concurrent.futures import BrokenExecutor

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"lowbit {args.command}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show
        try:
            return args.func(args)
        except MemoryError as err:
            print(f"lowbit {args.command}: {str(err) or 'out of memory; try a smaller problem'}", file=sys.stderr)
            return 2
        except KeyError as err:  # a bare KeyError's text is only the key: say it is one
            print(f"lowbit {args.command}: unknown name {err}", file=sys.stderr)
            return 2
        except (ValueError, TypeError, OSError) as err:
            print(f"lowbit {args.command}: {err}", file=sys.stderr)
            return 2
        except BrokenExecutor as err:
            print(f"lowbit {args.command}: a worker process died ({err}); finished points are saved: rerun to "
                  "resume, or use --workers 1", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            saved = "; finished points are saved in --out: rerun to resume" if args.command == "sweep" else ""
            print(f"lowbit {args.command}: interrupted{saved}", file=sys.stderr)
            return 130


def _int_at_least(lo: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be >= {lo}, got {v}")
        return v
    return parse


if __name__ == "__main__":
    sys.exit(main())
