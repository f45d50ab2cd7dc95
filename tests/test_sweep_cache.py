"""A sweep with accuracy on keeps one accuracy cache beside its log (issue #17): grid points that differ
only in what does not change the numbers (array size, memories) share one measurement, and a resumed or
repeated sweep reads it back instead of computing it again."""

import accel
from accel.accuracy import AccuracyCache


def test_points_that_share_formats_share_one_accuracy_entry(tmp_path):
    out = tmp_path / "s.jsonl"
    grid = {"design.unit.sm_count": [33, 66, 132], "workload.a_format": ["e4m3", "fp16"]}
    rows = accel.sweep(accel.get_design("h100-like"), grid, [accel.Gemm(64, 64, 128, "e4m3")], out=out,
                       accuracy=True, progress=False)
    cache = AccuracyCache(f"{out}.accuracy.jsonl")
    assert len(cache._mem) == 2  # one per format, not one per point
    by_fmt = {}
    for r in rows:
        by_fmt.setdefault(r["a_format"], set()).add(r["rel_err_total"])
    assert all(len(v) == 1 for v in by_fmt.values())
    # the same numbers as a fresh simulate without any cache
    fresh = accel.simulate(accel.get_design("h100-like"), accel.Gemm(64, 64, 128, "fp16"))
    assert by_fmt["fp16"] == {fresh.accuracy["rel_err_total"]}


def test_no_cache_file_without_accuracy_or_without_a_log(tmp_path):
    out = tmp_path / "t.jsonl"
    accel.sweep(accel.get_design("h100-like"), {"design.unit.sm_count": [33, 66]}, [accel.Gemm(8, 8, 8, "e4m3")],
                out=out, accuracy=False, progress=False)
    assert not (tmp_path / "t.jsonl.accuracy.jsonl").exists()


def test_without_a_log_points_still_share_one_measurement(monkeypatch):
    """No out=: the points a process evaluates share an in-memory cache (one accuracy run per format)."""
    from accel.accuracy import gemm_accuracy as real
    calls = []

    def counting(g, acc, *args):
        calls.append((g.a_format, acc))
        return real(g, acc, *args)

    monkeypatch.setattr("accel.accuracy.gemm_accuracy", counting)
    from accel.sweep import run_points
    d = accel.get_design("h100-like")
    points = [(0, {"design.unit.sm_count": n}, str(n)) for n in (33, 66, 132)]
    rows = run_points(d, [accel.Gemm(64, 64, 128, "e4m3")], points, accuracy=True)
    assert len({r["rel_err_total"] for r in rows}) == 1
    assert len(calls) == 1
