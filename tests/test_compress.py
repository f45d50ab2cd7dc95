"""Weight compression: where theory and the papers put each method on N(0,1), exact storage accounting,
GPTQ against RTN, the Hadamard transform, E8P's exact search, QTIP's trellis (bitshift relation,
Viterbi = brute force, tail-biting), real MiniLM weights, loading and errors."""

import itertools
import math

import numpy as np
import pytest

import numerics as nx
from numerics.compress import lattice, trellis
from numerics.compress.hadamard import RandomHadamard, hadamard_matrix, incoherence

RD_2BIT = 2.0 ** -4  # Gaussian rate-distortion bound D(R) = 2^-2R at R = 2


@pytest.fixture(scope="module")
def gauss():
    return np.random.default_rng(0).standard_normal((128, 256))


@pytest.fixture(scope="module")
def hessian():
    rng = np.random.default_rng(1)
    # correlated calibration activations: a rank-32 signal plus a little noise, uneven feature scales
    x = rng.standard_normal((4096, 32)) @ rng.standard_normal((32, 256)) + 0.1 * rng.standard_normal((4096, 256))
    x *= np.linspace(0.3, 3.0, 256)
    return x.T @ x


def _lloyd_max(levels: int) -> tuple[np.ndarray, float]:
    """Lloyd-Max quantizer of N(0, 1) by Lloyd iterations with exact Gaussian integrals."""
    phi = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda t: 0.5 * (1 + math.erf(t / math.sqrt(2)))  # noqa: E731
    c = np.linspace(-1.5, 1.5, levels)
    for _ in range(500):
        b = np.concatenate([[-np.inf], (c[1:] + c[:-1]) / 2, [np.inf]])
        c = np.array([(phi(b[i]) - phi(b[i + 1])) / (cdf(b[i + 1]) - cdf(b[i])) for i in range(levels)])
    b = np.concatenate([[-np.inf], (c[1:] + c[:-1]) / 2, [np.inf]])
    # E[x^2] - sum_i p_i c_i^2 (centroid condition)
    mse = 1.0 - sum((cdf(b[i + 1]) - cdf(b[i])) * c[i] ** 2 for i in range(levels))
    return c, mse


@pytest.mark.slow
def test_lloyd_max_and_the_ordering_at_2_bits(gauss):
    levels, mse = _lloyd_max(4)
    assert mse == pytest.approx(0.1175, abs=5e-5)
    lm = nx.LookupFormat(tuple(levels))
    x = np.random.default_rng(2).standard_normal(400_000)
    assert np.mean((lm.quantize(x) - x) ** 2) == pytest.approx(mse, rel=0.01)
    w = gauss[:64]
    qtip = nx.compress(w, "qtip", bits=2, code="1mad").error(w)["rel_mse"]
    e8 = nx.compress(w, "e8p", bits=2).error(w)["rel_mse"]
    # QTIP paper / QuIP#: trellis ~0.069, E8P ~0.09, scalar Lloyd-Max 0.1175, bound 0.0625
    assert RD_2BIT < qtip < e8 < mse
    assert 0.066 < qtip < 0.073 and 0.085 < e8 < 0.095


@pytest.mark.slow
@pytest.mark.parametrize("method,opts", [("rtn", {}), ("gptq", {}), ("lwc", {}), ("e8p", {}), ("quip#", {}),
                                         ("qtip", {"code": "3inst"}), ("qtip", {"code": "hyb"}), ("aqlm", {"iters": 2}),
                                         ("slim", {}), ("hadamard", {})])
def test_no_2bit_method_beats_the_bound(gauss, method, opts):
    w = gauss[:32] if method == "qtip" else gauss
    cw = nx.compress(w, method, bits=2, **opts)
    assert cw.decode().shape == w.shape
    # the Gaussian bound at the total rate (codes, scales, codebooks): 2^-2R; at 2 bits 0.0625. AQLM's
    # codebooks cost ~2 more bits per weight on a matrix this small, so its bound is far lower
    rate = cw.bits_per_weight
    assert cw.error(w)["rel_mse"] > 2.0 ** (-2 * rate)
    if rate < 2.2:
        assert cw.error(w)["rel_mse"] > RD_2BIT


@pytest.mark.slow
def test_storage_accounting(gauss):
    w = gauss
    N = w.size
    m, n = w.shape
    assert nx.compress(w, "rtn", bits=4).total_bits == N * 4 + m * (n // 128) * (16 + 4)
    assert nx.compress(w, "gptq", bits=3, group=64).total_bits == N * 3 + m * (n // 64) * (16 + 3)
    assert nx.compress(w, "e8p", bits=2).total_bits == N * 2 + 32
    assert nx.compress(w, "e8p", bits=3).total_bits == N * 3 + 64
    assert nx.compress(w, "quip#", bits=4).total_bits == N * 4 + 64 + m + n
    q = nx.compress(w[:32], "qtip", bits=2)
    assert q.total_bits == 32 * n * 2 + 32 + 32 + n  # exactly k bits per weight + scale + sign vectors
    a = nx.compress(w, "aqlm", bits=2, iters=1)
    assert a.total_bits == N // 8 * 2 * 8 + 2 * 256 * 8 * 16 + m * 16
    assert nx.compress(w, "sparse24").bits_per_weight == pytest.approx((16 + 2) / 2)
    s = nx.compress(w, "slim", bits=3)
    gb = s.parts["group_bits"].data
    assert gb.mean() == 3
    for cw in (q, a, s):  # the stored parts are what decode() reads
        assert cw.total_bits == pytest.approx(cw.bits_per_weight * N * (cw.shape[0] * cw.shape[1] / N))


@pytest.mark.slow
def test_gptq_identity_is_rtn_and_beats_it_on_correlated_h(gauss, hessian):
    w = gauss
    for kw in ({"bits": 4}, {"bits": 3, "group": None}, {"bits": 2, "sym": True}):
        assert np.array_equal(nx.compress(w, "gptq", **kw).decode(), nx.compress(w, "rtn", **kw).decode())
    rtn = nx.compress(w, "rtn", bits=3).error(w, hessian)["proxy"]
    g = nx.compress(w, "gptq", bits=3, hessian=hessian).error(w, hessian)["proxy"]
    ga = nx.compress(w, "gptq", bits=3, hessian=hessian, act_order=True).error(w, hessian)["proxy"]
    assert g < 0.8 * rtn and ga < 0.8 * rtn
    lw = nx.compress(w, "lwc", bits=3, hessian=hessian).error(w, hessian)["proxy"]
    assert lw <= rtn


@pytest.mark.slow
def test_hadamard_orthogonal_and_incoherence():
    for n in (16, 12, 96, 384, 1536):
        h = hadamard_matrix(n)
        np.testing.assert_allclose(h @ h.T, np.eye(n), atol=1e-12)
    from numerics.compress.io import minilm
    w = minilm()
    w = w.astype(np.float64)
    rh = RandomHadamard(*w.shape, seed=0)
    wt = rh.forward(w)
    assert 170 < incoherence(w) < 180 and incoherence(wt) < 6
    np.testing.assert_allclose(rh.inverse(wt), w, atol=1e-12)
    with pytest.raises(ValueError, match="no Hadamard matrix of order 22"):
        hadamard_matrix(22)


@pytest.mark.slow
def test_e8p_codebook_and_exact_search():
    grid, par = lattice.e8p_grid()
    pts = lattice.e8p_points(np.arange(65536))
    assert len(np.unique(pts.round(6), axis=0)) == 65536
    inside = np.zeros(len(pts), bool)
    for shift in (0.25, -0.25):  # every point is (D8 + 1/2) + 1/4 or (D8 + 1/2) - 1/4: a subset of E8 + 1/4
        e = pts - shift
        inside |= np.all(np.isclose(e * 2 % 2, 1), axis=1) & np.isclose(np.rint(e.sum(axis=1)) % 2, 0)
    assert inside.all()
    x = np.random.default_rng(3).standard_normal((300, 8)) * 1.2
    codes, q = lattice.e8p_quantize(x)
    d = ((x[:, None, :] - pts[None]) ** 2).sum(-1)
    np.testing.assert_allclose(((x - q) ** 2).sum(1), d.min(1), atol=1e-12)  # exact nearest point
    np.testing.assert_array_equal(lattice.e8p_points(codes), q)
    assert lattice.e81b_grid().shape == (256, 8)


def _brute_force(x, vals, L, kv, overlap=None):
    """Minimum cost over every bit stream (tail-biting streams of T kv bits when overlap is given)."""
    T = len(x) // vals.shape[1]
    nbits = L + (T - 1) * kv
    best = np.inf
    for bits in itertools.product([0, 1], repeat=nbits):
        b = np.array(bits)
        states = [int("".join(map(str, b[t * kv:t * kv + L])), 2) for t in range(T)]
        if overlap is not None and (states[0] >> kv != overlap or (states[-1] & ((1 << (L - kv)) - 1)) != overlap):
            continue
        cost = sum(np.sum((vals[s] - x[t * vals.shape[1]:(t + 1) * vals.shape[1]]) ** 2) for t, s in enumerate(states))
        best = min(best, cost)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("code,L,k,T", [("1mad", 6, 1, 6), ("3inst", 5, 2, 4), ("hyb", 6, 1, 4)])
def test_viterbi_is_brute_force(code, L, k, T):
    from kernels import viterbi
    V = 2 if code == "hyb" else 1
    vals = trellis.state_values(code, L)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, T * V)).astype(np.float32)
    free = np.full(3, -1)
    paths = viterbi(x, vals, L, k * V, free, free)
    for i in range(3):
        got = sum(np.sum((vals[s] - x[i, t * V:(t + 1) * V]) ** 2) for t, s in enumerate(paths[i]))
        assert got == pytest.approx(_brute_force(x[i], vals, L, k * V), rel=1e-5)
    ov = np.array([1, 2, 3])
    tb = viterbi(x, vals, L, k * V, ov, ov)
    for i in range(3):
        got = sum(np.sum((vals[s] - x[i, t * V:(t + 1) * V]) ** 2) for t, s in enumerate(tb[i]))
        assert got == pytest.approx(_brute_force(x[i], vals, L, k * V, overlap=ov[i]), rel=1e-5)


@pytest.mark.slow
def test_qtip_paths_bitshift_tailbiting_and_random_access():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 256))
    for code, L, k in (("1mad", 16, 2), ("hyb", 12, 2), ("3inst", 10, 3)):
        kv = k * (2 if code == "hyb" else 1)
        p = trellis.encode_sequences(x, code, L, k)
        low = (1 << (L - kv)) - 1
        assert np.all((p[:, :-1] & low) == (p[:, 1:] >> kv))  # bitshift relation between consecutive states
        assert np.all((p[:, -1] & low) == (p[:, 0] >> kv))    # tail-biting: the stream closes on itself
        bits = trellis.pack_paths(p, L, kv)
        assert bits.shape[1] == p.shape[1] * kv               # exactly k bits per weight
        np.testing.assert_array_equal(trellis.unpack_states(bits, L, kv), p)
        np.testing.assert_array_equal(trellis.unpack_states(bits, L, kv, steps=[7, 3])[:, 0], p[:, 7])
    cw = nx.compress(x[:, :256].reshape(16, 96)[:, :96], "qtip", bits=2, tile=16)
    assert cw.decode().shape == (16, 96)


@pytest.mark.slow
def test_binarization_and_pruning(gauss, hessian):
    w = gauss
    for method in ("billm", "pbllm"):
        e0 = nx.compress(w, method).error(w, hessian)
        e1 = nx.compress(w, method, hessian=hessian).error(w, hessian)
        assert e1["proxy"] < e0["proxy"]  # Hessian compensation helps the proxy loss
    for crit in ("magnitude", "wanda", "sparsegpt"):
        cw = nx.compress(w, "sparse24", criterion=crit, hessian=hessian)
        d = cw.decode().reshape(w.shape[0], -1, 4)
        assert ((d != 0).sum(-1) <= 2).all()
    mag = nx.compress(w, "sparse24", criterion="magnitude").error(w, hessian)["proxy"]
    sgpt = nx.compress(w, "sparse24", criterion="sparsegpt", hessian=hessian).error(w, hessian)["proxy"]
    assert sgpt < mag
    both = nx.compress(w, "sparse24", bits=4, hessian=hessian)
    assert both.bits_per_weight < 4 and ((both.decode().reshape(w.shape[0], -1, 4) != 0).sum(-1) <= 2).all()
    # the magnitude criterion is numerics.sparse24's pruning
    np.testing.assert_array_equal(nx.compress(w, "sparse24", criterion="magnitude").decode(),
                                  nx.sparse24(w).decompress().astype(np.float16).astype(np.float64))


@pytest.mark.slow
def test_real_minilm_weights_incoherence_helps():
    from numerics.compress.io import minilm
    w = minilm("layer0_output_dense").astype(np.float64)[:, :512]
    plain = nx.compress(w, "e8p", bits=2).error(w)["rel_mse"]
    quip = nx.compress(w, "quip#", bits=2).error(w)["rel_mse"]
    assert quip < plain  # heavy outliers (kurtosis ~1585): incoherence processing pays


def test_load_weights(tmp_path):
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "w.npy", w)
    np.savez(tmp_path / "w.npz", a=w, b=w * 2)
    assert np.array_equal(nx.load_weights(tmp_path / "w.npy"), w)
    assert np.array_equal(nx.load_weights(tmp_path / "w.npz", "b"), w * 2)
    with pytest.raises(ValueError, match="holds 2 tensors"):
        nx.load_weights(tmp_path / "w.npz")
    st = pytest.importorskip("safetensors.numpy")
    st.save_file({"layer.weight": w}, str(tmp_path / "w.safetensors"))
    assert np.array_equal(nx.load_weights(tmp_path / "w.safetensors"), w)


def test_errors(gauss):
    with pytest.raises(ValueError, match="unknown compression method 'qtipp'.*close matches: qtip"):
        nx.compress(gauss, "qtipp")
    with pytest.raises(ValueError, match="w must be a 2-D"):
        nx.compress(np.ones(8), "rtn")
    with pytest.raises(ValueError, match="hessian must be \\(256, 256\\)"):
        nx.compress(gauss, "gptq", hessian=np.eye(3))
    with pytest.raises(ValueError, match="E8P codebooks come in 2, 3 and 4 bits"):
        nx.compress(gauss, "e8p", bits=5)
    with pytest.raises(ValueError, match="not a multiple of 8"):
        nx.compress(gauss[:, :12], "e8p")
    with pytest.raises(ValueError, match="divisible by 16"):
        nx.compress(gauss[:, :24], "qtip")
    with pytest.raises(ValueError, match="code must be one of"):
        nx.compress(gauss[:16], "qtip", code="2mad")
    with pytest.raises(ValueError, match="bits must be an int in 1..16"):
        nx.compress(gauss, "rtn", bits=2.5)
    with pytest.raises(TypeError):
        nx.compress(gauss, "rtn", nonsense=1)
