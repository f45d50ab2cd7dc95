"""accel.from_torch / from_onnx / from_scalesim_csv: every layer of the test models lowers to the shapes a hand
count gives; bad input gets one clear error."""

import warnings

import numpy as np
import pytest

import accel
from accel.ops import Elementwise
from accel.workloads import Gemm


def _shapes(layer):
    out = []
    for op in layer.ops:
        if isinstance(op, Gemm):
            out.append(("gemm", op.m, op.n, op.k, op.count))
        else:
            out.append((op.kind, op.rows, op.cols))
    return out


# ------------------------------------------------------------------------------------------- SCALE-Sim
CONV_CSV = """Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1, 224, 224, 7, 7, 3, 64, 2,
Conv2, 56, 56, 3, 3, 64, 64, 1,
"""
GEMM_CSV = """Layer, M, N, K,
QKV, 512, 768, 256,
FF, 8, 16, 32,
"""


def test_scalesim_conv_hand_count(tmp_path):
    p = tmp_path / "resnet.csv"
    p.write_text(CONV_CSV)
    layer = accel.from_scalesim_csv(p)
    # (224 - 7) // 2 + 1 = 109 -> 109^2 = 11881 pixels, k = 7*7*3; (56 - 3) + 1 = 54 -> 2916, k = 3*3*64
    assert _shapes(layer) == [("gemm", 11881, 64, 147, 1), ("gemm", 2916, 64, 576, 1)]
    assert [g.name for g in layer.ops] == ["Conv1", "Conv2"]


def test_scalesim_gemm_layout(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text(GEMM_CSV)
    assert _shapes(accel.from_scalesim_csv(p, format="e4m3")) == [("gemm", 512, 768, 256, 1), ("gemm", 8, 16, 32, 1)]
    assert accel.from_scalesim_csv(p, format="e4m3").ops[0].a_format == "e4m3"


@pytest.mark.parametrize("text,exc,match", [
    ("Name, A, B\nx, 1, 2\n", ValueError, "header must start with"),
    ("Layer, M, N, K,\nx, 1, 2,\n", ValueError, "line 2: expected 4 fields"),
    ("Layer, M, N, K,\nx, 1, two, 3,\n", ValueError, "line 2: sizes must be positive ints"),
    ("Layer, M, N, K,\nx, 1, 0, 3,\n", ValueError, "line 2: sizes must be positive ints"),
    (CONV_CSV.splitlines()[0] + "\nc, 4, 4, 5, 5, 1, 1, 1,\n", ValueError, "filter 5x5 larger than the IFMAP 4x4"),
    ("", ValueError, "is empty"),
    # an empty cell inside a row shifted the later columns into the wrong fields (audit s32 BYOM F1)
    ("Layer, M, N, K,\nl1, , 32, 64, 128\n", ValueError, "line 2: the 'm' field is empty"),
    ("Layer, M, N, K,\n, 16, 32, 64, 5\n", ValueError, "line 2: the 'layer' field is empty"),
    (CONV_CSV.splitlines()[0] + "\nc1, 8, 8, 3, 3, , 2, 1, 4\n", ValueError, "line 2: the 'channels' field is empty"),
    # line numbers as the file numbers them, blank lines included (F2)
    ("Layer, M, N, K,\nl1, 16, 32, 64,\n\n\n\nl2, 16, x, 64,\n", ValueError, "line 6: sizes must be positive"),
    ("Layer, M, N, K,\nl1, 1_000, 32, 64,\n", ValueError, "line 2: sizes must be positive ints \\(digits only\\)"),
    ("Layer, M, N, K,\nl1, +16, 32, 64,\n", ValueError, "line 2: sizes must be positive ints \\(digits only\\)"),
    ("Layer, M, N, K,\nl1, 99999999999999999999, 32, 64,\n", ValueError,
     "line 2 \\(layer 'l1'\\): Gemm.m must be a positive int at most 2\\*\\*53"),
    (b"Layer, M, N, K,\nl1, 16, \xff32, 64,\n", ValueError, "bad.csv is not UTF-8 text \\(byte 24"),
])
def test_scalesim_bad_files(tmp_path, text, exc, match):
    p = tmp_path / "bad.csv"
    p.write_bytes(text) if isinstance(text, bytes) else p.write_text(text)
    with pytest.raises(exc, match=match):
        accel.from_scalesim_csv(p)


def test_scalesim_bom_and_repeated_names(tmp_path):
    """A spreadsheet's "CSV UTF-8" starts with a byte-order mark (refused as a bad header before); rows that share a
    name keep it once and take #1, #2 after it, never a name another row has (l1, l1#1, l1 -> l1, l1#1, l1#2)."""
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffLayer, M, N, K,\nl1, 16, 32, 64,\nl1#1, 8, 32, 64\nl1, 4, 32, 64,\n".encode())
    layer = accel.from_scalesim_csv(p)
    assert [(g.name, g.m) for g in layer.ops] == [("l1", 16), ("l1#1", 8), ("l1#2", 4)]


@pytest.mark.parametrize("arg,exc,match", [("/nonexistent/t.csv", OSError, "no such file"),
                                           (3, TypeError, "path must be a file path")])
def test_scalesim_bad_path(arg, exc, match):
    with pytest.raises(exc, match=match):
        accel.from_scalesim_csv(arg)


# ----------------------------------------------------------------------------------------------- torch
torch = pytest.importorskip("torch")
nn = torch.nn


class ConvZoo(nn.Module):
    """Convolutions with stride, padding, groups and dilation, then a linear head and a softmax."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)                      # 16x16 -> 16x16
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=4)  # -> 8x8
        self.c3 = nn.Conv2d(16, 16, 3, dilation=2, padding=(2, 1))    # -> (8+4-4-1)+1 = 8 x (8+2-4-1)+1 = 6
        self.c4 = nn.Conv1d(16, 4, 5, stride=3)                       # on 48 -> (48-5)//3+1 = 15
        self.fc = nn.Linear(60, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = self.c3(self.c2(x))
        x = self.c4(x.flatten(2))
        return torch.softmax(self.fc(x.flatten(1)), dim=-1)


def test_torch_convolutions_hand_count():
    layer = accel.from_torch(ConvZoo(), (torch.randn(2, 3, 16, 16),))
    assert _shapes(layer) == [
        ("gemm", 2 * 16 * 16, 8, 3 * 9, 1), ("relu", 2 * 8 * 16, 16),
        ("gemm", 2 * 8 * 8, 4, 2 * 9, 4),
        ("gemm", 2 * 8 * 6, 16, 16 * 9, 1),
        ("gemm", 2 * 15, 4, 16 * 5, 1),
        ("gemm", 2, 10, 60, 1), ("softmax", 2, 10)]
    c1 = layer.ops[0]
    # the real operands: im2col of the input and the reshaped weight, so a @ b is the convolution
    m = ConvZoo()
    layer = accel.from_torch(m, (x := torch.randn(2, 3, 16, 16),))
    c1 = layer.ops[0]
    ref = m.c1(x).detach().double() - m.c1.bias.detach().double()[:, None, None]
    np.testing.assert_allclose(c1.a @ c1.b, ref.permute(0, 2, 3, 1).reshape(-1, 8).numpy(), rtol=1e-6, atol=1e-6)


class Attention(nn.Module):
    def __init__(self, d=32, heads=4):
        super().__init__()
        self.heads = heads
        self.ln = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ff = nn.Linear(d, 2 * d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.out(y)
        s = torch.matmul(x, x.transpose(1, 2))  # activation x activation, batched
        return nn.functional.gelu(self.ff(x)), s


def test_torch_attention_hand_count():
    layer = accel.from_torch(Attention(), (torch.randn(2, 6, 32),))
    assert _shapes(layer) == [
        ("layernorm", 12, 32), ("gemm", 12, 96, 32, 1),
        ("gemm", 6, 6, 8, 8), ("softmax", 48, 6), ("gemm", 6, 8, 6, 8),
        ("gemm", 12, 32, 32, 1), ("add", 12, 32), ("gemm", 6, 6, 32, 2),
        ("gemm", 12, 64, 32, 1), ("gelu", 12, 64)]
    assert all(g.batched == (g.count > 1) for g in layer.gemms())


def test_torch_unsupported_ops_listed_or_skipped():
    class M(nn.Module):
        def forward(self, x):
            return torch.sigmoid(x) * torch.tanh(x) + torch.sigmoid(x)

    with pytest.raises(ValueError, match=r"unsupported op\(s\): .*mul \(mul\).*sigmoid \(sigmoid, sigmoid_1\).*tanh"):
        accel.from_torch(M(), (torch.randn(4, 4),))
    with pytest.warns(UserWarning, match="sigmoid"):
        layer = accel.from_torch(M(), (torch.randn(4, 4),), strict=False)
    assert _shapes(layer) == [("add", 4, 4)]


@pytest.mark.parametrize("model,inputs,exc,match", [
    (nn.Linear(4, 4), None, ValueError, "example_inputs is required"),
    (nn.Linear(4, 4), [torch.ones(4)], TypeError, "example_inputs must be a tensor or a tuple"),
    (lambda x: x, (torch.ones(4),), TypeError, "model must be a torch.nn.Module"),
    (nn.Linear(4, 4, device="meta"), (torch.ones(4),), ValueError, "device 'meta', which lowbit cannot read"),
    (nn.Identity(), (torch.ones(4),), ValueError, "no op lowbit can run"),
])
def test_torch_bad_input(model, inputs, exc, match):
    with pytest.raises(exc, match=match):
        accel.from_torch(model, inputs)


# ------------------------------------------------------------------------------------------------ onnx
def _export(model, x, path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, **kw)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.c2(torch.relu(self.c1(x)))).flatten(1))


def test_onnx_round_trip_same_workload(tmp_path):
    pytest.importorskip("onnx")
    m, x = SmallCNN(), torch.randn(5, 1, 8, 8)
    _export(m, x, tmp_path / "cnn.onnx")
    a, b = accel.from_torch(m, (x,)), accel.from_onnx(tmp_path / "cnn.onnx")
    assert _shapes(a) == _shapes(b) == [("gemm", 320, 8, 9, 1), ("relu", 320, 8), ("gemm", 80, 8, 36, 2),
                                        ("relu", 320, 4), ("gemm", 5, 10, 256, 1)]
    # the ONNX file's initializers are the same weights as the module's
    np.testing.assert_array_equal(a.ops[-1].b, b.ops[-1].b)
    np.testing.assert_array_equal(a.ops[2].b, b.ops[2].b)


def test_onnx_dynamic_shape_needs_input_shapes(tmp_path):
    pytest.importorskip("onnx")
    m = SmallCNN()
    _export(m, torch.randn(5, 1, 8, 8), tmp_path / "dyn.onnx", input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    with pytest.raises(ValueError, match="dynamic or unknown shape .*input_shapes="):
        accel.from_onnx(tmp_path / "dyn.onnx")
    layer = accel.from_onnx(tmp_path / "dyn.onnx", input_shapes={"x": (3, 1, 8, 8)})
    assert _shapes(layer)[0] == ("gemm", 3 * 64, 8, 9, 1)
    with pytest.raises(ValueError, match=r"simulate_model takes the imported Layer: simulate_model\(accel.from_onnx"):
        accel.simulate_model(str(tmp_path / "dyn.onnx"), "h100-like")


def test_onnx_unsupported_ops(tmp_path):
    pytest.importorskip("onnx")
    _export(nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Tanh()), torch.randn(2, 4), tmp_path / "s.onnx")
    with pytest.raises(ValueError, match="unsupported op\\(s\\): Sigmoid .*Tanh"):
        accel.from_onnx(tmp_path / "s.onnx")
    with pytest.warns(UserWarning, match="Sigmoid"):
        assert _shapes(accel.from_onnx(tmp_path / "s.onnx", strict=False)) == [("gemm", 2, 4, 4, 1)]


@pytest.mark.parametrize("content,exc,match", [(None, OSError, "no such file"),
                                               (b"not onnx", ValueError, "not a readable")])
def test_onnx_bad_files(tmp_path, content, exc, match):
    pytest.importorskip("onnx")
    p = tmp_path / "m.onnx"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(exc, match=match):
        accel.from_onnx(p)


# ------------------------------------------------------------------------------------------ simulate_model
def test_simulate_model_rows(tmp_path):
    m, x = SmallCNN(), torch.randn(5, 1, 8, 8)
    rows = accel.simulate_model(m, "h100-like", "e4m3", accuracy=True, example_inputs=(x,))
    assert [r["name"] for r in rows] == ["conv2d", "relu", "conv2d_1", "relu_1", "linear"]
    for r in rows:
        assert r["seconds"] > 0 and r["energy_j"] > 0 and r["bound"] and r["design"] == "h100-like"
        assert ("rel_fro_err" in r) == (r["kind"] == "batched_gemm" or r["kind"] == "gemm")
    assert all(0 < r["rel_fro_err"] < 0.1 for r in rows if "rel_fro_err" in r)
    assert "rel_fro_err" not in accel.simulate_model(m, "h100-like", "e4m3", example_inputs=(x,))[0]


def test_simulate_model_crossbar_and_csv(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text(GEMM_CSV)
    rows = accel.simulate_model(p, "hermes-like", "int8")
    assert [(r["name"], r["m"], r["n"], r["k"]) for r in rows] == [("QKV", 512, 768, 256), ("FF", 8, 16, 32)]
    assert all(r["format"] is None for r in rows)  # the crossbar's converters set the numbers, not int8
    # the whole model stays resident, as a Network's layers do: more tiles in all than cores raises
    big = tmp_path / "big.csv"
    big.write_text(GEMM_CSV.splitlines()[0] + "\n" + "\n".join(
        f"L{i}, 64, 1024, 1024," for i in range(5)) + "\n")  # 5 x 16 tiles of 256 x 256
    with pytest.raises(ValueError, match=r"needs \d+ tiles .* but hermes-like has 64 cores"):
        accel.simulate_model(big, "hermes-like", "int8")


@pytest.mark.parametrize("kw,exc,match", [
    ({"path_or_model": "m.txt"}, ValueError, "expected an .onnx model or a SCALE-Sim .csv"),
    ({"path_or_model": 3}, TypeError, "expected a path"),
    ({"design": 3}, TypeError, "design must be a Design"),
    ({"format": "e9m9x"}, ValueError, "e9m9x"),
])
def test_simulate_model_bad_input(tmp_path, kw, exc, match):
    p = tmp_path / "g.csv"
    p.write_text(GEMM_CSV)
    args = {"path_or_model": p, "design": "h100-like", "format": "fp16", **kw}
    with pytest.raises(exc, match=match):
        accel.simulate_model(**args)


def test_elementwise_relu_kind():
    assert Elementwise("relu", 2, 3).flops == 6


def test_simulate_model_jsonl_and_plot(tmp_path):
    import json

    from accel.importers import plot_model_rows, write_jsonl
    p = tmp_path / "g.csv"
    p.write_text(GEMM_CSV)
    rows = accel.simulate_model(p, "a100-like", "fp16", accuracy=True)
    write_jsonl(rows, tmp_path / "rows.jsonl")
    back = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert back == rows
    plot_model_rows(rows, tmp_path / "rows.png")
    assert (tmp_path / "rows.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no rows"):
        plot_model_rows([])


# ------------------------------------------------------------- pooling, batch norm, embedding (both importers)
class PoolNormEmbed(nn.Module):
    """A convolution with batch norm (folds), max/average/adaptive pooling, a batch norm after no convolution
    (an element-wise op) and an embedding lookup (a gather)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.conv, self.bn = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.mp, self.ap = nn.MaxPool2d(2), nn.AvgPool2d(3, stride=2, padding=1)
        self.aap, self.bn1 = nn.AdaptiveAvgPool2d((1, 1)), nn.BatchNorm1d(8)
        with torch.no_grad():  # statistics of a trained net, so that the fold is not the identity
            self.bn.running_var.uniform_(0.5, 2.0, generator=torch.Generator().manual_seed(0))
            self.bn.weight.uniform_(0.5, 2.0, generator=torch.Generator().manual_seed(1))

    def forward(self, img, ids):
        y = self.aap(self.ap(self.mp(self.bn(self.conv(img)))))
        return self.bn1(y.flatten(1)), self.emb(ids)


def test_pool_norm_embedding_hand_count(tmp_path):
    m, img, ids = PoolNormEmbed().eval(), torch.randn(2, 3, 16, 16), torch.randint(0, 100, (2, 5))
    want = [("gemm", 2 * 16 * 16, 8, 3 * 9, 1),  # the conv, with the batch norm folded in (no op of its own)
            ("pool", 2 * 8 * 8 * 8, 2 * 2),       # max pool 2: 16x16 -> 8x8, windows of 4
            ("pool", 2 * 8 * 4 * 4, 3 * 3),       # avg pool 3, stride 2, pad 1: 8x8 -> 4x4, windows of 9
            ("pool", 2 * 8, 4 * 4),               # adaptive to 1x1: one window of the whole 4x4
            ("batchnorm", 2, 8),                  # batch norm after flatten: element-wise
            ("gather", 2 * 5, 16)]                # 10 indices, a row of 16 each
    layer = accel.from_torch(m, (img, ids))
    assert _shapes(layer) == want
    # the fold: output channel j's weights times gamma_j / sqrt(var_j + eps), so a @ b is conv then bn less shifts
    conv = layer.ops[0]
    scale = (m.bn.weight.detach().double() / torch.sqrt(m.bn.running_var.double() + m.bn.eps)).numpy()
    w = m.conv.weight.detach().double().reshape(8, -1).numpy().T
    np.testing.assert_allclose(conv.b, w * scale, rtol=1e-12)
    with torch.no_grad():
        ref = m.bn(m.conv(img)).double() - (m.bn.bias - m.bn.running_mean * m.bn.weight
                                            / torch.sqrt(m.bn.running_var + m.bn.eps)).double()[:, None, None] \
            - (m.conv.bias * m.bn.weight / torch.sqrt(m.bn.running_var + m.bn.eps)).double()[:, None, None]
    np.testing.assert_allclose(conv.a @ conv.b, ref.permute(0, 2, 3, 1).reshape(-1, 8).numpy(), atol=1e-5)
    pytest.importorskip("onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (img, ids), str(tmp_path / "m.onnx"), dynamo=False)  # the exporter folds the bn itself
    onnx_layer = accel.from_onnx(tmp_path / "m.onnx")
    assert _shapes(onnx_layer) == want
    np.testing.assert_allclose(onnx_layer.ops[0].b, conv.b, rtol=1e-6)


def test_onnx_batch_norm_after_conv_folds(tmp_path):
    """An ONNX graph holding Conv -> BatchNormalization (no exporter fold) folds in the importer too."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    gamma, var = rng.uniform(0.5, 2, 4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)
    zeros = np.zeros(4, np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w, "w"), (gamma, "g"), (zeros, "b"), (zeros, "m"),
                                                         (var, "v"))]
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"], epsilon=1e-3)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "cb.onnx")
    layer = accel.from_onnx(tmp_path / "cb.onnx")
    assert _shapes(layer) == [("gemm", 25, 4, 18, 1)]
    np.testing.assert_allclose(layer.ops[0].b, w.reshape(4, -1).T.astype(np.float64) * (gamma / np.sqrt(var + 1e-3)),
                               rtol=1e-6)


def test_pool_and_gather_bytes():
    """What the kernels move (accel.ops): a pool reads each window and writes one value per window; a gather
    reads the rows it gathers and writes them."""
    from accel.ops import elementwise_timing
    d = accel.get_design("h100-like")
    hbm = d.memories[-1].name
    pool = elementwise_timing(d, Elementwise("pool", 1024, 4, "fp16"))
    assert pool.counts[(hbm, "byte")] == (1024 * 4 + 1024) * 2
    gather = elementwise_timing(d, Elementwise("gather", 10, 16, "fp16"))
    assert gather.counts[(hbm, "byte")] == 2 * 10 * 16 * 2 and gather.counts[("vector", "fp32_op")] == 0
    bn = elementwise_timing(d, Elementwise("batchnorm", 2, 8, "fp32"))
    assert bn.counts[(hbm, "byte")] == 2 * 2 * 8 * 4


def test_probe_byom28_batched_activations_are_kept_and_named():
    # x of (B, S, K) through a shared weight is one GEMM of B S rows: all of x is its operand (the first batch
    # element alone did not match that GEMM and the activations were silently drawn)
    m = torch.nn.Sequential(torch.nn.Linear(32, 16)).eval()
    x = torch.randn(2, 10, 32) * 0.01 + 5.0
    g = accel.from_torch(m, (x,)).ops[0]
    assert g.m == 20 and np.array_equal(g.a, x.reshape(20, 32).double().numpy())
    rows = accel.simulate_model(m, "hermes-like", accuracy=True, example_inputs=(x,))
    assert rows[0]["a_operand"] == "real"
    drawn = accel.simulate_model(accel.Layer("l", (g.replace(a=None),)), "hermes-like", accuracy=True)
    assert drawn[0]["a_operand"] == "drawn" and drawn[0]["rel_fro_err"] != rows[0]["rel_fro_err"]
    # a crossbar model's drift: t_seconds and compensation reach every GEMM; a digital design refuses them
    day = accel.simulate_model(m, "hermes-like", accuracy=True, example_inputs=(x,), t_seconds=86400.0)
    fixed = accel.simulate_model(m, "hermes-like", accuracy=True, example_inputs=(x,), t_seconds=86400.0,
                                 compensation="global")
    assert day[0]["rel_fro_err"] > fixed[0]["rel_fro_err"] and day[0]["rel_fro_err"] > rows[0]["rel_fro_err"]
    with pytest.raises(ValueError, match="h100-like is a digital design"):
        accel.simulate_model(m, "h100-like", example_inputs=(x,), t_seconds=1.0)
    digital = accel.simulate_model(m, "h100-like", accuracy=True, example_inputs=(x,))
    assert [r.get("a_operand") for r in digital if r["kind"] == "gemm"] == ["real"]
    # a GEMM's own drift is kept unless simulate_model sets one, and a different one of its own raises
    own = accel.Layer("l", (g.replace(t_seconds=86400.0, compensation="global"),))
    kept = accel.simulate_model(own, "hermes-like", accuracy=True)
    assert kept[0]["rel_fro_err"] == accel.simulate_model(own, "hermes-like", accuracy=True, t_seconds=86400.0,
                                                          compensation="global")[0]["rel_fro_err"]
    with pytest.raises(ValueError, match=r"has its own t_seconds 86400.0, not simulate_model's 3600.0"):
        accel.simulate_model(own, "hermes-like", t_seconds=3600.0)
    with pytest.raises(ValueError, match="simulate_model: Gemm.compensation must be None"):
        accel.simulate_model(m, "hermes-like", example_inputs=(x,), compensation="Global")


def test_onnx_nodes_that_share_a_name(tmp_path):
    """ONNX allows nodes to share a name: the Layer's ops keep it once and take #1 after it (a bare 'Layer op names
    must be unique' naming no file before; audit s32 BYOM F5); a file that is not ONNX is a ValueError."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), n) for n in ("w1", "w2")]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"], name="same"),
         helper.make_node("MatMul", ["h", "w2"], ["y"], name="same")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "same.onnx")
    layer = accel.from_onnx(tmp_path / "same.onnx")
    assert [op.name for op in layer.ops] == ["same", "same#1"] and _shapes(layer) == [("gemm", 2, 4, 4, 1)] * 2


class _SelfAttention(nn.Module):
    """A weight GEMM, two GEMMs of two activations (h h^T, then that times h) and a GEMM on a transposed parameter."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8, 8)
        self.w = nn.Parameter(torch.randn(4, 8))

    def forward(self, x):
        h = self.lin(x)
        return (h @ h.transpose(-1, -2)) @ h @ self.w.t()


@pytest.mark.parametrize("via", ["torch", "onnx"])
def test_b_operand_weight_or_activation(tmp_path, via):
    """Whether B is the model's weights (a parameter or initializer, through a transpose) or activations computed at
    run time: attention's K and V, which a crossbar's cells cannot hold. A crossbar prices them as resident weights
    and says so once (one UserWarning naming them); simulate_model's rows carry b_operand on every design."""
    m, x = _SelfAttention(), torch.randn(2, 5, 8)
    if via == "onnx":
        pytest.importorskip("onnx")
        _export(m, x, tmp_path / "att.onnx")
        layer = accel.from_onnx(tmp_path / "att.onnx")
    else:
        layer = accel.from_torch(m, (x,))
    assert [g.b_weight for g in layer.gemms()] == [True, False, False, True]
    with pytest.warns(UserWarning, match=r"hermes-like is a crossbar: GEMM .* have a B that is not the model's") as rec:
        rows = accel.simulate_model(layer, "hermes-like")
    assert len([w for w in rec if "b_weight=False" in str(w.message)]) == 1 and rec[0].filename == __file__
    assert [r["b_operand"] for r in rows] == ["weight", "activation", "activation", "weight"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a digital design holds no weights in cells: nothing to say
        rows = accel.simulate_model(layer, "h100-like")
    assert [r["b_operand"] for r in rows if r["kind"] != "elementwise" and "b_operand" in r] == \
        ["weight", "activation", "activation", "weight"]


def test_transformer_attention_is_two_activations():
    """transformer_layer's Q K^T and attention-times-V multiply activations; its projections multiply weights."""
    layer = accel.transformer_layer(256, 4, 1, 16)
    assert {g.name: g.b_weight for g in layer.gemms()} == {"qkv": True, "qk": False, "av": False, "wo": True,
                                                           "ffn1": True, "ffn2": True}
    with pytest.warns(UserWarning, match=r"GEMM 'g' has a B that is not the model's weights") as rec:
        accel.simulate(accel.get_design("neurram-like"), accel.Gemm(8, 16, 16, name="g", b_weight=False),
                       accuracy=False)
    assert rec[0].filename == __file__  # the caller's line
    with pytest.raises(TypeError, match=r"Gemm.b_weight must be a bool, got 1"):
        accel.Gemm(4, 4, 4, b_weight=1)


@pytest.mark.parametrize("header, layout_row, want", [
    ("Layer Name, M, N, K,", "l1, 16, 32, 64,", ("gemm", 16, 32, 64, 1)),
    ("Layer  name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, num filters, Strides,",
     "c1, 8, 8, 3, 3, 2, 4, 1,", ("gemm", 36, 4, 18, 1)),
    ("Layer, IFMAP Width, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,",
     "c1, 8, 8, 3, 3, 2, 4, 1,", ("gemm", 36, 4, 18, 1)),
])
def test_scalesim_headers_as_its_own_files_write_them(tmp_path, header, layout_row, want):
    """SCALE-Sim reads columns by position, never its header, and its own topology files vary the names
    (scale-sim-v2's test_mnk_input.csv "Layer Name", dlrm/resnet "num filters", DeepBench's repeated "IFMAP Width"):
    the layout is told by the second column. (8 - 3) + 1 = 6 -> 36 pixels, k = 3 x 3 x 2 (review s32b)."""
    p = tmp_path / "t.csv"
    p.write_text(f"{header}\n{layout_row}\n")
    assert _shapes(accel.from_scalesim_csv(p)) == [want]


def test_scalesim_v3_sparsity_column(tmp_path):
    """SCALE-Sim v3's "Sparsity" column (its README_Sparsity.md example: N nonzeros in every M weights) sets each
    GEMM's sparsity, N:N being dense; a dense reading dropped it silently. An impossible ratio names the row."""
    p = tmp_path / "sp.csv"
    p.write_text("Layer Name, M, N, K, Sparsity,\nGEMM_1, 3, 5, 16, 3:4,\nGEMM_2, 1, 5, 16, 1:4,\n"
                 "GEMM_3, 1, 5, 16, 4:4,\nGEMM_4, 1, 5, 16,\n")
    assert [(g.name, g.sparsity) for g in accel.from_scalesim_csv(p).gemms()] == \
        [("GEMM_1", "3:4"), ("GEMM_2", "1:4"), ("GEMM_3", None), ("GEMM_4", None)]
    p.write_text("Layer Name, M, N, K, Sparsity,\nGEMM_1, 3, 5, 16, 5:4,\n")
    with pytest.raises(ValueError, match=r"sp.csv line 2 \(layer 'GEMM_1'\): Gemm.sparsity '5:4' needs 0 < n < m"):
        accel.from_scalesim_csv(p)


@pytest.mark.parametrize("cell, want", [("2 : 4", "2:4"), ("2\t:4", "2:4"), ("04:4", None), ("1:1", None), ("", None)])
def test_scalesim_sparsity_cells(tmp_path, cell, want):
    """A Sparsity cell's whitespace is dropped and N:N (as numbers) is dense (review s32c); a later column whose name
    starts with "sparsity" is the one read."""
    p = tmp_path / "sp.csv"
    p.write_text(f"Layer Name, M, N, K, Note, Sparsity Ratio,\nG, 3, 5, 16, x, {cell},\n")
    assert [g.sparsity for g in accel.from_scalesim_csv(p).gemms()] == [want]


@pytest.mark.parametrize("cell", ["0:0", "x:x", ":", "0:4", "2:4:8"])
def test_scalesim_sparsity_cells_refused(tmp_path, cell):
    p = tmp_path / "sp.csv"
    p.write_text(f"Layer Name, M, N, K, Sparsity,\nG, 3, 5, 16, {cell},\n")
    with pytest.raises(ValueError, match=r"sp.csv line 2 \(layer 'G'\): Gemm.sparsity"):
        accel.from_scalesim_csv(p)
