"""Sweeps: grid expansion, dotted fields, the JSONL log and resuming it, executors (local processes,
threads, a Dask LocalCluster), Pareto fronts and plots."""

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import accel

GRID = {"design.unit.rows": [16, 32, 64], "workload.a_format": ["int8", "int4"]}


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self):
        super().__init__(1)
        self.points = 0

    def submit(self, fn, *args, **kw):
        self.points += len(args[2])
        return super().submit(fn, *args, **kw)


def _design():
    return accel.get_design("edge-npu")


def _gemms():
    return [accel.Gemm(64, 64, 256, a_format="int8"), accel.Gemm(128, 32, 64, a_format="int8")]


def test_set_field_and_grid():
    d = accel.set_field(_design(), "unit.rows", 8)
    assert d.unit.rows == 8 and d.unit.cols == 128 and _design().unit.rows == 64
    d = accel.set_field(d, "memories.1.bandwidth_bytes_per_s", 1e9)
    assert d.memories[1].bandwidth_bytes_per_s == 1e9
    assert accel.set_field(d, "unit.dataflow", "os").unit.dataflow == accel.Dataflow.OS
    with pytest.raises(ValueError, match="SystolicArray has no field 'rowz'"):
        accel.set_field(d, "unit.rowz", 1)
    with pytest.raises(ValueError, match="rows must be a positive int"):
        accel.set_field(d, "unit.rows", 0)
    pts = accel.grid_points(GRID)
    assert len(pts) == 6 and pts[1] == {"design.unit.rows": 16, "workload.a_format": "int4"}
    with pytest.raises(ValueError, match="must start with 'design.' or 'workload.'"):
        accel.grid_points({"rows": [1]})


def test_sweep_rows_match_simulate(tmp_path):
    rows = accel.sweep(_design(), GRID, _gemms(), executor=ThreadPoolExecutor(2), out=tmp_path / "r.jsonl",
                       progress=False, chunk_size=4)
    assert len(rows) == 12
    d, w = accel.apply_point(_design(), _gemms()[1], {"design.unit.rows": 32, "workload.a_format": "int4"})
    want = accel.simulate(d, w, accuracy=False).to_dict()
    got = next(r for r in rows if r["design.unit.rows"] == 32 and r["a_format"] == "int4" and r["m"] == 128)
    assert {k: got[k] for k in want} == json.loads(json.dumps(want))
    assert len(accel.read_results(tmp_path / "r.jsonl")) == 12


def test_resume_after_interruption(tmp_path):
    out = tmp_path / "r.jsonl"
    full = accel.sweep(_design(), GRID, _gemms(), executor=ThreadPoolExecutor(1), out=out, progress=False)
    lines = out.read_text().splitlines()
    # an interruption: 5 points written, the 6th cut mid-line
    out.write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    ex = CountingExecutor()
    with pytest.warns(UserWarning, match=r"line\(s\) 6;"):  # the cut line is named, then recomputed
        again = accel.sweep(_design(), GRID, _gemms(), executor=ex, out=out, progress=False)
    assert ex.points == 7  # only the missing points were computed
    assert again == full
    rows = accel.read_results(out)
    assert len({r["point"] for r in rows}) == 12
    ex = CountingExecutor()
    accel.sweep(_design(), GRID, _gemms(), executor=ex, out=out, progress=False)
    assert ex.points == 0  # nothing left to do


def test_default_process_pool_and_errors_as_rows(monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["accel.sweep"], "_POOL_MIN_POINTS", 2)  # a pool even for these six points
    grid = {"workload.a_format": ["int8", "int4", "e4m3"]}  # e4m3 is not on the edge NPU
    rows = accel.sweep(_design(), grid, _gemms(), progress=False, chunk_size=2)
    assert len(rows) == 6
    bad = [r for r in rows if "error" in r]
    assert len(bad) == 2 and "has no 'e4m3'" in bad[0]["error"]
    # a failed row still names its design and the workload it built (the point was built; simulate refused it)
    assert all(r["design"] == _design().name and r["workload"] == "gemm" and r["a_format"] == "e4m3" for r in bad)
    # a point that cannot be built names the base design and, as the grid changed a workload field, its kind only
    rows = accel.sweep(_design(), {"workload.m": [8, -1]}, _gemms()[:1], progress=False, workers=1)
    bad = [r for r in rows if "error" in r]
    assert len(bad) == 1 and bad[0]["design"] == _design().name and bad[0]["workload"] == "gemm" and "m" not in bad[0]


def test_failed_rows_describe_what_the_point_did_not_change():
    d = accel.get_design("neurram-like")
    works = [accel.Gemm(8, 128, 128), accel.Gemm(8, 128, 128, t_seconds=86400.0)]
    rows = accel.sweep(d, {"design.unit.dac_bits": [2, 4], "design.unit.input_phases": [2]}, works,
                       progress=False, workers=1)
    bad, good = [r for r in rows if "error" in r], [r for r in rows if "error" not in r]
    assert len(bad) == len(good) == 2
    for b, g in zip(bad, good):  # the same workload's description as its computed row: formats None on a crossbar
        assert {k: b[k] for k in works[0].describe()} == {k: g[k] for k in works[0].describe()}
        assert b["design"] == g["design"] == "neurram-like" and b["a_format"] is None
    assert [b["t_seconds"] for b in bad] == [0.0, 86400.0]


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        rows = accel.sweep(_design(), GRID, _gemms(), executor=client.get_executor(), out=tmp_path / "d.jsonl",
                           progress=False, chunk_size=3)
    local = accel.sweep(_design(), GRID, _gemms(), executor=ThreadPoolExecutor(1), progress=False)
    assert rows == local


def test_pareto_front_and_plot(tmp_path):
    rows = [{"e": 1, "t": 1}, {"e": 2, "t": 3}, {"e": 3, "t": 2}, {"e": 2, "t": 3}, {"e": 0.5, "t": 0.1}]
    front = accel.pareto_front(rows, maximize=("t",), minimize=("e",))
    assert front == [{"e": 1, "t": 1}, {"e": 2, "t": 3}, {"e": 2, "t": 3}, {"e": 0.5, "t": 0.1}]
    rows = accel.sweep(_design(), GRID, _gemms()[:1], executor=ThreadPoolExecutor(1), progress=False)
    accel.plot_pareto(rows, path=tmp_path / "p.png", color="utilisation", label="design.unit.rows")
    assert (tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="needs at least one objective"):
        accel.pareto_front(rows)


def test_progress_bar_after_the_delay(capsys, monkeypatch):
    """The live bar: drawn once the sweep has run PROGRESS_DELAY_S (0 here, so no timing is involved),
    counting every point; progress=False draws nothing."""
    import sys
    monkeypatch.setattr(sys.modules["accel.sweep"], "PROGRESS_DELAY_S", 0.0)  # accel.sweep is the function
    grid = {"design.unit.rows": [8, 16, 32]}
    d, w = accel.get_design("scalesim-32x32"), [accel.Gemm(64, 64, 64, a_format="int8")]
    accel.sweep(d, grid, w, progress=True, workers=1)
    err = capsys.readouterr().err
    assert "sweep" in err and "3/3" in err
    accel.sweep(d, grid, w, progress=False, workers=1)
    assert capsys.readouterr().err == ""


def test_a_points_fields_change_together():
    # analog weights -> bit-sliced ones needs weight_bits and bits_per_cell at once: a zipped pair is one point
    d = accel.get_design("hermes-like")
    rows = accel.sweep(d, {"zip": {"design.unit.weight_bits": [8, 4], "design.unit.bits_per_cell": [4, 4]}},
                       [accel.Gemm(8, 256, 256)], progress=False)
    assert [r.get("error") for r in rows] == [None, None]
    want = accel.simulate(d.replace(unit=dataclasses.replace(d.unit, weight_bits=8, bits_per_cell=4)),
                          accel.Gemm(8, 256, 256), accuracy=False)
    assert rows[0]["energy_j"] == want.energy_j and rows[0]["seconds"] == want.seconds


def test_set_fields_is_set_field_for_several():
    from accel.sweep import set_field, set_fields
    d = accel.get_design("a100-like")
    one = set_field(set_field(d, "clock_hz", 1.0e9), "memories.0.bandwidth_bytes_per_s", 1e12)
    assert set_fields(d, {"clock_hz": 1.0e9, "memories.0.bandwidth_bytes_per_s": 1e12}) == one
    with pytest.raises(ValueError, match=r"Design has no field 'clok_hz'"):
        set_fields(d, {"clok_hz": 1.0, "node_nm": 7.0})
    with pytest.raises(ValueError, match=r"'9' is not an index into a tuple of"):
        set_fields(d, {"memories.9.size_bytes": 1, "clock_hz": 1.0e9})
    with pytest.raises(ValueError, match=r"'unit' is set whole and in its fields at once"):
        set_fields(d, {"unit": d.unit, "unit.name": "x"})
