"""Pareto analysis: a direction per objective, fronts per workload, the hypervolume figure, and plots with
units, a marker on every front point and readable log ticks."""

import sys

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

import accel

matplotlib.use("Agg")
sweep_mod = sys.modules["accel.sweep"]

# two workloads; on "a", p1 and p2 trade latency for energy, p3 is worse than both on each
ROWS = [dict(workload="a", id="p1", seconds=1e-3, energy_j=2e-3, ops_per_s=4e12),
        dict(workload="a", id="p2", seconds=2e-3, energy_j=1e-3, ops_per_s=2e12),
        dict(workload="a", id="p3", seconds=3e-3, energy_j=3e-3, ops_per_s=1e12),
        dict(workload="b", id="q1", seconds=5e-3, energy_j=5e-3, ops_per_s=9e12)]


def ids(rows):
    return [r["id"] for r in rows]


def test_latency_front_minimises():
    """The latency/energy front keeps the fastest and the most frugal points, not the slowest."""
    assert ids(accel.pareto_front(ROWS[:3], minimize=("seconds", "energy_j"))) == ["p1", "p2"]
    # maximising latency (the old always-maximise-y behaviour) would pick the slowest: the direction matters
    assert ids(accel.pareto_front(ROWS[:3], maximize=("seconds",), minimize=("energy_j",))) == ["p2", "p3"]


def test_fronts_per_workload_do_not_mix():
    # pooled, q1 (another workload, slower and costlier) is dominated by p1; per workload it is its own front
    assert ids(accel.pareto_front(ROWS, minimize=("seconds", "energy_j"))) == ["p1", "p2"]
    assert ids(accel.pareto_front(ROWS, minimize=("seconds", "energy_j"), by="workload")) == ["p1", "p2", "q1"]


def test_three_objectives():
    # p3 is slowest, costliest and has the least throughput: dominated on all three
    front = accel.pareto_front(ROWS[:3], maximize=("ops_per_s",), minimize=("seconds", "energy_j"))
    assert ids(front) == ["p1", "p2"]


@pytest.mark.parametrize("kwargs, exc, msg", [
    (dict(), ValueError, "at least one objective"),
    (dict(maximize=("seconds",), minimize=("seconds",)), ValueError, "both maximized and minimized"),
    (dict(minimize="seconds"), TypeError, "minimize must be a tuple of column names"),
    (dict(maximize=(1,)), TypeError, "maximize must be a tuple of column names"),
])
def test_pareto_bad_objectives(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        accel.pareto_front(ROWS, **kwargs)


@pytest.mark.parametrize("col, want", [("seconds", "min"), ("energy_j", "min"), ("energy_hbm_j", "min"),
                                       ("rel_fro_err", "min"), ("ops_per_s", "max"), ("top1", "max")])
def test_direction_of_known_columns(col, want):
    assert sweep_mod.direction(col) == want


def test_direction_of_unknown_column_asks():
    with pytest.raises(ValueError, match="no known direction for 'widgets'"):
        sweep_mod.direction("widgets")


def test_hypervolume_hand_derived():
    # normalised over the rows: p1 -> (1, 0.5), p2 -> (0.5, 1) on (seconds, energy) scaled to [0, 1] by the
    # range 1..3 ms; union of the boxes = 0.5 + 0.5 - 0.25 = 0.75
    assert sweep_mod.hypervolume(ROWS[:3], minimize=("seconds", "energy_j")) == pytest.approx(0.75)
    # one point best on every objective dominates the whole box
    assert sweep_mod.hypervolume(ROWS[:3], minimize=("seconds",)) == pytest.approx(1.0)
    # raw units against the reference (4 ms, 3 mJ): p1's box 3 x 1, p2's 2 x 2, overlap 2 x 1: 3 + 4 - 2 = 5 ms mJ
    hv = sweep_mod.hypervolume(ROWS[:3], minimize=("seconds", "energy_j"), ref={"seconds": 4e-3, "energy_j": 3e-3},
                               normalize=False)
    assert hv == pytest.approx(5e-6)


def test_hypervolume_three_objectives_hand_derived():
    rows = [dict(a=1.0, b=0.0, c=0.0), dict(a=0.0, b=1.0, c=0.0), dict(a=0.0, b=0.0, c=1.0), dict(a=0.0, b=0.0, c=0.0)]
    # maximise a, b, c from the reference 0: three unit segments span no volume; add a point inside
    assert sweep_mod.hypervolume(rows, maximize=("a", "b", "c")) == 0.0
    rows.append(dict(a=0.5, b=0.5, c=0.5))
    assert sweep_mod.hypervolume(rows, maximize=("a", "b", "c")) == pytest.approx(0.125)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(minimize=("nothing",)), "no row has every objective"),
    (dict(minimize=("seconds",), ref={"energy_j": 1.0}), "ref has"),
])
def test_hypervolume_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        sweep_mod.hypervolume(ROWS, **kwargs)


@given(st.lists(st.tuples(st.floats(0.01, 100), st.floats(0.01, 100)), min_size=1, max_size=12))
def test_hypervolume_properties(pairs):
    rows = [dict(x=x, y=y) for x, y in pairs]
    hv = sweep_mod.hypervolume(rows, minimize=("x",), maximize=("y",))
    assert 0.0 <= hv <= 1.0 + 1e-12
    front = accel.pareto_front(rows, minimize=("x",), maximize=("y",))
    assert front  # a non-empty set always has a non-dominated point
    # only the front counts: dominated points add no volume (raw units, one fixed reference for both)
    ref = {"x": 200.0, "y": 0.0}
    whole = sweep_mod.hypervolume(rows, minimize=("x",), maximize=("y",), ref=ref, normalize=False)
    assert whole > 0
    assert sweep_mod.hypervolume(front, minimize=("x",), maximize=("y",), ref=ref, normalize=False) == \
        pytest.approx(whole)
    # and it is at most the bounding box of the best values
    assert whole <= (200.0 - min(p[0] for p in pairs)) * max(p[1] for p in pairs) * (1 + 1e-12)


def _drawn(fig):
    fig.canvas.draw()
    return fig.axes[0]


def test_plot_latency_front_minimises_and_one_point_front_has_a_marker(tmp_path):
    fig = accel.plot_pareto(ROWS, x="energy_j", y="seconds", label="id")
    ax = _drawn(fig)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    a, b = lines["front: a (2 pt, hypervolume 0.750)"], lines["front: b (1 pt, hypervolume 1.000)"]
    assert sorted(a.get_ydata()) == [1e-3, 2e-3]  # the fast, frugal points: not p3
    assert b.get_marker() == "o" and len(b.get_xdata()) == 1  # a single point is drawn and in the legend
    assert [t.get_text() for t in ax.texts] == ["p2", "p1", "q1"]
    assert "seconds [s] (lower is better)" == ax.get_ylabel() and "energy_j [J]" in ax.get_xlabel()
    labels = [t.get_text() for t in ax.yaxis.get_ticklabels() if t.get_text()]
    lo, hi = ax.get_ylim()
    shown = [t for t, v in zip(ax.yaxis.get_ticklabels(), ax.yaxis.get_ticklocs()) if lo <= v <= hi and t.get_text()]
    assert 2 <= len(shown) <= 7 and all(s.endswith("s") for s in labels)  # SI-prefixed: "2 ms"
    minor = [t.get_text() for t in ax.yaxis.get_ticklabels(minor=True)]
    assert not any(minor)  # no labels on minor ticks: they overlapped
    fig.savefig(tmp_path / "p.png")


def test_plot_explicit_direction_for_unknown_column():
    rows = [dict(workload="w", area=1.0 + i, ops_per_s=1e12 * (1 + i)) for i in range(3)]
    with pytest.raises(ValueError, match="no known direction for 'area'"):
        accel.plot_pareto(rows, x="area", y="ops_per_s")
    ax = _drawn(accel.plot_pareto(rows, x="area", y="ops_per_s", minimize=("area",)))
    front = next(ln for ln in ax.get_lines() if ln.get_label().startswith("Pareto front"))
    assert len(front.get_xdata()) == 3  # each step costs area and buys throughput: all on the front
