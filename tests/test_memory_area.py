"""Issue #17 item 5: memory technologies, area and leakage."""

import dataclasses
import math

import pytest

from accel import Gemm, MemoryLevel, get_design, simulate
from accel.energy import node_scale, sram_pj_per_byte
from accel.memory_model import (
    DRAM_PJ_PER_BIT,
    LEAKAGE_W_PER_MM2,
    SRAM_CELL_UM2,
    TECHNOLOGIES,
    design_area_mm2,
    leakage_w_per_mm2,
    level_pj_per_byte,
    sram_mm2_per_mb,
)


def _resize(design, name, size):
    mems = tuple(dataclasses.replace(m, size_bytes=size) if m.name == name else m for m in design.memories)
    return design.replace(memories=mems)


def test_sram_size_sweep_moves_energy_and_area():
    d = get_design("edge-npu")
    g = Gemm(512, 512, 512, "int8")
    rs = [simulate(_resize(d, "tcm", s), g, accuracy=False) for s in (256 * 1024, 1 << 20, 4 << 20)]
    per_byte = [r.energy_breakdown_j["tcm"] / r.counts[("tcm", "byte")] for r in rs]
    # sqrt(capacity) up to a 1 MB bank, then banked (accel.energy)
    assert per_byte[0] * 2 == pytest.approx(per_byte[1], rel=1e-3) and per_byte[1] == per_byte[2]
    assert rs[0].energy_j != rs[1].energy_j
    assert rs[0].area_mm2 < rs[1].area_mm2 < rs[2].area_mm2
    assert rs[0].area_breakdown_mm2["tcm"] * 4 == pytest.approx(rs[1].area_breakdown_mm2["tcm"])


@pytest.mark.parametrize("tech", sorted(DRAM_PJ_PER_BIT))
def test_dram_technology_energy(tech):
    m = MemoryLevel("dram", 1 << 33, 1e11, 99.0, technology=tech)
    assert level_pj_per_byte(m, 5.0) == DRAM_PJ_PER_BIT[tech] * 8


def test_sram_technology_matches_rule_and_pinned_level_kept():
    m = MemoryLevel("buf", 1 << 20, 1e11, 7.0, technology="sram")
    assert level_pj_per_byte(m, 7.0) == round(sram_pj_per_byte(1 << 20) * node_scale(7.0, 0.9), 4)
    assert level_pj_per_byte(dataclasses.replace(m, technology=""), 7.0) == 7.0


def test_presets_keep_their_sram_values():
    """The presets' SRAM levels now follow the model; at their own sizes it gives their former values."""
    for name in ("a100-like", "h100-like", "tpu-v1-like", "edge-npu"):
        d = get_design(name)
        for m in d.memories:
            assert level_pj_per_byte(m, d.node_nm) == m.energy_pj_per_byte


def test_edge_npu_lpddr5():
    m = get_design("edge-npu").memories[-1]
    assert m.technology == "lpddr5" and level_pj_per_byte(m, 4.0) == pytest.approx(0.7 * 14.0 * 8)


@pytest.mark.parametrize("bad, exc, msg", [
    ("ddr7", ValueError, "must be one of"), ("SRAM", ValueError, "must be one of"),
    (3, TypeError, "must be a str"), (None, TypeError, "must be a str")])
def test_bad_technology(bad, exc, msg):
    with pytest.raises(exc, match=f"MemoryLevel.technology {msg}"):
        MemoryLevel("x", 1024, 1e9, 1.0, technology=bad)


def test_area_leakage_and_tops_per_mm2_in_report():
    d = get_design("h100-like")
    r = simulate(d, Gemm(1024, 1024, 1024, "e4m3"), accuracy=False)
    assert r.area_mm2 == pytest.approx(sum(design_area_mm2(d).values()))
    assert r.tops_per_mm2 == pytest.approx(r.ops_per_s / 1e12 / r.area_mm2)
    assert r.leakage_j == pytest.approx(leakage_w_per_mm2(5.0) * r.area_mm2 * r.seconds)
    assert r.energy_breakdown_j["leakage"] == r.leakage_j
    assert "hbm" not in r.area_breakdown_mm2  # off-die
    row = r.to_dict()
    for k in ("area_mm2", "leakage_j", "tops_per_mm2", "area_mac_mm2"):
        assert math.isfinite(row[k])


def test_low_utilisation_pays_leakage():
    """A tiny GEMM repeated is launch/latency bound: its leakage share exceeds a big GEMM's."""
    d = get_design("tpu-v1-like")
    small = simulate(d, Gemm(8, 8, 8, "int8", count=64), accuracy=False)
    big = simulate(d, Gemm(2048, 2048, 2048, "int8"), accuracy=False)
    assert small.utilisation < big.utilisation
    assert small.leakage_j / small.energy_j > big.leakage_j / big.energy_j


def test_tables_monotone():
    nodes = sorted(SRAM_CELL_UM2)
    assert [sram_mm2_per_mb(n) for n in nodes] == sorted(sram_mm2_per_mb(n) for n in nodes)
    assert leakage_w_per_mm2(45.0) == LEAKAGE_W_PER_MM2[45.0] and leakage_w_per_mm2(3.0) == LEAKAGE_W_PER_MM2[28.0]
    assert set(TECHNOLOGIES) >= {"", "sram", "lpddr5", "hbm3e", "gddr6"}
