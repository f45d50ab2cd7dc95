"""Design points: datasheet peaks reproduced from unit parameters, TOML round trips, validation."""

import pytest

import accel

TERA = 1e12


@pytest.mark.parametrize("name,fmt,dense,sparse", [
    # DESIGN.md datasheet figures (TFLOPS / TOPS)
    ("a100-like", "fp16", 312, 624), ("a100-like", "int8", 624, 1248), ("a100-like", "tf32", 156, 312),
    ("h100-like", "e4m3", 1979, 3958), ("h100-like", "fp16", 989, 1979), ("h100-like", "int8", 1979, 3958),
])
def test_gpu_peaks_match_datasheets(name, fmt, dense, sparse):
    d = accel.get_design(name)
    assert d.peak_ops_per_s(fmt) / TERA == pytest.approx(dense, rel=0.002)
    assert d.peak_ops_per_s(fmt, sparse=True) / TERA == pytest.approx(sparse, rel=0.002)


def test_tpu_v1_peak():
    # Jouppi et al. 2017: 92 TOPS
    assert accel.get_design("tpu-v1-like").peak_ops_per_s("int8") / TERA == pytest.approx(92, rel=0.005)


@pytest.mark.parametrize("name", ["a100-like", "h100-like", "tpu-v1-like", "scalesim-32x32"])
def test_toml_round_trip(name, tmp_path):
    d = accel.get_design(name)
    p = tmp_path / "d.toml"
    p.write_text(d.to_toml())
    assert accel.load_design(str(p)) == d


def test_validation_errors():
    with pytest.raises(ValueError, match="unknown design 'h100'.*close matches: h100-like"):
        accel.get_design("h100")
    with pytest.raises(ValueError, match="sm_count must be a positive number"):
        accel.TensorCore(name="x", sm_count=0, macs_per_cycle={"fp16": 1})
    with pytest.raises(ValueError, match="unknown format 'fp17'"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp17": 1})
    with pytest.raises(ValueError, match="unknown accumulator"):
        accel.TensorCore(name="x", sm_count=1, macs_per_cycle={"fp16": 1}, accumulator="nope")
    with pytest.raises(ValueError, match="has no 'e4m3' rate"):
        accel.get_design("a100-like").peak_ops_per_s("e4m3")
    with pytest.raises(ValueError, match="no 2:4 sparse mode"):
        accel.get_design("tpu-v1-like").peak_ops_per_s("int8", sparse=True)
    with pytest.raises(ValueError, match="design TOML lacks 'design'"):
        accel.Design.from_toml("[unit]\nkind = 'tensor_core'\n")
    with pytest.raises(ValueError, match="does not parse"):
        accel.Design.from_toml("[design")
