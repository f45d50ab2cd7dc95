"""Numba-compiled pure functions over arrays and integers; no format names, no classes."""

from .blocks import block_amax, block_decode, block_divide_f32
from .float_codec import CHUNK, decode_float, encode_float, take_table
from .gemm import (
    ZERO_EXP,
    gemm_exact_odd,
    gemm_fma,
    gemm_fused,
    gemm_grouped,
    gemm_int,
    gemm_pairwise,
    gemm_two_level,
    normalise,
    round_to,
    split_significands,
)
from .hadamard import fwht, fwht_reference
from .int_codec import decode_int, encode_int
from .lattice import e8p_decode, e8p_nearest
from .packing import pack_bits, unpack_bits
from .posit_codec import decode_posit, encode_posit, encode_posit_rne, rne_fast_path_ok
from .rounding import RD, RNA, RNE, RO, RU, RZ, SR, SR_ALL_BITS, random_bits_reference, round_shifted
from .trellis import viterbi

__all__ = [
    "CHUNK", "ZERO_EXP", "RD", "RNA", "RNE", "RO", "RU", "RZ", "SR", "SR_ALL_BITS",
    "block_amax", "block_decode", "block_divide_f32", "decode_float", "decode_int", "decode_posit",
    "e8p_decode", "e8p_nearest", "encode_float", "encode_int", "encode_posit", "encode_posit_rne",
    "fwht", "fwht_reference", "viterbi",
    "gemm_exact_odd", "gemm_fma", "gemm_fused", "gemm_grouped", "gemm_int", "gemm_pairwise",
    "gemm_two_level",
    "normalise", "round_to", "split_significands",
    "pack_bits", "random_bits_reference", "rne_fast_path_ok", "round_shifted", "take_table", "unpack_bits",
]
