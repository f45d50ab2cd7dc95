"""Sweep logs a user can trust (issue #14): content hashes, stale logs refused (or, forced, left alone),
damaged lines skipped with their line numbers, duplicates dropped, one writer at a time, every point
appended and flushed as it finishes, pool workers that die with their parent, bad arguments refused."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import accel
from tests.test_sweep import CountingExecutor

S = sys.modules["accel.sweep"]  # the module (accel.sweep is the function)
ROOT = Path(__file__).resolve().parents[1]
GRID = {"design.unit.rows": [16, 32], "workload.a_format": ["int8", "int4"]}


def _design():
    return accel.get_design("edge-npu")


def _gemm(**kw):
    return accel.Gemm(16, 16, 16, **{"a_format": "int8", **kw})


def _run(out, grid=GRID, workloads=None, design=None, ex=None, **kw):
    return accel.sweep(design or _design(), grid, workloads or [_gemm()], executor=ex or ThreadPoolExecutor(1),
                       out=out, progress=False, **kw)


def _hashes(path) -> list[str]:
    return [json.loads(line)["hash"] for line in Path(path).read_text().splitlines() if line.strip()]


# -- hashes ---------------------------------------------------------------------------------------------

def test_rows_carry_distinct_content_hashes(tmp_path):
    rows = _run(tmp_path / "r.jsonl")
    hs = [r["hash"] for r in rows]
    assert len(set(hs)) == 4 and all(len(h) == 64 and int(h, 16) >= 0 for h in hs)
    assert _hashes(tmp_path / "r.jsonl") == hs  # the log holds the same rows, once each
    assert all("point" in r for r in rows)


def test_hash_is_the_same_in_another_process():
    code = ("import accel, sys; m = sys.modules['accel.sweep'];"
            "print(m.point_hash(accel.get_design('edge-npu'), accel.Gemm(16, 16, 16, a_format='int8'),"
            " {'design.unit.rows': 16}, False))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert r.stdout.strip() == S.point_hash(_design(), _gemm(), {"design.unit.rows": 16}, False)


@pytest.mark.parametrize("change", ["clock", "memory", "gemm_k", "gemm_seed", "operand_a", "params", "accuracy",
                                    "version"])
def test_hash_covers_what_determines_a_row(change, monkeypatch):
    d, g, p, acc = _design(), _gemm(), {"design.unit.rows": 16}, False
    base = S.point_hash(d, g, p, acc)
    assert S.point_hash(_design(), _gemm(), dict(p), acc) == base  # equal inputs, equal hash
    if change == "clock":
        d = d.replace(clock_hz=d.clock_hz * 2)
    elif change == "memory":
        d = accel.set_field(d, "memories.0.energy_pj_per_byte", d.memories[0].energy_pj_per_byte * 2)
    elif change == "gemm_k":
        g = _gemm().replace(k=32)
    elif change == "gemm_seed":
        g = _gemm(seed=1)
    elif change == "operand_a":  # real operands are compare=False on Gemm, yet they determine the result
        a = np.ones((16, 16))
        assert S.point_hash(d, _gemm(a=a), p, acc) == S.point_hash(d, _gemm(a=a.copy()), p, acc)
        a2 = a.copy()
        a2[3, 4] = 2.0
        base, g = S.point_hash(d, _gemm(a=a), p, acc), _gemm(a=a2)
    elif change == "params":
        p = {"design.unit.rows": 32}
    elif change == "accuracy":
        acc = True
    else:
        monkeypatch.setattr(S, "_version", lambda: "999.0")
    assert S.point_hash(d, g, p, acc) != base


# -- stale logs -------------------------------------------------------------------------------------------

STALE = {
    "design": dict(design=accel.get_design("edge-npu").replace(clock_hz=2e9)),
    "gemm": dict(workloads=[accel.Gemm(16, 16, 32, a_format="int8")]),
    "grid": dict(grid={"design.unit.rows": [64, 128], "workload.a_format": ["int8", "int4"]}),
    "smaller_grid": dict(grid={"design.unit.rows": [16], "workload.a_format": ["int8"]}),
    "accuracy": dict(accuracy=True),
    "network": dict(workloads=[accel.Gemm(16, 16, 16, a_format="int8", dist="uniform")]),
}


@pytest.mark.parametrize("what", list(STALE))
def test_log_of_another_sweep_is_refused_naming_out(tmp_path, what):
    out = tmp_path / "r.jsonl"
    _run(out)
    before = out.read_bytes()
    with pytest.raises(ValueError, match=r"r\.jsonl \(--out\) holds \d+ row\(s\) of another sweep.*--force"):
        _run(out, **STALE[what])
    assert out.read_bytes() == before  # refused before anything is written


@pytest.mark.parametrize("what", ["design", "gemm", "grid", "accuracy"])
def test_force_writes_a_new_numbered_file(tmp_path, what):
    out = tmp_path / "r.jsonl"
    first = _run(out)
    before = out.read_bytes()
    with pytest.warns(UserWarning, match=r"r\.jsonl holds rows of another sweep: writing to .*r\.1\.jsonl"):
        rows = _run(out, force=True, **STALE[what])
    assert out.read_bytes() == before
    assert _hashes(tmp_path / "r.1.jsonl") == [r["hash"] for r in rows]
    assert not {r["hash"] for r in rows} & {r["hash"] for r in first}


def test_force_resumes_its_own_numbered_file_and_skips_others(tmp_path):
    out = tmp_path / "r.jsonl"
    _run(out)
    with pytest.warns(UserWarning, match=r"writing to .*r\.1\.jsonl"):
        _run(out, force=True, **STALE["gemm"])
    ex = CountingExecutor()
    with pytest.warns(UserWarning, match=r"writing to .*r\.1\.jsonl"):
        _run(out, force=True, ex=ex, **STALE["gemm"])
    assert ex.points == 0 and len(_hashes(tmp_path / "r.1.jsonl")) == 4
    with pytest.warns(UserWarning, match=r"writing to .*r\.2\.jsonl"):
        _run(out, force=True, **STALE["design"])
    assert len(_hashes(tmp_path / "r.2.jsonl")) == 4


def test_a_grown_grid_reuses_the_rows_it_shares(tmp_path):
    out = tmp_path / "r.jsonl"
    _run(out)
    ex = CountingExecutor()
    rows = _run(out, grid={"design.unit.rows": [16, 32, 64], "workload.a_format": ["int8", "int4"]}, ex=ex)
    assert ex.points == 2 and len(rows) == 6 and len(_hashes(out)) == 6


def test_rows_without_hash_are_another_sweep(tmp_path):
    out = tmp_path / "r.jsonl"
    _run(out)
    old = [json.loads(line) for line in out.read_text().splitlines()]
    out.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "hash"}) + "\n" for r in old))
    with pytest.raises(ValueError, match="holds 4 row"):
        _run(out)


@pytest.mark.parametrize("content", [b"a,b,c\n1,2,3\n", b"\x89PNG\r\n\x1a\n\x00\x00", b"[1, 2]\n", b"not json\n"])
def test_out_that_is_not_a_log_is_refused_or_forced_aside(tmp_path, content):
    out = tmp_path / "r.csv"
    out.write_bytes(content)
    with pytest.raises(ValueError, match=r"r\.csv \(--out\) is not a JSONL sweep log.*--force"):
        _run(out)
    assert out.read_bytes() == content
    with pytest.warns(UserWarning, match=r"writing to .*r\.1\.csv"):
        _run(out, force=True)
    assert out.read_bytes() == content and len(_hashes(tmp_path / "r.1.csv")) == 4


@pytest.mark.parametrize("where, exc, msg", [
    ("dir", IsADirectoryError, r"is a directory, not a file"),
    ("missing_dir", FileNotFoundError, r"\(--out\): the directory .*nope does not exist"),
])
def test_out_that_cannot_be_a_file(tmp_path, where, exc, msg):
    out = tmp_path if where == "dir" else tmp_path / "nope" / "r.jsonl"
    with pytest.raises(exc, match=msg):
        _run(out)


# -- damaged lines, duplicates ------------------------------------------------------------------------------

DAMAGE = {"garbage": b"garbage{", "cut_json": b'{"hash": "ab', "array": b"[1, 2]", "number": b"3",
          "null": b"null", "binary": b"\xff\xfe\x00", "string": b'"row"'}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_middle_line_is_skipped_with_its_number(tmp_path, kind):
    out = tmp_path / "r.jsonl"
    full = _run(out)
    lines = out.read_bytes().split(b"\n")
    lines[1] = DAMAGE[kind]  # line 2
    out.write_bytes(b"\n".join(lines))
    with pytest.warns(UserWarning, match=r"skipped 1 damaged line\(s\).*line\(s\) 2;"):
        rows = accel.read_results(out)
    assert len(rows) == 3
    for _ in range(3):  # resuming again and again neither stops nor grows the file
        ex = CountingExecutor()
        with pytest.warns(UserWarning, match=r"line\(s\) 2;"):
            again = _run(out, ex=ex)
        assert again == full
    assert len(out.read_bytes().splitlines()) == 5  # 4 rows + the damaged line, kept for inspection
    with pytest.warns(UserWarning, match="line"):
        assert sorted(r["hash"] for r in accel.read_results(out)) == sorted(r["hash"] for r in full)


def test_many_damaged_lines_are_all_named(tmp_path):
    out = tmp_path / "r.jsonl"
    _run(out)
    lines = out.read_text().splitlines()
    out.write_text("\n".join([lines[0], "x", lines[1], "y", "", lines[2], "z", lines[3]]) + "\n")
    with pytest.warns(UserWarning, match=r"skipped 3 damaged line\(s\).*line\(s\) 2, 4, 7;"):
        assert len(accel.read_results(out)) == 4


@pytest.mark.parametrize("cut", [1, 40, -2])
def test_truncated_last_line_is_recomputed_once(tmp_path, cut):
    out = tmp_path / "r.jsonl"
    full = _run(out)
    data = out.read_bytes()
    last = data[:-1].rfind(b"\n") + 1
    out.write_bytes(data[:last] + data[last:][:cut])
    with pytest.warns(UserWarning, match=r"line\(s\) 4;"):
        assert len(accel.read_results(out)) == 3
    ex = CountingExecutor()
    with pytest.warns(UserWarning, match=r"line\(s\) 4;"):
        assert _run(out, ex=ex) == full
    assert ex.points == 1 and sorted(_hashes(out)) == sorted(r["hash"] for r in full)
    ex = CountingExecutor()
    assert _run(out, ex=ex) == full and ex.points == 0  # now clean: no warning, nothing to do


def test_only_line_cut_is_an_empty_log_not_a_foreign_file(tmp_path):
    out = tmp_path / "r.jsonl"
    out.write_bytes(b'{"point": "{\\"w\\": 0')
    with pytest.warns(UserWarning, match=r"line\(s\) 1;"):
        assert accel.read_results(out) == []
    with pytest.warns(UserWarning, match=r"line\(s\) 1;"):
        assert len(_run(out)) == 4
    assert len(_hashes(out)) == 4


@pytest.mark.parametrize("copies", [2, 3])
def test_duplicates_are_dropped_on_read_first_wins(tmp_path, copies):
    out = tmp_path / "r.jsonl"
    full = _run(out)
    lines = out.read_text().splitlines()
    marked = [json.dumps({**json.loads(line), "copy": c}) for c in range(copies) for line in lines]
    out.write_text("\n".join(marked) + "\n")
    with pytest.warns(UserWarning, match=rf"ignored {4 * (copies - 1)} duplicate row\(s\)"):
        rows = accel.read_results(out)
    assert [r["hash"] for r in rows] == [r["hash"] for r in full] and {r["copy"] for r in rows} == {0}
    ex = CountingExecutor()
    with pytest.warns(UserWarning, match="duplicate"):
        _run(out, ex=ex)
    assert ex.points == 0 and len(out.read_text().splitlines()) == 4 * copies


@pytest.mark.parametrize("what, exc, msg", [
    ("missing", FileNotFoundError, "No such file"),
    ("dir", IsADirectoryError, "Is a directory"),
    ("csv", ValueError, r"is not a JSONL results file: line 1 is not a JSON object"),
])
def test_read_results_of_what_is_not_a_log(tmp_path, what, exc, msg):
    path = {"missing": tmp_path / "no.jsonl", "dir": tmp_path, "csv": tmp_path / "r.csv"}[what]
    if what == "csv":
        path.write_text("design,seconds\nedge,1\n")
    with pytest.raises(exc, match=msg):
        accel.read_results(path)


@pytest.mark.parametrize("grid, workloads, msg", [
    ({"design.unit.rows": [16, 16]}, 1, r"grid\['design.unit.rows'\] holds 16 twice"),
    ({"zip": {"design.unit.rows": [16, 32, 16], "design.unit.cols": [8, 8, 8]}}, 1,
     r"grid\['zip'\] \['design.unit.rows', 'design.unit.cols'\] holds \(16, 8\) twice"),
    ({"design.unit.rows": [16, 32]}, 2, r"workloads 0 and 1 are the same workload"),
])
def test_a_repeated_point_is_refused(tmp_path, grid, workloads, msg):
    """A repeated grid value or workload is a repeated point: it was computed once but returned twice (a table of 4
    rows against a log of 2), and a twin workload's rows carried the other's index (audit s32 F4). Refused before
    anything runs."""
    out = tmp_path / "r.jsonl"
    ex = CountingExecutor()
    g = accel.Gemm(16, 16, 16, a_format="int8")
    with pytest.raises(ValueError, match=msg):
        accel.sweep(accel.get_design("edge-npu"), grid, [g] * workloads, executor=ex, out=out, progress=False)
    assert ex.points == 0 and not out.exists()


# -- one writer, each point as it finishes ------------------------------------------------------------------

def test_second_writer_is_refused_while_the_lock_is_held(tmp_path):
    out = tmp_path / "r.jsonl"
    with open(out, "a") as fh:  # another process's lock: flock locks belong to the open file
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(OSError, match=r"r\.jsonl is locked by another sweep.*--out"):
            _run(out)
    assert len(_run(out)) == 4


class _GatedExecutor(Executor):
    """Runs each task in its own thread once `gate` is set: holds a sweep in the middle."""

    def __init__(self):
        self.gate, self.started = threading.Event(), threading.Event()

    def submit(self, fn, *args, **kw):
        fut = Future()

        def go():
            self.started.set()
            self.gate.wait(30)
            fut.set_result(fn(*args, **kw))
        threading.Thread(target=go, daemon=True).start()
        return fut


def test_concurrent_sweeps_one_writes_the_other_is_refused(tmp_path):
    out = tmp_path / "r.jsonl"
    ex = _GatedExecutor()
    first: list = []
    t = threading.Thread(target=lambda: first.append(_run(out, ex=ex)))
    t.start()
    assert ex.started.wait(30)
    with pytest.raises(OSError, match="locked by another sweep"):
        _run(out)
    ex.gate.set()
    t.join(30)
    assert len(first[0]) == 4
    ex2 = CountingExecutor()
    assert _run(out, ex=ex2) == first[0] and ex2.points == 0  # the lock is released at the end
    assert len(_hashes(out)) == 4


def test_each_point_is_appended_and_flushed_as_it_finishes(tmp_path, monkeypatch):
    out = tmp_path / "r.jsonl"
    seen = []
    append = S._Log.append

    def spy(self, row):
        append(self, row)
        seen.append(len(Path(out).read_bytes().splitlines()))  # what another process would read now
    monkeypatch.setattr(S._Log, "append", spy)
    _run(out, grid={"design.unit.rows": [8, 16, 32, 64, 128]})
    assert seen == [1, 2, 3, 4, 5]


def test_an_interrupt_keeps_the_finished_points(tmp_path, monkeypatch):
    out = tmp_path / "r.jsonl"
    append = S._Log.append

    def interrupted(self, row):  # Ctrl-C arrives as the third row is written
        if len(Path(out).read_bytes().splitlines()) == 2:
            raise KeyboardInterrupt
        append(self, row)
    monkeypatch.setattr(S._Log, "append", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(out)
    monkeypatch.undo()
    ex = CountingExecutor()
    rows = _run(out, ex=ex)
    assert ex.points == 2 and sorted(_hashes(out)) == sorted(r["hash"] for r in rows)


_CHILD = """
import sys, accel, numba
sys.modules["accel.sweep"]._POOL_MIN_POINTS = 2  # a process pool for these few points
if sys.argv[2] == "forkserver":  # as after numba's OpenMP threads ran
    numba.threading_layer = lambda: "omp"
# each point its own operand seed, so the accuracy cache (shared by points that differ only in array
# size) cannot make the sweep finish before the test kills it
# 48 points of 64 x 64 x 1024 take seconds here: long enough to be killed mid-sweep however fast a point is
grid = {"zip": {"design.unit.rows": list(range(8, 200, 4)), "workload.seed": list(range(48))}}
accel.sweep(accel.get_design("edge-npu"), grid, [accel.Gemm(64, 64, 1024, a_format="int8")], out=sys.argv[1],
            accuracy=True, progress=False)
"""


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


def _lock_frees(path, seconds=10.0) -> bool:
    """Whether the log's lock can be taken within `seconds` (the kernel lets go of a dead process's
    files a moment after it is reaped)."""
    deadline = time.monotonic() + seconds
    with open(path, "a") as fh:
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)


@pytest.mark.parametrize("layer, method", [(None, "fork"), ("workqueue", "fork"), ("omp", "forkserver"),
                                           ("tbb", "forkserver")])
def test_own_pool_forks_only_where_it_is_safe(monkeypatch, layer, method):
    import numba

    def threading_layer():
        if layer is None:
            raise ValueError("Threading layer is not initialized.")
        return layer
    monkeypatch.setattr(numba, "threading_layer", threading_layer)
    assert S._pool_context().get_start_method() == method


def test_own_pool_on_a_fork_server(tmp_path, monkeypatch):
    """After numba's OpenMP threads ran, fork would abort the workers: the sweep uses a fork server."""
    import numba
    monkeypatch.setattr(numba, "threading_layer", lambda: "omp")
    monkeypatch.setattr(S, "_POOL_MIN_POINTS", 2)
    rows = accel.sweep(_design(), GRID, [_gemm()], out=tmp_path / "r.jsonl", progress=False)
    assert [r["hash"] for r in rows] == [r["hash"] for r in _run(None)] and len(_hashes(tmp_path / "r.jsonl")) == 4


_USER_POOL = """
import multiprocessing, sys, accel
from concurrent.futures import ProcessPoolExecutor
pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))  # forks at the first submit
grid = {"design.unit.rows": [8, 16, 32]}
args = (accel.get_design("edge-npu"), grid, [accel.Gemm(16, 16, 16, a_format="int8")])
accel.sweep(*args, executor=pool, out=sys.argv[1], progress=False)
accel.sweep(*args, executor=pool, out=sys.argv[1], progress=False)  # the live workers must not hold the lock
print("ok")
"""


def test_forked_workers_of_a_callers_pool_do_not_keep_the_lock(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", _USER_POOL, str(tmp_path / "r.jsonl")], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert len(_hashes(tmp_path / "r.jsonl")) == 3


def _descendants(pid: int) -> list[int]:
    kids = _children(pid)
    return kids + [d for k in kids for d in _descendants(k)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("method", ["fork", pytest.param("forkserver", marks=pytest.mark.slow)])
def test_kill_9_mid_sweep_workers_exit_and_resume_completes_once(tmp_path, method):
    out = tmp_path / "r.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(out), method], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if out.exists() and len(out.read_bytes().splitlines()) >= 3:
                break
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode()
        workers = _descendants(child.pid)
        assert len(workers) >= 2  # the sweep's own process pool (and, for forkserver, the server)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(map(_alive, workers)):
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert _lock_frees(out)
    written = len(out.read_bytes().splitlines())
    assert 3 <= written < 48
    ex = CountingExecutor()
    grid = {"zip": {"design.unit.rows": list(range(8, 200, 4)), "workload.seed": list(range(48))}}
    rows = accel.sweep(_design(), grid, [accel.Gemm(64, 64, 1024, a_format="int8")], executor=ex, out=out,
                       accuracy=True, progress=False)
    hs = _hashes(out)
    assert len(hs) == len(set(hs)) == 48 and sorted(hs) == sorted(r["hash"] for r in rows)
    assert ex.points == 48 - len(set(hs[:written]))  # the killed sweep's rows were reused, not recomputed


# -- bad arguments ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, msg", [
    ("design.unit.rowz", r"grid key 'design.unit.rowz': SystolicArray has no field 'rowz'; it has \["),
    ("design.memories.9.size_bytes", r"'9' is not an index into a tuple of"),
    ("design.memories.x.size_bytes", r"'x' is not an index into a tuple of"),
    ("design.clock_hz.x", r"cannot descend into float"),
    ("workload.mm", r"Gemm has no field 'mm'"),
    ("design.", r"Design has no field ''"),
    ("rows", r"must start with 'design.' or 'workload.'"),
])
def test_grid_keys_that_are_not_fields_are_refused_up_front(tmp_path, key, msg):
    ex = CountingExecutor()
    with pytest.raises(ValueError, match=msg):
        _run(tmp_path / "r.jsonl", grid={key: [1]}, ex=ex)
    assert ex.points == 0 and not (tmp_path / "r.jsonl").exists()


def test_grid_key_must_be_a_field_of_every_workload(tmp_path):
    with pytest.raises(ValueError, match="Network has no field 'm'"):
        _run(None, grid={"workload.m": [8]}, workloads=[_gemm(), accel.digits_mlp()])


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(design="edge-npu"), TypeError, "design must be a Design"),
    (dict(workloads=[]), ValueError, "workloads must be a non-empty list"),
    (dict(workloads=[3]), ValueError, "workloads must be a non-empty list"),
    (dict(workloads=_gemm()), ValueError, "workloads must be a non-empty list"),
    (dict(accuracy="yes"), TypeError, "accuracy must be a bool"),
    (dict(progress=1), TypeError, "progress must be a bool"),
    (dict(force="no"), TypeError, "force must be a bool"),
    (dict(chunk_size=0), ValueError, "chunk_size must be a positive int"),
    (dict(chunk_size=True), ValueError, "chunk_size must be a positive int"),
    (dict(chunk_size=2.0), ValueError, "chunk_size must be a positive int"),
    (dict(executor="threads"), TypeError, "executor must be a concurrent.futures.Executor"),
    (dict(out=3), TypeError, "out must be a path or None"),
    (dict(grid=[("design.unit.rows", [8])]), TypeError, "grid must be a"),
    (dict(grid={"design.unit.rows": []}), ValueError, "must be a non-empty list"),
    (dict(grid={"design.unit.rows": 8}), ValueError, "must be a non-empty list"),
    (dict(grid={1: [8]}), ValueError, "must start with 'design.'"),
])
def test_bad_sweep_arguments(kw, exc, msg):
    args = dict(design=_design(), grid=GRID, workloads=[_gemm()], executor=ThreadPoolExecutor(1), progress=False)
    with pytest.raises(exc, match=msg):
        accel.sweep(**{**args, **kw})


def test_invalid_points_are_rows_and_reused(tmp_path):
    out = tmp_path / "r.jsonl"
    rows = _run(out, grid={"workload.a_format": ["int8", "e4m3"]})
    assert "error" not in rows[0] and "has no 'e4m3'" in rows[1]["error"]
    ex = CountingExecutor()
    assert _run(out, grid={"workload.a_format": ["int8", "e4m3"]}, ex=ex) == rows and ex.points == 0


# -- fuzzing ---------------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402 - the fuzzing section's own imports
from hypothesis import strategies as st  # noqa: E402

_LINE = st.one_of(st.binary(max_size=30),
                  st.dictionaries(st.sampled_from(["hash", "point", "x"]), st.text(max_size=4) | st.integers(),
                                  max_size=3).map(lambda d: json.dumps(d).encode()))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, max_size=8), end=st.booleans())
def test_read_results_of_any_bytes(tmp_path, lines, end):
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"\n" if end else b""))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rows = accel.read_results(path)
        except ValueError as err:
            assert "is not a JSONL results file" in str(err)
            return
    assert all(isinstance(r, dict) for r in rows)
    keys = [S._row_key(r) for r in rows]
    assert len(keys) == len(set(keys))  # never a duplicate


_VALUE = st.one_of(st.integers(-3, 300), st.floats(allow_nan=True), st.text(max_size=5), st.none(), st.booleans())


@settings(max_examples=60)
@given(grid=st.dictionaries(st.sampled_from(["design.unit.rows", "design.clock_hz", "workload.a_format",
                                             "workload.k", "design.unit.rowz", "workload", "x"]),
                            st.lists(_VALUE, max_size=3) | _VALUE, max_size=3))
def test_sweep_of_any_grid_is_rows_or_a_clear_error(grid):
    try:
        rows = accel.sweep(_design(), grid, [_gemm()], executor=ThreadPoolExecutor(1), progress=False)
    except (ValueError, TypeError):
        return
    assert all(("error" in r) != ("seconds" in r) for r in rows)  # each point a result or a stated error


def test_values_that_print_alike_are_not_a_repeat():
    """The repeat check compares what a point's hash compares (every byte of an array), not the values' text: two
    weight matrices that print alike are two points (review s32: refused as a repeat)."""
    b1 = np.random.default_rng(4).standard_normal((16, 16))
    b2 = b1.copy()
    b2[8, 8] += 1e-9
    assert str(b1) == str(b2)
    g = accel.Gemm(16, 16, 16, a_format="int8", b=b1)
    rows = accel.sweep(accel.get_design("edge-npu"), {"workload.b": [b1, b2]}, [g], progress=False, workers=1)
    assert len(rows) == 2 and rows[0]["hash"] != rows[1]["hash"]
    with pytest.raises(ValueError, match=r"grid\['workload.b'\] holds .* twice"):
        accel.sweep(accel.get_design("edge-npu"), {"workload.b": [b1, b1.copy()]}, [g], progress=False, workers=1)


def test_crossbar_sweep_refuses_workload_formats_and_equal_numbers():
    """A grid axis over a field a crossbar never reads gave identical rows (audit s34), refused up front unless the grid
    swaps the unit itself; a value given as 1 and 1.0 is one point, refused as a repeat like [0.8, 0.8]."""
    import accel
    d, g = accel.get_design("hermes-like"), accel.Gemm(8, 256, 256)
    for key in ("workload.a_format", "workload.b_format", "workload.scaling"):
        vals = ["tensor", "channel"] if key.endswith("scaling") else ["int8", "int4"]
        with pytest.raises(ValueError, match=rf"grid key '{key}' sweeps a field hermes-like, a crossbar, never reads"):
            accel.sweep(d, {key: vals}, [g], progress=False)
    digital = accel.get_design("edge-npu").unit
    rows = accel.sweep(d, {"design.unit": [d.unit, digital], "workload.a_format": ["int8", "int4"]}, [g],
                       accuracy=False, progress=False)
    assert len(rows) == 4  # the unit swaps: the format reaches the digital one
    with pytest.raises(ValueError, match=r"grid\['design.unit.vdd_v'\] holds 1.0 twice"):
        accel.sweep(d, {"design.unit.vdd_v": [1, 1.0]}, [g], progress=False)
    # ints a float cannot hold exactly stay apart (seeds past 2^53 merged, and 10**400 overflowed; review s34b)
    rows = accel.sweep(accel.get_design("edge-npu"), {"workload.seed": [2 ** 53, 2 ** 53 + 1]}, [accel.Gemm(4, 4, 4)],
                       accuracy=False, progress=False)
    assert len(rows) == 2 and rows[0]["hash"] != rows[1]["hash"]
