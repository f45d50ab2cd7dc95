"""CLI tools (issue #19): designs, show [--toml] round trip, --version, block formats, simulate
--accumulator/--seed, SI-prefixed tables, defaults in --help; sweeps with zipped axes, an automatic chunk
size per executor worker, --dry-run, --scheduler/--workers; report --pareto with directions."""

import json
import re
import sys
from concurrent.futures import Executor, ThreadPoolExecutor

import pytest

import accel
from accel.units import column_unit, si
from tests.cli_runner import cli

sweep_mod = sys.modules["accel.sweep"]




# -- SI units ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, unit, text", [
    (0.0125, "J", "12.5 mJ"), (3.2e-6, "s", "3.2 us"), (4.1e14, "OPS/W", "410 TOPS/W"), (1.254e-2, "J", "12.54 mJ"),
    (2.5e12, "OPS", "2.5 TOPS"), (1.5e9, "B/s", "1.5 GB/s"), (80 * 2**30, "B", "85.9 GB"), (1.0, "s", "1 s"),
    (0.0, "J", "0 J"), (-2e-3, "s", "-2 ms"), (999.96, "B", "1 kB"), (float("inf"), "B/s", "inf B/s"),
    (1e30, "J", "1.000e+30 J"), (12345678, "", "12.35 M"),
])
def test_si(value, unit, text):
    assert si(value, unit) == text


@pytest.mark.parametrize("col, unit", [("seconds", "s"), ("energy_j", "J"), ("energy_hbm_j", "J"), ("ops_per_s", "OPS"),
                                       ("ops_per_j", "OPS/W"), ("size_bytes", "B"), ("design.unit.rows", None),
                                       ("top1", None), ("utilisation", None)])
def test_column_unit(col, unit):
    assert column_unit(col) == unit


# -- designs, show, version, formats -------------------------------------------------------------------------

def test_version(capsys):
    code, out, _ = cli(["--version"], capsys)
    assert code == 0 and re.fullmatch(r"lowbit \S+\n", out)


def test_designs_lists_every_preset(capsys):
    code, out, _ = cli(["designs"], capsys)
    assert code == 0
    for name in accel.design_names():
        assert re.search(rf"^{re.escape(name)}\s", out, re.M), name
    assert re.search(r"^a100-like\s+SparseTensorCore\s+1\.41 GHz\s+1\.247 POPS", out, re.M)
    # a crossbar times its MVMs by its periphery, not the design's clock: no clock is listed for it
    assert re.search(r"^hermes-like\s+Crossbar\s+-\s+63\.1 TOPS", out, re.M)
    code, out, _ = cli(["designs", "--json"], capsys)
    rows = json.loads(out)
    assert [r["name"] for r in rows] == accel.design_names() and rows[0]["clock_hz"] == 1.41e9
    assert {r["clock_hz"] for r in rows if r["unit"] == "Crossbar"} == {None}


def test_show_prints_a_design(capsys):
    code, out, _ = cli(["show", "a100-like"], capsys)
    assert code == 0 and out.startswith("a100-like: SparseTensorCore at 1.41 GHz")
    assert re.search(r"peak fp16\s+311\.9 TOPS", out)


def test_show_unknown_design(capsys):
    code, _, err = cli(["show", "a100"], capsys)
    assert code == 2 and "close matches: a100-like" in err


@pytest.mark.parametrize("design", ["a100-like", "edge-npu"])
def test_show_toml_round_trips_through_simulate(tmp_path, capsys, design):
    """lowbit show X --toml > f.toml; lowbit simulate f.toml gives the numbers of lowbit simulate X."""
    code, toml_text, _ = cli(["show", design, "--toml"], capsys)
    assert code == 0
    path = tmp_path / "d.toml"
    path.write_text(toml_text)
    fmt = "fp16" if design == "a100-like" else "int8"
    args = ["--gemm", "96", "80", "200", "--a-format", fmt, "--json"]
    _, direct, _ = cli(["simulate", design, *args], capsys)
    code, loaded, err = cli(["simulate", path, *args], capsys)
    assert code == 0, err
    assert json.loads(loaded) == json.loads(direct)


def test_formats_lists_block_formats(capsys):
    import numerics as nx
    code, out, _ = cli(["formats"], capsys)
    assert code == 0 and "block formats" in out
    for name in nx.block_format_names():
        assert re.search(rf"^{name}\s", out, re.M), name
    code, out, _ = cli(["formats", "mxfp4"], capsys)
    assert code == 0 and re.search(r"^mxfp4\s+e2m1\s+e8m0\s+32\s+4\.25\s", out, re.M)


def test_formats_unknown_block_name_suggests_the_block_family(capsys):
    code, _, err = cli(["formats", "mxfp5"], capsys)
    assert code == 2 and "mxfp4" in err and "nf4" not in err


# -- rate tables keyed by block formats ----------------------------------------------------------------------

def test_rate_table_accepts_block_format_names():
    by_block = accel.TensorCore("t", 4, {"mxfp4": 4096, "fp16": 1024})
    by_element = accel.TensorCore("t", 4, {"e2m1": 4096, "fp16": 1024})
    assert by_block == by_element and by_block.macs_per_clock("mxfp4") == 4 * 4096
    d = accel.Design("d", 1e9, by_block, mac_pj={"mxfp4": 0.05})
    assert d.energy_table["e2m1"] == 0.05
    same = accel.Design("d", 1e9, by_element)
    g = accel.Gemm(64, 64, 64, a_format="mxfp4")
    assert accel.simulate(accel.Design("d", 1e9, by_block), g, accuracy=False).seconds == \
        accel.simulate(same, g, accuracy=False).seconds


@pytest.mark.parametrize("rates, msg", [
    ({"mxfp5": 1}, r"unknown format 'mxfp5'; close matches: mxfp4"),
    ({"mxfp4": 2, "e2m1": 4}, r"'mxfp4' and 'e2m1' both name the element format 'e2m1'"),
])
def test_rate_table_bad_names(rates, msg):
    with pytest.raises(ValueError, match=msg) as info:
        accel.TensorCore("t", 4, rates)
    assert "nf4" not in str(info.value)


# -- simulate: --accumulator, --seed, SI output ----------------------------------------------------------------

GEMM = ["--gemm", "16", "16", "2048", "--a-format", "fp16"]


def _sim(capsys, *extra):
    code, out, err = cli(["simulate", "a100-like", *GEMM, "--json", *extra], capsys)
    assert code == 0, err
    return json.loads(out)


def test_simulate_accumulator_changes_the_arithmetic(capsys):
    # summing 2048 fp16 products in an fp16 accumulator loses far more than fp32 does
    fp32, fp16 = _sim(capsys, "--accumulator", "fp32"), _sim(capsys, "--accumulator", "fp16")
    assert fp16["rel_fro_err"] > 10 * fp32["rel_fro_err"]
    assert fp16["seconds"] == fp32["seconds"]


def test_simulate_seed(capsys):
    a, b, a2 = _sim(capsys, "--seed", "1"), _sim(capsys, "--seed", "2"), _sim(capsys, "--seed", "1")
    assert a == a2 and a["rel_fro_err"] != b["rel_fro_err"]


def test_simulate_device_draws_of_the_digits_mlp_on_a_crossbar(capsys, tmp_path):
    # on a crossbar something is drawn (programming, drift, read noise): --seed and --draws reach the network's
    def run(*extra):
        code, out, err = cli(["simulate", "hermes-like", "--network", "digits-mlp", "--t-seconds", "86400",
                              "--compensation", "global", "--json", *extra], capsys)
        assert code == 0, err
        return json.loads(out)  # the report's fields, accuracy metrics among them
    a, a2, b = run("--seed", "3"), run("--seed", "3"), run("--seed", "4")
    assert a == a2 and a["rel_fro_err"] != b["rel_fro_err"]
    three = run("--seed", "3", "--draws", "3")
    assert three["draws"] == 3 and three["rel_fro_err_ci95_lo"] < three["rel_fro_err"] < three["rel_fro_err_ci95_hi"]
    d = accel.get_design("hermes-like")
    net = accel.digits_mlp().replace(t_seconds=86400.0, compensation="global", seed=3, draws=3)
    assert three["rel_fro_err"] == pytest.approx(accel.simulate(d, net).accuracy["rel_fro_err"], rel=1e-12)
    g = tmp_path / "g.toml"  # a sweep file takes the same fields
    g.write_text('design = "hermes-like"\naccuracy = true\n[[workloads]]\nnetwork = "digits-mlp"\nseed = 3\ndraws = 3\n'
                 't_seconds = 86400.0\ncompensation = "global"\n')
    code, _, err = cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--no-progress", "--workers", "1"], capsys)
    assert code == 0, err
    row = accel.read_results(tmp_path / "r.jsonl")[0]
    assert row["rel_fro_err"] == pytest.approx(three["rel_fro_err"], rel=1e-12)


@pytest.mark.parametrize("args, msg", [
    (["a100-like", *GEMM, "--accumulator", "fp31"], "--accumulator: unknown accumulator 'fp31' (did you mean"),
    (["a100-like", *GEMM, "--seed", "-1"], "argument --seed: must be >= 0"),
    (["edge-npu", "--network", "digits-mlp", "--seed", "3"], "--seed: on a digital unit the digits MLP runs fixed"),
    (["a100-like", "--layer", "64", "2", "1", "8", "--seed", "3"], "--seed applies to --gemm/--network"),
    (["edge-npu", "--network", "digits-mlp", "--draws", "3"], "with accuracy; a digital unit is deterministic"),
    (["hermes-like", *GEMM, "--draws", "3"], "with accuracy; a --gemm has one draw here"),
    (["hermes-like", "--network", "digits-mlp", "--draws", "3", "--no-accuracy"], "; --no-accuracy draws nothing"),
    (["a100-like", "--layer", "64", "2", "1", "8", "--draws", "3"], "--draws applies to --network on a crossbar"),
])
def test_simulate_bad_new_flags(capsys, args, msg):
    code, _, err = cli(["simulate", *args], capsys)
    assert code == 2 and msg in err


def test_simulate_table_uses_si_units(capsys):
    code, out, _ = cli(["simulate", "a100-like", *GEMM], capsys)
    assert code == 0
    lines = dict(re.split(r"\s+", line, maxsplit=1) for line in out.splitlines())
    assert re.fullmatch(r"[\d.]+ [munp]?s", lines["seconds"])
    assert re.fullmatch(r"[\d.]+ [munpk]?J", lines["energy_j"])
    assert re.fullmatch(r"[\d.]+ [GTP]OPS/W", lines["ops_per_j"])
    assert "e+" not in out and "e-0" not in lines["energy_j"]


@pytest.mark.parametrize("command, fragments", [
    ("simulate", ["(default: prefill)", "nv_hopper_fp8", "(default: fp16)"]),
    ("sweep", ["(default: sweep.jsonl)", "tcp://HOST:PORT", "--dry-run"]),
    ("vectors", ["(default: TIES_TO_EVEN)", "TOWARD_ZERO", "{hex,csv,readmemh}"]),
    ("report", ["--maximize", "--by"]),
])
def test_help_shows_valid_values_and_defaults(capsys, command, fragments):
    code, out, _ = cli([command, "--help"], capsys)
    flat = " ".join(out.split())
    assert code == 0 and all(f in flat for f in fragments), [f for f in fragments if f not in flat]


# -- sweeps: zipped axes, chunking, dry run, Dask options --------------------------------------------------------

def _design():
    return accel.get_design("edge-npu")


def test_grid_points_zip():
    grid = {"workload.a_format": ["int8", "int4"],
            "zip": {"design.unit.rows": [16, 32, 64], "design.unit.cols": [8, 16, 32]}}
    pts = accel.grid_points(grid)
    assert [(p["workload.a_format"], p["design.unit.rows"], p["design.unit.cols"]) for p in pts] == [
        ("int8", 16, 8), ("int8", 32, 16), ("int8", 64, 32), ("int4", 16, 8), ("int4", 32, 16), ("int4", 64, 32)]
    two = {"zip": [{"design.unit.rows": [16, 32], "design.unit.cols": [16, 32]},
                   {"workload.a_format": ["int8", "int4"], "workload.k": [64, 128]}]}
    assert len(accel.grid_points(two)) == 4


def test_zipped_sweep(tmp_path):
    grid = {"zip": {"design.unit.rows": [16, 32], "design.unit.cols": [16, 32]}}
    out = tmp_path / "z.jsonl"
    rows = accel.sweep(_design(), grid, [accel.Gemm(64, 64, 64, a_format="int8")], out=out, progress=False)
    assert [(r["design.unit.rows"], r["design.unit.cols"]) for r in rows] == [(16, 16), (32, 32)]
    assert rows[0]["hash"] != rows[1]["hash"] and rows[0]["seconds"] > rows[1]["seconds"]
    # the zipped values are part of the hash: a resume reuses exactly these rows
    again = accel.sweep(_design(), grid, [accel.Gemm(64, 64, 64, a_format="int8")], out=out, progress=False)
    assert again == rows and len(out.read_text().splitlines()) == 2
    plain = accel.sweep(_design(), {"design.unit.rows": [16, 32], "design.unit.cols": [16, 32]},
                        [accel.Gemm(64, 64, 64, a_format="int8")], progress=False)
    assert len(plain) == 4 and {r["hash"] for r in rows} < {r["hash"] for r in plain}


@pytest.mark.parametrize("grid, msg", [
    ({"zip": {"design.unit.rows": [16, 32], "design.unit.cols": [16]}}, "must be equally long"),
    ({"design.unit.rows": [16], "zip": {"design.unit.rows": [16, 32], "design.unit.cols": [16, 32]}},
     "appears twice"),
    ({"zip": [16, 32]}, r"grid\['zip'\] must be a"),
    ({"zip": {}}, r"grid\['zip'\] must be a"),
    ({"zip": {"unit.rows": [16]}}, "must start with 'design.' or 'workload.'"),
    ({"zip": {"design.unit.rows": []}}, "must be a non-empty list"),
    ({"zip": {"design.unit.rowz": [16]}}, "has no field 'rowz'"),
])
def test_bad_zip(grid, msg):
    with pytest.raises(ValueError, match=msg):
        accel.sweep(_design(), grid, [accel.Gemm(8, 8, 8)], progress=False)


class CountingExecutor(Executor):
    """A 2-worker thread pool that records each task's size."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(2)
        self._max_workers = 2
        self.sizes = []

    def submit(self, fn, *args, **kwargs):
        self.sizes.append(len(args[2]))
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, **kw):
        self._pool.shutdown(wait)


@pytest.mark.parametrize("chunk_size, sizes", [(None, [8, 8]), (1, [1] * 16), (5, [5, 5, 5, 1])])
def test_chunk_size_defaults_to_points_per_worker(chunk_size, sizes):
    ex = CountingExecutor()
    grid = {"design.unit.rows": [8, 16, 32, 64], "design.unit.cols": [8, 16, 32, 64]}
    rows = accel.sweep(_design(), grid, [accel.Gemm(32, 32, 32, a_format="int8")], executor=ex, progress=False,
                       chunk_size=chunk_size)
    ex.shutdown()
    assert ex.sizes == sizes and len(rows) == 16


def test_executor_workers_of_a_dask_client():
    distributed = pytest.importorskip("distributed")
    assert sweep_mod.executor_workers(ThreadPoolExecutor(3)) == 3
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        assert sweep_mod.executor_workers(client.get_executor()) == 4


@pytest.mark.parametrize("kwargs, msg", [
    (dict(workers=0), "workers must be a positive int or None"),
    (dict(workers=True), "workers must be a positive int or None"),
    (dict(workers=2, executor=ThreadPoolExecutor(1)), "an executor brings its own workers"),
    (dict(chunk_size=0), "chunk_size must be a positive int or None"),
])
def test_bad_workers(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        accel.sweep(_design(), {}, [accel.Gemm(8, 8, 8)], progress=False, **kwargs)


ZIP_GRID = ('design = "edge-npu"\n[grid]\n"workload.a_format" = ["int8", "int4"]\n[grid.zip]\n'
            '"design.unit.rows" = [16, 32]\n"design.unit.cols" = [16, 32]\n'
            '[[workloads]]\ngemm = [16, 16, 16]\n')


def test_sweep_dry_run_prints_points_and_runs_nothing(tmp_path, capsys):
    g = tmp_path / "g.toml"
    g.write_text(ZIP_GRID)
    code, out, _ = cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--dry-run"], capsys)
    assert code == 0 and not (tmp_path / "r.jsonl").exists()
    body = [line.split() for line in out.splitlines() if re.match(r"^\d+\s+gemm 16x16x16", line)]
    assert [r[-3:] for r in body] == [["int8", "16", "16"], ["int8", "32", "32"], ["int4", "16", "16"],
                                     ["int4", "32", "32"]]
    assert "4 point(s): 4 grid point(s) x 1 workload(s)" in out


def test_sweep_dry_run_shows_no_format_on_a_crossbar(tmp_path, capsys):
    # a crossbar's numbers are its converters' and cells': its workloads list no operand format, as its reports
    g = tmp_path / "g.toml"
    g.write_text('design = "wang-c2c-like"\n[grid]\n"design.unit.adc_bits" = [6, 8]\n[[workloads]]\n'
                 'gemm = [16, 16, 64]\n')
    code, out, _ = cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--dry-run"], capsys)
    body = [line.split() for line in out.splitlines() if re.match(r"^\d+\s+gemm 16x16x64", line)]
    assert code == 0 and [r[3:] for r in body] == [["-", "6"], ["-", "8"]], out


def test_show_marks_the_fields_a_macro_never_reads(capsys):
    code, out, _ = cli(["show", "jia-sram-like"], capsys)
    marked = {line.split()[0] for line in out.splitlines() if line.endswith("(not used here)")}
    assert code == 0 and marked == {"t_mvm_s", "adc_fom_fj", "g_max_us", "v_read", "r_wire_ohm"}
    code, out, _ = cli(["show", "hermes-like"], capsys)
    assert {line.split()[0] for line in out.splitlines() if "not used" in line} == {"t_mvm_s", "adc_fom_fj"}
    assert "node_nm                    None  (14 nm: its periphery's)" in out
    code, out, _ = cli(["show", "jia-sram-like", "--toml"], capsys)
    assert "# node_nm: the default (45 nm) is not this crossbar's node; it is costed at its unit's 65 nm" in out
    assert "clock_hz = 1000000000.0  # counts the report's cycles only" in out


def test_sweep_zip_grid_file_runs(tmp_path, capsys):
    g = tmp_path / "g.toml"
    g.write_text(ZIP_GRID)
    code, out, err = cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--no-progress", "--workers", "1"], capsys)
    assert code == 0, err
    rows = accel.read_results(tmp_path / "r.jsonl")
    assert [(r["design.unit.rows"], r["design.unit.cols"]) for r in rows] == [(16, 16), (32, 32)] * 2


@pytest.mark.parametrize("extra, msg", [
    (["--scheduler", "localhost:8786"], "argument --scheduler: must be a Dask scheduler address"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "the cluster at tcp://127.0.0.1:1 has its own workers"),
    (["--workers", "0"], "argument --workers: must be >= 1"),
    (["--chunk-size", "0"], "argument --chunk-size: must be >= 1"),
])
def test_sweep_bad_dask_options(tmp_path, capsys, extra, msg):
    pytest.importorskip("distributed")
    g = tmp_path / "g.toml"
    g.write_text(ZIP_GRID)
    code, _, err = cli(["sweep", g, "--out", tmp_path / "r.jsonl", "--no-progress", *extra], capsys)
    assert code == 2 and msg in err


# -- report --pareto ------------------------------------------------------------------------------------------

@pytest.fixture
def log(tmp_path):
    path = tmp_path / "r.jsonl"
    rows = [dict(hash=str(i), workload=w, design="d", seconds=s, energy_j=e, ops_per_s=1 / s)
            for i, (w, s, e) in enumerate([("a", 1e-3, 2e-3), ("a", 2e-3, 1e-3), ("a", 3e-3, 3e-3),
                                          ("b", 5e-3, 5e-3)])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_report_pareto_minimises_latency_per_workload(log, capsys):
    code, out, _ = cli(["report", log, "--pareto", "--minimize", "seconds,energy_j", "--by", "workload"], capsys)
    assert code == 0
    table = [line.split() for line in out.splitlines() if re.match(r"^d\s", line)]
    assert [(r[1], r[2]) for r in table] == [("a", "1"), ("a", "2"), ("b", "5")]  # seconds in ms
    assert "hypervolume (a): 0.7500" in out and "hypervolume (b): 1.0000" in out


@pytest.mark.parametrize("args, msg", [
    (["--minimize", "latency"], "--maximize/--minimize: unknown column 'latency'"),
    (["--by", "wrkload"], "--by: unknown column 'wrkload' (did you mean 'workload'?)"),
])
def test_report_pareto_bad_columns(log, capsys, args, msg):
    code, _, err = cli(["report", log, "--pareto", *args], capsys)
    assert code == 2 and msg in err


def test_report_pareto_default_is_a_front_per_workload_shape(tmp_path, capsys):
    """Two GEMM shapes (both "workload": "gemm"): the big one's points are not beaten by the small one's."""
    path = tmp_path / "r.jsonl"
    rows = [dict(hash=str(i), design="d", workload="gemm", m=m, n=64, k=64, count=1, a_format=f, energy_j=e,
                 ops_per_s=t) for i, (m, f, e, t) in enumerate([(64, "int8", 1e-6, 2e12), (64, "int4", 2e-6, 1e12),
                                                               (4096, "int8", 1e-3, 1e12)])]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = cli(["report", path, "--pareto"], capsys)
    assert code == 0 and "hypervolume (gemm 4096 64 64 1): 1.0000" in out
    assert sum(1 for line in out.splitlines() if line.startswith("d ")) == 2  # 64: int8; 4096: its only point
    code, out, _ = cli(["report", path, "--pareto", "--by", "none"], capsys)
    assert code == 0 and sum(1 for line in out.splitlines() if line.startswith("d ")) == 1
