"""The `lowbit` command line."""

import argparse
import difflib
import math
import os
import select
import stat
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
    if not isinstance(f, nx.FloatFormat):  # other families (HiFloat8's tapered code): their own inf/NaN codes
        parts = [f"±inf 0x{f.inf_code:X}" if getattr(f, "has_inf", False) else "no inf"]
        parts.append(f"NaN 0x{f.nan_code:X}" if getattr(f, "has_nan", False) else "no NaN")
        return ", ".join(parts)
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


def block_format_table(names: list[str]) -> str:
    """The block-format table `lowbit formats` prints: element, scale, block size, bits per element with the
    scales, and the largest value (element max x scale max)."""
    rows = [("name", "element", "scale", "block", "bits/element", "max", "scale rule")]
    for name in names:
        b = nx.get_block_format(name)
        bs = "axis" if b.block_size is None else "x".join(map(str, b.block_size)) if isinstance(b.block_size, tuple) \
            else str(b.block_size)
        bits = f"{b.bits_per_element:.4g}" if isinstance(b.block_size, int) else f"{b.element.bits} + scale/axis"
        extra = (" + fp32 tensor scale" if b.tensor_scale else "") + (", zero point" if b.zero_point else "")
        rows.append((name, b.element.name, b.scale.name, bs, bits,
                     _fmt_value(float(b.element.max) * float(b.scale.max)), b.scale_rule.value + extra))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _is_block(name: str) -> bool:
    if name in nx.format_names():
        return False
    try:
        nx.get_block_format(name)
    except (ValueError, TypeError):
        return False
    return True


def _cmd_formats(args) -> int:
    names = args.names or nx.format_names()
    blocks = [n for n in args.names if _is_block(n)] if args.names else nx.block_format_names()
    scalars = [n for n in names if n not in blocks]
    try:
        parts = ([format_table(scalars)] if scalars else []) + \
            ([("block formats (element x shared scale):\n" if scalars else "") + block_format_table(blocks)]
             if blocks else [])
    except ValueError as err:
        if len(names) == 1 or any(str(n) in str(err) for n in names):
            close = difflib.get_close_matches(str(err).split("'")[1] if "'" in str(err) else "",
                                              nx.block_format_names(), 3, 0.6)
            err = f"{err}" + (f"; block formats close to it: {', '.join(close)}" if close else "")
        print(f"lowbit formats: {err}", file=sys.stderr)
        return 2
    print("\n\n".join(parts))
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
        # the Network's own fields beside its maker's arguments: the analog ones, draws, and seed where the maker
        # takes none (the digits MLP, whose weights and images are fixed: its device seed; the transformer's seed
        # is its maker's, its operands')
        own = _keys_of(makers[name])
        net_keys = [k for k in analog_keys + ["draws", "seed"] if k not in own]
        allowed = own + net_keys
        kind = f"network {name!r}"

        def build():
            fields = {k: spec.pop(k) for k in net_keys if k in spec}
            return makers[name](**spec).replace(**fields)
    unknown = [k for k in spec if k not in allowed]
    if unknown:
        close = difflib.get_close_matches(unknown[0], allowed, 1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{where}: unknown key {unknown[0]!r} for a {kind} workload{hint}; "
                         f"valid keys: {', '.join(allowed)}")
    try:
        return build()
    except (ValueError, TypeError) as err:  # a bad value: the file and the table it sits in (audit s34)
        if where == "simulate" or str(err).startswith(where):
            raise
        raise type(err)(f"{where}: {err}") from None


def _unit(key: str):
    from .units import column_unit
    return column_unit(key)


def _cell(key: str, v) -> str:
    from .units import cell
    return cell(key, v)


def table(rows: list[dict], columns: list[str]) -> str:
    """Rows as an aligned text table; quantities with units SI-prefixed in each cell (12.5 mJ, 3.2 us,
    410 TOPS/W: accel.units.si). --json/--csv/JSONL keep the raw SI numbers."""
    body = [[_cell(c, r.get(c)) for c in columns] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(columns, *body)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(columns, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in body]
    return "\n".join(lines)


_DEFAULT_COLUMNS = ["design", "workload", "a_format", "sparsity", "accumulator", "seconds", "energy_j", "ops_per_s",
                    "ops_per_j", "utilisation", "bound", "rel_fro_err", "top1"]


def _cmd_simulate(args) -> int:
    import json

    import accel
    if args.design_opt is not None:
        if args.design is not None and args.design != args.design_opt:
            raise ValueError(f"two designs given: {args.design!r} and --design {args.design_opt!r}; give one")
        args.design = args.design_opt
    if args.design is None:
        raise ValueError("a design is needed: lowbit simulate DESIGN ... or --design DESIGN (see lowbit designs)")
    model_only = {"format": args.format, "accuracy": args.accuracy, "out": args.out, "plot": args.plot}
    if not args.model and any(v is not None and v is not False for v in model_only.values()):
        given = [f"--{k}" for k, v in model_only.items() if v is not None and v is not False]
        raise ValueError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to --model")
    layer_only = [f"--{k.replace('_', '-')}" for k, v in _LAYER_DEFAULTS.items() if getattr(args, k) is not None]
    if not args.layer and layer_only:  # given elsewhere they would change nothing
        raise ValueError(f"{', '.join(layer_only)} appl{'ies' if len(layer_only) == 1 else 'y'} to --layer")
    if args.model:
        return _simulate_model(args)
    if args.layer:
        return _simulate_layer(args)
    spec = {"gemm": args.gemm} if args.gemm else {"network": args.network}
    for key in ("a_format", "b_format", "sparsity", "t_seconds", "compensation", "seed", "draws"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    design = _with_accumulator(_design(args.design), args.accumulator)
    crossbar = _is_crossbar(design)
    _check_drift_flags(args, design)
    if args.draws is not None:
        why = ("a --gemm has one draw here (accel.macro_report(..., draws=) takes a Gemm)" if args.gemm else
               "a digital unit is deterministic" if not crossbar else
               "--no-accuracy draws nothing" if args.no_accuracy else None)
        if why is not None:
            raise ValueError(f"--draws: repeated device draws (programming, drift and read noise) apply to --network "
                             f"on a crossbar design with accuracy; {why}")
    for flag, v in (("--a-format", args.a_format), ("--b-format", args.b_format)):
        if crossbar and v is not None:  # refused rather than ignored, as --sparsity is (audit s34)
            raise ValueError(f"{flag}: {design.name} is a crossbar: its converters and cells set its numbers (its "
                             f"DAC's dac_bits, its cells' weight_bits or analog conductances, its ADC's adc_bits), so "
                             f"a workload format does not apply; to change them, edit a design file (lowbit show "
                             f"{design.name} --toml)")
    if args.seed is not None and args.network == "digits-mlp" and not crossbar:
        raise ValueError("--seed: on a digital unit the digits MLP runs fixed trained weights on fixed test images "
                         "(nothing is drawn); on a crossbar design it seeds the device draws")
    workload = _workload(spec, "simulate")
    try:
        r = accel.simulate(design, workload, accuracy=not args.no_accuracy)
    except ValueError as err:  # a device that cannot be read then (SRAM, an RRAM time it has no fit for)
        said = {"t_seconds": ("t_seconds must", "at t_seconds"), "compensation": ("compensation must",)}
        flags = [f"--{k.replace('_', '-')}" for k, phrases in said.items()
                 if getattr(args, k) is not None and any(ph in str(err) for ph in phrases)]
        if flags:
            raise ValueError(f"{', '.join(flags)}: {err}") from None
        raise
    except MemoryError:
        advice = ("timing and energy alone need no operands: rerun with --no-accuracy" if not args.no_accuracy
                  else "try a smaller workload")
        raise MemoryError(f"out of memory simulating {workload.describe()} on {design.name}; {advice}") from None
    d = r.to_dict()
    basis = _accuracy_basis(design, getattr(workload, "t_seconds", 0.0)) if r.accuracy is not None else None
    if basis is not None:
        d["accuracy_basis"] = basis
    if args.json:
        print(json.dumps(d, indent=1))
    else:
        cols = [c for c in _DEFAULT_COLUMNS if c in d] + ["cycles", "compute_cycles"]
        cols += [c for c in d if c.startswith("energy_") and c != "energy_j"]
        cols += [c for c in ("area_mm2", "tops_per_mm2") if c in d]
        cols += [c for c in (r.accuracy or {}) if c not in cols]
        print("\n".join(f"{c:24s} {_cell(c, d[c])}" for c in cols))
        if "accuracy_basis" in d:
            print(f"{'accuracy_basis':24s} {d['accuracy_basis']}")
    return 0


def _accuracy_basis(design, t_seconds: float) -> str | None:
    """Where an RRAM design's spread at t_seconds comes from (a fit of Wan et al.'s, or between two); None for
    other designs."""
    device = getattr(design.unit, "device", None)
    return device.time_basis(t_seconds) if hasattr(device, "time_basis") else None


def _check_drift_flags(args, design) -> None:
    """--t-seconds and --compensation set an analog device's drift: a digital design refuses them."""
    if not _is_crossbar(design) and (args.t_seconds is not None or args.compensation is not None):
        raise ValueError(f"--t-seconds and --compensation set an analog device's drift; {design.name} is a digital "
                         f"design (a crossbar design, e.g. hermes-like, takes them)")


def _with_accumulator(design, name: str | None):
    """`design` with every format of its unit summed by the accumulator preset `name` (--accumulator)."""
    if name is None:
        return design
    if not hasattr(design.unit, "accumulator"):
        raise ValueError(f"--accumulator: {design.name}'s unit ({type(design.unit).__name__}) has no digital "
                         "accumulator to choose")
    if name not in nx.accumulator_names():
        close = difflib.get_close_matches(name, nx.accumulator_names(), 3, 0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"--accumulator: unknown accumulator {name!r}{hint}; valid: "
                         f"{', '.join(nx.accumulator_names())}")
    import dataclasses
    try:
        return design.replace(unit=dataclasses.replace(design.unit, accumulator=name))
    except (ValueError, TypeError) as err:  # a unit that sums fewer presets (a crossbar's digital adders)
        raise type(err)(f"--accumulator: {err}") from None


def _simulate_model(args) -> int:
    """`lowbit simulate DESIGN --model m.onnx|t.csv --format F [--accuracy]`: a row per op of the user's model
    (accel.importers.simulate_model), written as JSONL (--out) and plotted (--plot)."""
    from accel.importers import plot_model_rows, simulate_model, write_jsonl
    for key in ("a_format", "b_format", "sparsity", "seed", "draws", "accumulator"):
        if getattr(args, key) is not None:
            where = "--network on a crossbar design" if key == "draws" else "--gemm/--network"
            raise ValueError(f"--{key.replace('_', '-')} applies to {where}; a model takes --format (a digital "
                             f"design's operands) and, on a crossbar design, --t-seconds and --compensation")
    if args.no_accuracy and args.accuracy:
        raise ValueError("--accuracy and --no-accuracy contradict each other")
    path = _input_file(args.model, "--model")
    if not path.lower().endswith((".onnx", ".csv")):
        raise ValueError(f"--model {path}: expected an ONNX file (.onnx) or a SCALE-Sim topology (.csv)")
    out, plot = args.out or "simulate.jsonl", args.plot or "simulate.png"
    design = _design(args.design)
    if args.format is not None and _is_crossbar(design):
        raise ValueError(f"--format sets a digital design's operands; {design.name} is a crossbar, whose converters "
                         f"set its numbers (unit.dac_bits, unit.adc_bits): leave --format out")
    _check_drift_flags(args, design)
    rows = simulate_model(path, design, args.format or "fp16", accuracy=bool(args.accuracy),
                          t_seconds=args.t_seconds, compensation=args.compensation)
    cols = [c for c in ("name", "kind", "m", "n", "k", "count", "rows", "cols", "seconds", "energy_j", "bound",
                        "rel_fro_err", "a_operand", "b_operand") if any(c in r for r in rows)]
    print(table(rows, cols))
    total_s, total_j = sum(r["seconds"] for r in rows), sum(r["energy_j"] for r in rows)
    print(f"\n{len(rows)} ops: {_cell('seconds', total_s)}, {_cell('energy_j', total_j)}")
    basis = _accuracy_basis(design, args.t_seconds or 0.0) if args.accuracy else None
    if basis is not None:
        print(f"accuracy_basis: {basis}")
    write_jsonl(rows, out)
    plot_model_rows(rows, plot)
    print(f"rows in {out}, plot in {plot}")
    return 0


# --layer's options and their defaults (None: the parser's, so that one given without --layer is seen and refused)
_LAYER_DEFAULTS = {"phase": "prefill", "kv_len": None, "tp": 1, "dtype": "fp16", "ffn_mult": 4}


def _simulate_layer(args) -> int:
    """`lowbit simulate DESIGN --layer D_MODEL HEADS BATCH SEQ ...`: one transformer decoder layer, a row per op."""
    import json

    import accel
    for key in ("a_format", "b_format", "sparsity", "t_seconds", "compensation", "seed", "draws"):
        if getattr(args, key) is not None:
            where = "--network on a crossbar design" if key == "draws" else "--gemm/--network"
            raise ValueError(f"--{key.replace('_', '-')} applies to {where}; a layer takes --dtype")
    d_model, heads, batch, seq = args.layer
    opts = {k: v if getattr(args, k) is None else getattr(args, k) for k, v in _LAYER_DEFAULTS.items()}
    layer = accel.transformer_layer(d_model, heads, batch, seq, **opts)
    design = _with_accumulator(_design(args.design), args.accumulator)
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


def _beside(spec: str, grid_path: str, given: str) -> str:
    """A grid file's design: a preset name as it is, a relative design-file path from the grid file's folder
    (audit s34: it was read from the working directory, so a run from elsewhere found no file, or silently another
    file of the same name)."""
    if not (spec.endswith(".toml") or os.path.sep in spec) or os.path.isabs(spec):
        return spec
    folder = os.path.dirname(grid_path)
    path = os.path.join(folder, spec)
    if not os.path.exists(path):
        raise ValueError(f"{grid_path}: design file {given!r} does not exist in the grid file's folder "
                         f"({folder or '.'}/, where relative design paths are read from): looked for {path}")
    return path


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
        if key != "zip" and (not isinstance(vals, list) or not vals):
            raise ValueError(f"{path}: [grid] {key!r} must be a non-empty array of values, got {vals!r}")
    from .sweep import grid_keys
    try:  # [grid.zip] tables (or [[grid.zip]] for several groups): lists that advance together
        grid_keys(grid)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path}: [grid] {err}") from None
    wl = doc["workloads"]
    if not isinstance(wl, list) or not wl or not all(isinstance(w, dict) for w in wl):
        raise ValueError(f"{path}: workloads must be one or more [[workloads]] tables, got {wl!r}")
    return doc


def _label_columns(rows: list[dict], keys: list[str]) -> tuple:
    """The grid columns that differ between rows: what names a point on a plot."""
    return tuple(k for k in keys if len({str(r.get(k)) for r in rows}) > 1)


def _finish_sweep(rows: list[dict], out_dir: str | None, columns: list[str], keys: list[str] = ()) -> None:
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
        label = _label_columns(ok, list(keys))
        color = "top1" if any("top1" in r for r in ok) else ("sqnr_db" if any("sqnr_db" in r for r in ok) else None)
        accel.plot_pareto(ok, x="energy_j", y="ops_per_s", color=color, label=label,
                          path=os.path.join(out_dir, "pareto.png"))
        if color:
            accel.plot_pareto(ok, x="energy_j", y=color, color="ops_per_s", logy=False, label=label,
                              path=os.path.join(out_dir, f"energy_vs_{color}.png"))
        print(f"\nplots in {out_dir}/ (one Pareto front per workload)")


def _executor(args):
    """(executor, closer) for --scheduler/--workers: a Dask client's executor, or None (accel.sweep decides)."""
    if args.scheduler is None:
        return None, lambda: None
    try:
        import distributed
    except ImportError:
        raise ValueError("--scheduler needs Dask's distributed package (pip install distributed)") from None
    if args.scheduler == "local":
        cluster = distributed.LocalCluster(n_workers=args.workers or os.cpu_count() or 1, threads_per_worker=1,
                                           dashboard_address=None)
        client = distributed.Client(cluster)

        def close():
            client.close()
            cluster.close()
        return client.get_executor(), close
    if args.workers is not None:
        raise ValueError(f"--workers sizes a local pool or --scheduler local; the cluster at {args.scheduler} has its "
                         "own workers: drop --workers")
    try:
        client = distributed.Client(args.scheduler, timeout=10)
    except OSError as err:
        raise OSError(f"--scheduler {args.scheduler}: cannot reach the Dask scheduler ({err})") from None
    return client.get_executor(), client.close


def _scheduler(text: str) -> str:
    if text == "local" or text.startswith(("tcp://", "tls://", "ucx://", "inproc://")):
        return text
    raise argparse.ArgumentTypeError(f"must be a Dask scheduler address (tcp://HOST:PORT, tls://...) or 'local', "
                                     f"got {text!r}")


def _is_crossbar(design) -> bool:
    return type(design.unit).__name__ == "Crossbar"


def _describe(w, crossbar: bool = False) -> str:
    """A workload in a few words: "gemm 16x16x16 int8", "digits-mlp int8"; on a crossbar, whose converters
    and cells set the numbers, no operand format ("-"), and its time since programming and drift
    compensation where set ("gemm 8x128x128 - t=86400 s global")."""
    d = w.describe()
    shape = f" {d['m']}x{d['n']}x{d['k']}" if "m" in d else ""
    fmt = "-" if crossbar else d.get("a_format", "")
    # an analog workload read some time after programming says when, and with which compensation
    drift = f" t={d['t_seconds']:g} s" if d.get("t_seconds") else ""
    drift += f" {d['compensation']}" if d.get("compensation") else ""
    return f"{d.get('workload', type(w).__name__)}{shape} {fmt}{drift}".strip()


def _dry_run(doc: dict, grid_file: str, workloads: list, design) -> int:
    import accel

    from .sweep import check_grid, grid_keys
    grid = doc.get("grid", {})
    if grid:  # what the run would refuse, the dry run refuses too
        check_grid(design, workloads, grid)
    pts = accel.grid_points(grid) if grid else [{}]
    keys = grid_keys(grid) if grid else []
    rows = [{"#": i, "workload": _describe(w, _is_crossbar(design)), **p}
            for i, (w, p) in enumerate(((w, p) for w in workloads for p in pts), start=1)]
    print(table(rows, ["#", "workload", *keys]))
    print(f"\n{len(rows)} point(s): {len(pts)} grid point(s) x {len(workloads)} workload(s) from {grid_file}; "
          "nothing was run (--dry-run)")
    return 0


def _cmd_sweep(args) -> int:
    import accel

    from .sweep import grid_keys
    doc = _load_grid(args.grid)
    if not args.dry_run:
        _output_file(args.out, "--out")
        if args.csv:
            _output_file(args.csv, "--csv")
    design = _design(_beside(doc["design"], args.grid, doc["design"]))
    workloads = [_workload(w, f"{args.grid}: [[workloads]] #{i + 1}") for i, w in enumerate(doc["workloads"])]
    if args.dry_run:
        return _dry_run(doc, args.grid, workloads, design)
    executor, close = _executor(args)
    try:
        rows = accel.sweep(design, doc.get("grid", {}), workloads, executor=executor, out=args.out,
                           accuracy=doc.get("accuracy", False), progress=not args.no_progress, force=args.force,
                           chunk_size=args.chunk_size, workers=None if executor is not None else args.workers)
    except MemoryError:
        raise MemoryError(f"out of memory; the points finished so far are saved in {args.out}: set accuracy = false "
                          f"in {args.grid} (timing and energy only) or use smaller workloads, then rerun "
                          "to resume") from None
    finally:
        close()
    if args.csv:
        accel.write_csv(rows, args.csv)
    keys = grid_keys(doc.get("grid", {}))
    # workloads that differ only in their drift (t_seconds, compensation) are told apart by those columns
    drift = [c for c in ("t_seconds", "compensation") if f"workload.{c}" not in keys
             and len({str(r.get(c)) for r in rows if "error" not in r}) > 1]
    _finish_sweep(rows, args.plots, keys + _DEFAULT_COLUMNS + drift, keys)
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
        from .sweep import hypervolume
        maximize = tuple(args.maximize.split(",")) if args.maximize else ()
        minimize = tuple(args.minimize.split(",")) if args.minimize else ()
        if not maximize and not minimize:
            maximize, minimize = ("ops_per_s",), ("energy_j",)
        ok = [r for r in rows if "error" not in r]
        if ok:  # with every point failed, the message below says so
            _check_columns(list(maximize + minimize), ok, "--maximize/--minimize")
        from .sweep import WORKLOAD_KEYS
        if args.by is None:  # a front per workload (fronts of different workloads do not compare)
            by = [k for k in WORKLOAD_KEYS if any(k in r for r in ok)] or None
        else:
            by = None if args.by == "none" else args.by.split(",")
            if by:
                _check_columns(by, rows, "--by")
        front = accel.pareto_front(ok, maximize=maximize, minimize=minimize, by=by)
        if not front:
            print(f"lowbit report: {args.results} has no point with {', '.join(maximize + minimize)} "
                  "(every point failed)", file=sys.stderr)
            return 1
        groups: dict = {}
        for r in ok:
            groups.setdefault(tuple(str(r.get(c)) for c in by) if by else (), []).append(r)
        for g, members in groups.items():
            try:
                hv = hypervolume(members, maximize=maximize, minimize=minimize)
            except ValueError:
                continue
            shown = [v for v in g if v != "None"]
            what = f" ({' '.join(shown)})" if shown else ""
            print(f"hypervolume{what}: {hv:.4f} (objectives normalised to [0, 1] over the {len(members)} points; "
                  f"1 = one point best on all)")
        rows = front
        if cols is None:
            cols_extra = [c for c in maximize + minimize if c not in _DEFAULT_COLUMNS]
        else:
            cols_extra = []
    else:
        cols_extra = []
    if args.sort:
        rows = sorted(rows, key=_sort_key(args.sort))
    if cols is None:
        grid_keys: list = []
        for r in rows:
            grid_keys += [k for k in r if k.startswith(("design.", "workload.")) and k not in grid_keys]
        cols = [c for c in grid_keys + _DEFAULT_COLUMNS + cols_extra if any(c in r for r in rows)]
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


def _version() -> str:
    from .sweep import _version as v
    return v()


def _cmd_designs(args) -> int:
    """`lowbit designs`: every preset with its unit, clock, formats, peak rate and memories."""
    import accel
    rows = []
    for name in accel.design_names():
        d = accel.get_design(name)
        fmts = d.unit.formats() if hasattr(d.unit, "formats") else []
        peak = max((d.peak_ops_per_s(f) for f in fmts), default=None) if fmts else d.peak_ops_per_s()
        # a crossbar times its MVMs by its own periphery (or t_mvm_s), not by the design's clock: none to list
        rows.append({"name": name, "unit": type(d.unit).__name__, "clock_hz": None if _is_crossbar(d) else d.clock_hz,
                     "formats": ",".join(fmts) if fmts else "analog", "peak ops_per_s": peak,
                     "memories": " > ".join(m.name for m in d.memories) or "-"})
    if args.json:
        import json
        print(json.dumps(rows, indent=1))
        return 0
    from .units import si
    cells = [{**r, "clock_hz": "-" if r["clock_hz"] is None else si(r["clock_hz"], "Hz"),
              "peak ops_per_s": si(r["peak ops_per_s"], "OPS")}
             for r in rows]
    print(table(cells, ["name", "unit", "clock_hz", "peak ops_per_s", "formats", "memories"]))
    print("\nlowbit show NAME: one in full; lowbit show NAME --toml > mine.toml: a file to edit and pass to "
          "simulate/sweep")
    return 0


def _cmd_show(args) -> int:
    """`lowbit show DESIGN [--toml]`: a design in full, or as TOML that `lowbit simulate FILE` loads back."""
    d = _design(args.design)
    if args.toml:
        print(d.to_toml(), end="")
        return 0
    import dataclasses

    from .units import column_unit, si
    crossbar = _is_crossbar(d)
    if crossbar:  # its own node and supply (a component periphery's)
        u = d.unit
        if u.periphery == "walden":
            print(f"{d.name}: Crossbar ('walden' converter cost), {u.node_in_use():g} nm")
        else:
            print(f"{d.name}: Crossbar (macro {u.periphery.name!r}), {u.periphery.node_nm:g} nm, {u.supply_v:g} V")
    else:
        print(f"{d.name}: {type(d.unit).__name__} at {si(d.clock_hz, 'Hz')}, {d.node_nm:g} nm, {d.vdd_v:g} V")
    fmts = d.unit.formats() if hasattr(d.unit, "formats") else []
    for f in fmts:
        print(f"  peak {f:8s} {si(d.peak_ops_per_s(f), 'OPS'):>12s}   {d.energy_table[f]:.4g} pJ/MAC   accumulator "
              f"{d.unit.accumulator_for(f)}")
    if not fmts:
        print(f"  peak {si(d.peak_ops_per_s(), 'OPS')}")
    if crossbar:  # what one array of rows x cols cells holds
        u = d.unit
        per = "" if u.periphery == "walden" else \
            f"; one weight on {u.rows_per_weight()} x {u.cols_per_weight()} cells"
        print(f"  weights per array {u.weight_rows()} x {u.weight_cols()} (rows x columns{per})")
    print("  unit:")
    unused = d.unit.unused_fields() if crossbar else ()
    for f in dataclasses.fields(d.unit):
        v = getattr(d.unit, f.name)
        unit = column_unit(f.name) or ("s" if f.name.endswith("_s") else None)
        text = si(v, unit) if unit and isinstance(v, int | float) and not isinstance(v, bool) else v
        note = "  (not used here)" if f.name in unused else ""
        if f.name == "node_nm" and v is None and crossbar:
            note = f"  ({d.unit.node_in_use():g} nm: " + ("the 'walden' default)" if d.unit.periphery == "walden"
                                                           else "its periphery's)")
        print(f"    {f.name:26s} {text}{note}")
    for m in d.memories:
        print(f"  memory {m.name}: {m.instances} x {si(m.size_bytes, 'B')}, {si(m.bandwidth_bytes_per_s, 'B/s')} each, "
              f"{m.energy_pj_per_byte:g} pJ/B")
    if d.interconnect is not None:
        print(f"  interconnect: {d.interconnect}")
    return 0


def _setting(text: str) -> tuple[str, object]:
    """A --set FIELD=VALUE: the value read as a TOML value (8, 0.7, "column", true), a bare word as a string, and
    none (unquoted; TOML has no null) as None: weight_bits=none with bits_per_cell=none for analog weights."""
    import tomllib
    name, eq, value = text.partition("=")
    if not eq or not name.strip() or not value.strip():
        raise ValueError(f"--set {text!r}: give FIELD=VALUE, e.g. --set adc_bits=8 or --set unit.vdd_v=0.7")
    if value.strip() in ("none", "None"):
        return name.strip(), None
    try:
        v = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        v = value.strip()
    return name.strip(), v


def _cmd_macro(args) -> int:
    """`lowbit macro DESIGN`: accel.macro_report of a Crossbar design, its knobs set by --set, as a table or JSON."""
    import dataclasses
    import json

    import accel

    from .units import si
    d = _design(args.design)
    if not _is_crossbar(d):
        raise ValueError(f"lowbit macro takes a Crossbar design (one of {', '.join(_crossbar_names())} or a design "
                         f"file of one); {d.name} is a {type(d.unit).__name__} design: use lowbit simulate")
    unit_fields = {f.name for f in dataclasses.fields(d.unit)}
    changes = {}
    for text in args.set or ():
        name, v = _setting(text)
        field = f"unit.{name}" if "." not in name and name in unit_fields else name  # a knob of the unit by its name
        if not field.startswith("unit."):  # the design's own fields (its name, clock) change nothing in the report
            raise ValueError(f"--set {name}: lowbit macro changes the macro's fields (the unit's: "
                             f"{', '.join(sorted(unit_fields))}; or dotted below it, unit.periphery.adc_step_pj)")
        if field in changes:
            raise ValueError(f"--set {name} is given twice")
        changes[field] = v
    if changes:
        from .sweep import set_fields
        d = set_fields(d, changes)
    comp = {None: "global", "none": None}.get(args.compensation, args.compensation)  # macro_report's default
    kw = {} if args.times is None else {"times": args.times, "draws": args.draws, "seed": args.seed,
                                        "compensation": comp}
    if args.times is None and (args.draws is not None or args.seed is not None or args.compensation is not None):
        raise ValueError("--draws, --seed and --compensation set the accuracy run, which runs with --times (seconds "
                         "after programming, e.g. --times 1 3600 86400)")
    try:
        r = accel.macro_report(d, **kw)
    except (ValueError, TypeError) as err:  # named as the command's options, not macro_report's arguments
        text = str(err)
        for name in ("times", "draws", "seed", "compensation"):
            text = text.replace(f"macro_report.{name}", f"--{name}")
        text = text.replace("--compensation must be None", "--compensation must be none")
        raise type(err)(text) from None
    if args.json:
        out = {k: ({str(t): v for t, v in r[k].items()} if k in ("accuracy", "accuracy_basis") else r[k])
               for k in r}
        print(json.dumps(out, indent=1))
        return 0
    u = d.unit
    print(f"{d.name}: {u.periphery.name if u.periphery != 'walden' else 'walden'} macro, {u.cores} x {u.rows} x "
          f"{u.cols} cells, dac_bits {u.dac_bits}, adc_bits {u.adc_bits}, input_phases {u.input_phases}, read_phases "
          f"{u.read_phases}, "
          f"weight_bits {u.weight_bits or 'analog'}, {u.supply_v if u.supply_v is not None else '-'} V")
    print(f"  peak {si(r['tops'] * 1e12, 'OPS')}, {si(r['tops_per_w'] * 1e12, 'OPS/W')}"
          + (f", {si(r['tops_per_mm2'] * 1e12, 'OPS/mm2')} on {r['area_mm2']:.4g} mm2" if "area_mm2" in r else "")
          + (" (at the paper's reference data: x_act {x_act}, w_act {w_act})".format(**r["reference_activity"])
             if "reference_activity" in r else ""))
    if r.get("energy_share"):
        print("  energy per MVM: " + ", ".join(f"{k} {100 * v:.1f} %" for k, v in r["energy_share"].items() if v))
    if r.get("area_breakdown_mm2"):
        print("  area: " + ", ".join(f"{k} {v:.4g} mm2" for k, v in r["area_breakdown_mm2"].items() if v))
    for t, v in (r.get("accuracy") or {}).items():
        basis = f"  ({r['accuracy_basis'][t]})" if "accuracy_basis" in r else ""
        if isinstance(v, dict):
            print(f"  rel. error at {t:g} s: {v['rel_fro_err']:.4g} [{v['rel_fro_err_ci95_lo']:.4g}, "
                  f"{v['rel_fro_err_ci95_hi']:.4g}] over {v['draws']} draws{basis}")
        else:
            print(f"  rel. error at {t:g} s: {v:.4g}{basis}")
    if r.get("accuracy"):
        comp = r["compensation"] or ("none at t = 0" if all(t == 0 for t in r["accuracy"]) else "none")
        print(f"  (relative Frobenius error of one full array of Gaussian operands; drift compensation {comp})")
    return 0


def _crossbar_names() -> list[str]:
    import accel
    return [n for n in accel.design_names() if _is_crossbar(accel.get_design(n))]


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each option's default (where it has one) after its text."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or action.default == argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def main(argv: list[str] | None = None) -> int:
    """Entry point. With no command, runs the built-in default study."""
    import accel
    parser = argparse.ArgumentParser(prog="lowbit", formatter_class=_Help,
                                     description="Bit-accurate number formats and accelerator model. "
                                     "With no command: the default study (digits MLP on the edge NPU).")
    parser.add_argument("--version", action="version", version=f"lowbit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name, text):
        return sub.add_parser(name, help=text, description=text, formatter_class=_Help)

    p = command("formats", "table of the registered formats: scalar (bits, range, inf/NaN rules) and block "
                "(element, scale, block size, bits per element)")
    p.add_argument("names", nargs="*", help="scalar or block format names (default: all registered)")
    p.set_defaults(func=_cmd_formats)
    p = command("designs", "list the preset designs (unit, clock, peak rate, formats, memories)")
    p.add_argument("--json", action="store_true", help="machine-readable, raw SI numbers")
    p.set_defaults(func=_cmd_designs)
    p = command("show", "one design in full, or as TOML (--toml) to edit and pass to simulate/sweep")
    p.add_argument("design", help=f"a preset ({', '.join(accel.design_names())}) or a design .toml")
    p.add_argument("--toml", action="store_true", help="print the design as TOML (lowbit simulate FILE loads it)")
    p.set_defaults(func=_cmd_show)
    p = command("simulate", "one design point on one workload")
    p.add_argument("design", nargs="?", help=f"a preset ({', '.join(accel.design_names())}) or a design .toml")
    p.add_argument("--design", dest="design_opt", metavar="DESIGN", help="the same, as an option")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--gemm", nargs=3, type=int, metavar=("M", "N", "K"), help="one GEMM, C[M,N] = A[M,K] B[K,N]")
    g.add_argument("--network", choices=["digits-mlp", "transformer"], help="a built-in network")
    g.add_argument("--layer", nargs=4, type=_int_at_least(1), metavar=("D_MODEL", "HEADS", "BATCH", "SEQ"),
                   help="one tensor-parallel transformer decoder layer (accel.transformer_layer); a row per op")
    g.add_argument("--model", metavar="FILE", help="your model: an ONNX file or a SCALE-Sim topology .csv "
                   "(accel.from_onnx / from_scalesim_csv); a row per op")
    p.add_argument("--format", help="--model: the GEMM operands' format, scalar or block (default fp16)")
    p.add_argument("--accuracy", action="store_true", default=None,
                   help="--model: also each GEMM's error on the design's accumulator")
    p.add_argument("--out", help="--model: JSONL of the rows (default simulate.jsonl)")
    p.add_argument("--plot", help="--model: per-op time and energy plot (default simulate.png)")
    p.add_argument("--phase", choices=["prefill", "decode"], help="--layer: the phase (default: prefill)")
    p.add_argument("--kv-len", dest="kv_len", type=_int_at_least(1),
                   help="--layer: keys attended to (default SEQ; decode of token 1025 after 2048: SEQ 1, 3072)")
    p.add_argument("--tp", type=_int_at_least(1), help="--layer: tensor-parallel devices (default: 1)")
    p.add_argument("--dtype", help="--layer: GEMM operand format, any format name (default: fp16)")
    p.add_argument("--ffn-mult", dest="ffn_mult", type=_int_at_least(1),
                   help="--layer: FFN width / d_model (default: 4)")
    p.add_argument("--a-format", dest="a_format", help="A operand format, scalar or block (default: the workload's: "
                   "fp16 for --gemm and transformer, int8 for digits-mlp; a crossbar design quantises with its own "
                   "converters and refuses it)")
    p.add_argument("--b-format", dest="b_format", help="B operand format (default: the A format)")
    p.add_argument("--sparsity", help="N:M structured-sparse weights, e.g. '2:4' (a SparseTensorCore design)")
    p.add_argument("--accumulator", help="accumulator preset for every format of the unit (default: the "
                   f"design's); one of {', '.join(nx.accumulator_names())}")
    p.add_argument("--seed", type=_int_at_least(0), help="seed of the random operands (--gemm, --network transformer; "
                   "default 0); for --network digits-mlp on a crossbar, of the device draws")
    p.add_argument("--draws", type=_int_at_least(1), help="--network on a crossbar design: repeat the device draw this "
                   "many times and report the mean with its 95 %% interval (default 1)")
    p.add_argument("--t-seconds", dest="t_seconds", type=float, help="analog designs: time since programming (s)")
    p.add_argument("--compensation", choices=["global", "column"], help="analog designs: drift compensation")
    p.add_argument("--no-accuracy", action="store_true", help="timing and energy only")
    p.add_argument("--json", action="store_true", help="machine-readable, raw SI numbers")
    p.set_defaults(func=_cmd_simulate)
    p = command("macro", "a compute-in-memory macro's report: peak TOPS, TOPS/W and TOPS/mm2, energy and area "
                "breakdowns, and with --times its error under drift (accel.macro_report)")
    p.add_argument("design", help="a Crossbar preset (hermes-like, neurram-like, jia-sram-like, sinangil-sram-like, "
                   "wang-c2c-like) or a design .toml of one")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="change a field first, repeatable: a knob of the unit by name (adc_bits=8, dac_bits=5, "
                   "input_phases=2, vdd_v=0.7, weight_bits=4 with bits_per_cell=4) or a dotted field "
                   "(unit.periphery.adc_step_pj=0.5)")
    p.add_argument("--times", nargs="+", action="extend", type=float, metavar="S",
                   help="seconds after programming to measure the error at (e.g. 1 3600 86400; repeated: all of them)")
    p.add_argument("--draws", type=_int_at_least(1), help="--times: device draws per time, reported as the mean with "
                   "its 95 %% interval (default 1)")
    p.add_argument("--seed", type=_int_at_least(0), help="--times: seed of the device draws (default 0)")
    p.add_argument("--compensation", choices=["global", "column", "none"],
                   help="--times: drift compensation at t > 0 (default global)")
    p.add_argument("--json", action="store_true", help="machine-readable, raw numbers (TOPS, mm2)")
    p.set_defaults(func=_cmd_macro)
    p = command("sweep", "a grid of design points from a TOML file -> JSONL (+ CSV, plots)")
    p.add_argument("grid", help="TOML with design, [grid] (and [grid.zip] for linked axes) and [[workloads]] "
                   "(docs/accel.md)")
    p.add_argument("--out", default="sweep.jsonl", help="JSONL results, appended and resumed")
    p.add_argument("--csv", help="also write the rows as CSV here")
    p.add_argument("--plots", help="folder for the Pareto plots (one front per workload)")
    p.add_argument("--workers", type=_int_at_least(1),
                   help="1: in this process; N: N local processes (with --scheduler local: N Dask workers); "
                   "default: in this process under 65 points, else one process per core")
    p.add_argument("--scheduler", type=_scheduler,
                   help="run on Dask: tcp://HOST:PORT of a running scheduler, or 'local' for a LocalCluster of "
                   "--workers processes")
    p.add_argument("--chunk-size", dest="chunk_size", type=_int_at_least(1),
                   help="points per task (default: 1 locally; points / workers on Dask). Rows are written as each "
                   "task ends")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="print the points and exit; nothing runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (shown after 1 s otherwise)")
    p.add_argument("--force", action="store_true",
                   help="if --out holds another sweep's rows, write to a new numbered file (default: refuse)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any point fails (default: only if all do)")
    p.set_defaults(func=_cmd_sweep)
    p = command("report", "table from a results file")
    p.add_argument("results", help="a JSONL results file (lowbit sweep --out)")
    p.add_argument("--columns", help="comma-separated columns (default: the grid's and the main results)")
    p.add_argument("--sort", help="column to sort by (ascending)")
    p.add_argument("--pareto", action="store_true",
                   help="only the Pareto front (default objectives: max ops_per_s, min energy_j), with its hypervolume")
    p.add_argument("--maximize", help="--pareto: comma-separated columns to maximise (e.g. ops_per_s,top1)")
    p.add_argument("--minimize", help="--pareto: comma-separated columns to minimise (e.g. seconds,energy_j)")
    p.add_argument("--by", help="--pareto: a front per value of these comma-separated columns; 'none': one front "
                   "over every row (default: one per workload: workload,m,n,k,count)")
    p.set_defaults(func=_cmd_report)
    p = command("vectors", "golden input/output bit patterns for RTL verification")
    p.add_argument("format", help="a scalar format name (lowbit formats)")
    p.add_argument("--op", required=True, choices=["encode", "decode", "add", "mul", "fma", "dot", "convert"],
                   help="the operation")
    p.add_argument("--rounding", default="TIES_TO_EVEN", help=f"one of {', '.join(nx.RoundMode.__members__)}")
    p.add_argument("--n", type=_int_at_least(1), default=1000, help="number of vectors")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed")
    p.add_argument("--out", required=True, help="output file")
    p.add_argument("--as", dest="style", default="hex", choices=["hex", "csv", "readmemh"], help="file style")
    p.add_argument("--to", help="convert: the target format")
    p.add_argument("--accumulator", default="fp32", help=f"dot: an accumulator preset, one of "
                   f"{', '.join(nx.accumulator_names())}")
    p.add_argument("--k", type=_int_at_least(1), default=16, help="dot: vector length")
    p.set_defaults(func=_cmd_vectors)
    p = command("study", "the built-in default study (what `lowbit` alone runs)")
    p.add_argument("--out-dir", default="lowbit-study", help="folder for results.jsonl and the plots")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=lambda a: (default_study(a.out_dir, progress=not a.no_progress), 0)[1])
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["study"])
    return _run(args)


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe or socket whose reader has closed it (poll reports an error or a hang-up on it)."""
    try:
        fd = sys.stdout.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, ValueError, OSError):  # no stdout, or not a real file
        return False
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return False
    if not hasattr(select, "poll"):  # no poll (Windows): a broken pipe while stdout is one is taken as stdout's
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))


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
            code = args.func(args)
            if sys.stdout is not None:  # None: started with stdout closed (lowbit designs >&-)
                sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit (buffered output)
            return code
        except BrokenPipeError as err:
            if not _stdout_reader_gone():  # another pipe of ours broke (a --csv FIFO): an error like any other
                print(f"lowbit {args.command}: {err}", file=sys.stderr)
                return 2
            # the reader of our output stopped early (lowbit sweep g.toml --dry-run | head): nothing of ours
            # failed. Later writes (the interpreter's flush at exit) go nowhere instead of raising again; 141 =
            # 128 + SIGPIPE, the status a shell gives a writer whose reader closed the pipe
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 141
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
