"""N:M structured sparsity, and block-scaled dot products against the OCP MX v1.0 §6 formula."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numerics as nx
from tests.test_accumulate import FP32, round_fraction


@pytest.mark.slow
@given(st.integers(0, 2**32), st.sampled_from([(2, 4), (1, 4), (4, 8)]), st.integers(1, 40))
def test_sparse_keeps_the_largest_and_equals_dense(seed, nm, k):
    n, m = nm
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, k)).astype(np.float32)
    s = nx.sparse24(w, n=n, m=m)
    d = s.decompress()
    assert d.shape == w.shape
    groups = np.pad(d, ((0, 0), (0, (-k) % m))).reshape(3, -1, m)
    assert ((groups != 0).sum(axis=-1) <= n).all()
    wg = np.pad(w, ((0, 0), (0, (-k) % m))).reshape(3, -1, m)
    kept = groups != 0
    # every kept magnitude is >= every dropped one in its group
    for r in range(3):
        for g in range(groups.shape[1]):
            mk, md = np.abs(wg[r, g][kept[r, g]]), np.abs(wg[r, g][~kept[r, g]])
            if mk.size and md.size:
                assert mk.min() >= md.max()
    assert np.array_equal(nx.sparse24(d, n=n, m=m).decompress(), d)  # already sparse: unchanged
    b = rng.standard_normal((k, 2)).astype(np.float32)
    for acc in ("exact", "fp32", "nv_ampere"):
        assert np.array_equal(nx.matmul(s, b, acc), nx.matmul(d, b, acc))


def test_sparse_layout_and_errors():
    w = np.array([[0.1, -3.0, 2.0, 0.5, 0.0, 0.0, 1.0, 0.0]], np.float32)
    s = nx.sparse24(w)
    assert s.values.tolist() == [[-3.0, 2.0, 0.0, 1.0]] and s.indices.tolist() == [[1, 2, 0, 2]]
    assert s.metadata_bits() == 8 and s.index_bits == 2
    col = nx.sparse24(w.T, axis=0)
    assert np.array_equal(col.decompress(), s.decompress().T)
    with pytest.raises(ValueError, match="1 <= n < m"):
        nx.sparse24(w, n=4, m=4)
    with pytest.raises(TypeError, match="numeric array"):
        nx.sparse24(np.array(["a"]))


@pytest.mark.slow
@given(st.integers(0, 2**32), st.sampled_from(["mxfp8_e4m3", "mxfp4", "mxfp6_e2m3", "mxint8"]),
       st.integers(1, 3))
def test_block_scaled_matmul_equals_the_per_block_formula(seed, name, nblocks):
    """OCP MX v1.0 §6: Dot(A, B) = sum over blocks of X_a X_b sum_i P_a,i P_b,i (exact accumulator)."""
    rng = np.random.default_rng(seed)
    bf = nx.get_block_format(name)
    K = 32 * nblocks
    A = (rng.standard_normal((2, K)) * 2.0 ** rng.integers(-8, 8, (2, 1))).astype(np.float32)
    B = (rng.standard_normal((K, 2)) * 2.0 ** rng.integers(-8, 8, (1, 2))).astype(np.float32)
    a, b = bf.encode(A, axis=1), bf.encode(B, axis=0)
    D = nx.matmul(a, b, "exact")
    e8 = nx.get_format("e8m0")
    pa, pb = bf.element.decode(a.codes), bf.element.decode(b.codes)
    for i in range(2):
        for j in range(2):
            tot = Fraction(0)
            for blk in range(nblocks):
                xa = Fraction(e8.decode(a.scales[i, blk]).item())
                xb = Fraction(e8.decode(b.scales[blk, j]).item())
                sl = slice(32 * blk, 32 * blk + 32)
                tot += xa * xb * sum(Fraction(float(u)) * Fraction(float(v)) for u, v in zip(pa[i, sl], pb[sl, j]))
            assert D[i, j] == round_fraction(tot, *FP32)
