"""Analog error bars and costs (#17 item 6): Network seed= / draws= with a mean and Student-t 95 %
interval, ADC conversions and latency per weight slice, drift-compensation reference reads, and energy per
inference in the report."""

import math

import numpy as np
import pytest

import accel
from accel.analog import Crossbar
from accel.analog.cost import crossbar_cost
from accel.analog.run import chain_accuracy, summarise_draws, t_quantile_975

HOUR = 3600.0


def _hermes():
    return accel.get_design("hermes-like")


def _small_chain(**kw):
    rng = np.random.default_rng(3)
    layers = (accel.Dense(rng.standard_normal((16, 12)), np.zeros(12)),
              accel.Dense(rng.standard_normal((12, 5)), np.zeros(5), None))
    return accel.Network("small", layers, inputs=rng.standard_normal((20, 16)),
                         labels=rng.integers(0, 5, 20), t_seconds=HOUR, compensation="global", **kw)


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 7, 10, 29, 100])
def test_t_quantile_matches_scipy(df):
    stats = pytest.importorskip("scipy.stats")
    assert t_quantile_975(df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-12)


def test_t_quantile_rejects_zero_df():
    with pytest.raises(ValueError, match="df must be >= 1"):
        t_quantile_975(0)


def test_summary_is_mean_std_and_t_interval():
    vals = [0.1, 0.3, 0.2, 0.25]
    runs = [{"rel_fro_err": v, "outputs_computed": 10} for v in vals]
    s = summarise_draws(runs)
    mean, std = np.mean(vals), np.std(vals, ddof=1)
    half = t_quantile_975(3) * std / 2.0
    assert s["rel_fro_err"] == pytest.approx(mean, rel=1e-15)
    assert s["rel_fro_err_std"] == pytest.approx(std, rel=1e-15)
    assert (s["rel_fro_err_ci95_lo"], s["rel_fro_err_ci95_hi"]) == pytest.approx((mean - half, mean + half), rel=1e-14)
    assert s["outputs_computed"] == 10 and s["draws"] == 4


def test_summary_interval_stays_within_what_the_metric_can_take():
    # two draws: t_{0.975, 1} = 12.7, so mean - half fell below 0 for an error (audit s34), and above 1 for a top-1
    runs = [{"rel_fro_err": 0.01, "top1": 0.99, "sqnr_db": 30.0, "rel_err_total": 0.01},
            {"rel_fro_err": 0.03, "top1": 0.95, "sqnr_db": 20.0, "rel_err_total": 0.03}]
    s = summarise_draws(runs)
    half = t_quantile_975(1) * np.std([0.01, 0.03], ddof=1) / math.sqrt(2)
    assert 0.02 - half < 0 and s["rel_fro_err_ci95_lo"] == 0.0 == s["rel_err_total_ci95_lo"]
    assert s["rel_fro_err_ci95_hi"] == pytest.approx(0.02 + half, rel=1e-14)
    half_top = t_quantile_975(1) * np.std([0.99, 0.95], ddof=1) / math.sqrt(2)  # 0.25
    assert s["top1_ci95_hi"] == 1.0 and s["top1_ci95_lo"] == pytest.approx(0.97 - half_top, rel=1e-14)
    assert s["sqnr_db_ci95_lo"] < 0  # dB is unbounded: not cut


def test_summary_of_an_overflowing_draw_says_so():
    s = summarise_draws([{"rel_fro_err": 0.1}, {"rel_fro_err": math.inf}])
    assert s["rel_fro_err"] == math.inf and s["rel_fro_err_std"] == math.inf
    assert (s["rel_fro_err_ci95_lo"], s["rel_fro_err_ci95_hi"]) == (0.1, math.inf)


def test_draws_give_mean_and_interval_on_a_chain():
    net = _small_chain(draws=4, seed=5)
    acc = accel.simulate(_hermes(), net).accuracy
    assert acc["draws"] == 4
    singles = [chain_accuracy(_hermes().unit, net, d) for d in range(4)]
    assert acc["rel_fro_err"] == pytest.approx(np.mean([r["rel_fro_err"] for r in singles]), rel=1e-12)
    for key in ("rel_fro_err", "sqnr_db", "top1", "agreement"):
        assert acc[f"{key}_ci95_lo"] <= acc[key] <= acc[f"{key}_ci95_hi"]
    # the float model does not depend on the device draw: zero spread
    assert acc["top1_float_std"] == 0.0
    # the draws differ (the device noise is redrawn)
    assert len({r["rel_fro_err"] for r in singles}) == 4


def test_one_draw_of_seed_zero_is_the_single_draw():
    net = _small_chain()
    acc = accel.simulate(_hermes(), net).accuracy
    assert "draws" not in acc and "rel_fro_err_ci95_lo" not in acc
    assert acc == chain_accuracy(_hermes().unit, net, 0)
    other = accel.simulate(_hermes(), net.replace(seed=1)).accuracy
    assert other["rel_fro_err"] != acc["rel_fro_err"]
    assert accel.simulate(_hermes(), net.replace(seed=1)).accuracy == other  # seeded: same again


def test_draws_on_a_network_of_gemms():
    g = (accel.Gemm(8, 64, 64, seed=1, name="a"), accel.Gemm(8, 32, 64, seed=2, name="b"))
    net = accel.Network("two", g, t_seconds=HOUR, compensation="global", draws=3)
    acc = accel.simulate(_hermes(), net).accuracy
    assert acc["draws"] == 3
    assert acc["rel_fro_err_ci95_lo"] <= acc["rel_fro_err"] <= acc["rel_fro_err_ci95_hi"]
    assert acc["rel_fro_err_std"] > 0


@pytest.mark.parametrize("field, value, exc, match", [
    ("draws", 0, ValueError, "Network.draws must be an int in 1..10000"),
    ("draws", 2.0, TypeError, "Network.draws must be"),
    ("draws", True, TypeError, "Network.draws must be"),
    ("seed", -1, ValueError, "Network.seed must be an int >= 0"),
    ("seed", "0", TypeError, "Network.seed must be an int >= 0"),
    ("inferences", 0, ValueError, "Network.inferences must be a positive int"),
    ("inferences", 7, ValueError, "inferences of a Dense chain is its batch of inputs"),
])
def test_bad_network_draw_fields(field, value, exc, match):
    with pytest.raises(exc, match=match):
        _small_chain(**{field: value})


def test_energy_per_inference_in_the_report():
    r = accel.simulate(_hermes(), accel.digits_mlp(), accuracy=False)
    assert r.energy_per_inference_j == r.energy_j / 500
    assert r.to_dict()["energy_per_inference_j"] == r.energy_j / 500
    tb = accel.transformer_block(seq=16, batch=2)
    rt = accel.simulate(accel.get_design("h100-like"), tb, accuracy=False)
    assert rt.energy_per_inference_j == rt.energy_j / 2
    rg = accel.simulate(_hermes(), accel.Gemm(8, 64, 64), accuracy=False)
    assert rg.energy_per_inference_j is None and "energy_per_inference_j" not in rg.to_dict()


@pytest.mark.parametrize("periphery", ["walden"])
@pytest.mark.parametrize("slices_bits", [(8, 2), (8, 4), (6, 1), (4, 4)])
def test_adc_conversions_and_latency_per_weight_slice(periphery, slices_bits):
    wb, bpc = slices_bits
    plain = Crossbar(adc_bits=8, dac_bits=8, periphery=periphery)
    sliced = Crossbar(adc_bits=8, dac_bits=8, weight_bits=wb, bits_per_cell=bpc, periphery=periphery)
    s = -(-wb // bpc)
    a = crossbar_cost(plain, 10, 256, 512, 0.3, 0.4)
    b = crossbar_cost(sliced, 10, 256, 512, 0.3, 0.4)
    assert b["counts"][("adc", "conversion")] == s * a["counts"][("adc", "conversion")]
    assert b["seconds"] == pytest.approx(s * a["seconds"], rel=1e-15)
    assert b["energy_pj"]["adc"] == pytest.approx(s * a["energy_pj"]["adc"], rel=1e-15)
    assert b["counts"][("dac", "conversion")] == a["counts"][("dac", "conversion")]


@pytest.mark.parametrize("xbar", [Crossbar(adc_bits=8, dac_bits=8),
                                  Crossbar(adc_bits=8, dac_bits=8, weight_bits=8, bits_per_cell=4),
                                  Crossbar(adc_bits=8, dac_bits=8, periphery="neurram")],
                         ids=["walden", "walden-sliced", "neurram"])
def test_compensation_reads_cost_one_mvm_per_tile(xbar):
    m, n, k = 10, 300, 600
    plain = crossbar_cost(xbar, m, n, k, 0.3, 0.4, count=2)
    comp = crossbar_cost(xbar, m, n, k, 0.3, 0.4, count=2, reference_reads=True)
    ref = crossbar_cost(xbar, 1, n, k, 0.3, 1.0, count=2)
    tiles = plain["counts"][("tile", "mvm")] // (m * 2 * xbar.phases) if xbar.periphery == "walden" else \
        plain["counts"][("tile", "mvm")] // (m * 2)
    assert comp["counts"][("compensation", "reference_mvm")] == tiles * 2
    assert comp["seconds"] == pytest.approx(plain["seconds"] + ref["seconds"], rel=1e-15)
    for key, v in plain["energy_pj"].items():
        assert comp["energy_pj"][key] == pytest.approx(v + ref["energy_pj"][key], rel=1e-15)
    assert comp["counts"][("adc", "conversion")] == plain["counts"][("adc", "conversion")] + \
        ref["counts"][("adc", "conversion")]


def test_compensated_network_costs_more_than_uncompensated():
    d = _hermes()
    net = accel.digits_mlp().replace(t_seconds=HOUR)
    off = accel.simulate(d, net, accuracy=False)
    on = accel.simulate(d, net.replace(compensation="global"), accuracy=False)
    assert on.energy_j > off.energy_j and on.seconds > off.seconds
    assert on.counts[("compensation", "reference_mvm")] == 2  # one tile per layer, one read each
    assert ("compensation", "reference_mvm") not in off.counts


def test_macro_report_drift_curve_has_error_bars():
    from accel.analog.report import macro_report
    rep = macro_report(_hermes(), times=[0.0, HOUR], draws=3, workload=accel.Gemm(8, 64, 64, seed=0))
    for t in (0.0, HOUR):
        a = rep["accuracy"][t]
        assert a["draws"] == 3 and a["rel_fro_err_ci95_lo"] <= a["rel_fro_err"] <= a["rel_fro_err_ci95_hi"]
    with pytest.raises(ValueError, match="macro_report.draws must be an int in 1..10000"):
        macro_report(_hermes(), times=[0.0], draws=0)


def test_sampled_rows_do_not_share_the_device_stream():
    """An analog GEMM with more rows of its real A than the sample takes picks them from a stream of its own: draw
    0's device noise is seeded by the Gemm's seed alone (draw_seed), which also picked the rows before 2026-11-30.4
    (drawn operands are drawn at the sample's size: no rows are picked)."""
    from accel.analog import run
    a_full = np.arange(1000.0)[:, None] * np.ones((1, 64))  # row i holds i: the sample shows which rows it took
    g = accel.Gemm(1000, 64, 64, a=a_full, b=np.ones((64, 64)), seed=7)
    a, _ = run._operands(g)
    assert run.draw_seed(0, 0, g.seed) == [g.seed]
    device_stream_rows = np.sort(np.random.default_rng([g.seed]).choice(1000, 128, replace=False))
    assert a.shape == (128, 64) and np.array_equal(a[:, 0], np.sort(a[:, 0]))
    assert not np.array_equal(a[:, 0], device_stream_rows)
