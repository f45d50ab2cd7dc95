"""Bad input to weight compression (issue #14): every method in nx.compression_methods() on extreme, degenerate
and malformed weights, Hessians, bits, seeds and options; tampered CompressedWeights; the kernels' own
argument checks; load_weights on missing and corrupt files; a hypothesis fuzz of nx.compress. Each case is
an exact exception type and message fragment, or the exact correct result."""

import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels
import numerics as nx
from numerics.compress import hadamard as had_mod
from numerics.compress import lattice, trellis
from numerics.compress.base import CompressedWeight, Stored

METHODS = nx.compression_methods()
FAST = {"aqlm": {"iters": 1, "B": 4}}  # options that keep a method cheap on a tiny matrix


@pytest.fixture(scope="module")
def gauss():
    return np.random.default_rng(0).standard_normal((16, 128))


@pytest.fixture
def no_kernels(monkeypatch):
    """Replace the numba kernels the compression methods call: a check that raises first never reaches them."""
    def boom(*a, **k):
        raise AssertionError("a numba kernel ran before the input was checked")
    monkeypatch.setattr(had_mod, "fwht", boom)
    monkeypatch.setattr(lattice, "e8p_nearest", boom)
    monkeypatch.setattr(lattice, "e8p_decode", boom)
    monkeypatch.setattr(trellis, "viterbi", boom)


# -- w: non-finite, wrong rank, empty, wrong dtype (checked before any method runs) -----------------------------

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_w_raises_naming_w(method, bad, gauss, no_kernels):
    w = gauss.copy()
    w[3, 5] = bad
    with pytest.raises(ValueError, match=r"w must be finite: w\[3, 5\]"):
        nx.compress(w, method)


@pytest.mark.parametrize("w,exc,frag", [
    (np.ones(8), ValueError, "w must be a 2-D"),
    (np.ones((2, 8, 8)), ValueError, "w must be a 2-D.*reshape it"),
    (np.float64(3.0), ValueError, "w must be a 2-D"),
    (np.ones((0, 8)), ValueError, "at least one row and one column"),
    (np.ones((8, 0)), ValueError, "at least one row and one column"),
    (np.ones((4, 8), bool), TypeError, "got dtype bool"),
    (np.ones((4, 8), np.complex128), TypeError, "complex"),
    (np.ones((4, 8), object), TypeError, "object"),
    (np.full((4, 8), "a"), TypeError, "string"),
    (np.full((4, 8), 2**60, np.int64), ValueError, "integers beyond 2"),
    ([[1.0, 2.0], [3.0]], ValueError, "w must be a rectangular numeric array"),
])
def test_bad_w(w, exc, frag, no_kernels):
    with pytest.raises(exc, match=frag):
        nx.compress(w, "rtn")


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32, np.int8, np.int32, np.uint8])
def test_narrow_dtypes_give_the_float64_result(dtype, gauss):
    w = (gauss * 20).astype(dtype)
    exact = np.asarray(w).astype(np.float64)
    assert np.array_equal(nx.compress(w, "rtn", bits=3).decode(), nx.compress(exact, "rtn", bits=3).decode())


# -- the scale format: overflow raises, underflow saturates to the smallest positive scale ----------------------

@pytest.mark.parametrize("method,opts,fmt", [("rtn", {}, "scale_format"), ("gptq", {}, "scale_format"),
                                             ("lwc", {}, "scale_format"), ("hadamard", {}, "scale_format"),
                                             ("slim", {}, "scale_format"), ("aqlm", FAST["aqlm"], "scale_format"),
                                             ("billm", {}, "scale_format"), ("pbllm", {}, "scale_format"),
                                             ("sparse24", {}, "value_format"),
                                             ("sparse24", {"bits": 4}, "scale_format")])
def test_fp16_overflow_raises_with_the_fix(method, opts, fmt, gauss):
    with pytest.raises(ValueError, match=f"w is too large.*fp16's largest 65504.*pass {fmt}='fp32'"):
        nx.compress(gauss[:2] * 1e6, method, **opts)


@pytest.mark.parametrize("method", ["rtn", "gptq"])
@pytest.mark.parametrize("scale", [1e6, 1e30])
def test_fp32_scales_hold_huge_weights_within_the_grid_bound(method, scale, gauss):
    w = gauss * scale
    cw = nx.compress(w, method, bits=4, scale_format="fp32")
    d = cw.decode()
    s = np.repeat(cw.parts["scales"].data, 128, axis=1)   # one scale per row and group of 128
    assert np.isfinite(d).all() and cw.parts["scales"].bits == 32
    assert np.all(np.abs(d - w) <= s)                      # asymmetric grid: within one step of every weight
    ref = nx.compress(gauss, method, bits=4, scale_format="fp32").decode() * scale
    assert np.allclose(d, ref, rtol=1e-6, atol=0)          # scale-invariant up to the fp32 rounding of scales


def test_block_format_with_fp16_scales_raises_past_its_range(gauss):
    with pytest.raises(ValueError, match="w is too large for int4_g128_asym's block scales.*largest 65504"):
        nx.compress(gauss * 1e6, "rtn", format="int4_g128_asym")
    # MX scales (E8M0, up to 2^127) hold it: the block format's own rule
    w = gauss * 1e6
    assert nx.compress(w, "rtn", format="mxfp4").error(w)["rel_mse"] < 0.05


def test_bf16_scales_are_bf16_values(gauss):
    cw = nx.compress(gauss * 1e6, "rtn", scale_format="bf16")
    s = cw.parts["scales"].data
    assert np.array_equal(nx.get_format("bf16").quantize(s), s) and np.isfinite(cw.decode()).all()


@pytest.mark.parametrize("method,opts", [("rtn", {"scale_format": "fp32"}), ("e8p", {}), ("quip#", {}),
                                         ("rtn", {"format": "e4m3"})])
def test_past_fp32_raises(method, opts, gauss):
    with pytest.raises(ValueError, match="w is too large.*fp32's largest 3.40282e\\+38.*scale w down"):
        nx.compress(gauss[:, :64] * 1e300, method, **opts)


@pytest.mark.parametrize("method", ["e8p", "quip#"])
@pytest.mark.parametrize("scale", [1e6, 1e30, 1e-30])
def test_codebook_methods_are_scale_invariant(method, scale, gauss):
    w = gauss[:4, :32]
    base = nx.compress(w, method).error(w)["rel_mse"]
    assert nx.compress(w * scale, method).error(w * scale)["rel_mse"] == pytest.approx(base, rel=1e-3)


@pytest.mark.parametrize("method,shape", [("e8p", (16, 64)), ("qtip", (16, 16))])
def test_codebook_scale_below_fp32_normal_raises(method, shape, gauss):
    with pytest.raises(ValueError, match="w is too small.*fp32's smallest normal.*scale w up"):
        nx.compress(gauss[:shape[0], :shape[1]] * 1e-310, method)


@pytest.mark.parametrize("scale", [1e-30, 5e-324])
def test_tiny_weights_under_fp16_scales_decode_to_zero(scale, gauss):
    # the scale rounds below fp16's smallest subnormal: it becomes 2^-24, and weights this small are zero on it
    cw = nx.compress(gauss * scale, "rtn")
    assert np.array_equal(cw.decode(), np.zeros_like(gauss))
    assert np.all(cw.parts["scales"].data == 2.0**-24)


def test_tiny_weights_with_fp32_scales_keep_their_precision(gauss):
    w = gauss * 1e-30
    assert nx.compress(w, "rtn", bits=8, scale_format="fp32").error(w)["rel_mse"] < 1e-4


# -- degenerate matrices -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_all_zero_matrix_decodes_to_zeros(method):
    w = np.zeros((16, 16 if method == "qtip" else 128))
    assert np.array_equal(nx.compress(w, method, **FAST.get(method, {})).decode(), w)


@pytest.mark.parametrize("method", ["rtn", "gptq", "lwc", "aqlm", "billm", "pbllm", "sparse24", "slim"])
def test_zero_row_decodes_to_zeros(method, gauss):
    w = gauss[:6].copy()
    w[5] = 0.0
    d = nx.compress(w, method, **FAST.get(method, {})).decode()
    assert np.array_equal(d[5], np.zeros(128)) and np.isfinite(d).all()


@pytest.mark.parametrize("method", ["rtn", "gptq", "lwc", "slim"])
def test_constant_matrix_within_one_grid_step(method):
    w = np.full((4, 128), 3.0)
    d = nx.compress(w, method, bits=2).decode()
    assert np.all(np.abs(d - w) <= 3.0 / 3 / 2 + 1e-3)  # range [0, 3] on 4 levels: step 1, half a step


@pytest.mark.parametrize("method,shape", [("rtn", (1, 8)), ("rtn", (8, 1)), ("gptq", (1, 1)), ("lwc", (1, 3)),
                                          ("hadamard", (1, 1)), ("hadamard", (1, 12)), ("e8p", (1, 8)),
                                          ("quip#", (1, 8)), ("sparse24", (1, 4)), ("billm", (1, 1)),
                                          ("pbllm", (1, 1)), ("aqlm", (1, 8)), ("slim", (1, 128)),
                                          ("qtip", (16, 16))])
def test_single_row_or_column(method, shape):
    w = np.random.default_rng(1).standard_normal(shape)
    d = nx.compress(w, method, **FAST.get(method, {})).decode()
    assert d.shape == shape and np.isfinite(d).all()


@pytest.mark.parametrize("method,shape,frag", [
    ("e8p", (16, 12), r"n = 12 \(the columns of w, dimension 1\) is not a multiple of 8 \(nearest valid sizes 8 and"),
    ("quip#", (16, 12), r"n = 12 \(the columns of w, dimension 1\) is not a multiple of 8"),
    ("quip#", (22, 16), r"m \(the rows of w, dimension 0\) = 22: no Hadamard matrix of order 22.*K in \{1, 12, 20"),
    ("hadamard", (16, 22), r"n \(the columns of w, dimension 1\) = 22: no Hadamard.*nearest valid sizes 20 and 24"),
    ("qtip", (16, 24), r"n \(the columns of w, dimension 1\) = 24 is not.*nearest valid sizes 16 and 32"),
    ("qtip", (176, 16), r"m \(the rows of w, dimension 0\) = 176: no Hadamard matrix"),
    ("sparse24", (16, 6), r"2:4 sparsity needs n = 6 \(the columns of w, dimension 1\) divisible by 4"),
    ("aqlm", (16, 12), r"g = 8 need n = 12 \(the columns of w, dimension 1\) divisible by g"),
    ("slim", (16, 64), r"n = 64 \(the columns of w, dimension 1\) divisible by 128"),
])
def test_shapes_a_method_cannot_handle(method, shape, frag, no_kernels):
    with pytest.raises(ValueError, match=frag):
        nx.compress(np.ones(shape), method)


# -- bits, method names, options, seeds ------------------------------------------------------------------------

@pytest.mark.parametrize("method,bits,frag", [
    ("qtip", 7, r"bits must be one of \[1, 2, 3, 4\] for qtip"),
    ("qtip", 2.0, r"bits must be one of \[1, 2, 3, 4\]"),
    ("e8p", 5, r"E8P codebooks come in 2, 3 and 4 bits per weight: bits must be one of \[2, 3, 4\] for e8p and quip#"),
    ("quip#", True, r"bits must be one of \[2, 3, 4\]"),
    ("rtn", 0, "bits must be an int in 1..16"),
    ("rtn", -3, "bits must be an int in 1..16"),
    ("rtn", 17, "bits must be an int in 1..16"),
    ("gptq", True, "bits must be an int in 1..16"),
    ("lwc", "4", "bits must be an int in 1..16"),
    ("hadamard", 2.5, "bits must be an int in 1..16"),
    ("slim", 16, "bits must be an int in 1..15"),
    ("billm", 2, r"bits must be one of \[None, 1\] for billm"),
    ("pbllm", 4, r"bits must be one of \[None, 1\] for pbllm"),
    ("sparse24", 0, "bits must be an int in 1..16"),
    ("aqlm", 0, "bits must be a positive int with bits g / B"),
])
def test_bad_bits(method, bits, frag, gauss, no_kernels):
    with pytest.raises(ValueError, match=frag):
        nx.compress(gauss, method, bits=bits)


def test_aqlm_bits_and_M_must_agree(gauss):
    with pytest.raises(ValueError, match=r"bits = 2 contradicts M = 3"):
        nx.compress(gauss, "aqlm", bits=2, M=3)
    with pytest.raises(ValueError, match="whole number of codebooks"):
        nx.compress(gauss, "aqlm", bits=3, B=16)


@pytest.mark.parametrize("method,exc,frag", [
    ("qtipp", ValueError, "unknown compression method 'qtipp'; close matches: qtip"),
    ("GPTQ", ValueError, "unknown compression method 'GPTQ'.*valid: "),
    (None, TypeError, "method must be a str"),
    (["rtn"], TypeError, "method must be a str"),
])
def test_unknown_method(method, exc, frag, gauss):
    with pytest.raises(exc, match=frag):
        nx.compress(gauss, method)


@pytest.mark.parametrize("method,kw", [("rtn", "nonsense"), ("gptq", "clip_search"), ("e8p", "group"),
                                       ("qtip", "groups"), ("billm", "bits_per_weight"), ("sparse24", "sparsity")])
def test_unknown_keyword_names_it_and_the_valid_ones(method, kw, gauss, no_kernels):
    with pytest.raises(TypeError, match=f"{method} takes no option '{kw}'; its options are"):
        nx.compress(gauss, method, **{kw: 1})


@pytest.mark.parametrize("method,opts,exc,frag", [
    ("gptq", {"damp": -0.1}, ValueError, r"damp must be a number in \[0.0, 1.0\]"),
    ("gptq", {"block": 0}, ValueError, "block must be an int >= 1"),
    ("gptq", {"act_order": "yes"}, TypeError, "act_order must be True or False"),
    ("rtn", {"group": 0}, ValueError, "group must be None"),
    ("rtn", {"sym": 1}, TypeError, "sym must be True or False"),
    ("rtn", {"scale_format": "fp8"}, ValueError, r"scale_format must be one of \('fp16', 'bf16', 'fp32'\)"),
    ("rtn", {"format": "e4m3", "bits": 4}, ValueError, "takes its width and scales from the format"),
    ("rtn", {"format": "e9m9"}, ValueError, "e9m9"),
    ("lwc", {"grid": (1.0, 0.0)}, ValueError, r"every grid factor must be a number in \(0.0, 1.0\]"),
    ("qtip", {"code": "2mad"}, ValueError, "code must be one of"),
    ("qtip", {"L": 40}, ValueError, "L must be an int with k V = 2 < L <= 20"),
    ("qtip", {"code": "hyb", "q": 12}, ValueError, r"q \(HYB table of 2\^q entries\) must be an int in 1..10"),
    ("qtip", {"V": 2}, ValueError, "code '1mad' has V = 1"),
    ("qtip", {"tile": 2}, ValueError, "tile must be an int whose tile"),
    ("qtip", {"incoherence": 0}, TypeError, "incoherence must be True or False"),
    ("sparse24", {"n_keep": 4}, ValueError, "need 0 < n_keep < m_group"),
    ("sparse24", {"criterion": "random"}, ValueError, "criterion must be one of"),
    ("sparse24", {"value_format": "fp8"}, ValueError, "value_format must be one of"),
    ("aqlm", {"B": 17}, ValueError, r"B must be an int in 1..16 for aqlm"),
    ("aqlm", {"B": 13, "M": 1, "bits": None}, ValueError, r"aqlm needs M 2\^B <= 4096"),
    ("pbllm", {"salient_frac": 1.0}, ValueError, r"salient_frac must be a number in \[0.0, 1.0\)"),
    ("pbllm", {"salient_bits": 1}, ValueError, "salient_bits must be an int in 2..16"),
    ("billm", {"salient_fracs": (0.0, 1.5)}, ValueError, "every salient_fracs entry"),
    ("billm", {"breakpoints": 0}, ValueError, "breakpoints must be an int >= 1"),
    ("slim", {"fracs": (0.6,)}, ValueError, r"every fracs entry must be a number in \[0.0, 0.5\]"),
])
def test_bad_option_values(method, opts, exc, frag, gauss, no_kernels):
    with pytest.raises(exc, match=frag):
        nx.compress(gauss, method, **opts)


@pytest.mark.parametrize("seed,exc,frag", [(-1, ValueError, "seed must be >= 0"),
                                           (1.5, TypeError, "seed must be an int >= 0, a numpy.random.Generator"),
                                           ("0", TypeError, "seed must be an int"),
                                           (True, TypeError, "seed must be an int")])
def test_bad_seed(seed, exc, frag, gauss, no_kernels):
    with pytest.raises(exc, match=frag):
        nx.compress(gauss, "hadamard", seed=seed)


def test_seed_generator_and_none(gauss):
    a = nx.compress(gauss, "hadamard", seed=np.random.default_rng(7)).decode()
    b = nx.compress(gauss, "hadamard", seed=np.random.default_rng(7)).decode()
    assert np.array_equal(a, b)
    assert np.isfinite(nx.compress(gauss, "hadamard", seed=None).decode()).all()


# -- the Hessian ------------------------------------------------------------------------------------------------

def _psd(n, rank=None, seed=2):
    x = np.random.default_rng(seed).standard_normal((rank or 4 * n, n))
    return x.T @ x


@pytest.mark.parametrize("h,exc,frag", [
    (np.eye(3), ValueError, r"hessian must be \(128, 128\)"),
    (np.triu(_psd(128)), ValueError, "hessian must be symmetric"),
    (np.where(np.eye(128) > 0, np.nan, 0.0), ValueError, "hessian must be finite"),
    (-np.eye(128), ValueError, r"positive semidefinite \(X\^T X\): hessian\[0, 0\] = -1.0 < 0"),
    (np.ones((128, 128)) * 2 - np.eye(128) * 1.0, ValueError, "hessian is not positive semidefinite"),
    (np.zeros((128, 128)), ValueError, "hessian has an all-zero diagonal"),
    (np.eye(128, dtype=bool), TypeError, "hessian must be a real float"),
    (np.eye(128, dtype=complex), TypeError, "hessian must be a real float"),
])
@pytest.mark.parametrize("method", ["gptq", "e8p"])
def test_bad_hessian(h, exc, frag, method, gauss, no_kernels):
    with pytest.raises(exc, match=frag):
        nx.compress(gauss, method, hessian=h)


def test_rank_deficient_hessian_is_damped_but_undamped_gptq_raises(gauss):
    w = gauss[:4, :32]
    h = _psd(32, rank=4)  # X^T X of 4 samples: singular, positive semidefinite
    for method in ("gptq", "e8p", "sparse24"):
        assert np.isfinite(nx.compress(w, method, hessian=h).decode()).all()
    with pytest.raises(ValueError, match=r"hessian is not positive definite after damping \(damp = 0.0\)"):
        nx.compress(w, "gptq", hessian=h, damp=0.0)


# -- tampered CompressedWeights: checked before anything indexes with them -------------------------------------

def _tamper(cw, name, data=None, **meta):
    parts = dict(cw.parts)
    if name is not None and data is None:
        del parts[name]
    elif name is not None:
        parts[name] = Stored(data, parts[name].bits)
    return CompressedWeight(cw.method, cw.shape, parts, {**cw.meta, **meta}, cw.hardware)


@pytest.fixture(scope="module")
def made(gauss):
    w = gauss[:16, :64]
    return {m: nx.compress(w, m, **FAST.get(m, {}), **({"group": 64} if m == "slim" else {}))
            for m in ("rtn", "gptq", "e8p", "quip#", "qtip", "aqlm", "billm", "pbllm", "sparse24", "slim",
                      "hadamard")}


@pytest.mark.parametrize("method,change,frag", [
    ("rtn", lambda c: _tamper(c, "codes", c.parts["codes"].data + 16), r"part 'codes' holds values outside 0..15"),
    ("rtn", lambda c: _tamper(c, "codes", c.parts["codes"].data[:, :3]), r"part 'codes' has shape \(16, 3\)"),
    ("rtn", lambda c: _tamper(c, "scales"), "has no stored part 'scales'"),
    ("rtn", lambda c: _tamper(c, None, bits=40), "meta 'bits' = 40 is not one of"),
    ("gptq", lambda c: _tamper(c, "scales", c.parts["scales"].data * np.nan), "part 'scales' holds non-finite"),
    ("e8p", lambda c: _tamper(c, "codes", c.parts["codes"].data.astype(np.int64) + 70000),
     r"part 'codes' holds values outside 0..65535"),
    ("e8p", lambda c: _tamper(c, "codes", c.parts["codes"].data.astype(np.float64)), "must be an integer array"),
    ("quip#", lambda c: _tamper(c, "sign_u", c.parts["sign_u"].data[:3]), r"part 'sign_u' has shape \(3,\)"),
    ("qtip", lambda c: _tamper(c, "trellis_bits", c.parts["trellis_bits"].data * 2),
     "part 'trellis_bits' holds values outside 0..1"),
    ("qtip", lambda c: _tamper(c, None, L=30), "L must be an int with k V = 2 < L <= 20"),
    ("aqlm", lambda c: _tamper(c, "codes", c.parts["codes"].data + 16), "part 'codes' holds values outside 0..15"),
    ("billm", lambda c: _tamper(c, "signs", c.parts["signs"].data[:2]), r"part 'signs' has shape \(2, 64\)"),
    ("pbllm", lambda c: _tamper(c, "salient_values", c.parts["salient_values"].data * 0 + 300),
     r"part 'salient_values' holds values outside -127..127"),
    ("sparse24", lambda c: _tamper(c, "positions", c.parts["positions"].data * 0 + 7),
     "part 'positions' holds values outside 0..3"),
    ("sparse24", lambda c: _tamper(c, "positions", c.parts["positions"].data * 0),
     "repeats a position within a group"),
    ("slim", lambda c: _tamper(c, "group_bits", c.parts["group_bits"].data * 0), "part 'group_bits' holds values"),
    ("hadamard", lambda c: _tamper(c, None, inner="x"), "hadamard meta 'inner' must be the rtn CompressedWeight"),
])
def test_tampered_parts_raise_before_indexing(method, change, frag, made):
    with pytest.raises(ValueError, match=frag):
        change(made[method]).decode()


@pytest.mark.parametrize("cw,frag", [
    (CompressedWeight("nope", (2, 2), {}), "unknown compression method 'nope'"),
    (CompressedWeight("rtn", (2, -2), {}), "shape must be a tuple of two positive ints"),
    (CompressedWeight("rtn", [2, 2], {}), "shape must be a tuple of two positive ints"),
    (CompressedWeight("rtn", (2, 2), {"codes": np.zeros((2, 2))}), "parts must be a dict of Stored arrays"),
])
def test_malformed_compressed_weight(cw, frag):
    with pytest.raises(ValueError, match=frag):
        cw.decode()


# -- the kernels check what they index with ---------------------------------------------------------------------

def _e8():
    return lattice.e8p_grid()


@pytest.mark.parametrize("call,exc,frag", [
    (lambda: kernels.e8p_decode(np.array([70000]), *_e8(), np.empty((1, 8))), ValueError, "in 0..65535"),
    (lambda: kernels.e8p_decode(np.array([1]), _e8()[0][:10], _e8()[1], np.empty((1, 8))), ValueError,
     r"absgrid must be a \(256, 8\)"),
    (lambda: kernels.e8p_decode(np.array([1]), *_e8(), np.empty((2, 8))), ValueError, r"out must be a \(1, 8\)"),
    (lambda: kernels.e8p_nearest(np.full((1, 8), np.nan), *_e8(), np.empty(1, np.int64), np.empty((1, 8))),
     ValueError, "x must be finite"),
    (lambda: kernels.viterbi(np.zeros((1, 4), np.float32), np.zeros((8, 1), np.float32), 4, 1,
                             np.full(1, -1), np.full(1, -1)), ValueError, r"values must be a \(2\^L = 16, V\)"),
    (lambda: kernels.viterbi(np.zeros((1, 4), np.float32), np.zeros((16, 1), np.float32), 4, 1,
                             np.full(1, 99), np.full(1, -1)), ValueError, "start_hi must be -1"),
    (lambda: kernels.viterbi(np.zeros((1, 4), np.float32), np.zeros((16, 1), np.float32), 4, 9,
                             np.full(1, -1), np.full(1, -1)), ValueError, "need 1 <= kv <= 8"),
    (lambda: kernels.fwht(np.zeros((2, 6))), ValueError, "power of two, got 6"),
    (lambda: kernels.fwht(np.zeros((2, 8), np.float32)), TypeError, "2-D float64"),
    (lambda: lattice.e8p_points(np.array([-1])), ValueError, "E8P codes must be in 0..65535"),
    (lambda: trellis.unpack_states(np.zeros((1, 32), np.uint8), 16, 2, steps=[16]), ValueError,
     r"steps must be in 0..15"),
    (lambda: nx.incoherence(np.zeros((4, 4))), ValueError, "incoherence of an all-zero matrix is undefined"),
    (lambda: nx.incoherence(np.ones(4)), ValueError, "w must be a 2-D"),
])
def test_kernel_entry_points_check_their_arguments(call, exc, frag):
    with pytest.raises(exc, match=frag):
        call()


def test_out_of_range_codes_do_not_crash_the_process():
    code = ("import numpy as np, kernels\nfrom numerics.compress import lattice\n"
            "kernels.e8p_decode(np.array([2**40]), *lattice.e8p_grid(), np.empty((1, 8)))")
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1 and "ValueError: E8P codes must be in 0..65535" in r.stderr


# -- load_weights ------------------------------------------------------------------------------------------------

def _files(tmp_path):
    np.save(tmp_path / "ok.npy", np.ones((3, 4), np.float32))
    (tmp_path / "garbage.npy").write_bytes(b"not an npy file at all" * 4)
    (tmp_path / "trunc.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:100])
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "int.npy", np.ones((3, 4), np.int32))
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 broken zip")
    np.savez(tmp_path / "two.npz", a=np.ones((2, 2)), b=np.zeros((2, 2)))
    np.savez(tmp_path / "none.npz")
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}xxxxxx")
    (tmp_path / "w.txt").write_text("1 2 3")
    (tmp_path / "dir.npy").mkdir()
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"ids": np.arange(6, dtype=np.int64).reshape(2, 3), "layer.weight": np.ones((2, 2), np.float32)},
                 str(tmp_path / "mixed.safetensors"))


@pytest.mark.parametrize("name,key,exc,frag", [
    ("missing.npy", None, FileNotFoundError, "no weight file at .*missing.npy"),
    ("dir.npy", None, IsADirectoryError, "dir.npy is a directory"),
    ("w.txt", None, ValueError, r"unsupported weight file 'w.txt': expected .npy, .npz, .safetensors"),
    ("garbage.npy", None, ValueError, "garbage.npy is not a valid .npy weight file"),
    ("trunc.npy", None, ValueError, "trunc.npy is not a valid .npy weight file"),
    ("obj.npy", None, ValueError, "obj.npy is not a valid .npy weight file: Object arrays"),
    ("int.npy", None, ValueError, "int.npy holds int32 values, not float weights"),
    ("ok.npy", "w", ValueError, "ok.npy is a .npy file holding one array: name must be None"),
    ("bad.npz", None, ValueError, "bad.npz is not a valid .npz weight file"),
    ("two.npz", "c", ValueError, r"two.npz has no tensor 'c'; it has \['a', 'b'\]"),
    ("two.npz", None, ValueError, r"two.npz holds 2 tensors; name one of \['a', 'b'\]"),
    ("none.npz", None, ValueError, "none.npz holds no tensors"),
    ("bad.safetensors", None, ValueError, "bad.safetensors is not a valid .safetensors weight file"),
    ("mixed.safetensors", "ids", ValueError, "tensor 'ids' in mixed.safetensors holds int64 values"),
    ("mixed.safetensors", "layer.wieght", ValueError, r"no tensor 'layer.wieght'; close matches: \['layer.weight'\]"),
    ("ok.npy", 3, TypeError, "name must be a str"),
])
def test_load_weights_errors_name_the_file(tmp_path, name, key, exc, frag):
    _files(tmp_path)
    with pytest.raises(exc, match=frag):
        nx.load_weights(tmp_path / name, key)


def test_incoherence_of_huge_weights_is_finite():
    w = np.random.default_rng(4).standard_normal((8, 8))
    assert nx.incoherence(w * 1e300) == pytest.approx(nx.incoherence(w), rel=1e-12)


def test_load_weights_path_type_and_good_reads(tmp_path):
    _files(tmp_path)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        nx.load_weights(3)
    assert nx.load_weights(tmp_path / "mixed.safetensors", "layer.weight").dtype == np.float32
    assert nx.load_weights(str(tmp_path / "ok.npy")).shape == (3, 4)


# -- fuzz: any small input gives a finite decode of the right shape, or ValueError / TypeError -------------------

_SPECIAL = [0.0, -0.0, 1.0, -2.5, 1e6, -1e30, 1e-30, 5e-324, 1e300, np.nan, np.inf, 65504.0, 7e4]
_DTYPES = [np.float64, np.float32, np.float16, ml_dtypes.bfloat16, np.int16, np.bool_, np.complex64]


@st.composite
def _weights(draw):
    m, n = draw(st.integers(0, 5)), draw(st.integers(0, 9))
    dtype = draw(st.sampled_from(_DTYPES))
    vals = draw(st.lists(st.one_of(st.sampled_from(_SPECIAL), st.floats(-1e3, 1e3)), min_size=m * n,
                         max_size=m * n))
    with np.errstate(all="ignore"):
        a = np.array(vals, np.float64).reshape(m, n)
        if np.dtype(dtype).kind in "iub":
            a = np.nan_to_num(a, posinf=0, neginf=0).clip(-1e4, 1e4)
        return a.astype(dtype)


@settings(max_examples=60, deadline=None)
@given(w=_weights(), method=st.sampled_from(["rtn", "hadamard", "sparse24", "gptq", "billm", "pbllm"]),
       bits=st.one_of(st.none(), st.integers(-1, 17), st.sampled_from([2.5, True, "4"])),
       opts=st.dictionaries(st.sampled_from(["group", "sym", "scale_format", "block"]),
                            st.one_of(st.sampled_from([None, 0, 1, 2, 4, 128, -1, True, "x", "fp32", "bf16"])),
                            max_size=2))
def test_fuzz_compress(w, method, bits, opts):
    try:
        cw = nx.compress(w, method, bits=bits, **opts)
    except (ValueError, TypeError):
        return
    d = cw.decode()
    assert d.shape == w.shape and np.isfinite(d).all()
    if method == "rtn" and cw.meta.get("format") is None:  # within one grid step of every weight
        x = np.asarray(w).astype(np.float64)
        g = cw.meta["group"] or x.shape[1]
        s = np.repeat(cw.parts["scales"].data, g, axis=1)[:, :x.shape[1]]
        maxq = 2 ** cw.meta["bits"] - 1
        # one step s, plus the range lost to rounding s into its format (relative 2^-8 for bf16, absolute
        # 2^-25 for fp16 subnormals) over maxq steps
        assert np.all(np.abs(d - x) <= s * (1 + maxq * 2.0**-7) + maxq * 2.0**-24)


@pytest.mark.parametrize("method,shape,opts", [("qtip", (16, 16), {}), ("qtip", (16, 32), {"code": "3inst", "L": 12}),
                                               ("aqlm", (8, 16), {"iters": 1, "B": 4})])
@pytest.mark.parametrize("scale", [1.0, 1e6, 1e-30])
def test_slow_methods_fixed_cases(method, shape, opts, scale):
    w = np.random.default_rng(3).standard_normal(shape) * scale
    if method == "aqlm" and scale == 1e6:  # fp16 row scales overflow; fp32 ones hold it
        with pytest.raises(ValueError, match="pass scale_format='fp32'"):
            nx.compress(w, method, **opts)
    if method == "aqlm" and scale != 1.0:  # (fp16 row scales of 1e-30 weights underflow: they decode to ~0)
        opts = {**opts, "scale_format": "fp32"}
    cw = nx.compress(w, method, **opts)
    d = cw.decode()
    assert d.shape == shape and np.isfinite(d).all()
    assert cw.error(w)["rel_mse"] < 0.5
