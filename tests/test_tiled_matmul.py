"""nx.matmul takes tile-blocked operands (block_shape=(16, 16), (128, 128)) as they come: each is read as
K-runs of the tile's K length carrying their tile's scale (BlockTensor.along), with the same codes and
scales, so the result equals the one through an explicit along() bit for bit."""

import numpy as np
import pytest

import numerics as nx

F32 = np.float32


@pytest.mark.parametrize("name, tile, k, n", [("fp8_b128", (128, 128), 256, 128), ("nvfp4", (16, 16), 64, 48),
                                              ("mxfp8_e4m3", (32, 32), 64, 64)])
def test_tiled_weight_goes_into_matmul_directly(name, tile, k, n):
    fmt = nx.get_block_format(name)
    rng = np.random.default_rng(2)
    qa = fmt.encode(rng.standard_normal((8, k)).astype(F32))  # activations: 1 x tile[0] runs along K
    qw = fmt.encode(rng.standard_normal((k, n)).astype(F32), block_shape=tile)
    got = nx.matmul(qa, qw, accumulator="exact")
    np.testing.assert_array_equal(got, nx.matmul(qa, qw.along(0), accumulator="exact"))
    # NVFP4's FP32 tensor scales apply as an epilogue (one more rounding): within an ulp of float32
    np.testing.assert_allclose(got, (qa.decode() @ qw.decode()).astype(F32), rtol=2.0 ** -23, atol=0)
    np.testing.assert_array_equal(nx.matmul(qa, qw, accumulator="fp32"),
                                  nx.matmul(qa, qw.along(0), accumulator="fp32"))


def test_tiled_activation_too():
    fmt = nx.get_block_format("nvfp4")
    rng = np.random.default_rng(3)
    qa = fmt.encode(rng.standard_normal((32, 64)).astype(F32), block_shape=(16, 16))
    qw = fmt.encode(rng.standard_normal((64, 32)).astype(F32), block_shape=(16, 16))
    got = nx.matmul(qa, qw, accumulator="exact")
    np.testing.assert_array_equal(got, nx.matmul(qa.along(1), qw.along(0), accumulator="exact"))


def test_tile_k_length_must_match_the_other_operand():
    fmt = nx.get_block_format("nvfp4")
    rng = np.random.default_rng(4)
    qa = fmt.encode(rng.standard_normal((4, 64)).astype(F32))  # blocks of 16 along K
    qw = fmt.encode(rng.standard_normal((64, 32)).astype(F32), block_shape=(32, 16))  # K runs of 32
    with pytest.raises(ValueError, match=r"a and b must share the block size along K, got 16 and 32 \(a tiled"):
        nx.matmul(qa, qw, accumulator="exact")


def test_tiles_not_covering_k_name_the_fix():
    fmt = nx.get_block_format("nvfp4")
    x = np.random.default_rng(5).standard_normal((64, 32)).astype(F32)
    qw = fmt.encode(x, block_shape=(16,), axis=(1,))  # tiled along N only
    qa = fmt.encode(np.ones((4, 64), F32))
    with pytest.raises(ValueError, match=r"b is tiled by \(16,\) over axes \(1,\) only, not along its K axis 0"):
        nx.matmul(qa, qw, accumulator="exact")
