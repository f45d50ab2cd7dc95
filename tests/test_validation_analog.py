"""The macro presets against their papers (accel/data/macros/published.json, docs/validation.md): each
preset reproduces its one calibration point, and its predictions of every other published point stay
within the issue's targets (mean |error| <= 10 % on TOPS, TOPS/W and energies per macro, <= 10 percentage
points on breakdown shares), or, where the model misses, at the error it achieves (named below: a larger
error than today's fails)."""

import pytest

import accel
from accel.analog.validation import model_value, published_points, summary, table_markdown, validate

ROWS = validate()
SUMMARY = summary(ROWS)
TARGET = 0.10   # relative, TOPS / TOPS/W / energy
TARGET_PP = 10.0  # breakdown shares, percentage points

# The targets (mean |error| <= 10 %, or 10 pp on shares) are asserted for every macro and metric. Four
# miss them; those assertions are expected failures (strict: one that starts passing fails the suite, so the
# mark must then go), and a second test holds each miss at the error reached (rounded up) so it cannot grow:
MISSES = {
    # Jia TOPS: 1.2 V is -43 % (the CIMU runs on the chip's clock; the alpha-power law, alpha 1.3, V_th 0.35 V,
    # gives 1.41x from 0.85 to 1.2 V; the chip measured 2.5x). The 8-bit-input point is outside the macro (the
    # memory hierarchy feeding it) and not counted.
    ("jia-sram-like", "tops"): 0.15,
    ("jia-sram-like", "tops_per_mm2_cimu"): 0.24,  # the same 1.2 V clock (-40 %); 0.85 V is +7 %
    # Sinangil TOPS/W at 1.0 V: -10 to -28 %; the paper's own Table I (1.0 V) and Fig. 13(b) disagree by 21 % at
    # the worst-case data; V^2 predicts Fig. 13(b) within 7 %, and Table I's output-6 point has its
    # data-dependent energy falling as the supply rises (2.48 -> 1.68 pJ), which C V^2 cannot do
    ("sinangil-sram-like", "tops_per_w"): 0.14,
    # HERMES TOPS/W with 8 of 64 cores in use (Le Gallo et al. 2023, Table 1's ResNet-9 layer): +40 % in both
    # modes; the chip's figures add its standby power (Methods), paid by all 64 cores, and the model has no static
    # term (at the full-chip calibration point that power sits inside the CCO's energy and scales down with the
    # cores used); 32 cores at 97 % come within 3.3 %, and no source gives the standby power to add
    ("hermes-like", "tops_per_w"): 0.16,
}


def _target(key):
    return TARGET_PP if key[1].endswith("share") else TARGET


@pytest.mark.parametrize("key", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=f"known miss of the target, {MISSES[k]:.0%} at most"))
    if k in MISSES else k for k in sorted(SUMMARY)], ids=[f"{m}-{k}" for m, k in sorted(SUMMARY)])
def test_prediction_error_per_macro(key):
    mean, n = SUMMARY[key]
    assert n >= 1
    assert mean <= _target(key), f"{key}: mean |error| {mean:.3f} over {n} predictions"


@pytest.mark.parametrize("key", sorted(MISSES), ids=[f"{m}-{k}" for m, k in sorted(MISSES)])
def test_known_misses_do_not_grow(key):
    mean, n = SUMMARY[key]
    assert _target(key) < mean <= MISSES[key], f"{key}: mean |error| {mean:.3f} over {n} predictions"


def test_points_outside_the_macro_are_listed_not_counted():
    out = [r for r in ROWS if r["role"] == "outside"]
    assert [(r["macro"], r["config"]) for r in out] == [("jia-sram-like", {"dac_bits": 9})]
    assert all(r["note"] and "error" in r for r in out)
    assert {r["role"] for r in ROWS} == {"calibration", "prediction", "outside"}


def test_every_macro_has_predictions():
    macros = {r["macro"] for r in ROWS if r["role"] == "prediction"}
    assert macros == {"hermes-like", "neurram-like", "jia-sram-like", "sinangil-sram-like", "wang-c2c-like"}
    assert sum(r["role"] == "prediction" for r in ROWS) >= 80


@pytest.mark.parametrize("row", [r for r in ROWS if r["role"] == "calibration"],
                         ids=lambda r: f"{r['macro']}-{r['metric']}-{r['config']}")
def test_calibration_points_reproduced(row):
    # each preset is fitted to one operating point; its figures there come back (the Horowitz shift-add, not
    # part of the fit, adds up to 0.6 pp / 0.6 %)
    if "error_pp" in row:
        assert abs(row["error_pp"]) <= 1.0
    else:
        assert abs(row["error"]) <= 0.01


def test_hermes_done_criteria():
    # Le Gallo et al. 2023: 63.1 / 16.1 TOPS and 9.76 / 2.48 TOPS/W (read_phases 1 / 4)
    d = accel.get_design("hermes-like")
    four = accel.set_field(d, "unit.read_phases", 4)
    assert d.peak_ops_per_s() / 1e12 == pytest.approx(63.1, rel=0.01)
    assert four.peak_ops_per_s() / 1e12 == pytest.approx(16.1, rel=0.03)
    assert d.peak_ops_per_j() / 1e12 == pytest.approx(9.76, rel=0.01)
    assert four.peak_ops_per_j() / 1e12 == pytest.approx(2.48, rel=0.01)


def test_one_calibration_point_per_macro():
    # every calibration point of a macro is the same operating point: the preset with the point's fields set
    # resolves to one unit (a supply equal to the reference is the reference)
    for macro in {p["macro"] for p in published_points()}:
        units = set()
        for p in published_points():
            if p["macro"] != macro or p["role"] != "calibration":
                continue
            d = accel.get_design(macro)
            for k, v in p["config"].items():
                d = accel.set_field(d, f"unit.{k}", v)
            u = d.unit
            if u.periphery != "walden" and u.vdd_v == u.periphery.vdd_ref_v:
                u = accel.set_field(u, "vdd_v", None)
            units.add(u)
        assert len(units) == 1, macro


def test_table_and_model_value():
    md = table_markdown(ROWS[:3])
    assert md.startswith("| macro |") and md.count("\n") == 4
    with pytest.raises(ValueError, match="unknown metric"):
        model_value({"macro": "wang-c2c-like", "config": {}, "metric": "tops_per_cm2"})


def test_page_shows_what_the_script_prints():
    # docs/validation.md's per-point table and summary are scripts/macro_study.py --validation's output, verbatim
    import contextlib
    import importlib.util
    import io
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("macro_study", root / "scripts" / "macro_study.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        mod.print_validation()
    page = (root / "docs" / "validation.md").read_text(encoding="utf-8")
    blocks = buf.getvalue().rstrip("\n").split("\n\n")
    assert len(blocks) == 2
    for block in blocks:
        assert block in page


def test_published_points_are_pinned():
    """The published figures, and the role each plays, cannot change unnoticed: deleting a prediction that misses
    (an audit of 2026-12-01 removed Wang's three worst TOPS/W rows and every other test passed) or relabelling one
    changes these counts and the file's digest. A deliberate change updates both, its reason in the commit."""
    import collections
    import hashlib
    from pathlib import Path
    path = Path(accel.__file__).parent / "data" / "macros" / "published.json"
    assert hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest() == \
        "51c669a7812b01c86f3e47711ae0fde4bac8eee41e948470fa3964dafab14612"
    roles = collections.Counter((p["macro"], p["role"]) for p in published_points())
    assert roles == {("hermes-like", "calibration"): 3, ("hermes-like", "prediction"): 18,
                     ("jia-sram-like", "calibration"): 10, ("jia-sram-like", "outside"): 1,
                     ("jia-sram-like", "prediction"): 9, ("neurram-like", "calibration"): 8,
                     ("neurram-like", "prediction"): 39, ("sinangil-sram-like", "calibration"): 9,
                     ("sinangil-sram-like", "prediction"): 19, ("wang-c2c-like", "calibration"): 10,
                     ("wang-c2c-like", "prediction"): 14}
