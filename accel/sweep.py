"""Design-space sweeps: a grid over dotted design and workload fields, run on any
concurrent.futures.Executor (local processes by default; a Dask `distributed` client's
`get_executor()` for clusters), one JSON line appended per finished point, resumable; Pareto fronts and
plots."""

import csv
import dataclasses
import itertools
import json
import os
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path

from .design import Design
from .network import Network
from .simulate import simulate
from .systolic import Dataflow
from .workloads import Gemm


def set_field(obj, dotted: str, value):
    """A copy of the frozen dataclass tree `obj` with the field at `dotted` ("unit.rows",
    "memories.1.bandwidth_bytes_per_s") set to `value` (validated again on the way up)."""
    head, _, rest = dotted.partition(".")
    if isinstance(obj, tuple):
        try:
            i = int(head)
            items = list(obj)
            items[i] = set_field(items[i], rest, value) if rest else value
        except (ValueError, IndexError):
            raise ValueError(f"{head!r} is not an index into a tuple of {len(obj)}") from None
        return tuple(items)
    if not dataclasses.is_dataclass(obj):
        raise ValueError(f"cannot descend into {type(obj).__name__} at {dotted!r}")
    names = [f.name for f in dataclasses.fields(obj)]
    if head not in names:
        raise ValueError(f"{type(obj).__name__} has no field {head!r}; it has {names}")
    if rest:
        value = set_field(getattr(obj, head), rest, value)
    elif head == "dataflow" and isinstance(value, str):
        value = Dataflow(value)
    return dataclasses.replace(obj, **{head: value})


def grid_points(grid: dict) -> list[dict]:
    """Every combination of the grid's values, in order (the last key varies fastest)."""
    if not isinstance(grid, dict):
        raise TypeError("grid must be a {dotted field: [values]} dict")
    for key, vals in grid.items():
        if not key.startswith(("design.", "workload.")):
            raise ValueError(f"grid key {key!r} must start with 'design.' or 'workload.'")
        if not isinstance(vals, list | tuple) or not vals:
            raise ValueError(f"grid[{key!r}] must be a non-empty list of values")
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def _point_key(wi: int, params: dict) -> str:
    return json.dumps({"w": wi, "p": params}, sort_keys=True, default=str)


def apply_point(design: Design, workload, params: dict):
    """The design and workload of one grid point."""
    for key, v in params.items():
        scope, _, dotted = key.partition(".")
        if scope == "design":
            design = set_field(design, dotted, v)
        else:
            workload = set_field(workload, dotted, v)
    return design, workload


def run_points(design: Design, workloads: list, points: list, accuracy: bool) -> list[dict]:
    """Evaluate (workload index, params) points; one result row each (errors become rows too)."""
    rows = []
    for wi, params in points:
        row = {"point": _point_key(wi, params), **params}
        try:
            d, w = apply_point(design, workloads[wi], params)
            row.update(simulate(d, w, accuracy=accuracy).to_dict())
        except (ValueError, TypeError) as err:
            row["error"] = str(err)
        rows.append(row)
    return rows


def read_results(path) -> list[dict]:
    """Rows of a JSONL results file; an unfinished last line (an interrupted write) is ignored."""
    rows = []
    p = Path(path)
    if not p.exists():
        return rows
    with p.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def _drop_partial_line(path) -> None:
    """Cut an unfinished last line (an interrupted write) so appended lines start on their own."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return
    data = p.read_bytes()
    if not data.endswith(b"\n"):
        p.write_bytes(data[:data.rfind(b"\n") + 1])


def sweep(design: Design, grid: dict, workloads: list, executor: Executor | None = None, out=None,
          accuracy: bool = False, progress: bool = True, chunk_size: int = 64) -> list[dict]:
    """Evaluate every grid point for every workload. Returns one dict per point in grid order.

    Args:
        grid: {"design.unit.rows": [...], "workload.a_format": [...], ...}; {} for the design as given.
        workloads: Gemm or Network objects; each grid point runs on each.
        executor: any concurrent.futures.Executor (None: a local ProcessPoolExecutor).
        out: JSONL path; each finished point is appended at once, and points already in the file are
            not computed again (resume after an interruption).
    """
    if not isinstance(design, Design):
        raise TypeError(f"design must be a Design, got {type(design).__name__}")
    if not workloads or not all(isinstance(w, Gemm | Network) for w in workloads):
        raise ValueError("workloads must be a non-empty list of Gemm or Network")
    pts = [(wi, p) for wi in range(len(workloads)) for p in grid_points(grid or {"design.name": [design.name]})]
    done = {}
    if out is not None:
        _drop_partial_line(out)
        done = {r["point"]: r for r in read_results(out)}
    todo = [pt for pt in pts if _point_key(*pt) not in done]
    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    fh = open(out, "a", encoding="utf-8") if out is not None else None
    bar = None
    if progress and todo:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(pts), initial=len(pts) - len(todo), desc="sweep", unit="pt")
    own = executor is None and len(chunks) > 1
    ex = ProcessPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) if own else executor
    try:
        if ex is None:
            results = (run_points(design, workloads, c, accuracy) for c in chunks)
        else:
            futs = [ex.submit(run_points, design, workloads, c, accuracy) for c in chunks]
            results = (f.result() for f in as_completed(futs))
        for rows in results:
            for r in rows:
                done[r["point"]] = r
                if fh is not None:
                    fh.write(json.dumps(r) + "\n")
            if fh is not None:
                fh.flush()
            if bar is not None:
                bar.update(len(rows))
    finally:
        if own:
            ex.shutdown()
        if fh is not None:
            fh.close()
        if bar is not None:
            bar.close()
    return [done[_point_key(*pt)] for pt in pts]


def write_csv(rows: list[dict], path) -> None:
    """Rows as CSV (the union of their keys as columns)."""
    cols: list = []
    for r in rows:
        cols += [k for k in r if k not in cols and k != "point"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def pareto_front(rows: list[dict], maximize: tuple = (), minimize: tuple = ()) -> list[dict]:
    """The rows no other row beats on every objective (>= on maximize, <= on minimize, > or < on one)."""
    keys = [(k, 1) for k in maximize] + [(k, -1) for k in minimize]
    if not keys:
        raise ValueError("pareto_front needs at least one objective")
    ok = [r for r in rows if all(isinstance(r.get(k), int | float) for k, _ in keys)]
    vals = [[s * float(r[k]) for k, s in keys] for r in ok]
    front = []
    for i, vi in enumerate(vals):
        dominated = any(all(a >= b for a, b in zip(vj, vi)) and any(a > b for a, b in zip(vj, vi))
                        for j, vj in enumerate(vals) if j != i)
        if not dominated:
            front.append(ok[i])
    return front


def plot_pareto(rows: list[dict], x: str = "energy_j", y: str = "ops_per_s", color: str | None = None,
                label: str | None = None, path=None, logx: bool = True, logy: bool = True):
    """Scatter of every row with its Pareto front (min x, max y) drawn; saved to `path` if given."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [r for r in rows if isinstance(r.get(x), int | float) and isinstance(r.get(y), int | float)]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    cvals = [r.get(color) for r in ok] if color else None
    numeric = cvals is not None and all(isinstance(c, int | float) for c in cvals)
    style = {"c": cvals, "cmap": "viridis"} if numeric else {}
    sc = ax.scatter([r[x] for r in ok], [r[y] for r in ok], s=22, **style)
    if numeric:
        fig.colorbar(sc, ax=ax, label=color)
    front = sorted(pareto_front(ok, maximize=(y,), minimize=(x,)), key=lambda r: r[x])
    ax.plot([r[x] for r in front], [r[y] for r in front], "r-", lw=1.2, label="Pareto front")
    if label:
        for r in front:
            ax.annotate(str(r.get(label)), (r[x], r[y]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
