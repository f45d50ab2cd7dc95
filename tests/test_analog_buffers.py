"""Memory levels on crossbar designs: the activations' buffers (accel.analog.cost.buffer_traffic), priced by the
memory model (accel.memory_model) at the unit's node. Traffic is counted by hand here; the SRAM level's energy and
area are read straight from the CACTI table (accel/data/cacti/sram.csv) at a tabulated point."""

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

import accel
from accel.design import MemoryLevel
from accel.workloads import Gemm

_CSV = Path(accel.__file__).parent / "data" / "cacti" / "sram.csv"


def _pinned(name="act", pj=2.0, bw=math.inf, size=1 << 20):
    return MemoryLevel(name=name, size_bytes=size, bandwidth_bytes_per_s=bw, energy_pj_per_byte=pj)


def _cacti_row(node, capacity, word_bits):
    with open(_CSV) as f:
        for r in csv.DictReader(f):
            if (float(r["node_nm"]), int(r["capacity_bytes"]), int(r["word_bits"])) == (node, capacity, word_bits):
                return r
    raise AssertionError("no such CACTI row")


@pytest.mark.parametrize("name", ["hermes-like", "neurram-like", "jia-sram-like", "sinangil-sram-like",
                                  "wang-c2c-like"])
def test_one_level_by_hand(name):
    """One pinned level: every input read once (dac_bits / 8 bytes: the DAC's code), every output written once
    (the fp32 accumulator's 4 bytes); the arrays' energies, time and counts are those of the design without it."""
    d = accel.get_design(name)
    u = d.unit
    m, n, k = 64, u.weight_cols(), u.weight_rows()
    g = Gemm(m, n, k)
    bare = accel.simulate(d, g, accuracy=False)
    r = accel.simulate(d.replace(memories=(_pinned(),)), g, accuracy=False)
    nbytes = m * k * u.dac_bits / 8 + m * n * 4
    assert r.counts[("act", "byte")] == pytest.approx(nbytes, rel=1e-15)
    assert r.energy_breakdown_j["act"] == pytest.approx(nbytes * 2.0e-12, rel=1e-12)
    assert r.seconds == bare.seconds and r.bound == "compute"
    for key, v in bare.energy_breakdown_j.items():
        assert r.energy_breakdown_j[key] == v
    assert r.leakage_j > 0 and bare.leakage_j is None  # the buffer's static power; the macros' is in their energies
    assert r.energy_j == pytest.approx(bare.energy_j + nbytes * 2.0e-12 + r.leakage_j, rel=1e-12)
    assert {k: v for k, v in r.area_breakdown_mm2.items() if k != "act"} == bare.area_breakdown_mm2
    assert r.area_breakdown_mm2["act"] > 0  # a pinned level of 1 MiB is on-die: CACTI's area at the unit's node


def test_levels_move_what_they_hand_in_and_take_from_outside():
    """Two levels: the inner one reads the inputs to the arrays and takes them from the outer (2x), outputs go in
    and out of it (2x); the outermost moves each once. A bandwidth-starved level bounds the GEMM's time."""
    d = accel.get_design("neurram-like")
    g = Gemm(100, 300, 200, count=2)
    once = 2 * (100 * 200 * d.unit.dac_bits / 8 + 100 * 300 * 4)
    inner, outer = _pinned("buf", 1.0), _pinned("dram", 20.0, bw=1e8, size=1 << 32)
    r = accel.simulate(d.replace(memories=(inner, outer)), g, accuracy=False)
    assert r.counts[("buf", "byte")] == pytest.approx(2 * once) and r.counts[("dram", "byte")] == pytest.approx(once)
    compute = accel.simulate(d, g, accuracy=False).seconds
    assert once / 1e8 > compute  # the case is bandwidth-bound by construction
    assert r.seconds == pytest.approx(once / 1e8, rel=1e-12) and r.bound == "dram"
    assert r.compute_cycles == round(compute * d.clock_hz) < r.cycles  # the arrays' time alone, the bound one
    assert r.utilisation < accel.simulate(d, g, accuracy=False).utilisation
    assert "dram" not in r.area_breakdown_mm2  # more than 1 GiB pinned: off-die


def test_ideal_dac_and_accumulators_set_the_widths():
    """An ideal DAC (dac_bits None) takes a float32 whatever the workload's format (a crossbar reads none); outputs
    leave in the accumulator's format. On the 'walden' cost the level's energy is priced, and no area or leakage."""
    base = accel.Design(name="w", clock_hz=1e9, unit=accel.Crossbar(rows=64, cols=64), memories=(_pinned(),))
    for fmt in ("fp16", "int8"):
        g = Gemm(8, 64, 64, a_format=fmt)
        for acc, out in (("fp32", 4), ("fp16", 2), ("exact", 8)):
            d = base.replace(unit=dataclasses.replace(base.unit, accumulator=acc))
            r = accel.simulate(d, g, accuracy=False)
            assert r.counts[("act", "byte")] == 8 * 64 * 4 + 8 * 64 * out
            assert r.energy_breakdown_j["act"] == pytest.approx((8 * 64 * 4 + 8 * 64 * out) * 2e-12, rel=1e-12)
            assert r.area_mm2 is None and r.leakage_j is None
    g = Gemm(8, 64, 64, a_format="fp16")
    d = base.replace(unit=dataclasses.replace(base.unit, dac_bits=5, adc_bits=8))
    assert accel.simulate(d, g, accuracy=False).counts[("act", "byte")] == 8 * 64 * 5 / 8 + 8 * 64 * 4


def test_sram_level_reads_the_cacti_table():
    """An "sram" level on wang-c2c-like (22 nm, a tabulated CACTI node): energy per byte = CACTI's read energy of a
    1 MiB bank with 64-bit words / 8, area its area_mm2, leakage the design model's density x that area x seconds."""
    from accel.memory_model import leakage_w_per_mm2
    d = accel.get_design("wang-c2c-like")
    lvl = MemoryLevel(name="act", size_bytes=1 << 20, bandwidth_bytes_per_s=math.inf, energy_pj_per_byte=1.0,
                      technology="sram", word_bytes=8)
    row = _cacti_row(22.0, 1 << 20, 64)
    g = Gemm(32, d.unit.weight_cols(), d.unit.weight_rows())
    r = accel.simulate(d.replace(memories=(lvl,)), g, accuracy=False)
    nbytes = r.counts[("act", "byte")]
    assert r.energy_breakdown_j["act"] == pytest.approx(nbytes * float(row["read_nj"]) * 1e3 / 8 * 1e-12, rel=1e-9)
    assert r.area_breakdown_mm2["act"] == pytest.approx(float(row["area_mm2"]), rel=1e-9)
    assert r.leakage_j == pytest.approx(leakage_w_per_mm2(22.0) * float(row["area_mm2"]) * r.seconds, rel=1e-12)
    assert r.energy_breakdown_j["leakage"] == r.leakage_j


def test_peaks_and_names():
    """Peaks stay the arrays' and periphery's (compute only, as a digital design's); a level may not take a cost
    component's name; traffic is additive over a network's layers and in m."""
    for name in ("hermes-like", "sinangil-sram-like"):
        d = accel.get_design(name)
        with_buf = d.replace(memories=(_pinned(),))
        assert with_buf.peak_ops_per_j() == d.peak_ops_per_j()
        assert with_buf.peak_ops_per_s() == d.peak_ops_per_s()
    w = accel.Design(name="w", clock_hz=1e9, unit=accel.Crossbar(rows=64, cols=64))
    assert w.replace(memories=(_pinned(),)).peak_ops_per_j() == w.peak_ops_per_j()
    for bad in ("adc", "array", "digital", "leakage"):
        with pytest.raises(ValueError, match=rf"may not be named {bad!r}"):
            w.replace(memories=(_pinned(bad),))
    d = accel.get_design("hermes-like").replace(memories=(_pinned(),))
    one = accel.simulate(d, Gemm(10, 256, 256), accuracy=False).counts[("act", "byte")]
    two = accel.simulate(d, Gemm(20, 256, 256), accuracy=False).counts[("act", "byte")]
    assert two == 2 * one


def test_network_and_toml_round_trip():
    """A Dense chain's traffic is the sum of its layers'; a design file keeps the levels, and the reloaded design
    gives the same report."""
    rng = np.random.default_rng(5)
    d = accel.get_design("neurram-like").replace(memories=(_pinned("buf", 1.5),))
    net = accel.Network("two", (accel.Dense(rng.standard_normal((64, 32)), np.zeros(32)),
                                accel.Dense(rng.standard_normal((32, 16)), np.zeros(16), None)),
                        inputs=rng.standard_normal((4, 64)))
    r = accel.simulate(d, net, accuracy=False)
    want = 4 * 64 * d.unit.dac_bits / 8 + 4 * 32 * 4 + 4 * 32 * d.unit.dac_bits / 8 + 4 * 16 * 4
    assert r.counts[("buf", "byte")] == pytest.approx(want)
    back = accel.Design.from_toml(d.to_toml())
    assert back == d
    r2 = accel.simulate(back, net, accuracy=False)
    assert r2.energy_j == r.energy_j and r2.seconds == r.seconds
    assert np.isfinite(r.energy_j)


def test_macro_without_area_keeps_its_buffers_leakage():
    """A periphery without area constants has no area; with an SRAM level around it simulate raised AttributeError
    (audit s34). The design's area stays None (the macro's is unknown), the buffer's leakage is still priced."""
    from accel.memory_model import leakage_w_per_mm2, memories_area_mm2
    d = accel.get_design("wang-c2c-like")
    bare = dataclasses.replace(d.unit.periphery, **{f: 0.0 for f in ("adc_area_um2", "dac_area_um2", "cell_area_um2",
                                                                      "column_area_um2", "digital_area_um2",
                                                                      "misc_area_um2")})
    lvl = MemoryLevel(name="act", size_bytes=1 << 20, bandwidth_bytes_per_s=math.inf, energy_pj_per_byte=1.0,
                      technology="sram", word_bytes=8)
    x = d.replace(unit=dataclasses.replace(d.unit, periphery=bare), memories=(lvl,))
    r = accel.simulate(x, Gemm(32, d.unit.weight_cols(), d.unit.weight_rows()), accuracy=False)
    buf = memories_area_mm2((lvl,), d.unit.node_in_use())["act"]
    assert r.area_mm2 is None and r.leakage_j == pytest.approx(leakage_w_per_mm2(22.0) * buf * r.seconds, rel=1e-12)
