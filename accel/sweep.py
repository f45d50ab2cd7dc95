"""Design-space sweeps: a grid over dotted design and workload fields, run on any
concurrent.futures.Executor (local processes by default; a Dask `distributed` client's
`get_executor()` for clusters), one JSON line appended and flushed per finished point, resumable;
Pareto fronts and plots.

A sweep log is trusted only as far as its rows can be checked: each row carries `hash`, a SHA-256 of
everything that determines it (the resolved design and workload of the point, the grid values, the
accuracy setting and the lowbit version). Resume reuses a row only on an equal hash; a log holding rows
of another sweep is refused (or, with force=True, left alone for a new numbered file); one writer at a
time holds an advisory lock on the log."""

import csv
import dataclasses
import enum
import functools
import hashlib
import itertools
import json
import math
import os
import sys
import threading
import time
import warnings
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from .accuracy import AccuracyCache
from .analog import Crossbar
from .design import Design, check_crossbar_supply
from .network import Network
from .parts import register_parts, registered_parts
from .simulate import described_on, simulate
from .systolic import Dataflow
from .transformer import Layer
from .workloads import Gemm

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock: logs are not locked there
    fcntl = None


def set_field(obj, dotted: str, value):
    """A copy of the frozen dataclass tree `obj` with the field at `dotted` ("unit.rows",
    "memories.1.bandwidth_bytes_per_s") set to `value` (validated again on the way up)."""
    return set_fields(obj, {dotted: value})


def set_fields(obj, changes: dict):
    """`set_field` for several dotted fields at once: each dataclass on the way is replaced once with all
    of its changes, so fields that are only valid together (a Crossbar's weight_bits and bits_per_cell)
    can change together."""
    below: dict = {}
    here: dict = {}
    for dotted, value in changes.items():
        head, _, rest = dotted.partition(".")
        if rest:
            below.setdefault(head, {})[rest] = value
        else:
            here[head] = value
    both = set(below) & set(here)
    if both:
        raise ValueError(f"{sorted(both)[0]!r} is set whole and in its fields at once")
    if isinstance(obj, tuple):
        # only the index lookup is guarded: a validation error inside the element must pass through as it is
        items = list(obj)
        for head, value in [*here.items(), *below.items()]:
            if not (head.isdigit() and int(head) < len(obj)):
                raise ValueError(f"{head!r} is not an index into a tuple of {len(obj)}")
            items[int(head)] = set_fields(items[int(head)], value) if head in below else value
        return tuple(items)
    if not dataclasses.is_dataclass(obj):
        raise ValueError(f"cannot descend into {type(obj).__name__} at {next(iter(changes))!r}")
    names = _field_names(type(obj))
    for head in [*here, *below]:
        if head not in names:
            raise ValueError(f"{type(obj).__name__} has no field {head!r}; it has {list(names)}")
    new = {h: Dataflow(v) if h == "dataflow" and isinstance(v, str) else v for h, v in here.items()}
    new.update({h: set_fields(getattr(obj, h), sub) for h, sub in below.items()})
    given = tuple(h for h in ("node_nm", "vdd_v") if h in here)
    if given and isinstance(obj, Design) and isinstance(unit := new.get("unit", obj.unit), Crossbar):
        # set by name, the default is a value like any other: checked before the Design's own check, whose advice
        # (leave the default) would not hold
        check_crossbar_supply(unit, new.get("node_nm", obj.node_nm), new.get("vdd_v", obj.vdd_v), given)
    return dataclasses.replace(obj, **new)


@functools.cache
def _field_names(cls) -> tuple:
    return tuple(f.name for f in dataclasses.fields(cls))


ZIP = "zip"


def _axes(grid: dict) -> list[tuple[list[str], list[tuple]]]:
    """The grid's axes, in order: ([key], [(value,), ...]) for a plain key; ([key, ...], [(v1, v2, ...), ...])
    for a zipped group, whose lists advance together (entry i of every list is one point)."""
    if not isinstance(grid, dict):
        raise TypeError("grid must be a {dotted field: [values]} dict (with optional \"zip\": {field: [values]} "
                        "groups)")
    axes: list = []
    for key, vals in grid.items():
        if key == ZIP:
            groups = [vals] if isinstance(vals, dict) else vals
            if not isinstance(groups, list | tuple) or not groups or not all(isinstance(g, dict) and g for g in groups):
                raise ValueError("grid['zip'] must be a {dotted field: [values]} table of equally long lists, or a "
                                 f"list of such tables, got {vals!r}")
            for g in groups:
                for k, v in g.items():
                    _check_axis(k, v, f"grid['zip'][{k!r}]")
                lens = {k: len(v) for k, v in g.items()}
                if len(set(lens.values())) != 1:
                    raise ValueError(f"grid['zip'] lists must be equally long (entry i of each is one point), got "
                                     f"lengths {lens}")
                axes.append((list(g), list(zip(*g.values()))))
        else:
            _check_axis(key, vals, f"grid[{key!r}]")
            axes.append(([key], [(v,) for v in vals]))
    keys = [k for ks, _ in axes for k in ks]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup is not None:
        raise ValueError(f"grid key {dup!r} appears twice (once plain or zipped, never both)")
    for ks, vals in axes:  # a repeated value is a repeated point: its rows would come twice
        seen: set = set()
        for v in vals:
            # what a point's hash compares, with an int taken as its float: 1 and 1.0 set a real field alike (an int
            # field refuses 1.0), so [1, 1.0] gave two identical rows (audit s34)
            digest = _digest(tuple(float(e) if type(e) is int and abs(e) <= 2 ** 53 else e for e in v))
            if digest in seen:
                where, shown = (f"grid[{ks[0]!r}]", v[0]) if len(ks) == 1 else (f"grid['zip'] {ks}", v)
                shown = repr(shown) if len(repr(shown)) <= 80 else f"{repr(shown)[:60]}... ({type(shown).__name__})"
                raise ValueError(f"{where} holds {shown} twice: each point is computed and returned once; give "
                                 f"each value once")
            seen.add(digest)
    return axes


def _check_axis(key, vals, where: str) -> None:
    if not isinstance(key, str) or not key.startswith(("design.", "workload.")):
        raise ValueError(f"grid key {key!r} must start with 'design.' or 'workload.'")
    if not isinstance(vals, list | tuple) or not vals:
        raise ValueError(f"{where} must be a non-empty list of values")


def grid_keys(grid: dict) -> list[str]:
    """The dotted fields a grid sets, in order, zipped ones included."""
    return [k for ks, _ in _axes(grid) for k in ks]


def grid_points(grid: dict) -> list[dict]:
    """Every combination of the grid's axes, in order (the last axis varies fastest). A "zip" entry,
    {"zip": {"design.unit.rows": [16, 32], "design.unit.cols": [16, 32]}} (or a list of such tables), is
    one axis whose lists advance together: 2 points (16 x 16, 32 x 32), not 4."""
    axes = _axes(grid)
    points = []
    for combo in itertools.product(*(vals for _, vals in axes)):
        point: dict = {}
        for (ks, _), vals in zip(axes, combo):
            point.update(zip(ks, vals))
        points.append(point)
    return points


def _point_key(wi: int, params: dict) -> str:
    return json.dumps({"w": wi, "p": params}, sort_keys=True, default=str)


def apply_point(design: Design, workload, params: dict):
    """The design and workload of one grid point. On a Layer made by transformer_layer, "workload.<arg>"
    keys naming its arguments (tp, dtype, seq, ...) rebuild it once with all of them."""
    layer_args, on_design, on_workload = {}, {}, {}
    for key, v in params.items():
        scope, _, dotted = key.partition(".")
        if scope == "design":
            on_design[dotted] = v
        elif isinstance(workload, Layer) and dotted in workload.args:
            layer_args[dotted] = v
        else:
            on_workload[dotted] = v
    if on_design:  # all at once: a point's fields may be valid only together (a zipped pair)
        design = set_fields(design, on_design)
    if layer_args:
        workload = workload.with_args(**layer_args)
    if on_workload:
        workload = set_fields(workload, on_workload)
    return design, workload


def _check_path(obj, dotted: str, key: str) -> None:
    """Raise unless `dotted` names a field (or tuple index) below `obj`: a misspelt grid key would
    otherwise turn every point into an error row."""
    head, _, rest = dotted.partition(".")
    if isinstance(obj, Layer) and not rest and head in obj.args:
        return  # a transformer_layer argument (apply_point rebuilds the layer)
    if isinstance(obj, Layer) and obj.args and head not in [f.name for f in dataclasses.fields(obj)]:
        raise ValueError(f"grid key {key!r}: {head!r} is neither an argument of transformer_layer "
                         f"{sorted(obj.args)} nor a field of Layer ['name', 'ops', 'info', 'args']")
    if isinstance(obj, tuple):
        if not head.isdigit() or int(head) >= len(obj):
            raise ValueError(f"grid key {key!r}: {head!r} is not an index into a tuple of {len(obj)}")
        sub = obj[int(head)]
    elif dataclasses.is_dataclass(obj):
        names = [f.name for f in dataclasses.fields(obj)]
        if head not in names:
            raise ValueError(f"grid key {key!r}: {type(obj).__name__} has no field {head!r}; it has {names}")
        sub = getattr(obj, head)
    else:
        raise ValueError(f"grid key {key!r}: cannot descend into {type(obj).__name__} at {dotted!r}")
    if rest:
        _check_path(sub, rest, key)


# workload fields a crossbar never reads: its own converters and cells set its numbers (docs/analog.md)
_CROSSBAR_UNREAD = ("workload.a_format", "workload.b_format", "workload.scaling")


def check_grid(design: Design, workloads: list, grid: dict) -> None:
    """What `sweep` checks of its grid's fields before any point runs (lowbit sweep --dry-run calls it too): each
    names a field of the design or of every workload, and none is one a crossbar design never reads."""
    keys = grid_keys(grid)
    for key in keys:
        scope, _, dotted = key.partition(".")
        roots = [design] if scope == "design" else list({id(w): w for w in workloads}.values())
        for root in roots:
            _check_path(root, dotted, key)
    unread = [k for k in keys if k in _CROSSBAR_UNREAD]
    if unread and isinstance(design.unit, Crossbar) and "design.unit" not in keys:  # identical rows otherwise
        raise ValueError(f"grid key {unread[0]!r} sweeps a field {design.name}, a crossbar, never reads: its inputs "
                         f"are quantised by dac_bits, weights by weight_bits, outputs by adc_bits (sweep "
                         f"'design.unit.dac_bits' and the like), so its rows would be identical (audit s34)")


@functools.cache
def _version() -> str:
    try:
        from importlib.metadata import version
        return version("lowbit")
    except Exception:  # noqa: BLE001 - running from a source tree without an install
        return "unknown"


def _canonical(obj, memo: dict):
    """A JSON-ready image of `obj` that is equal exactly when the objects are: dataclasses field by field
    (compare=False fields too: real operands and weights determine results), arrays by dtype, shape
    and a SHA-256 of their bytes. Containers are memoised by id (the memo keeps them alive): the points
    of a sweep share every part of the design and workload the grid does not change."""
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, enum.Enum):
        return f"{type(obj).__name__}.{obj.name}"
    hit = memo.get(id(obj))
    if hit is not None:
        return hit[1]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # a field added after sweeps were logged (metadata "since") is left out at its default, so that the
        # points of an older log, which could not set it, keep their hashes (unless RESULTS_EPOCH moved with it)
        image = {"__class__": type(obj).__name__,
                 **{f.name: _canonical(getattr(obj, f.name), memo) for f in dataclasses.fields(obj)
                    if not ("since" in f.metadata and getattr(obj, f.name) == f.default)}}
    elif isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        data = repr(a.tolist()).encode() if a.dtype.kind == "O" else a.tobytes()
        image = {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": hashlib.sha256(data).hexdigest()}
    elif isinstance(obj, dict):
        image = {str(k): _canonical(v, memo) for k, v in obj.items()}
    elif isinstance(obj, list | tuple):
        image = [_canonical(v, memo) for v in obj]
    else:
        return f"{type(obj).__name__}:{obj!r}"
    memo[id(obj)] = (obj, image)
    return image


def _digest(obj) -> str:
    text = json.dumps(_canonical(obj, {}), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# The date of the last change to any result lowbit computes for a sweep point, part of every point's hash: bump it
# with such a change, so that a log written before it is another sweep's (refused, or with force=True left for a new
# file) and never resumed with stale rows. 2026-11-30: SRAM stuck cells as stuck bits; exact quantiser ties.
# 2026-11-30.2 (the same day's second change): RRAM reads times between Wan et al.'s fits (refused before).
# 2026-11-30.3: two's complement and XNOR tiles' array energy follows the cells they set. 2026-11-30.4: an analog
# GEMM's sampled rows of A (M > 64 for energy, > 128 for accuracy) no longer share draw 0's device-noise stream.
# 2026-11-30.5: sign-magnitude bit slices' array energy follows their cells too (not mean |w| / max |w|).
# 2026-11-30.6: those cell counts decide the quantiser's ties exactly, as the tiles are programmed. 2026-11-30.7:
# their memo is keyed by the slicing (a tile of the same shape sliced otherwise could read another's count).
# 2026-11-30.8: the count from integer codes (crossbar.weight_codes): the same to within 2.2e-16 relative.
# 2026-11-30.9: a tile larger than its energy sample is priced on the sample as one block (a MemoryError before; the
# cell count's chunks follow the sample's width, so a sum may differ in its last bit). 2026-11-30.10: a Crossbar
# design's memory levels are its activations' buffers (refused before). 2026-11-30.11: error metrics of outputs near
# the float range's ends (nan or a false 0 before; the same to the last bit elsewhere). 2026-11-30.12: what is
# refused (a periphery's non-text source, totals or areas beyond the float range, a crossbar's ideal-DAC buffer width).
# 2026-11-30.13: offset-mapped sign-magnitude and analog weights on resistive cells priced from their signed cell
# mean (g_max / 2 before, exact only for symmetric weights). 2026-11-30.14: what is refused (operands whose float64
# reference underflows, scored exact before; a PCM past one year; an SRAM macro_report's column compensation; a
# v_read above the device's sources: PCM 0.4 V, RRAM 0.5 V). 2026-11-30.15: more of what is refused (a crossbar
# design's vdd_v or node_nm set by name to the default; a periphery whose reference MVM leaves the float range; a
# HermesPCM tile past its characterised g_max), and constant operands costed (they raised). 2026-12-01.1: a product of
# zeros refused (scored 0.0 or inf before); conductances beyond the float range refused (read as empty columns: an
# error of 1.0); a PCM read before t_read; draws' 95 % intervals cut to the metric's range (errors >= 0, top-1 <= 1).
# 2026-12-01.2: a component macro's input activity counted on its DAC's codes in its periphery's unit (bits set for
# bit-serial and per-bit drivers, pulses for PWM; cost.input_activity), not mean |x| / max |x|; a periphery's
# unread fields, and costs beyond the float range, refused; Crossbar sizes bounded (2^20; read_phases 64).
# 2026-12-01.3: a Gemm's own all-zero weight window in the analog accuracy sample is passed over (it scored 0.0
# before 2026-12-01.1, then raised); a
# Periphery's per-bit drivers with pulsed resistive cells refused (one input activity cannot price both).
# 2026-12-01.4: a counting converter (HERMES's CCO) shared by adc_share columns pays its drivers and cells once per
# column's input window (only the time repeated before).
RESULTS_EPOCH = "2026-12-01.4"


def _hash_with(design_digest: str, workload_digest: str, params: dict, accuracy: bool) -> str:
    doc = {"design": design_digest, "workload": workload_digest, "point": _canonical(params, {}),
           "accuracy": bool(accuracy), "lowbit": _version(), "results": RESULTS_EPOCH}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def point_hash(design: Design, workload, params: dict, accuracy: bool) -> str:
    """SHA-256 (hex) of everything that determines a sweep row: the design and workload as given (every
    field, arrays by their bytes), the grid values applied to them (which fix the resolved point), the
    accuracy setting and the lowbit version."""
    return _hash_with(_digest(design), _digest(workload), params, accuracy)


_CACHES: dict = {}


def _accuracy_cache(path):
    """This process's AccuracyCache for `path` (None: none), opened once and reused by every point."""
    if path is None:
        return None
    if path not in _CACHES:
        _CACHES[path] = AccuracyCache(path)
    return _CACHES[path]


def run_points(design: Design, workloads: list, points: list, accuracy: bool, cache_path=None,
               parts: dict | None = None) -> list[dict]:
    """Evaluate (workload index, params, hash) points; one result row each (errors become rows too).
    `cache_path`: the accuracy cache shared by every point and worker (accel.accuracy.AccuracyCache; None:
    one in memory, shared by these points only);
    `parts`: the sweeping process's custom formats and accumulators (accel.parts.registered_parts), registered
    here first, so a fresh worker process knows them too."""
    if parts:
        register_parts(parts, "the sweeping process's registered parts")
    rows = []
    cache = (_accuracy_cache(cache_path) if cache_path is not None else AccuracyCache()) if accuracy else None
    for wi, params, h in points:
        row = {"point": _point_key(wi, params), "hash": h, **params}
        applied = None
        try:
            applied = apply_point(design, workloads[wi], params)
            row.update(simulate(*applied, accuracy=accuracy, accuracy_cache=cache).to_dict())
        except (ValueError, TypeError) as err:  # invalid points are results; anything else stops the sweep
            row.update(_failed_point(design, workloads[wi], params, applied))
            row["error"] = str(err)
        rows.append(row)
    return rows


def _failed_point(design: Design, workload, params: dict, built: tuple | None) -> dict:
    """What a failed point's row says of its design and workload, so that a table shows which one failed: a
    point that was `built` (apply_point's design and workload) and failed in simulate describes those. One
    that could not be built names the design (design.name where the grid sets it) and describes the workload
    where the point changed none of it (else its kind alone: a changed field may be what failed)."""
    if built is not None:
        return {"design": built[0].name, **described_on(*built)}
    out = {"design": params.get("design.name", design.name)}
    desc = described_on(design, workload)
    if any(k.startswith("workload.") for k in params):
        return {**out, "workload": desc.get("workload", type(workload).__name__)}
    return {**out, **desc}


# -- the JSONL log ------------------------------------------------------------------------------------

def _row_key(row: dict) -> str:
    if "hash" in row:
        return str(row["hash"])
    return str(row["point"]) if "point" in row else json.dumps(row, sort_keys=True, default=str)


def _parse_log(data: bytes) -> tuple[list[tuple[int, dict]], list[int], int]:
    """([(line number, row)], damaged line numbers, duplicate count) of a log's bytes; rows deduplicated
    by hash (the first wins: rows with equal hashes come from equal inputs, so they are equal)."""
    rows, bad, seen, dups = [], [], set(), 0
    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except ValueError:  # JSONDecodeError and UnicodeDecodeError
            row = None
        if not isinstance(row, dict):
            bad.append(n)
            continue
        key = _row_key(row)
        if key in seen:
            dups += 1
            continue
        seen.add(key)
        rows.append((n, row))
    return rows, bad, dups


def _lines(nums: list[int]) -> str:
    shown = ", ".join(map(str, nums[:20]))
    return shown + (f" and {len(nums) - 20} more" if len(nums) > 20 else "")


def _check_parsed(path, data: bytes, rows: list, bad: list, dups: int) -> None:
    """Warn about damaged lines and duplicates; refuse a file with no row and a damaged line other than
    an unfinished last one (it is not a results file)."""
    partial_last = bool(data) and not data.endswith(b"\n")
    last = data.count(b"\n") + 1
    only_cut = partial_last and bad == [last]  # the first point's write was interrupted
    if not rows and bad and not only_cut:
        raise ValueError(f"{path} is not a JSONL results file: line {bad[0]} is not a JSON object")
    if bad:
        warnings.warn(f"{path}: skipped {len(bad)} damaged line(s) (not a JSON object): line(s) {_lines(bad)}; "
                      "their points are computed again when the sweep is resumed", stacklevel=3)
    if dups:
        warnings.warn(f"{path}: ignored {dups} duplicate row(s) (equal hash; the first is kept)", stacklevel=3)


def read_results(path) -> list[dict]:
    """The rows of a JSONL results file, in file order. Damaged lines (an interrupted write, an edit)
    are skipped with a warning naming their line numbers; rows with equal hashes are kept once (the
    first).

    Raises:
        FileNotFoundError / IsADirectoryError: `path` is not a file.
        ValueError: the file holds no row and a line that is not a JSON object (not a results file).
    """
    p = Path(path)
    data = p.read_bytes()
    rows, bad, dups = _parse_log(data)
    _check_parsed(p, data, rows, bad, dups)
    return [r for _, r in rows]


_LOG_FDS: set = set()  # descriptors of the logs this process holds open (and locked)


def _drop_inherited_logs() -> None:
    """In a forked child (a pool worker): let go of the parent's logs. An flock belongs to the open file,
    which a fork shares, so a worker that outlived its sweep would keep the log locked. /dev/null takes
    the descriptor's place, so the inherited file object closes something harmless later."""
    for fd in list(_LOG_FDS):
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, fd)
        os.close(null)
    _LOG_FDS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_logs)


class _Log:
    """An open, locked sweep log: rows are appended one JSON line at a time and flushed."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.fh = open(path, "a+b")  # noqa: SIM115 - held open (and locked) for the whole sweep
        except IsADirectoryError:
            raise IsADirectoryError(f"the sweep log {path} (--out) is a directory, not a file") from None
        except FileNotFoundError:
            raise FileNotFoundError(f"cannot create the sweep log {path} (--out): "
                                    f"the directory {path.parent} does not exist") from None
        if fcntl is not None:
            try:
                fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.fh.close()
                raise OSError(f"{path} is locked by another sweep writing to it (an advisory lock on the file); "
                              "wait for it to finish or choose another file with --out (out=)") from None
        _LOG_FDS.add(self.fh.fileno())
        self.fh.seek(0)
        self.data = self.fh.read()
        self.rows, self.bad, self.dups = _parse_log(self.data)

    def cut_partial_line(self) -> None:
        """Drop an unfinished last line (an interrupted write) so appended rows start on their own line;
        only once the log is known to be this sweep's."""
        if self.data and not self.data.endswith(b"\n"):
            self.fh.truncate(self.data.rfind(b"\n") + 1)

    def append(self, row: dict) -> None:
        self.fh.write((json.dumps(row, default=str) + "\n").encode("utf-8"))  # enums in grid values
        self.fh.flush()

    def close(self) -> None:
        _LOG_FDS.discard(self.fh.fileno())
        self.fh.close()  # closing the file releases the lock


def _numbered(path: Path, i: int) -> Path:
    return path.with_name(f"{path.stem}.{i}{path.suffix}")


def _open_log(path: Path, wanted: set, force: bool) -> _Log:
    """The locked log to resume: `path` if every row in it belongs to this sweep; else, with force, the
    first of path.1, path.2, ... that is new or holds only this sweep's rows."""
    for i in itertools.count():
        p = path if i == 0 else _numbered(path, i)
        try:
            log = _Log(p)
        except OSError:
            if i == 0 or not p.exists():
                raise
            continue  # a numbered file another sweep is writing: try the next
        try:
            _check_parsed(p, log.data, log.rows, log.bad, log.dups)
            foreign = [n for n, r in log.rows if r.get("hash") not in wanted]
        except ValueError:  # not a results file at all
            if not force:
                log.close()
                raise ValueError(f"{p} (--out) is not a JSONL sweep log; choose another file with --out, "
                                 "or pass --force (force=True) to write to a new numbered file") from None
            foreign = [0]
        if not foreign:
            log.cut_partial_line()
            if i:
                warnings.warn(f"{path} holds rows of another sweep: writing to {p} instead (--force)", stacklevel=3)
            return log
        log.close()
        if not force:
            raise ValueError(
                f"{p} (--out) holds {len(foreign)} row(s) of another sweep (another design, workload, grid, "
                f"accuracy setting, lowbit version or results epoch, {RESULTS_EPOCH}; first at line {foreign[0]}); "
                "resuming from it would mix "
                "results: choose another file with --out, or pass --force (force=True) to write to a new "
                "numbered file")


# -- pool workers ---------------------------------------------------------------------------------------

_WORKER: tuple | None = None
# Sweeps of fewer points run in this process: a pool's start-up (a second or more per worker to import
# lowbit and load its compiled kernels) costs more than it saves (the default study: 11 s inline, 18 s
# on two workers).
_POOL_MIN_POINTS = 65
PROGRESS_DELAY_S = 1.0  # a sweep's bar appears once it has run this long: quick sweeps stay silent


def _gone(pid: int) -> bool:
    """Whether process `pid` has exited (a killed process its parent has not yet reaped is a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def _watch_parent(ppid: int, parent_pid: int) -> None:
    while True:
        time.sleep(0.25)
        if os.getppid() != ppid or _gone(parent_pid):
            os._exit(1)


def _die_with_parent(parent_pid: int) -> None:
    """Make this pool worker exit when the sweep's process dies (even by kill -9, which runs no clean-up).
    Under fork, PR_SET_PDEATHSIG (Linux) kills it at once, even inside a long numba call. Under a fork
    server the server is the parent, and it outlives the sweep while its children hold its "alive" pipe:
    a thread watches the sweep's own pid (4 times a second) in every case."""
    ppid = os.getppid()
    if sys.platform.startswith("linux") and ppid == parent_pid:
        try:
            import ctypes
            import signal
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != ppid or _gone(parent_pid):  # it died before the guard was set
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(ppid, parent_pid), daemon=True,
                     name="lowbit-parent-watch").start()


def _pool_context():
    """fork where it is safe: it is cheapest and needs no `if __name__ == "__main__":` guard in the
    caller's script. A process that has run numba's OpenMP or TBB threads cannot fork (GNU OpenMP
    terminates the child): a fork server (with accel preloaded) then, as on other systems."""
    import multiprocessing as mp
    layer = None
    try:
        import numba
        layer = numba.threading_layer()
    except (ImportError, ValueError):  # ValueError: no parallel kernel has run yet
        pass
    if sys.platform.startswith("linux") and layer in (None, "workqueue"):
        return mp.get_context("fork")
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["accel"])
        return ctx
    return mp.get_context("spawn")


def _worker_init(parent_pid: int, design: Design, workloads: list, accuracy: bool, cache_path=None,
                 parts: dict | None = None) -> None:
    global _WORKER
    _die_with_parent(parent_pid)
    if parts:
        register_parts(parts, "the sweeping process's registered parts")
    _WORKER = (design, workloads, accuracy, cache_path)


def _run_in_worker(points: list) -> list[dict]:
    design, workloads, accuracy, cache_path = _WORKER
    return run_points(design, workloads, points, accuracy, cache_path)


def executor_workers(executor: Executor) -> int:
    """How many tasks `executor` runs at once: `_max_workers` of a concurrent.futures pool, the summed
    threads of a Dask client's workers (`Client.get_executor()`), else 1."""
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and not isinstance(n, bool) and n > 0:
        return n
    client = getattr(executor, "_client", None)
    if client is not None and hasattr(client, "nthreads"):
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 - a client that cannot answer: one task at a time is still right
            return 1
    return 1


def sweep(design: Design, grid: dict, workloads: list, executor: Executor | None = None, out=None,
          accuracy: bool = False, progress: bool = True, chunk_size: int | None = None, force: bool = False,
          workers: int | None = None) -> list[dict]:
    """Evaluate every grid point for every workload. Returns one dict per point in grid order.

    Args:
        grid: {"design.unit.rows": [...], "workload.a_format": [...], ...}; {} for the design as given.
            Every key must name a field of the design or of every workload. {"zip": {key: [...], ...}}
            (or a list of such tables) is one axis whose equally long lists advance together (rows = cols).
        workloads: Gemm, Network or Layer (accel.transformer_layer) objects; each grid point runs on each.
            A Layer from transformer_layer takes its arguments as keys ("workload.tp", "workload.dtype",
            "workload.seq", ...); any Layer's ops are reached by index ("workload.ops.0.a_format").
        executor: any concurrent.futures.Executor (a Dask client's `get_executor()` for a cluster). None:
            this process for fewer than 65 points to compute, else a local ProcessPoolExecutor whose
            workers exit when this process dies.
        out: JSONL path, locked while the sweep runs; each finished point is appended and flushed at
            once, and points whose hash is already in the file are not computed again (resume).
        accuracy: also measure accuracy (part of each row's hash).
        progress: a tqdm bar, shown once the sweep has run for a second.
        chunk_size: points per task. None: 1 without an executor (each point logged as it finishes);
            with one, ceil(points / the executor's workers) (executor_workers), so every worker gets a
            share at once (a 16-point sweep on 2 Dask workers: 2 tasks of 8, not 16 round trips to a
            scheduler that may give all to one). Rows are written as each task finishes: larger chunks
            mean fewer round trips but more points lost to an interrupt and a coarser progress bar.
        force: when `out` holds rows of another sweep, write to the first of out.1, out.2, ... that is
            new or holds only this sweep's rows (a warning names it) instead of refusing.
        workers: without an executor: 1 runs in this process; N >= 2 always uses a local pool of N
            processes; None (default) decides by the number of points (see executor).

    Raises:
        ValueError: bad arguments, a grid key that is no field, or `out` holds another sweep's rows or is
            not a JSONL file (without force).
        OSError: `out` cannot be created, or another sweep holds its lock.
    """
    if not isinstance(design, Design):
        raise TypeError(f"design must be a Design, got {type(design).__name__}")
    if not isinstance(workloads, list | tuple) or not workloads \
            or not all(isinstance(w, Gemm | Network | Layer) for w in workloads):
        raise ValueError("workloads must be a non-empty list of Gemm, Network or Layer")
    for name, v in (("accuracy", accuracy), ("progress", progress), ("force", force)):
        if not isinstance(v, bool):
            raise TypeError(f"{name} must be a bool, got {v!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None (automatic), got {chunk_size!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int or None (automatic), got {workers!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor or None, got {type(executor).__name__}")
    if executor is not None and workers is not None:
        raise ValueError("workers sizes the sweep's own pool; an executor brings its own workers: pass one of them")
    if out is not None and not isinstance(out, str | os.PathLike):
        raise TypeError(f"out must be a path or None, got {type(out).__name__}")
    grid = grid or {"design.name": [design.name]}
    params = grid_points(grid)
    check_grid(design, workloads, grid)
    dd, wds = _digest(design), [_digest(w) for w in workloads]  # once: the points differ only in params
    twin = next(((i, j) for j in range(len(wds)) for i in range(j) if wds[i] == wds[j]), None)
    if twin is not None:  # their rows would share one hash, and one row's point label
        raise ValueError(f"workloads {twin[0]} and {twin[1]} are the same workload: each point is computed and "
                         f"returned once; give each workload once")
    pts = [(wi, p, _hash_with(dd, wds[wi], p, accuracy)) for wi in range(len(workloads)) for p in params]
    done: dict = {}
    log = _open_log(Path(out), {h for *_, h in pts}, force) if out is not None else None
    if log is not None:
        done = {r["hash"]: r for _, r in log.rows}
    todo = list({h: (wi, p, h) for wi, p, h in pts if h not in done}.values())  # equal points run once
    # accuracy depends on formats, accumulator and operands, not on the array size or memories: points
    # that share them share one measurement, kept beside the log (accel.accuracy.AccuracyCache)
    cache_path = f"{log.path}.accuracy.jsonl" if (accuracy and log is not None) else None
    if chunk_size is None:
        chunk_size = max(1, -(-len(todo) // executor_workers(executor))) if executor is not None else 1
    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    bar = None
    own = executor is None and bool(todo) and (workers or 0) != 1 and (
        (workers or 0) >= 2 or len(todo) >= _POOL_MIN_POINTS)
    ex = executor
    futs: list = []
    # workers started by spawn/forkserver or on Dask know only the built-in parts: send ours along
    parts = registered_parts() if (own or ex is not None) else None
    try:
        if progress and todo:
            from numerics.progress import progress_bar
            # delay: a sweep of under a second draws nothing; a longer one, however few points, draws
            # a live bar (updated per finished task)
            bar = progress_bar(total=len(pts), initial=len(pts) - len(todo), desc="sweep", unit="pt",
                               delay=PROGRESS_DELAY_S, mininterval=0.2)
        if own:
            ex = ProcessPoolExecutor(max_workers=min(len(chunks), workers or os.cpu_count() or 1),
                                     mp_context=_pool_context(),
                                     initializer=_worker_init,
                                     initargs=(os.getpid(), design, list(workloads), accuracy, cache_path, parts))
            futs = [ex.submit(_run_in_worker, c) for c in chunks]
        elif ex is not None:
            futs = [ex.submit(run_points, design, workloads, c, accuracy, cache_path, parts) for c in chunks]
        results = (f.result() for f in as_completed(futs)) if ex is not None else \
            (run_points(design, workloads, c, accuracy, cache_path) for c in chunks)
        for rows in results:
            for r in rows:
                done[r["hash"]] = r
                if log is not None:
                    log.append(r)
            if bar is not None:
                bar.update(len(rows))
    finally:
        for f in futs:
            f.cancel()  # after an error or an interrupt: nothing more is started
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
        if log is not None:
            log.close()
        if bar is not None:
            bar.close()
    return [done[h] for *_, h in pts]


def write_csv(rows: list[dict], path) -> None:
    """Rows as CSV (the union of their keys as columns)."""
    cols: list = []
    for r in rows:
        cols += [k for k in r if k not in cols and k not in ("point", "hash")]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


# objectives whose better direction is known; others must be named in maximize= or minimize=
MINIMIZE = ("seconds", "energy_j", "cycles", "compute_cycles", "rel_fro_err", "rel_max_err", "mse", "bits", "err",
            "bits_per_weight", "area_mm2", "power_w")
MAXIMIZE = ("ops_per_s", "ops_per_j", "top1", "top1_float", "sqnr_db", "utilisation", "accuracy")


def _objectives(maximize, minimize) -> list[tuple[str, int]]:
    for name, v in (("maximize", maximize), ("minimize", minimize)):
        if isinstance(v, str) or not isinstance(v, list | tuple) or not all(isinstance(k, str) for k in v):
            raise TypeError(f"{name} must be a tuple of column names, got {v!r}")
    keys = [(k, 1) for k in maximize] + [(k, -1) for k in minimize]
    if not keys:
        raise ValueError("pareto_front needs at least one objective (maximize=(...,) and/or minimize=(...,))")
    both = set(maximize) & set(minimize)
    if both:
        raise ValueError(f"{sorted(both)} cannot be both maximized and minimized")
    return keys


def direction(column: str) -> str:
    """"min" or "max": the better direction of a known result column (energy_* and *_seconds minimise);
    ValueError for others, which must be given explicitly."""
    if column in MINIMIZE or (column.startswith("energy_") and column.endswith("_j")):
        return "min"
    if column in MAXIMIZE:
        return "max"
    raise ValueError(f"no known direction for {column!r}: pass it in maximize= or minimize= (known: minimize "
                     f"{', '.join(MINIMIZE)}, energy_*_j; maximize {', '.join(MAXIMIZE)})")


# what tells workloads apart in result rows: a network's name, a GEMM's shape (a_format is a design choice)
WORKLOAD_KEYS = ("workload", "m", "n", "k", "count")


def _group(rows: list[dict], by) -> dict:
    if by is None:
        return {None: rows}
    cols = (by,) if isinstance(by, str) else tuple(by)
    groups: dict = {}
    for r in rows:
        groups.setdefault(tuple(str(r.get(c)) for c in cols), []).append(r)
    return groups


def pareto_front(rows: list[dict], maximize: tuple = (), minimize: tuple = (), by: str | tuple | None = None
                 ) -> list[dict]:
    """The rows no other row beats on every objective (>= on maximize, <= on minimize, > or < on one),
    in their input order. Any number of objectives, each with its own direction. `by`: a column (or
    tuple of columns, e.g. "workload") whose value splits the rows into separate fronts (a point is only
    compared with rows of its own group); rows lacking an objective are left out."""
    keys = _objectives(maximize, minimize)
    keep: set = set()
    for group in _group(rows, by).values():
        ok = [r for r in group if all(isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool)
                                      for k, _ in keys)]
        vals = [[s * float(r[k]) for k, s in keys] for r in ok]
        for i, vi in enumerate(vals):
            dominated = any(all(a >= b for a, b in zip(vj, vi)) and any(a > b for a, b in zip(vj, vi))
                            for j, vj in enumerate(vals) if j != i)
            if not dominated:
                keep.add(id(ok[i]))
    return [r for r in rows if id(r) in keep]


def _hv(points: list[list[float]]) -> float:
    """Hypervolume dominated by `points` (minimisation, every coordinate > 0 below a reference at the
    origin after the shift in `hypervolume`): slices along the first coordinate (exact; fronts are small)."""
    if not points:
        return 0.0
    if len(points[0]) == 1:
        return max(p[0] for p in points)
    pts = sorted(points, key=lambda p: -p[0])
    total, prev = 0.0, 0.0
    for i in range(len(pts) - 1, -1, -1):  # ascending first coordinate: slab (prev, pts[i][0]] holds pts[:i+1]
        width = pts[i][0] - prev
        if width > 0:
            total += width * _hv([p[1:] for p in pts[:i + 1]])
        prev = pts[i][0]
    return total


def hypervolume(rows: list[dict], maximize: tuple = (), minimize: tuple = (), ref: dict | None = None,
                normalize: bool = True) -> float:
    """The hypervolume of the rows' Pareto front: the volume of objective space they dominate up to the
    reference point `ref` ({column: value}; default: each objective's worst value over `rows`). With
    normalize (default), each objective is first scaled to [0, 1] by its range over the rows and `ref`,
    so the figure is unit-free in [0, 1] (1: one point is best on every objective); a larger figure is a
    better front. Raises ValueError if no row has every objective."""
    keys = _objectives(maximize, minimize)
    ok = [r for r in rows if all(isinstance(r.get(k), int | float) and not isinstance(r.get(k), bool)
                                 for k, _ in keys)]
    if not ok:
        raise ValueError(f"hypervolume: no row has every objective {[k for k, _ in keys]}")
    ref = dict(ref or {})
    unknown = [k for k in ref if k not in dict(keys)]
    if unknown:
        raise ValueError(f"hypervolume: ref has {unknown}, which are no objectives ({[k for k, _ in keys]})")
    pts, scales = [], []
    for k, s in keys:
        vals = [s * float(r[k]) for r in ok]  # larger is better
        worst = s * float(ref[k]) if k in ref else min(vals)
        best = max(vals + [worst])
        # an objective on which every row ties (one row, say) is met in full: coordinate 1, not 0
        scales.append((worst, (best - worst) if best > worst else 0.0) if normalize else (worst, 1.0))
    for r in pareto_front(ok, maximize, minimize):
        pts.append([max(0.0, (s * float(r[k]) - w) / span) if span else 1.0 for (k, s), (w, span) in zip(keys, scales)])
    return float(_hv([p for p in pts if all(c > 0 for c in p)]))


def _axis_label(col: str) -> str:
    from .units import column_unit
    unit = column_unit(col)
    return f"{col} [{unit}]" if unit else col


def _log_axis(axis, col: str, values: list) -> None:
    """Readable log ticks: at most ~6 labels (decades over a wide range, 1-2-5 steps over a narrow one, so
    an axis under a decade still has labels), SI-prefixed where the column has a unit; minor ticks unlabelled."""
    from matplotlib.ticker import EngFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    from .units import column_unit
    pos = [v for v in values if v > 0]
    decades = math.log10(max(pos) / min(pos)) if pos else 0.0
    subs = (1.0, 2.0, 5.0) if decades < 2 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=7))
    axis.set_minor_formatter(NullFormatter())
    unit = column_unit(col)
    axis.set_major_formatter(EngFormatter(unit=unit, sep=" ") if unit else LogFormatterSciNotation())


def plot_pareto(rows: list[dict], x: str = "energy_j", y: str = "ops_per_s", color: str | None = None,
                label: str | tuple | None = None, path=None, logx: bool = True, logy: bool = True,
                minimize: tuple | None = None, maximize: tuple | None = None, by: str | tuple | None = WORKLOAD_KEYS):
    """Scatter of every row with its Pareto front drawn per group of `by` (default: one front per
    workload, told apart by WORKLOAD_KEYS: a network's name, a GEMM's shape; None: one front); saved to
    `path` if given. Each axis' direction comes from minimize= /
    maximize= (column names), else from the column (accel.sweep.direction: energy and seconds minimise,
    ops_per_s and top1 maximise). Axes carry units (SI-prefixed log ticks); `label` (a column or tuple of
    columns) names each front point; each front's legend entry gives its hypervolume (accel.sweep.hypervolume,
    normalised over its group)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    minimize, maximize = tuple(minimize or ()), tuple(maximize or ())
    for col in (x, y):
        if col not in minimize and col not in maximize:
            if direction(col) == "min":
                minimize += (col,)
            else:
                maximize += (col,)
    ok = [r for r in rows if isinstance(r.get(x), int | float) and isinstance(r.get(y), int | float)]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    cvals = [r.get(color) for r in ok] if color else None
    numeric = cvals is not None and all(isinstance(c, int | float) for c in cvals)
    style = {"c": cvals, "cmap": "viridis"} if numeric else {}
    sc = ax.scatter([r[x] for r in ok], [r[y] for r in ok], s=22, alpha=0.8, **style)
    if numeric:
        fig.colorbar(sc, ax=ax, label=_axis_label(color))
    groups = _group(ok, by)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = (label,) if isinstance(label, str) else tuple(label or ())
    for gi, (key, group) in enumerate(groups.items()):
        front = sorted(pareto_front(group, maximize=maximize, minimize=minimize), key=lambda r: r[x])
        shown = [v for v in key or () if v != "None"]
        name = "Pareto front" if not shown or len(groups) == 1 else f"front: {' '.join(shown)}"
        # a marker on every front point: a one-point front still shows in the plot and the legend
        hv = hypervolume(group, maximize=tuple(k for k in maximize if k in (x, y)),
                         minimize=tuple(k for k in minimize if k in (x, y)))
        ax.plot([r[x] for r in front], [r[y] for r in front], "-o", color=cycle[(gi + 3) % len(cycle)], lw=1.2,
                ms=6, mfc="none", label=f"{name} ({len(front)} pt, hypervolume {hv:.3f})")
        for r in front if labels else ():
            text = ", ".join(str(r.get(c)) for c in labels)
            ax.annotate(text, (r[x], r[y]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    if logx:
        _log_axis(ax.xaxis, x, [r[x] for r in ok])
    if logy:
        _log_axis(ax.yaxis, y, [r[y] for r in ok])
    arrow = {"min": "lower is better", "max": "higher is better"}
    ax.set_xlabel(f"{_axis_label(x)} ({arrow['min' if x in minimize else 'max']})")
    ax.set_ylabel(f"{_axis_label(y)} ({arrow['min' if y in minimize else 'max']})")
    ax.legend(loc="best", fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
