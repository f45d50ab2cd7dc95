"""scripts/analog_drift_study.py: each point is a mean with a 95 % interval over seeded device draws,
reproducible from its seeds, and docs/analog.md shows what the script prints."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("analog_drift_study", ROOT / "scripts" / "analog_drift_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_study_points_are_intervals_around_the_mean_and_reproducible():
    mod = _script()
    times = {"1 s": 1.0, "1 year": 3.15e7}
    res = mod.study(times, draws=2)
    assert len(res) == 2
    for rows in res.values():
        assert len(rows) in (3, 6)
        for vals in rows.values():
            assert len(vals) == len(times)
            for m, lo, hi in vals:
                assert lo <= m <= hi
    # the draws differ (device noise is drawn), so each tile interval has width
    tile = next(iter(res.values()))
    assert all(hi > lo for vals in tile.values() for _, lo, hi in vals)
    # drift without compensation grows the tile's error; compensation holds it lower at 1 year
    assert tile["perfect I/O, no compensation"][1][0] > tile["perfect I/O, global compensation"][1][0]
    assert mod.study(times, draws=2) == res
    text = mod.table(*next(iter(res.items())), times)
    assert text.splitlines()[2].count("[") == len(times)


def test_study_needs_two_draws():
    with pytest.raises(ValueError, match="draws"):
        _script().study({"1 s": 1.0}, draws=1)


@pytest.mark.slow
def test_docs_show_what_the_script_prints():
    mod = _script()
    doc = (ROOT / "docs" / "analog.md").read_text()
    for title, rows in mod.study().items():
        assert mod.table(title, rows) in doc
