"""Issue #17 item 5: memory technologies, area and leakage."""

import dataclasses
import math

import pytest

from accel import Gemm, MemoryLevel, get_design, simulate
from accel.energy import node_scale
from accel.memory_model import (
    CACTI_NODES_NM,
    DRAM_PJ_PER_BIT,
    LEAKAGE_W_PER_MM2,
    SRAM_BANK_MAX_BYTES,
    SRAM_CELL_UM2,
    TECHNOLOGIES,
    cacti_sram_table,
    design_area_mm2,
    leakage_w_per_mm2,
    level_pj_per_byte,
    sram_mm2_per_mb,
    sram_pj_per_byte,
)


def _resize(design, name, size):
    mems = tuple(dataclasses.replace(m, size_bytes=size) if m.name == name else m for m in design.memories)
    return design.replace(memories=mems)


def test_sram_size_sweep_moves_energy_and_area():
    d = get_design("edge-npu")
    g = Gemm(512, 512, 512, "int8")
    sizes = (64 * 1024, 256 * 1024, 1 << 20, 4 << 20)
    rs = [simulate(_resize(d, "tcm", s), g, accuracy=False) for s in sizes]
    per_byte = [r.energy_breakdown_j["tcm"] / r.counts[("tcm", "byte")] * 1e12 for r in rs]
    # up to one bank (1 MiB) the level is one array; beyond, banks of 1 MiB: an access reads one of them
    banks = [min(s, SRAM_BANK_MAX_BYTES) for s in sizes]
    assert per_byte == pytest.approx([sram_pj_per_byte(b, 8, 4.0) for b in banks], rel=1e-12)
    assert per_byte[0] < per_byte[1] < per_byte[2] == per_byte[3]
    assert rs[0].area_mm2 < rs[1].area_mm2 < rs[2].area_mm2 < rs[3].area_mm2
    assert rs[2].area_breakdown_mm2["tcm"] == pytest.approx(sram_mm2_per_mb(1 << 20, 8, 4.0))
    assert rs[3].area_breakdown_mm2["tcm"] == pytest.approx(4 * sram_mm2_per_mb(1 << 20, 8, 4.0))


def test_word_bytes_sweep_moves_energy_and_area():
    """memories.N.word_bytes through the sweep machinery: wider words read fewer, cheaper-per-byte accesses."""
    from accel import set_field
    d = get_design("edge-npu")
    g = Gemm(512, 512, 512, "int8")
    rs = [simulate(set_field(d, "memories.0.word_bytes", w), g, accuracy=False) for w in (4, 16, 64)]
    tcm = [r.energy_breakdown_j["tcm"] for r in rs]
    assert tcm[0] > tcm[1] > tcm[2] and rs[0].energy_j > rs[2].energy_j
    assert len({r.area_breakdown_mm2["tcm"] for r in rs}) == 3
    assert rs[0].counts[("tcm", "byte")] == rs[2].counts[("tcm", "byte")]   # the traffic is the same


def test_cacti_table_loads():
    t = cacti_sram_table()
    assert set(t) == set(CACTI_NODES_NM)
    for words in t.values():
        assert set(words) == {1, 2, 4, 8, 16, 32, 64, 128}
        for caps, q in words.values():
            assert caps[-1] == 32 << 20 and caps == tuple(sorted(caps)) and caps[0] >= 1024
            assert all(v > 0 for k in ("read_nj", "write_nj", "leakage_mw", "area_mm2", "access_ns") for v in q[k])
    assert len(t[45.0][8][0]) == 16   # 64-bit words: every capacity from 1 KiB to 32 MiB


def test_table_script_matches_the_table():
    """scripts/cacti_sram_table.py writes the columns the table has and fills every field of the template."""
    import importlib.util
    import string
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("cacti_sram_table", root / "scripts" / "cacti_sram_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    header = (root / "accel" / "data" / "cacti" / "sram.csv").read_text().splitlines()[0]
    assert tuple(header.split(",")) == mod.FIELDS
    cfg = string.Template(mod.TEMPLATE.read_text()).substitute(size_bytes=4096, word_bytes=8, word_bits=64,
                                                               node_um="0.045")
    assert "-size (bytes) 4096" in cfg and "-output/input bus width 64" in cfg and '-cache type "ram"' in cfg
    n = sum(len(c) for w in cacti_sram_table().values() for c, _ in w.values())
    assert n == 625 and n == len(mod.NODES_NM) * len(mod.CAPACITIES) * len(mod.WORD_BITS) - 15
    with pytest.raises(SystemExit):
        mod.main([str(root / "accel" / "data" / "cacti" / "sram.csv")])   # not an executable


def test_fit_hits_the_table_points_exactly():
    for node, words in cacti_sram_table().items():
        for w, (caps, q) in words.items():
            for i, c in enumerate(caps):
                assert sram_pj_per_byte(c, w, node) == q["read_nj"][i] * 1e3 / w
                assert sram_pj_per_byte(c, w, node, op="write") == q["write_nj"][i] * 1e3 / w
                assert sram_mm2_per_mb(c, w, node) == q["area_mm2"][i] / (c / (1 << 20))


def test_fit_monotone_where_cacti_is():
    """Energy per byte falls with the word (1-32 B, banks of 8 KiB and more) and grows with capacity (words
    of 4-64 B), at and between the tabulated points, at every CACTI node and between them."""
    for node in (*CACTI_NODES_NM, 28.0, 7.0):
        for cap in (8 << 10, 96 << 10, 1 << 20, 24 << 20, 32 << 20):
            per_word = [sram_pj_per_byte(cap, w, node) for w in (1, 2, 3, 8, 12, 24, 32)]
            assert per_word == sorted(per_word, reverse=True), (node, cap, per_word)
        for w in (4, 8, 12, 64):
            per_cap = [sram_pj_per_byte(c, w, node) for c in (1 << 10, 4 << 10, 48 << 10, 1 << 20, 3 << 20, 32 << 20)]
            assert per_cap == sorted(per_cap), (node, w, per_cap)
    # a point between two tabulated ones: the power law through them
    lo, mid, hi = (sram_pj_per_byte(c, 8, 45.0) for c in (1 << 20, 3 << 19, 2 << 20))
    assert lo < mid < hi and mid == pytest.approx(lo * (hi / lo) ** math.log2(1.5))


def test_where_cacti_is_not_monotone():
    """docs/constants.md's exceptions, as CACTI gives them: short arrays (few rows) pay more per byte for a
    wider word; 1-byte words dip with capacity where CACTI's ED^2 optimiser changes organisation."""
    for node in CACTI_NODES_NM:
        assert sram_pj_per_byte(8 << 10, 128, node) > 1.5 * sram_pj_per_byte(8 << 10, 64, node)
    assert sram_pj_per_byte(128 << 10, 1, 90.0) < 0.7 * sram_pj_per_byte(64 << 10, 1, 90.0)


def test_nodes_outside_cacti_scale_from_its_edges():
    assert sram_pj_per_byte(1 << 20, 8, 7.0) == pytest.approx(
        sram_pj_per_byte(1 << 20, 8, 22.0) * node_scale(7.0, 0.9) / node_scale(22.0, 0.9))
    assert sram_pj_per_byte(1 << 20, 8, 130.0) == pytest.approx(sram_pj_per_byte(1 << 20, 8, 90.0) * 130 / 90)
    cell = {n: SRAM_CELL_UM2[n] for n in (16.0, 28.0)}   # 22 nm lies between TSMC's 28 and 16 nm cells
    cell22 = cell[28.0] * (22 / 28) ** (math.log(cell[16.0] / cell[28.0]) / math.log(16 / 28))
    assert sram_mm2_per_mb(1 << 20, 8, 5.0) == pytest.approx(sram_mm2_per_mb(1 << 20, 8, 22.0) * SRAM_CELL_UM2[5.0]
                                                             / cell22)
    # between CACTI's nodes: log-log, so between the neighbours
    assert sram_pj_per_byte(1 << 20, 8, 32.0) < sram_pj_per_byte(1 << 20, 8, 40.0) < sram_pj_per_byte(1 << 20, 8, 45.0)


def test_outside_the_table_held_at_its_edges():
    assert sram_pj_per_byte(256 << 20, 8, 45.0) == sram_pj_per_byte(32 << 20, 8, 45.0)
    assert sram_pj_per_byte(1 << 20, 512, 45.0) == sram_pj_per_byte(1 << 20, 128, 45.0)
    # 1 KiB of 128-byte words has no CACTI organisation: the smallest tabulated capacity for that word
    caps = cacti_sram_table()[45.0][128][0]
    assert caps[0] > 1024 and sram_pj_per_byte(1024, 128, 45.0) == sram_pj_per_byte(caps[0], 128, 45.0)


@pytest.mark.parametrize("tech", sorted(DRAM_PJ_PER_BIT))
def test_dram_technology_energy(tech):
    m = MemoryLevel("dram", 1 << 33, 1e11, 99.0, technology=tech)
    assert level_pj_per_byte(m, 5.0) == DRAM_PJ_PER_BIT[tech] * 8


def test_sram_technology_matches_rule_and_pinned_level_kept():
    m = MemoryLevel("buf", 1 << 20, 1e11, 7.0, technology="sram", word_bytes=32)
    assert level_pj_per_byte(m, 7.0) == sram_pj_per_byte(1 << 20, 32, 7.0)
    assert level_pj_per_byte(dataclasses.replace(m, technology=""), 7.0) == 7.0


def test_presets_show_their_sram_values():
    """The presets' SRAM levels follow the model; their energy_pj_per_byte field shows its value at their
    own sizes (64-bit words, the default)."""
    for name in ("a100-like", "h100-like", "tpu-v1-like", "edge-npu"):
        d = get_design(name)
        for m in d.memories:
            assert level_pj_per_byte(m, d.node_nm) == m.energy_pj_per_byte
            assert m.word_bytes == 8


@pytest.mark.parametrize("word, exc, msg", [
    (0, ValueError, "MemoryLevel.word_bytes must be a positive int, got 0"),
    (-8, ValueError, "MemoryLevel.word_bytes must be a positive int"),
    (8.0, TypeError, "MemoryLevel.word_bytes must be a positive int, got 8.0"),
    (True, TypeError, "MemoryLevel.word_bytes must be a positive int"),
    ("8", TypeError, "MemoryLevel.word_bytes must be a positive int"),
    (2048, ValueError, r"MemoryLevel.word_bytes \(2048\) must be at most size_bytes \(1024\)")])
def test_bad_word_bytes(word, exc, msg):
    with pytest.raises(exc, match=msg):
        MemoryLevel("x", 1024, 1e9, 1.0, technology="sram", word_bytes=word)
    with pytest.raises(exc, match=msg):
        sram_pj_per_byte(1024, word, 45.0)


def test_bad_sram_fit_arguments():
    with pytest.raises(ValueError, match=r"op must be one of \['read', 'write'\]"):
        sram_pj_per_byte(1024, 8, 45.0, op="rmw")
    with pytest.raises(ValueError, match="sram.node_nm must be a positive number"):
        sram_mm2_per_mb(1024, 8, 0.0)


def test_word_bytes_round_trips_toml():
    d = get_design("edge-npu")
    d2 = d.replace(memories=(dataclasses.replace(d.memories[0], word_bytes=32), d.memories[1]))
    assert type(d2).from_toml(d2.to_toml()).memories[0].word_bytes == 32


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
    nodes = sorted(SRAM_CELL_UM2) + [65.0, 90.0]
    assert [sram_mm2_per_mb(1 << 20, 8, n) for n in nodes] == sorted(sram_mm2_per_mb(1 << 20, 8, n) for n in nodes)
    assert leakage_w_per_mm2(45.0) == LEAKAGE_W_PER_MM2[45.0] and leakage_w_per_mm2(3.0) == LEAKAGE_W_PER_MM2[28.0]
    assert set(TECHNOLOGIES) >= {"", "sram", "lpddr5", "hbm3e", "gddr6"}


def test_hbm3_family_on_micron_basis():
    """HBM3E is Micron's HBM2E over its 2.5x bits per joule, HBM3 that over Samsung's 10 % step: both
    below HBM2E on the same (device, I/O included) basis; the GPU presets take them."""
    hbm2e, hbm3, hbm3e = (DRAM_PJ_PER_BIT[t] for t in ("hbm2e", "hbm3", "hbm3e"))
    assert hbm3e == pytest.approx(hbm2e / 2.5) and hbm3 == pytest.approx(hbm3e / 0.9)
    assert hbm3e < hbm3 < hbm2e
    for name, tech in (("h100-like", "hbm3"), ("mi300x-like", "hbm3"), ("b200-like", "hbm3e"), ("a100-like", "hbm2e")):
        m = get_design(name).memories[-1]
        assert m.technology == tech and level_pj_per_byte(m, 5.0) == pytest.approx(DRAM_PJ_PER_BIT[tech] * 8)


@pytest.mark.parametrize("node", CACTI_NODES_NM)
def test_leakage_within_cactis_range(node):
    """The leakage density, on a 1 MiB bank of 64-bit words, lies below CACTI's own leakage column (itrs-hp
    cells at 360 K, its leakiest corner) and above a tenth of it (CACTI's itrs-lstp cells with itrs-hp
    periphery leak 0.10-0.11 x that column at 22 and 45 nm; docs/constants.md)."""
    caps, q = cacti_sram_table()[node][8]
    cacti_w = q["leakage_mw"][caps.index(1 << 20)] / 1e3
    model_w = leakage_w_per_mm2(node) * sram_mm2_per_mb(1 << 20, 8, node)
    assert 0.1 * cacti_w < model_w < cacti_w


def test_leakage_above_45nm_follows_cactis_node_trend():
    """Older planar nodes leak less per mm² (CACTI: 0.35 W/mm² at 45 nm, 0.03 at 90 nm): the density falls
    above 45 nm instead of holding 45 nm's, and is held beyond 90 nm."""
    assert leakage_w_per_mm2(45.0) > leakage_w_per_mm2(65.0) > leakage_w_per_mm2(90.0) == leakage_w_per_mm2(130.0)
    assert leakage_w_per_mm2(90.0) / leakage_w_per_mm2(45.0) == pytest.approx(0.0331 / 0.349, rel=0.02)


def test_sram_size_sweep_through_the_sweep_machinery():
    """Issue #17's "An SRAM-size sweep moves energy and area", as a user writes it (accel.sweep over a
    level's size_bytes): the TCM's energy and its area grow with its capacity."""
    import accel
    sizes = [64 << 10, 256 << 10, 1 << 20]
    rows = accel.sweep(get_design("edge-npu"), {"design.memories.0.size_bytes": sizes}, [Gemm(256, 256, 256, "int8")],
                       progress=False)
    tcm_j = [r["energy_tcm_j"] for r in rows]
    area = [r["area_tcm_mm2"] for r in rows]
    assert [r["design.memories.0.size_bytes"] for r in rows] == sizes
    assert tcm_j[0] < tcm_j[1] < tcm_j[2] and area[0] < area[1] < area[2]
    assert rows[0]["area_mm2"] < rows[2]["area_mm2"] and rows[0]["energy_j"] != rows[2]["energy_j"]
