"""The RTL example (examples/rtl): an E4M3 x E4M3 -> FP32 Verilog multiplier verified against lowbit with
cocotb and Icarus Verilog over all 65,536 input pairs. Needs `iverilog` and `cocotb` (.ci/run installs
both); skipped otherwise."""

import shutil
from pathlib import Path

import pytest

RTL = Path(__file__).resolve().parents[1] / "examples" / "rtl"


@pytest.mark.slow
@pytest.mark.rtl
def test_e4m3_multiplier_against_lowbit(tmp_path):
    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog (iverilog) is not installed")
    runner_mod = pytest.importorskip("cocotb_tools.runner")
    runner = runner_mod.get_runner("icarus")
    runner.build(sources=[RTL / "e4m3_mul.v"], hdl_toplevel="e4m3_mul", build_dir=tmp_path, always=True)
    results = runner.test(hdl_toplevel="e4m3_mul", test_module="test_e4m3_mul", test_dir=RTL, build_dir=tmp_path,
                          results_xml=str(tmp_path / "results.xml"))
    import xml.etree.ElementTree as ET
    root = ET.parse(results).getroot()
    assert root.findall(".//testcase") and not root.findall(".//failure") and not root.findall(".//error")
