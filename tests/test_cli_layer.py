"""`lowbit simulate DESIGN --layer D_MODEL HEADS BATCH SEQ`: one transformer decoder layer (issue #15), a row
per op in the order accel.transformer_layer gives them, the same numbers as the Python API."""

import json

import pytest

import accel
from tests.cli_runner import cli

OP_NAMES = ["qkv", "qk", "av", "wo", "ffn1", "ffn2", "softmax", "layernorm_attn", "layernorm_ffn", "gelu",
            "allreduce_attn", "allreduce_ffn"]




def test_layer_table_lists_every_op_and_the_total(capsys):
    code, out, _ = cli(["simulate", "a100-like", "--layer", 1024, 16, 2, 1, "--phase", "decode", "--kv-len", 256,
                        "--tp", 2, "--no-accuracy"], capsys)
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()[4:]]
    assert names == OP_NAMES + ["total"]


def test_layer_json_matches_the_python_api(capsys):
    code, out, _ = cli(["simulate", "h100-like", "--layer", 1024, 16, 2, 64, "--tp", 2, "--dtype", "e4m3",
                        "--no-accuracy", "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    r = accel.simulate(accel.get_design("h100-like"),
                       accel.transformer_layer(1024, 16, 2, 64, tp=2, dtype="e4m3"), accuracy=False)
    assert d["seconds"] == r.seconds and d["energy_j"] == r.energy_j
    assert [op["name"] for op in d["per_op"]] == OP_NAMES
    assert [op["seconds"] for op in d["per_op"]] == [op["seconds"] for op in r.per_op]


def test_layer_with_accuracy_reports_each_gemm_error(capsys):
    code, out, _ = cli(["simulate", "a100-like", "--layer", 256, 4, 1, 16], capsys)
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[4:]}
    for gemm in ("qkv", "qk", "av", "wo", "ffn1", "ffn2"):
        assert float(rows[gemm][-1]) > 0  # the accumulator's error, measured on a sample
    assert rows["softmax"][-1] == "-"


@pytest.mark.parametrize("args, msg", [
    (["a100-like", "--layer", 1024, 16, 1, 8, "--tp", 5], "tp (5) must divide heads (16)"),
    (["a100-like", "--layer", 1000, 16, 1, 8], "d_model (1000) must be a multiple of heads (16)"),
    (["a100-like", "--layer", 1024, 16, 1, 8, "--dtype", "fp7"], "fp7"),
    (["a100-like", "--layer", 1024, 16, 1, 8, "--a-format", "e4m3"], "--a-format applies to --gemm/--network"),
    (["a100-like", "--layer", 1024, 16, 1, 8, "--phase", "decode", "--kv-len", 4], "kv_len (4) must be at least seq"),
    (["a100-like", "--layer", 1024, 16, 0, 8], "argument --layer: must be >= 1, got 0"),
    (["a100-like", "--layer", 1024, 16, 1], "expected 4 arguments"),
    (["a100-like", "--layer", 1024, 16, 1, 8, "--phase", "train"], "invalid choice: 'train'"),
    (["a100-like", "--layer", 1024, 16, 1, 8, "--gemm", 8, 8, 8], "not allowed with argument"),
])
def test_layer_bad_input(capsys, args, msg):
    code, _, err = cli(["simulate", *args], capsys)
    assert code == 2 and msg in err


def test_layer_tp_on_a_design_without_interconnect(tmp_path, capsys):
    import dataclasses
    p = tmp_path / "solo.toml"
    p.write_text(dataclasses.replace(accel.get_design("a100-like"), interconnect=None).to_toml())
    code, _, err = cli(["simulate", p, "--layer", 1024, 16, 1, 8, "--tp", 2, "--no-accuracy"], capsys)
    assert code == 2 and "interconnect" in err
    assert cli(["simulate", p, "--layer", 1024, 16, 1, 8, "--no-accuracy"], capsys)[0] == 0
