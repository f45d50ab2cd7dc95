"""lowbit's macro presets against their papers' published figures (accel/data/macros/published.json):
each point evaluated on the preset with the point's fields changed, next to the published value, with
its error (relative for TOPS, TOPS/W, TOPS/mm^2 and energies; percentage points for breakdown shares)."""

import json
from importlib import resources

from .macros import mvm_cost

# The papers' breakdown groups as sums of lowbit's components.
GROUPS = {
    "neurram-like": {"energy": {"wl": ("control",), "neuron": ("adc", "integrator", "digital"),
                                "input": ("dac", "array")},
                     "area": {"neurons": ("adc", "integrator", "digital"), "drivers": ("dac",), "rram": ("array",)}},
    "jia-sram-like": {"energy": {"adc": ("adc",), "cim": ("dac", "array", "control", "integrator"),
                                 "nmc": ("digital",)},
                      "area": {"adc": ("adc",), "cim": ("dac", "array", "integrator"), "nmc": ("digital",),
                               "sparsity": ("misc",)}},
    "sinangil-sram-like": {"area": {"adc": ("adc", "digital"), "macro": ("array", "dac"), "caps": ("integrator",)}},
    "wang-c2c-like": {"energy": {"adc": ("adc",), "dac": ("dac",), "mac": ("array", "integrator"),
                                 "misc": ("control", "digital")},
                      "area": {"adc": ("adc",), "dac": ("dac",), "mac": ("array", "integrator"),
                               "misc": ("misc", "digital")}},
}


def published_points() -> list[dict]:
    """The published points (accel/data/macros/published.json)."""
    text = resources.files("accel").joinpath("data/macros/published.json").read_text()
    return json.loads(text)["points"]


def _activity(design, point) -> tuple[float, float]:
    p = design.unit.periphery
    o = point.get("data", {}).get("output_value")
    if o is not None:  # the average 4-bit output is the product of input and weight activity
        a = (o / 15) ** 0.5
        return a, a
    return p.x_act_ref, p.w_act_ref


def model_value(point: dict) -> float:
    """lowbit's value of one published point's metric."""
    from ..presets import get_design
    from ..sweep import set_field
    d = get_design(point["macro"])
    for key, v in point["config"].items():
        d = set_field(d, f"unit.{key}", v)
    metric = point["metric"]
    u = d.unit
    x, w = _activity(d, point)
    used = {k: point.get("data", {}).get(k) for k in ("rows_used", "cols_used")}  # a part of each core's array
    c = mvm_cost(u, x, w, **used)
    e = c["energy_pj"]
    ops = 2.0 * (used["rows_used"] or u.weight_rows()) * (used["cols_used"] or u.weight_cols())
    kind, _, group = metric.partition(":")
    if metric == "tops":
        return ops * u.cores / c["seconds"] / 1e12
    if metric == "tops_per_w":
        return ops / sum(e.values())
    if metric == "energy_pj_per_mvm":
        return sum(e.values())
    groups = GROUPS.get(point["macro"], {})
    cimu = [k for k in e if k != "digital"]  # Jia's 1b-TOPS/W and TOPS/mm^2 count the CIMU: ADC and array
    if metric == "tops_per_w_cimu":
        return ops / sum(e[k] for k in cimu)
    area = {k: v * u.cores for k, v in c["area_um2"].items()}
    if metric == "tops_per_mm2":
        return ops * u.cores / c["seconds"] / 1e12 / (sum(area.values()) * 1e-6)
    if metric == "tops_per_mm2_cimu":
        return ops * u.cores / c["seconds"] / 1e12 / (sum(area[k] for k in groups["area"]["adc"] +
                                                          groups["area"]["cim"]) * 1e-6)
    if kind == "energy_share":
        return 100 * sum(e[k] for k in groups["energy"][group]) / sum(e.values())
    if kind == "area_share":
        return 100 * sum(area[k] for k in groups["area"][group]) / sum(area.values())
    raise ValueError(f"unknown metric {metric!r}")


def validate(points: list[dict] | None = None) -> list[dict]:
    """Each point with lowbit's value and its error: "error" relative (model / published - 1) or, for
    shares, "error_pp" in percentage points."""
    rows = []
    for p in published_points() if points is None else points:
        v = model_value(p)
        row = {**p, "model": v}
        if ":" in p["metric"]:
            row["error_pp"] = v - p["value"]
        else:
            row["error"] = v / p["value"] - 1
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict:
    """Mean |error| of the predictions per macro and metric kind: {(macro, kind): (mean, n)}; kind is the
    metric, or "energy_share" / "area_share" (in percentage points)."""
    out: dict = {}
    for r in rows:
        if r["role"] != "prediction":
            continue
        kind = r["metric"].partition(":")[0]
        err = abs(r["error_pp"] if "error_pp" in r else r["error"])
        out.setdefault((r["macro"], kind), []).append(err)
    return {k: (sum(v) / len(v), len(v)) for k, v in out.items()}


def table_markdown(rows: list[dict]) -> str:
    """A markdown table of the points: macro, source, configuration, metric, published, lowbit, error."""
    lines = ["| macro | source | setting | metric | published | lowbit | error | role |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cfg = ", ".join(f"{k}={v}" for k, v in {**r["config"], **r.get("data", {})}.items()) or "preset"
        err = f"{r['error_pp']:+.1f} pp" if "error_pp" in r else f"{100 * r['error']:+.1f} %"
        lines.append(f"| {r['macro']} | {r['source']} | {cfg} | {r['metric']} | {r['value']:.4g} | {r['model']:.4g} "
                     f"| {err} | {r['role']} |")
    return "\n".join(lines)
