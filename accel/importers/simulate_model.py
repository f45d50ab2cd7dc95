"""simulate_model: per-op timing, energy, bound and (optionally) error of an imported model on a design,
in a format: the library side of `lowbit simulate --model`."""

import os
import sys
import warnings

from ..design import Design, format_info
from ..transformer import Layer
from ..workloads import Gemm


def load_model(path_or_model, example_inputs=None, format: str = "fp16", act_format: str = "fp16",
               strict: bool = True) -> Layer:
    """A Layer from an .onnx file, a SCALE-Sim .csv, or a torch.nn.Module (with example_inputs)."""
    if isinstance(path_or_model, str | os.PathLike):
        ext = os.path.splitext(os.fspath(path_or_model))[1].lower()
        if ext == ".onnx":
            from .onnx_import import from_onnx
            try:
                return from_onnx(path_or_model, format, act_format, strict=strict)
            except ValueError as err:
                if "input_shapes" not in str(err):
                    raise
                raise ValueError(f"{err} (simulate_model takes the imported Layer: simulate_model(accel.from_onnx("
                                 f"path, input_shapes={{...}}), design))") from None
        if ext == ".csv":
            from .scalesim import from_scalesim_csv
            return from_scalesim_csv(path_or_model, format)
        raise ValueError(f"simulate_model: {os.fspath(path_or_model)!r}: expected an .onnx model or a SCALE-Sim "
                         ".csv topology")
    if isinstance(path_or_model, Layer):
        return path_or_model
    torch = sys.modules.get("torch")  # a torch module can only exist if torch was imported
    if torch is not None and isinstance(path_or_model, torch.nn.Module):
        from .torch_import import from_torch
        return from_torch(path_or_model, example_inputs, format, act_format, strict=strict)
    raise TypeError(f"simulate_model: expected a path (.onnx, .csv), a torch.nn.Module or a Layer, got "
                    f"{type(path_or_model).__name__}")


def simulate_model(path_or_model, design, format: str = "fp16", accuracy: bool = False, example_inputs=None,
                   act_format: str | None = None, strict: bool = True, t_seconds: float | None = None,
                   compensation: str | None = None) -> list[dict]:
    """One row per op of the model: name, kind, shape, seconds, bound, energy_j and, with accuracy=True, the
    GEMM's rel_fro_err on the design's accumulator (real weights and example activations where the
    importer kept them, else seeded operands: a GEMM row's "a_operand" says which, "real" or "drawn"; an
    ONNX file carries no activations). `design`: a Design or a preset name; `format`: the GEMM operands'
    format (scalar or block); `act_format`: element-wise ops' (default: `format` when it has 16 bits or more,
    else fp16). On a crossbar design, `t_seconds` (time since programming) and `compensation` ("global",
    "column") set every GEMM's drift (None: each GEMM keeps its own; a GEMM whose own differs raises); a
    digital design refuses them."""
    from ..accuracy import gemm_accuracy
    from ..presets import get_design
    from ..simulate import simulate
    if isinstance(design, str):
        design = get_design(design)
    if not isinstance(design, Design):
        raise TypeError(f"simulate_model: design must be a Design or a preset name, got {type(design).__name__}")
    if not isinstance(format, str):
        raise TypeError(f"simulate_model: format must be a format name, got {type(format).__name__}")
    format_info(format)  # unknown names raise, listing the valid ones
    if act_format is None:
        act_format = format if format_info(format)[1] >= 16 else "fp16"
    layer = load_model(path_or_model, example_inputs, format, act_format, strict)
    ops = tuple(op.replace(a_format=format, b_format=None) if isinstance(op, Gemm) else op for op in layer.ops)
    layer = Layer(layer.name, ops, layer.info)
    from ..analog import Crossbar
    rows = []
    crossbar = isinstance(design.unit, Crossbar)
    if not crossbar and (t_seconds is not None or compensation is not None):
        raise ValueError(f"simulate_model: t_seconds and compensation set an analog device's drift; {design.name} "
                         f"is a digital design (a crossbar design, e.g. 'hermes-like', takes them)")
    if crossbar:  # analog tiles run the GEMMs; the digital periphery is not modelled
        from ..simulate import _check_crossbar_workload
        _check_crossbar_workload(design, list(layer.gemms()), stacklevel=3)  # the whole model resident at once
        for g in layer.gemms():
            g = _with_drift(g, t_seconds, compensation)
            with warnings.catch_warnings():  # said once above for the whole model; the rows say it per GEMM
                warnings.filterwarnings("ignore", message=r".* not the model's weights \(b_weight=False")
                r = simulate(design, g, accuracy)
            row = {"name": g.name, "kind": "gemm", "m": g.m, "n": g.n, "k": g.k, "count": g.count,
                   "seconds": r.seconds, "bound": r.bound, "energy_j": r.energy_j, "a_operand": _a_operand(g),
                   "b_operand": _b_operand(g)}
            if accuracy:
                row["rel_fro_err"] = r.accuracy["rel_fro_err"]
            rows.append(row)
    else:
        r = simulate(design, layer, accuracy=False)
        for op, entry in zip(layer.ops, r.per_op):
            row = dict(entry)
            if isinstance(op, Gemm):
                row["a_operand"] = _a_operand(op)
                row["b_operand"] = _b_operand(op)
            if accuracy and isinstance(op, Gemm):
                # K not a multiple of a grouped accumulator's step (a 3x3 conv's 9): zero-padded, as hardware does
                row["rel_fro_err"] = gemm_accuracy(op, design.unit.accumulator_for(op.a_format))["rel_fro_err"]
            rows.append(row)
    for row in rows:  # a crossbar's converters and cells set the numbers: no operand format
        row.update(design=design.name, format=None if crossbar else format, model=layer.name)
    return rows


def _b_operand(g: Gemm) -> str:
    """Whether B is the model's weights ("weight") or activations computed at run time ("activation": attention's
    K and V; a crossbar prices it as resident weights, and warns)."""
    return "weight" if g.b_weight else "activation"


def _a_operand(g: Gemm) -> str:
    """Whether the GEMM's activations are the ones the importer kept ("real") or seeded draws ("drawn")."""
    return "real" if g.a is not None else "drawn"


def _with_drift(g: Gemm, t_seconds, compensation) -> Gemm:
    """`g` at simulate_model's t_seconds and compensation where given (None: its own); a GEMM whose own
    value is set and differs raises rather than be overwritten."""
    for f, mine, unset in (("t_seconds", t_seconds, 0.0), ("compensation", compensation, None)):
        own = getattr(g, f)
        if mine is not None and own != unset and own != mine:
            raise ValueError(f"simulate_model: GEMM {g.name!r} has its own {f} {own!r}, not simulate_model's "
                             f"{mine!r}; leave simulate_model's {f} out (None: each GEMM keeps its own)")
    try:  # named as passed here; the Gemm checks each value
        return g.replace(**{f: v for f, v in (("t_seconds", t_seconds), ("compensation", compensation))
                            if v is not None})
    except (TypeError, ValueError) as err:
        raise type(err)(f"simulate_model: {err}") from None


def write_jsonl(rows: list[dict], path) -> None:
    """One JSON line per op (the CLI's --out)."""
    import json
    with open(path, "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


def plot_model_rows(rows: list[dict], path=None):
    """Per-op time and energy bars (log scale), bars coloured by bound; saved to `path` if given."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter
    if not rows:
        raise ValueError("plot_model_rows: no rows to plot")
    names = [r["name"] for r in rows]
    bounds = sorted({r["bound"] for r in rows})
    colors = {b: plt.cm.tab10(i % 10) for i, b in enumerate(bounds)}
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 0.5 * len(rows) + 4), 4), sharey=True)
    for ax, key, label in ((axes[0], "seconds", "time (s)"), (axes[1], "energy_j", "energy (J)")):
        ax.barh(range(len(rows)), [r[key] for r in rows], color=[colors[r["bound"]] for r in rows])
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # decade labels only: minor ones overlap on short axes
        ax.set_xlabel(label)
    axes[0].set_yticks(range(len(rows)), names)
    axes[0].invert_yaxis()
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[b]) for b in bounds]
    axes[1].legend(handles, bounds, title="bound", fontsize=8)
    fmt = rows[0]["format"]  # None on a crossbar: its converters set the numbers
    fig.suptitle(f"{rows[0]['model']} on {rows[0]['design']}" + (f" in {fmt}" if fmt is not None else ""))
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
