"""Design points: datasheet peaks reproduced from unit parameters, TOML round trips, validation."""

import pytest

import accel

TERA = 1e12


@pytest.mark.parametrize("name,fmt,dense,sparse", [
    # DESIGN.md datasheet figures (TFLOPS / TOPS)
    ("a100-like", "fp16", 312, 624), ("a100-like", "int8", 624, 1248), ("a100-like", "tf32", 156, 312),
    ("h100-like", "e4m3", 1979, 3958), ("h100-like", "fp16", 989, 1979), ("h100-like", "int8", 1979, 3958),
    ("b200-like", "e2m1", 9000, 18000), ("b200-like", "nvfp4", 9000, 18000), ("b200-like", "e4m3", 4500, 9000),
    ("b200-like", "fp16", 2250, 4500), ("a100-like", "int4", 1248, 2496),
])
def test_gpu_peaks_match_datasheets(name, fmt, dense, sparse):
    d = accel.get_design(name)
    assert d.peak_ops_per_s(fmt) / TERA == pytest.approx(dense, rel=0.002)
    assert d.peak_ops_per_s(fmt, sparse=True) / TERA == pytest.approx(sparse, rel=0.002)


def test_tpu_v1_peak():
    # Jouppi et al. 2017: 92 TOPS
    assert accel.get_design("tpu-v1-like").peak_ops_per_s("int8") / TERA == pytest.approx(92, rel=0.005)


def test_edge_npu_rates():
    d = accel.get_design("edge-npu")
    assert d.peak_ops_per_s("int8") == 2 * 64 * 128 * 1e9  # 8K INT8 MACs (Park et al., JSSC 2023)
    assert d.peak_ops_per_s("int4") == 2 * d.peak_ops_per_s("int8")


def test_energy_table_follows_node_and_overrides():
    d = accel.get_design("a100-like")
    # Horowitz 45 nm: fp16 mult 1.1 + fp32 add 0.9 pJ, scaled by 7/45 (constant 0.9 V)
    assert d.energy_table["fp16"] == pytest.approx(2.0 * 7 / 45)
    assert accel.set_field(d, "node_nm", 14.0).energy_table["fp16"] == pytest.approx(2 * d.energy_table["fp16"])
    assert accel.set_field(d, "vdd_v", 0.45).energy_table["int8"] == pytest.approx(d.energy_table["int8"] / 4)
    assert d.replace(mac_pj={"fp16": 9.0}).energy_table["fp16"] == 9.0


def test_datasheet_bandwidths():
    mem = {n: {m.name: m.total_bandwidth_bytes_per_s for m in accel.get_design(n).memories}
           for n in ("a100-like", "h100-like", "b200-like")}
    assert mem["a100-like"]["hbm"] == 2039e9 and mem["h100-like"]["hbm"] == 3350e9 and mem["b200-like"]["hbm"] == 8e12
    assert mem["a100-like"]["l2"] == pytest.approx(5120 * 1.41e9)  # A100 whitepaper: 5120 bytes/clk


@pytest.mark.parametrize("name", accel.design_names())
def test_toml_round_trip(name, tmp_path):
    d = accel.get_design(name)
    p = tmp_path / "d.toml"
    p.write_text(d.to_toml())
    assert accel.load_design(str(p)) == d


def test_validation_errors():
    with pytest.raises(ValueError, match="unknown design 'h100'.*close matches: h100-like"):
        accel.get_design("h100")
    with pytest.raises(ValueError, match="sm_count must be a positive int"):
        accel.TensorCore(name="x", sm_count=0, macs_per_cycle={"fp16": 1})
    with pytest.raises(ValueError, match="unknown format 'fp17'"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp17": 1})
    with pytest.raises(ValueError, match="unknown accumulator"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1}, accumulator="nope")
    with pytest.raises(ValueError, match="has no 'e4m3' rate"):
        accel.get_design("a100-like").peak_ops_per_s("e4m3")
    with pytest.raises(ValueError, match="no 2:4 sparse mode"):
        accel.get_design("tpu-v1-like").peak_ops_per_s("int8", sparse=True)
    with pytest.raises(ValueError, match="kernel_efficiency must be a number in \\(0, 1\\], got 1.2"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1}, kernel_efficiency=1.2)
    with pytest.raises(ValueError, match="kernel_efficiency must be a number in \\(0, 1\\], got 0"):
        accel.SparseTensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1}, sparse_kernel_efficiency=0)
    with pytest.raises(ValueError, match="slower than the dense one .* at least 0.4"):
        accel.SparseTensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1}, kernel_efficiency=0.8,
                               sparse_kernel_efficiency=0.3)
    with pytest.raises(ValueError, match="whole number of warp tiles"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1}, tile_m=96, warp_m=64)
    with pytest.raises(ValueError, match="unknown format 'fp9'"):
        accel.get_design("a100-like").peak_ops_per_s("fp9")
    with pytest.raises(ValueError, match="energy_pj_per_byte must be a positive number"):
        accel.MemoryLevel("x", 1, 1.0, 0.0)
    with pytest.raises(ValueError, match="names no preset"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1, "int8": 1}, accumulator={"fp16": "fp32"})
    with pytest.raises(ValueError, match="mac_pj\\['fp16'\\] must be a positive number"):
        accel.get_design("a100-like").replace(mac_pj={"fp16": -1.0})
    with pytest.raises(ValueError, match="unit.kind must be one of"):
        accel.Design.from_toml("[design]\nname='x'\nclock_hz=1.0\n[unit]\nkind = 'gpu'\n")
    with pytest.raises(ValueError, match="design TOML lacks 'design'"):
        accel.Design.from_toml("[unit]\nkind = 'tensor_core'\n")
    with pytest.raises(ValueError, match="does not parse"):
        accel.Design.from_toml("[design")
