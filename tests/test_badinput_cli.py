"""The `lowbit` command line with bad input (issue #14): every mistake is one line on stderr naming the
argument or file and the valid choices, exit code 2, no traceback; a sweep whose points fail exits 1;
golden vectors are a function of their header."""

import json
import sys
from pathlib import Path

import pytest

import accel
from tests.cli_runner import cli

GOOD_GRID = ('design = "edge-npu"\n[grid]\n"design.unit.rows" = [16, 32]\n'
             '[[workloads]]\ngemm = [16, 16, 16]\na_format = "int8"\n')




def _file(tmp_path, text, name="g.toml"):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


# -- simulate ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, msg", [
    (["edge-npu", "--gemm", "0", "8", "8"], "Gemm.m must be a positive int, got 0"),
    (["edge-npu", "--gemm", "8", "-8", "8"], "Gemm.n must be a positive int, got -8"),
    (["edge-npu", "--gemm", "8", "8", "0"], "Gemm.k must be a positive int, got 0"),
    (["nosuch", "--gemm", "8", "8", "8"], "unknown design 'nosuch'"),
    (["edge-npu", "--gemm", "8", "8", "8", "--a-format", "e9m9"], "unknown format 'e9m9'"),
    (["edge-npu", "--gemm", "8", "8", "8", "--a-format", "e4m3"], "edge-npu has no 'e4m3'"),
    (["edge-npu", "--gemm", "8", "8", "8", "--sparsity", "3:2"], "sparsity '3:2' needs 0 < n < m"),
    (["edge-npu", "--gemm", "8", "8", "8", "--sparsity", "half"], "sparsity must be None or 'n:m'"),
    (["hermes-like", "--gemm", "8", "8", "8", "--t-seconds", "-1"], "t_seconds must be a finite number >= 0"),
    (["hermes-like", "--gemm", "8", "8", "8", "--t-seconds", "nan"], "t_seconds must be a finite number >= 0"),
    (["missing.toml", "--gemm", "8", "8", "8"], "design file missing.toml does not exist"),
    # --layer's options elsewhere changed nothing (audit s32 F3)
    (["neurram-like", "--gemm", "8", "16", "32", "--tp", "4"], "--tp applies to --layer"),
    (["neurram-like", "--network", "digits-mlp", "--phase", "decode", "--dtype", "int8"],
     "--phase, --dtype apply to --layer"),
    (["edge-npu", "--gemm", "8", "8", "8", "--kv-len", "5", "--ffn-mult", "3"],
     "--kv-len, --ffn-mult apply to --layer"),
    (["jia-sram-like", "--network", "digits-mlp"], "but jia-sram-like has 1 core: a crossbar"),
])
def test_simulate_bad_arguments(capsys, args, msg):
    code, out, err = cli(["simulate", *args], capsys)
    assert code == 2 and err.startswith("lowbit simulate: ") and msg in err and out == ""


@pytest.mark.parametrize("args, msg", [
    (["edge-npu", "--gemm", "1.5", "2", "3"], "argument --gemm: invalid int value: '1.5'"),
    (["edge-npu", "--gemm", "8", "8"], "argument --gemm: expected 3 arguments"),
    (["edge-npu"], "one of the arguments --gemm --network --layer --model is required"),
    (["edge-npu", "--network", "resnet"], "argument --network: invalid choice: 'resnet'"),
    (["edge-npu", "--gemm", "8", "8", "8", "--compensation", "row"], "invalid choice: 'row'"),
])
def test_simulate_argparse_errors(capsys, args, msg):
    code, _, err = cli(["simulate", *args], capsys)
    assert code == 2 and msg in err


@pytest.mark.parametrize("content, msg", [
    ("a = = b\n", "{p} does not parse as TOML"),
    (b"\xff\xfe\x00binary", "{p}"),
])
def test_simulate_design_file_that_does_not_parse(tmp_path, capsys, content, msg):
    p = _file(tmp_path, content, "d.toml")
    code, _, err = cli(["simulate", p, "--gemm", "8", "8", "8"], capsys)
    assert code == 2 and msg.format(p=p) in err


def test_simulate_design_that_is_a_directory(tmp_path, capsys):
    code, _, err = cli(["simulate", f"{tmp_path}/", "--gemm", "8", "8", "8"], capsys)
    assert code == 2 and "is a directory, not a file" in err


@pytest.mark.parametrize("extra, advice", [([], "rerun with --no-accuracy"), (["--no-accuracy"], "smaller workload")])
def test_simulate_out_of_memory_is_advice_not_a_traceback(capsys, monkeypatch, extra, advice):
    def oom(*a, **k):
        raise MemoryError
    monkeypatch.setattr(accel, "simulate", oom)  # the CLI looks accel.simulate up when it runs
    code, _, err = cli(["simulate", "edge-npu", "--gemm", "1000000", "1000000", "1000000", *extra], capsys)
    assert code == 2 and err.startswith("lowbit simulate: out of memory") and advice in err


# -- sweep --------------------------------------------------------------------------------------------------

GRID_ERRORS = {
    "not_toml": ("a = = b\n", "is not a TOML grid file"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00", "is not a TOML grid file"),
    "workload_table": (GOOD_GRID.replace("[[workloads]]", "[[workload]]"),
                       "unknown top-level key 'workload' (did you mean 'workloads'?)"),
    "grids_table": (GOOD_GRID.replace("[grid]", "[grids]"), "unknown top-level key 'grids' (did you mean 'grid'?)"),
    "unknown_key": ("colour = 1\n" + GOOD_GRID, "unknown top-level key 'colour'"),
    "no_design": (GOOD_GRID.replace('design = "edge-npu"\n', ""), "needs design"),
    "no_workloads": ('design = "edge-npu"\n', "needs design"),
    "design_not_str": (GOOD_GRID.replace('"edge-npu"', "3"), "design must be a preset name or a .toml path"),
    "unknown_design": (GOOD_GRID.replace('"edge-npu"', '"edge"'), "unknown design 'edge'"),
    "missing_design_file": (GOOD_GRID.replace('"edge-npu"', '"nope.toml"'),
                            "design file 'nope.toml' does not exist in the grid file's folder"),
    # a bad workload value names the file and its table (audit s34: it gave only the field)
    "workload_value": (GOOD_GRID.replace("gemm = [16, 16, 16]", "gemm = [0, 16, 16]"),
                       "g.toml: [[workloads]] #1: Gemm.m must be a positive int, got 0"),
    "workload_draws": (GOOD_GRID + '[[workloads]]\nnetwork = "digits-mlp"\ndraws = 0\n',
                       "g.toml: [[workloads]] #2: Network.draws must be an int in 1..10000, got 0"),
    "accuracy_str": ('accuracy = "yes"\n' + GOOD_GRID, "accuracy must be true or false, got 'yes'"),
    "grid_not_table": (GOOD_GRID.replace('[grid]\n"design.unit.rows" = [16, 32]\n', "grid = 3\n"),
                       "grid must be a [grid] table"),
    "grid_value_scalar": (GOOD_GRID.replace("[16, 32]", "16"), "must be a non-empty array of values, got 16"),
    "grid_value_empty": (GOOD_GRID.replace("[16, 32]", "[]"), "must be a non-empty array of values"),
    "grid_key_no_scope": (GOOD_GRID.replace('"design.unit.rows"', '"rows"'),
                          "grid key 'rows' must start with 'design.' or 'workload.'"),
    "grid_key_not_field": (GOOD_GRID.replace('"design.unit.rows"', '"design.unit.rowz"'),
                           "SystolicArray has no field 'rowz'"),
    "grid_workload_key_not_field": (GOOD_GRID.replace('"design.unit.rows"', '"workload.kk"'),
                                    "Gemm has no field 'kk'"),
    "workloads_not_tables": (GOOD_GRID.split("[[workloads]]")[0].replace("[grid]", "workloads = [1]\n[grid]"),
                             "workloads must be one or more [[workloads]] tables"),
    "workload_unknown_key": (GOOD_GRID + "mm = 3\n", "unknown key 'mm' for a gemm workload"),
    "workload_typo": (GOOD_GRID.replace("a_format", "a_fromat"), "(did you mean 'a_format'?)"),
    "gemm_and_network": (GOOD_GRID + 'network = "digits-mlp"\n', "needs exactly one of 'gemm = [m, n, k]'"),
    "neither": (GOOD_GRID.replace("gemm = [16, 16, 16]\n", ""), "needs exactly one of"),
    "gemm_two": (GOOD_GRID.replace("[16, 16, 16]", "[16, 16]"), "gemm must be [m, n, k], three positive integers"),
    "gemm_float": (GOOD_GRID.replace("[16, 16, 16]", "[16, 1.5, 16]"), "gemm must be [m, n, k]"),
    "gemm_zero": (GOOD_GRID.replace("[16, 16, 16]", "[0, 16, 16]"), "Gemm.m must be a positive int, got 0"),
    "gemm_negative": (GOOD_GRID.replace("[16, 16, 16]", "[16, -4, 16]"), "Gemm.n must be a positive int, got -4"),
    "unknown_network": (GOOD_GRID.replace("gemm = [16, 16, 16]", 'network = "resnet"'),
                        "network must be 'digits-mlp' or 'transformer', got 'resnet'"),
    "network_key": (GOOD_GRID.replace("gemm = [16, 16, 16]", 'network = "digits-mlp"\nseq = 4'),
                    "unknown key 'seq' for a network 'digits-mlp' workload"),
    "bad_format": (GOOD_GRID.replace('a_format = "int8"', 'a_format = "int9x"'), "unknown format"),
}


@pytest.mark.parametrize("case", list(GRID_ERRORS))
def test_sweep_bad_grid_files(tmp_path, capsys, case):
    text, msg = GRID_ERRORS[case]
    g = _file(tmp_path, text)
    code, _, err = cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--no-progress", "--workers", "1"], capsys)
    assert code == 2 and err.startswith("lowbit sweep: ") and msg in err
    assert not (tmp_path / "r.jsonl").exists() or (tmp_path / "r.jsonl").read_text() == ""


@pytest.mark.parametrize("where, msg", [
    ("missing", "grid file {t}/nope.toml does not exist"),
    ("dir", "grid file {t} is a directory, not a file"),
])
def test_sweep_grid_file_that_is_not_a_file(tmp_path, capsys, where, msg):
    g = tmp_path / "nope.toml" if where == "missing" else tmp_path
    code, _, err = cli(["sweep", g, "--out", tmp_path / "r.jsonl"], capsys)
    assert code == 2 and msg.format(t=tmp_path) in err


@pytest.mark.parametrize("opt, where, msg", [
    ("--out", "missing_dir", "--out {t}/no/r.jsonl: the directory {t}/no does not exist"),
    ("--out", "dir", "--out {t} is a directory, not a file"),
    ("--csv", "missing_dir", "--csv {t}/no/r.jsonl: the directory {t}/no does not exist"),
    ("--csv", "dir", "--csv {t} is a directory, not a file"),
])
def test_sweep_outputs_checked_before_any_work(tmp_path, capsys, opt, where, msg):
    g = _file(tmp_path, GOOD_GRID)
    target = tmp_path / "no" / "r.jsonl" if where == "missing_dir" else tmp_path
    argv = ["sweep", g, "--out", tmp_path / "r.jsonl", "--no-progress", "--workers", "1", opt, target]
    code, _, err = cli(argv, capsys)
    assert code == 2 and msg.format(t=tmp_path) in err


@pytest.mark.parametrize("workers", ["-1", "two"])
def test_sweep_bad_workers(tmp_path, capsys, workers):
    code, _, err = cli(["sweep", _file(tmp_path, GOOD_GRID), "--workers", workers], capsys)
    assert code == 2 and "argument --workers" in err


def _sweep(tmp_path, capsys, grid_text, *extra):
    g = _file(tmp_path, grid_text)
    return cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--no-progress", "--workers", "1", *extra], capsys)


@pytest.mark.parametrize("change", [
    ('"edge-npu"', '"edge-npu"\naccuracy = true'),
    ("[16, 16, 16]", "[16, 16, 32]"),
    ("[16, 32]", "[64, 128]"),
    ('a_format = "int8"', 'a_format = "int4"'),
])
def test_sweep_stale_log_refused_naming_out_and_forced_aside(tmp_path, capsys, change):
    assert _sweep(tmp_path, capsys, GOOD_GRID)[0] == 0
    before = (tmp_path / "r.jsonl").read_bytes()
    code, _, err = _sweep(tmp_path, capsys, GOOD_GRID.replace(*change))
    assert code == 2 and "r.jsonl (--out) holds 2 row(s) of another sweep" in err and "--force" in err
    code, _, err = _sweep(tmp_path, capsys, GOOD_GRID.replace(*change), "--force")
    assert code == 0 and "lowbit sweep: warning: " in err and "writing to" in err and "r.1.jsonl" in err
    assert (tmp_path / "r.jsonl").read_bytes() == before
    assert len((tmp_path / "r.1.jsonl").read_text().splitlines()) == 2


def test_sweep_locked_log(tmp_path, capsys):
    import fcntl
    out = tmp_path / "r.jsonl"
    with open(out, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = _sweep(tmp_path, capsys, GOOD_GRID)
    assert code == 2 and "is locked by another sweep" in err and "--out" in err


FAILING = GOOD_GRID.replace('"design.unit.rows" = [16, 32]', '"workload.a_format" = ["e4m3", "e5m2"]')
HALF = GOOD_GRID.replace('"design.unit.rows" = [16, 32]', '"workload.a_format" = ["int8", "e4m3"]')


@pytest.mark.parametrize("text, extra, code, msg", [
    (FAILING, [], 1, "lowbit sweep: all 2 point(s) failed, e.g.: edge-npu has no 'e4m3'"),
    (FAILING, ["--strict"], 1, "all 2 point(s) failed"),
    (HALF, [], 0, ""),
    (HALF, ["--strict"], 1, "lowbit sweep: 1 of 2 point(s) failed, e.g.: edge-npu has no 'e4m3'"),
    (GOOD_GRID, ["--strict"], 0, ""),
])
def test_sweep_failed_points_exit_code(tmp_path, capsys, text, extra, code, msg):
    got, out, err = _sweep(tmp_path, capsys, text, *extra)
    assert got == code and msg in err
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 2  # failed points are logged too
    if code == 0 and text == HALF:
        assert "1 point(s) failed" in out


def test_sweep_all_failed_with_plots(tmp_path, capsys):
    code, out, err = _sweep(tmp_path, capsys, FAILING, "--plots", tmp_path / "p")
    assert code == 1 and "all 2 point(s) failed" in err and "no plots" in out and not (tmp_path / "p").exists()


@pytest.mark.parametrize("exc, code, msg", [
    ("broken", 1, "a worker process died"),
    ("interrupt", 130, "interrupted; finished points are saved in --out: rerun to resume"),
])
def test_sweep_dead_worker_or_interrupt(tmp_path, capsys, monkeypatch, exc, code, msg):
    from concurrent.futures.process import BrokenProcessPool

    def fail(*a, **k):
        raise BrokenProcessPool("killed") if exc == "broken" else KeyboardInterrupt
    monkeypatch.setattr(accel, "sweep", fail)
    got, _, err = _sweep(tmp_path, capsys, GOOD_GRID)
    assert got == code and msg in err


def test_sweep_out_of_memory(tmp_path, capsys, monkeypatch):
    def oom(*a, **k):
        raise MemoryError
    monkeypatch.setattr(accel, "sweep", oom)
    code, _, err = _sweep(tmp_path, capsys, GOOD_GRID)
    assert code == 2 and "out of memory" in err and "accuracy = false" in err


# -- report -------------------------------------------------------------------------------------------------

@pytest.fixture
def log(tmp_path, capsys):
    assert _sweep(tmp_path, capsys, GOOD_GRID.replace("[16, 32]", "[16, 32, 64]"))[0] == 0
    return tmp_path / "r.jsonl"


@pytest.mark.parametrize("args, msg", [
    (["--sort", "energy"], "--sort: unknown column 'energy' (did you mean 'energy_j'?); the results have: "),
    (["--sort", "zzz"], "--sort: unknown column 'zzz'; the results have: design.unit.rows, design, workload"),
    (["--columns", "workload,enrgy_j"], "--columns: unknown column 'enrgy_j' (did you mean 'energy_j'?)"),
    (["--columns", ""], "--columns: unknown column ''"),
    (["--columns", "hash"], "--columns: unknown column 'hash'"),
])
def test_report_unknown_columns(log, capsys, args, msg):
    code, out, err = cli(["report", log, *args], capsys)
    assert code == 2 and msg in err and out == ""


@pytest.mark.parametrize("what, msg", [
    ("missing", "results file {t}/no.jsonl does not exist"),
    ("dir", "results file {t} is a directory, not a file"),
    ("csv", "{t}/r.csv is not a JSONL results file: line 1 is not a JSON object"),
    ("empty", "{t}/e.jsonl holds no results"),
])
def test_report_of_what_is_not_a_results_file(tmp_path, capsys, what, msg):
    path = {"missing": tmp_path / "no.jsonl", "dir": tmp_path, "csv": _file(tmp_path, "a,b\n1,2\n", "r.csv"),
            "empty": _file(tmp_path, "", "e.jsonl")}[what]
    code, _, err = cli(["report", path], capsys)
    assert code == 2 and msg.format(t=tmp_path) in err


def test_report_damaged_log_warns_and_shows_every_valid_point(log, capsys):
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], "{damaged", lines[1], lines[1], lines[2][:30]]))
    code, out, err = cli(["report", log], capsys)
    assert code == 0 and "lowbit report: warning: " in err and "line(s) 2, 5;" in err and "1 duplicate" in err
    assert len(out.splitlines()) == 2 + 2  # header, rule, the two intact points, each once


def test_report_sorts_mixed_columns(tmp_path, capsys):
    rows = [{"hash": "a", "x": 2.0}, {"hash": "b", "x": "n/a"}, {"hash": "c"}, {"hash": "d", "x": 1}]
    p = _file(tmp_path, "".join(json.dumps(r) + "\n" for r in rows), "r.jsonl")
    code, out, _ = cli(["report", p, "--sort", "x", "--columns", "x"], capsys)
    assert code == 0 and [line.strip() for line in out.splitlines()[2:]] == ["1", "2", "n/a", "-"]


def test_report_pareto_of_failed_points(tmp_path, capsys):
    assert _sweep(tmp_path, capsys, FAILING)[0] == 1
    code, _, err = cli(["report", tmp_path / "r.jsonl", "--pareto"], capsys)
    assert code == 1 and "every point failed" in err


# -- vectors ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, msg", [
    (["--rounding", "FOO"], "--rounding must be a RoundMode name, one of TIES_TO_EVEN, TIES_TO_AWAY, TOWARD_ZERO, "
                            "TOWARD_POSITIVE, TOWARD_NEGATIVE, TO_ODD, STOCHASTIC; got 'FOO'"),
    (["--rounding", ""], "--rounding must be a RoundMode name"),
    (["--op", "convert"], "convert needs --to FORMAT"),
    (["--op", "convert", "--to", "nope"], "unknown format 'nope'"),
    (["--op", "dot", "--accumulator", "foo", "--n", "2"], "unknown accumulator 'foo'"),
])
def test_vectors_bad_arguments(tmp_path, capsys, args, msg):
    argv = ["vectors", "e4m3", "--op", "add", "--n", "20", "--out", tmp_path / "v.hex", *args]
    code, out, err = cli(argv, capsys)
    assert code == 2 and err.startswith("lowbit vectors: ") and msg in err and out == ""


@pytest.mark.parametrize("args, msg", [
    (["--n", "0"], "argument --n: must be >= 1, got 0"),
    (["--n", "-5"], "argument --n: must be >= 1, got -5"),
    (["--n", "ten"], "argument --n: 'ten' is not an integer"),
    (["--k", "0"], "argument --k: must be >= 1, got 0"),
    (["--seed", "-1"], "argument --seed: must be >= 0, got -1"),
    (["--op", "sqrt"], "argument --op: invalid choice: 'sqrt'"),
    (["--as", "bin"], "argument --as: invalid choice: 'bin'"),
])
def test_vectors_argparse_errors(tmp_path, capsys, args, msg):
    code, _, err = cli(["vectors", "e4m3", "--op", "add", "--out", tmp_path / "v.hex", *args], capsys)
    assert code == 2 and msg in err


@pytest.mark.parametrize("fmt, msg", [("e4m3fn", "close matches"), ("float7", "unknown format")])
def test_vectors_unknown_format(tmp_path, capsys, fmt, msg):
    code, _, err = cli(["vectors", fmt, "--op", "add", "--out", tmp_path / "v.hex"], capsys)
    assert code == 2 and msg in err


@pytest.mark.parametrize("where, msg", [("missing", "the directory {t}/no does not exist"),
                                        ("dir", "--out {t} is a directory, not a file")])
def test_vectors_out_not_writable(tmp_path, capsys, where, msg):
    out = tmp_path / "no" / "v.hex" if where == "missing" else tmp_path
    code, _, err = cli(["vectors", "e4m3", "--op", "add", "--out", out], capsys)
    assert code == 2 and msg.format(t=tmp_path) in err


@pytest.mark.parametrize("fmt, op, rounding", [
    ("e4m3", "encode", "STOCHASTIC"), ("e4m3", "add", "STOCHASTIC"), ("e5m2", "mul", "stochastic"),
    ("e5m2", "fma", "STOCHASTIC"), ("e5m2", "convert", "STOCHASTIC"), ("e4m3", "add", "TIES_TO_EVEN"),
    ("posit8", "decode", "TOWARD_ZERO"),
])
def test_vectors_are_a_function_of_their_header(tmp_path, capsys, fmt, op, rounding):
    files = []
    for i, seed in enumerate(["0", "0", "7"]):
        out = tmp_path / f"v{i}.hex"
        argv = ["vectors", fmt, "--op", op, "--rounding", rounding, "--seed", seed, "--n", "200", "--out", out,
                "--to", "e4m3"]
        assert cli(argv, capsys)[0] == 0
        files.append(out.read_bytes())
    assert files[0] == files[1]  # the same header, the same bytes
    header = files[0].split(b"\n")[0].decode()
    assert f"rounding {rounding.upper()}, seed 0" in header
    assert files[2] != files[0] and b"seed 7" in files[2]


def test_vectors_stochastic_rounding_is_really_stochastic(tmp_path, capsys):
    import numerics as nx
    out = tmp_path / "v.hex"
    argv = ["vectors", "e4m3", "--op", "encode", "--rounding", "STOCHASTIC", "--n", "2000", "--out", out]
    assert cli(argv, capsys)[0] == 0
    rows = [line.split() for line in out.read_text().splitlines()[2:]]
    import numpy as np
    x = np.array([int(a, 16) for a, _ in rows], np.uint32).view(np.float32)
    got = np.array([int(b, 16) for _, b in rows])
    rne = nx.get_format("e4m3").encode(x, saturate=True, nan_code=0x7F)
    assert (got != rne).any()  # some values rounded away from nearest: the mode was applied


def test_vectors_python_api_checks(tmp_path):
    from accel import vectors
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        vectors.generate("e4m3", "add", n=0)
    with pytest.raises(ValueError, match="seed must be an int >= 0, got -1"):
        vectors.generate("e4m3", "add", seed=-1)
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        vectors.generate("e4m3", "dot", k=0)
    with pytest.raises(ValueError, match="RoundMode name, one of TIES_TO_EVEN"):
        vectors.generate("e4m3", "add", rounding="nearest")


# -- other commands, and memory -------------------------------------------------------------------------------

def test_formats_unknown_name(capsys):
    code, _, err = cli(["formats", "e4m3fn"], capsys)
    assert code == 2 and "lowbit formats: " in err and "close matches" in err


def test_study_out_dir_that_is_a_file(tmp_path, capsys):
    f = _file(tmp_path, "x", "study")
    code, _, err = cli(["study", "--out-dir", f], capsys)
    assert code == 2 and f"--out-dir {f} is a file, not a folder" in err


def test_unknown_command(capsys):
    code, _, err = cli(["simulat"], capsys)
    assert code == 2 and "invalid choice: 'simulat'" in err


def test_out_of_memory_anywhere_is_exit_2(tmp_path, capsys, monkeypatch):
    from accel import vectors

    def oom(*a, **k):
        raise MemoryError
    monkeypatch.setattr(vectors, "generate", oom)
    code, _, err = cli(["vectors", "e4m3", "--op", "add", "--n", "10", "--out", tmp_path / "v.hex"], capsys)
    assert code == 2 and "lowbit vectors: out of memory" in err


def test_console_script_error_has_no_traceback(tmp_path):
    import subprocess
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-m", "accel.cli", "report", str(tmp_path / "none.jsonl")],
                       capture_output=True, text=True, cwd=root)
    assert r.returncode == 2 and r.stderr.strip() == f"lowbit report: results file {tmp_path}/none.jsonl does not exist"


def test_simulate_totals_out_of_the_float_range(capsys, tmp_path):
    """A finite periphery constant whose totals leave the float range is one line, not a traceback (an MVM of 1e300 s
    made the cycles inf: an OverflowError; a cell of 1e308 um^2 printed an area of Infinity, invalid JSON) (audit s32
    F1, F2); a [[memories]] table's error names the file once (F5)."""
    import dataclasses as dc
    d = accel.get_design("neurram-like")
    slow = d.replace(unit=dc.replace(d.unit, periphery=dc.replace(d.unit.periphery, adc_step_s=1e300)))
    j = accel.get_design("jia-sram-like")
    big = j.replace(unit=dc.replace(j.unit, periphery=dc.replace(j.unit.periphery, cell_area_um2=1e308)))
    for design, msg in ((slow, "the model's totals leave the float range (seconds 4.8e+301, cycles inf"),
                        (big, "mvm_cost: the MVM's area (array) on periphery 'jia' leaves the float range")):
        p = _file(tmp_path, design.to_toml(), "x.toml")
        code, out, err = cli(["simulate", str(p), "--gemm", "8", "16", "32", "--json"], capsys)
        assert code == 2 and msg in err and out == ""
    with pytest.raises(ValueError, match=r"mvm_cost: the MVM's area \(array\) on periphery 'jia' leaves the float "
                                         r"range"):
        accel.macro_report(big)
    t = accel.get_design("h100-like").to_toml()
    i = t.index("bandwidth_bytes_per_s", t.index("[[memories]]"))
    p = _file(tmp_path, t[:i] + t[t.index("\n", i) + 1:], "m2.toml")
    code, _, err = cli(["simulate", str(p), "--gemm", "8", "16", "32"], capsys)
    assert code == 2 and err.count(str(p)) == 1 and "[[memories]] #1 lacks ['bandwidth_bytes_per_s']" in err
