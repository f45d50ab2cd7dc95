"""The `lowbit` command line and the README's example."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import numerics as nx
from accel.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_formats_prints_every_format(capsys):
    assert main(["formats"]) == 0
    out = capsys.readouterr().out
    for name in nx.format_names():
        assert re.search(rf"^{name}\s", out, re.M), name
    row = next(line for line in out.splitlines() if line.startswith("e4m3 "))
    assert row.split()[:5] == ["e4m3", "8", "448", "2^-6", "2^-9"]
    row = next(line for line in out.splitlines() if line.startswith("e8m0 "))
    assert "none" in row and "no zero" in row


def test_formats_subset_and_unknown(capsys):
    assert main(["formats", "e2m1", "e3m4"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[2:]] == ["e2m1", "e3m4"]
    assert main(["formats", "e4m3fn"]) == 2
    assert "close matches" in capsys.readouterr().err


@pytest.mark.slow
def test_default_study(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "digits MLP" in out and "top1" in out
    table = [line.split() for line in out.splitlines() if re.match(r"^\d+\s+\d+\s+int", line)]
    assert len(table) == 32  # 4 x 4 array sizes x {int8, int4}
    assert all(0.95 < float(r[-3]) <= 1 for r in table)  # top-1 of the hardware run (then top1_float, rel_fro_err)
    for f in ("results.jsonl", "pareto.png", "energy_vs_top1.png"):
        assert (tmp_path / "lowbit-study" / f).stat().st_size > 0


@pytest.mark.slow
def test_simulate_sweep_report(capsys, tmp_path):
    assert main(["simulate", "h100-like", "--gemm", "256", "256", "512", "--a-format", "e4m3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^bound\s+\w+", out, re.M) and "sqnr_db" in out and "rel_fro_err" in out
    assert main(["simulate", "a100-like", "--gemm", "13008", "1024", "4096", "--sparsity", "2:4", "--no-accuracy",
                 "--json"]) == 0
    import json
    d = json.loads(capsys.readouterr().out)
    assert d["sparsity"] == "2:4" and "rel_fro_err" not in d and d["ops"] == 2 * 13008 * 1024 * 4096
    design = tmp_path / "d.toml"
    import accel
    design.write_text(accel.get_design("edge-npu").replace(name="mine").to_toml())
    assert main(["simulate", str(design), "--network", "digits-mlp"]) == 0
    assert "mine" in capsys.readouterr().out
    grid = tmp_path / "g.toml"
    grid.write_text(f'design = "{design}"\naccuracy = true\n[grid]\n"design.unit.rows" = [16, 64]\n'
                    '"workload.a_format" = ["int8", "int4"]\n[[workloads]]\nnetwork = "digits-mlp"\n'
                    '[[workloads]]\ngemm = [128, 128, 128]\na_format = "int8"\n')
    out_file, csv_file = tmp_path / "r.jsonl", tmp_path / "r.csv"
    assert main(["sweep", str(grid), "--out", str(out_file), "--csv", str(csv_file), "--plots", str(tmp_path / "p"),
                 "--no-progress", "--workers", "1"]) == 0
    assert len(out_file.read_text().splitlines()) == 8 and len(csv_file.read_text().splitlines()) == 9
    assert (tmp_path / "p" / "pareto.png").exists()
    capsys.readouterr()
    assert main(["report", str(out_file), "--sort", "energy_j", "--columns", "workload,a_format,energy_j"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["workload", "a_format"] and len(lines) == 10
    assert main(["report", str(out_file), "--pareto"]) == 0
    assert main(["simulate", "h100", "--gemm", "1", "1", "1"]) == 2
    assert "close matches: h100-like" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('design = "edge-npu"\n')
    assert main(["sweep", str(bad), "--out", str(out_file)]) == 2
    assert "needs design" in capsys.readouterr().err


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "accel.cli", "formats", "fp16"], capture_output=True, text=True,
                       cwd=ROOT, check=True)
    assert "65504" in r.stdout


@pytest.mark.slow
def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    ns = {}
    for code in re.findall(r"```python\n(.*?)```", text, re.S):
        exec(code, ns)  # noqa: S102 - the README's own examples, in order
    assert list(ns["codes"]) == [0x2A, 0x7E, 0x7E, 0x80]  # the page's printed claim: tests/test_docs.py
    assert ns["bt"].scales.shape == (64, 8) and ns["bt"].bits_per_element == 4.25


@pytest.mark.slow
def test_testing_page_example_runs():
    text = (ROOT / "docs" / "testing.md").read_text()
    block = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    ns = {}
    exec(block, ns)  # noqa: S102 - the docs page's own example
    ns["test_my_quantizer"]()


@pytest.mark.slow
def test_vectors_command(tmp_path, capsys):
    import numpy as np

    from numerics import ops
    out = tmp_path / "add.hex"
    assert main(["vectors", "e4m3", "--op", "add", "--n", "400", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("// lowbit") and "format e4m3, op add, rounding TIES_TO_EVEN" in lines[0]
    rows = np.array([[int(v, 16) for v in line.split()] for line in lines[2:]])
    assert len(rows) == 400 and (rows[:, 0] == 0).any()  # boundary cases first (zero)
    np.testing.assert_array_equal(rows[:, 2], ops.add(rows[:, 0].astype(np.uint8), rows[:, 1].astype(np.uint8),
                                                      "e4m3"))
    enc = tmp_path / "enc.mem"
    assert main(["vectors", "e4m3", "--op", "encode", "--n", "300", "--out", str(enc), "--as", "readmemh",
                 "--rounding", "TOWARD_ZERO"]) == 0
    words = [w for w in enc.read_text().splitlines() if not w.startswith("//")]
    x = np.array([int(w[:8], 16) for w in words], np.uint32).view(np.float32)
    import numerics as nx
    np.testing.assert_array_equal(np.array([int(w[8:], 16) for w in words]),
                                  nx.get_format("e4m3").encode(x, rounding=nx.RoundMode.TOWARD_ZERO, nan_code=0x7F))
    dot = tmp_path / "dot.csv"
    assert main(["vectors", "e4m3", "--op", "dot", "--accumulator", "nv_hopper_fp8", "--k", "32", "--n", "5",
                 "--out", str(dot), "--as", "csv"]) == 0
    assert dot.read_text().splitlines()[2].startswith("a0,a1")
    for op in ("decode", "mul", "fma"):
        assert main(["vectors", "posit8", "--op", op, "--n", "50", "--out", str(tmp_path / f"{op}.hex")]) == 0
    conv = ["vectors", "e5m2", "--op", "convert", "--to", "e4m3", "--n", "50", "--out", str(tmp_path / "c.hex")]
    assert main(conv) == 0
    assert main(["vectors", "e4m3", "--op", "convert", "--n", "5", "--out", str(tmp_path / "x.hex")]) == 2
    assert "convert needs --to" in capsys.readouterr().err


def test_simulate_names_its_accumulator_and_area(capsys):
    """The report says which accumulator made the numbers (Study A's question) and the chip's area."""
    assert main(["simulate", "h100-like", "--gemm", "64", "64", "128", "--a-format", "e4m3", "--no-accuracy"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^accumulator\s+nv_hopper_fp8$", out, re.M)
    assert re.search(r"^area_mm2\s+[\d.]+ mm²$", out, re.M)
    assert re.search(r"^tops_per_mm2\s+[\d.e-]+ TOPS/mm²$", out, re.M)
    assert main(["simulate", "h100-like", "--gemm", "64", "64", "128", "--a-format", "e4m3", "--no-accuracy",
                 "--accumulator", "fp32"]) == 0
    assert re.search(r"^accumulator\s+fp32$", capsys.readouterr().out, re.M)


def test_python_dash_m_accel_and_a_closed_pipe():
    # `python -m accel` is the lowbit command line; a reader that stops early (| head) is no error of ours:
    # nothing on stderr, the status a shell gives a writer whose reader closed the pipe (128 + SIGPIPE). The
    # read end closes before the child writes (its imports take a second), with stdout buffered as usual.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    for argv in (["show", "hermes-like"], ["designs"]):
        p = subprocess.Popen([sys.executable, "-m", "accel", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=ROOT, env=env)
        p.stdout.close()
        err = p.stderr.read().decode()
        assert p.wait() == 141 and err == "", (argv, p.returncode, err)
    r = subprocess.run([sys.executable, "-m", "accel", "show", "hermes-like"], capture_output=True, text=True,
                       cwd=ROOT, check=True, env=env)
    assert r.stdout.startswith("hermes-like: Crossbar (macro 'hermes')")
    # started with stdout closed: nothing to flush, no traceback
    r = subprocess.run(["bash", "-c", f"{sys.executable} -m accel designs >&-"], capture_output=True, text=True,
                       cwd=ROOT, env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr


def test_a_broken_pipe_is_quiet_only_when_it_is_stdouts():
    # the quiet exit is for a reader of stdout that has gone; a pipe whose reader is alive is not it (another
    # pipe of ours, a --csv FIFO, that broke is reported as an error)
    probe = ("import sys, time; from accel.cli import _stdout_reader_gone; time.sleep(1.0); "
             "print(_stdout_reader_gone(), file=sys.stderr)")
    for close in (True, False):
        p = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        if close:
            p.stdout.close()
        err = p.stderr.read().decode().strip()
        p.wait()
        if not close:
            p.stdout.close()
        assert err == str(close), (close, err)


def test_simulate_says_where_an_rram_spread_comes_from(capsys):
    """An RRAM design's accuracy line says whether the time is one of Wan et al.'s fits or between two."""
    assert main(["simulate", "neurram-like", "--gemm", "4", "128", "128", "--t-seconds", "3600"]) == 0
    out = capsys.readouterr().out
    assert "accuracy_basis           interpolated in ln t between the fits at 1 s and 86400 s" in out
    assert main(["simulate", "neurram-like", "--gemm", "4", "128", "128", "--t-seconds", "86400", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy_basis"] == "Wan et al. 2022 fit at 86400 s"
    assert main(["simulate", "hermes-like", "--gemm", "4", "128", "128", "--t-seconds", "3600"]) == 0
    assert "accuracy_basis" not in capsys.readouterr().out


def test_simulate_errors_name_the_flag(capsys):
    # a device or unit that refuses a flag's value says which flag, not only the field behind it
    assert main(["simulate", "jia-sram-like", "--gemm", "4", "256", "256", "--t-seconds", "3600"]) == 2
    assert "lowbit simulate: --t-seconds: an SRAM device holds digital bits" in capsys.readouterr().err
    assert main(["simulate", "neurram-like", "--gemm", "4", "128", "128", "--t-seconds", "604800"]) == 2
    assert "--t-seconds: t_seconds must be a time the RRAM's fits cover (Wan et al. 2022's fits at" in \
        capsys.readouterr().err
    assert main(["simulate", "jia-sram-like", "--gemm", "4", "256", "256", "--compensation", "global"]) == 2
    assert "--compensation: an SRAM device" in capsys.readouterr().err
    # only the flag whose value failed is named (the t_seconds message mentions compensation in passing)
    assert main(["simulate", "jia-sram-like", "--gemm", "4", "256", "256", "--t-seconds", "3600",
                 "--compensation", "global"]) == 2
    assert "lowbit simulate: --t-seconds: an SRAM device" in capsys.readouterr().err
    # a digital design has no drift: refused, as on the --model route
    for flags in (["--t-seconds", "3600"], ["--compensation", "global"]):
        assert main(["simulate", "h100-like", "--gemm", "4", "256", "256", *flags]) == 2
        assert "--t-seconds and --compensation set an analog device's drift; h100-like is a digital design" in \
            capsys.readouterr().err
    assert main(["simulate", "hermes-like", "--gemm", "8", "128", "128", "--accumulator", "nv_hopper"]) == 2
    assert ("--accumulator: Crossbar.accumulator must be one of ['fp32', 'fp16', 'exact'], got 'nv_hopper'"
            in capsys.readouterr().err)


def test_sweep_table_tells_drifted_workloads_and_failed_points_apart(capsys, tmp_path):
    grid = tmp_path / "g.toml"
    grid.write_text('design = "neurram-like"\n[grid]\n"design.unit.dac_bits" = [2, 4]\n'
                    '"design.unit.input_phases" = [2]\n'
                    '[[workloads]]\ngemm = [8, 128, 128]\n'
                    '[[workloads]]\ngemm = [8, 128, 128]\nt_seconds = 86400.0\n')
    assert main(["sweep", str(grid), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("gemm 8x128x128 - t=86400 s") == 2 and out.count("gemm 8x128x128 -   ") == 2
    assert main(["sweep", str(grid), "--out", str(tmp_path / "r.jsonl"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "neurram-like" in ln]
    # four rows: each workload's failed point (2-bit input cannot split in two) still names design and workload
    assert len(lines) == 4 and all("gemm" in ln for ln in lines)
    header = out.splitlines()[0]
    assert "t_seconds" in header and header.split().count("t_seconds") == 1
    assert [ln.split()[-1] for ln in lines] == ["s", "s", "ks", "ks"]  # 0 s twice, then 86.4 ks twice
    assert sum("86.4 ks" in ln for ln in lines) == 2
    # a failed point on a crossbar shows no operand format, as a computed one does
    assert all(" fp16 " not in ln for ln in lines)


def test_a_drift_column_set_by_the_grid_is_shown_once(capsys, tmp_path):
    grid = tmp_path / "g.toml"
    grid.write_text('design = "hermes-like"\n[grid]\n"workload.t_seconds" = [0.0, 86400.0]\n'
                    '[[workloads]]\ngemm = [8, 128, 128]\n')
    assert main(["sweep", str(grid), "--out", str(tmp_path / "r.jsonl"), "--no-progress"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header.count("workload.t_seconds") == 1 and "t_seconds" not in header


def test_macro_report_from_the_cli(capsys):
    """`lowbit macro` prints accel.macro_report (audit s34: the CLI had no macro report), with knobs set by --set."""
    import accel
    assert main(["macro", "hermes-like", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    want = accel.macro_report(accel.get_design("hermes-like"))
    assert got["tops"] == want["tops"] == pytest.approx(63.1) and got["energy_share"] == want["energy_share"]
    args = ["macro", "neurram-like", "--set", "adc_bits=8", "--set", "unit.vdd_v=1.5", "--times", "1", "86400"]
    assert main(args + ["--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    from accel.sweep import set_fields
    d = set_fields(accel.get_design("neurram-like"), {"unit.adc_bits": 8, "unit.vdd_v": 1.5})
    want = accel.macro_report(d, times=[1.0, 86400.0])
    assert got["tops_per_w"] == want["tops_per_w"] and got["accuracy"] == {"1.0": want["accuracy"][1.0],
                                                                           "86400.0": want["accuracy"][86400.0]}
    assert got["compensation"] == "global"
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "adc_bits 8" in out and "1.5 V" in out and f"rel. error at 86400 s: {want['accuracy'][86400.0]:.4g}" in out
    assert main(["macro", "jia-sram-like", "--set", "weight_bits=4", "--set", "bits_per_cell=1", "--times", "0",
                 "--draws", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"]["0.0"]["draws"] == 2
    # none is None (analog weights); --times repeated adds up
    assert main(["macro", "neurram-like", "--set", "weight_bits=none", "--set", "bits_per_cell=none", "--times", "1",
                 "--times", "86400", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    analog = set_fields(accel.get_design("neurram-like"), {"unit.weight_bits": None, "unit.bits_per_cell": None})
    want = accel.macro_report(analog, times=[1.0, 86400.0])["accuracy"]
    assert got["accuracy"] == {str(t): v for t, v in want.items()}
    assert main(["macro", "hermes-like", "--times", "1", "--compensation", "none", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"]["1.0"] == accel.macro_report(
        accel.get_design("hermes-like"), times=[1.0], compensation=None)["accuracy"][1.0]


@pytest.mark.parametrize("argv,msg", [
    (["macro", "h100-like"], "lowbit macro: lowbit macro takes a Crossbar design"),
    (["macro", "hermes-like", "--set", "adc_bits=99"], "Crossbar.adc_bits must be None (ideal) or an int in 2..24"),
    (["macro", "hermes-like", "--set", "adc_bits"], "--set 'adc_bits': give FIELD=VALUE"),
    (["macro", "hermes-like", "--set", "bogus=1"], "--set bogus: lowbit macro changes the macro's fields"),
    (["macro", "hermes-like", "--set", "clock_hz=2e9"], "--set clock_hz: lowbit macro changes the macro's fields"),
    (["macro", "hermes-like", "--set", "unit.bogus=1"], "Crossbar has no field 'bogus'"),
    (["macro", "hermes-like", "--times", "1", "--times", "1"], "--times holds 1.0 twice"),
    (["macro", "hermes-like", "--set", "adc_bits=6", "--set", "adc_bits=7"], "--set adc_bits is given twice"),
    (["macro", "hermes-like", "--draws", "2"], "--draws, --seed and --compensation set the accuracy run"),
    (["macro", "sinangil-sram-like", "--times", "1"], "an SRAM device holds digital bits and does not drift"),
    (["macro", "hermes-like", "--times", "-1"], "--times must be a finite number >= 0, got -1.0"),
    (["simulate", "hermes-like", "--gemm", "8", "256", "256", "--a-format", "int8"],
     "lowbit simulate: --a-format: hermes-like is a crossbar"),
])
def test_macro_bad_input_is_one_line(capsys, argv, msg):  # and a crossbar's refused workload formats
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_sweep_reads_its_design_file_beside_the_grid_file(tmp_path, monkeypatch, capsys):
    """A grid file's relative design path is read from the grid file's folder, not the working directory (audit s34:
    run from elsewhere it found no file, or silently another design of the same name there)."""
    import accel
    sub = tmp_path / "study"
    sub.mkdir()
    mine = accel.set_field(accel.get_design("hermes-like"), "unit.adc_bits", 6)
    (sub / "d.toml").write_text(mine.to_toml())
    decoy = accel.set_field(accel.get_design("hermes-like"), "unit.adc_bits", 9)
    (tmp_path / "d.toml").write_text(decoy.to_toml())
    (sub / "g.toml").write_text('design = "d.toml"\n[grid]\n"design.unit.dac_bits" = [6, 8]\n'
                                '[[workloads]]\ngemm = [8, 256, 256]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "study/g.toml", "--out", "r.jsonl", "--no-progress"]) == 0
    capsys.readouterr()
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "energy_j" in r]
    want = accel.simulate(accel.set_field(mine, "unit.dac_bits", 8), accel.Gemm(8, 256, 256)).energy_j
    assert len(rows) == 2 and want in {r["energy_j"] for r in rows}
    # a path written from the working directory says where relative paths are read from
    (sub / "g2.toml").write_text('design = "study/d.toml"\n[[workloads]]\ngemm = [8, 256, 256]\n')
    assert main(["sweep", "study/g2.toml", "--out", "r2.jsonl", "--no-progress"]) == 2
    assert "design file 'study/d.toml' does not exist in the grid file's folder (study/, where relative design " \
        "paths are read from)" in capsys.readouterr().err
    # --dry-run refuses what the run would (a format axis on a crossbar)
    (sub / "g3.toml").write_text('design = "hermes-like"\n[grid]\n"workload.a_format" = ["int8", "int4"]\n'
                                 '[[workloads]]\ngemm = [8, 256, 256]\n')
    assert main(["sweep", "study/g3.toml", "--dry-run"]) == 2
    assert "sweeps a field hermes-like, a crossbar, never reads" in capsys.readouterr().err
