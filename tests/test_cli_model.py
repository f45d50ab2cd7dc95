"""`lowbit simulate DESIGN --model FILE --format F [--accuracy]` (issue #18): a row per op of a user's model,
the same numbers as accel.importers.simulate_model, a JSONL of the rows and a plot; bad input is one line and
exit code 2."""

import json

import pytest

from accel.importers import simulate_model
from tests.cli_runner import cli

CSV = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1, 32, 32, 3, 3, 3, 16, 1,
Conv2, 16, 16, 3, 3, 16, 32, 2,
"""




@pytest.fixture
def topo(tmp_path):
    p = tmp_path / "net.csv"
    p.write_text(CSV)
    return p


def test_model_rows_jsonl_and_plot(tmp_path, topo, capsys):
    out, plot = tmp_path / "rows.jsonl", tmp_path / "rows.png"
    code, text, _ = cli(["simulate", "--design", "h100-like", "--model", topo, "--format", "e4m3", "--out", out,
                         "--plot", plot], capsys)
    assert code == 0 and "Conv1" in text and "Conv2" in text and plot.stat().st_size > 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ref = simulate_model(str(topo), "h100-like", "e4m3")
    assert [r["seconds"] for r in rows] == [r["seconds"] for r in ref]
    assert [r["energy_j"] for r in rows] == [r["energy_j"] for r in ref]


def test_model_with_accuracy_reports_each_gemm_error(tmp_path, topo, capsys):
    code, _, _ = cli(["simulate", "a100-like", "--model", topo, "--accuracy", "--out", tmp_path / "r.jsonl",
                      "--plot", tmp_path / "r.png"], capsys)
    assert code == 0
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert all(r["rel_fro_err"] > 0 for r in rows if r["kind"] == "gemm")


@pytest.mark.parametrize("args, msg", [
    (["--model", "{topo}"], "a design is needed"),
    (["a100-like", "--design", "h100-like", "--model", "{topo}"], "two designs given"),
    (["a100-like", "--model", "{missing}"], "missing.csv"),
    (["a100-like", "--model", "{txt}"], "expected an ONNX file (.onnx) or a SCALE-Sim topology (.csv)"),
    (["a100-like", "--model", "{topo}", "--format", "fp7"], "fp7"),
    (["h100-like", "--model", "{topo}", "--format", "nvfp4"], "h100-tc has no 'e2m1' rate"),
    (["a100-like", "--model", "{topo}", "--a-format", "fp16"], "--a-format applies to --gemm/--network"),
    (["a100-like", "--model", "{topo}", "--accuracy", "--no-accuracy"], "contradict"),
    (["a100-like", "--model", "{topo}", "--t-seconds", "60"], "a100-like is a digital design"),
    (["hermes-like", "--model", "{topo}", "--format", "int4"], "hermes-like is a crossbar, whose converters"),
    (["a100-like", "--gemm", 8, 8, 8, "--format", "fp16"], "--format applies to --model"),
    (["a100-like", "--gemm", 8, 8, 8, "--accuracy"], "--accuracy applies to --model"),
])
def test_model_bad_input(tmp_path, topo, capsys, args, msg):
    txt = tmp_path / "m.txt"
    txt.write_text("x")
    subs = {"topo": topo, "missing": tmp_path / "missing.csv", "txt": txt}
    argv = ["simulate", *[str(a).format(**subs) for a in args], "--out", tmp_path / "o.jsonl",
            "--plot", tmp_path / "o.png"] if "--model" in args else ["simulate", *args]
    code, _, err = cli(argv, capsys)
    assert code == 2 and msg in err


def test_model_on_a_crossbar_takes_its_drift(tmp_path, capsys):
    # a crossbar model's GEMMs drift as --t-seconds and --compensation say, as simulate_model's arguments do
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    m = torch.nn.Sequential(torch.nn.Linear(32, 48), torch.nn.ReLU(), torch.nn.Linear(48, 8)).eval()
    path = tmp_path / "mlp.onnx"
    torch.onnx.export(m, (torch.randn(16, 32),), str(path), dynamo=False, input_names=["x"])
    out = {}
    for name, extra in (("t0", []), ("day", ["--t-seconds", "86400", "--compensation", "global"])):
        code, _, _ = cli(["simulate", "hermes-like", "--model", path, "--accuracy", *extra,
                          "--out", tmp_path / f"{name}.jsonl", "--plot", tmp_path / f"{name}.png"], capsys)
        assert code == 0
        out[name] = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
    ref = simulate_model(str(path), "hermes-like", accuracy=True, t_seconds=86400.0, compensation="global")
    assert [r["rel_fro_err"] for r in out["day"]] == [r["rel_fro_err"] for r in ref]
    assert [r["rel_fro_err"] for r in out["day"]] != [r["rel_fro_err"] for r in out["t0"]]
    assert all(r["a_operand"] == "drawn" for r in out["day"])  # an ONNX file carries no activations


def test_model_on_rram_says_where_its_spread_comes_from(tmp_path, topo, capsys):
    """On an RRAM design the model's accuracy says whether its time is one of Wan et al.'s fits or between two."""
    code, text, _ = cli(["simulate", "neurram-like", "--model", topo, "--accuracy", "--t-seconds", "3600",
                         "--out", tmp_path / "r.jsonl", "--plot", tmp_path / "r.png"], capsys)
    assert code == 0 and "accuracy_basis: interpolated in ln t between the fits at 1 s and 86400 s" in text
    code, text, _ = cli(["simulate", "neurram-like", "--model", topo, "--out", tmp_path / "r.jsonl",
                         "--plot", tmp_path / "r.png"], capsys)
    assert code == 0 and "accuracy_basis" not in text
