"""BlockFormat: elements of a scalar format sharing a scale per block (OCP MX v1.0, NVFP4, INT-N)."""

import dataclasses
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import kernels

from ..formats import FloatFormat, IntFormat, ScalarFormat
from ..formats import inputs as _inputs
from ..rounding import RoundMode
from .layout import Blocking
from .rules import AMAX_RULES, POW2_RULES, ScaleRule, pow2_exponents

# NVFP4 recipes: which float32 arithmetic turns amax into scales and x into scaled elements
# (docs/formats_2026.md gives each one's source and the commit it was read at)
RECIPES = ("lowbit", "torchao", "transformer_engine")
_F32_TINY = np.float32(np.finfo(np.float32).tiny)

_INT32 = IntFormat(bits=32)
_F32_MAX = float(np.finfo(np.float32).max)
_EXACT_INT = 2 ** 53  # integers up to this magnitude convert to float64 exactly
_MSE_RATIOS = np.linspace(0.5, 1.0, 21)  # clipping ratios searched by ScaleRule.MSE (AMAX-style scales)


@dataclass(frozen=True)
class BlockFormat:
    """Elements in `element` sharing one `scale` per block of `block_size` along an axis.

    Args:
        element: the element format (FloatFormat or IntFormat).
        scale: the scale format (e8m0 for MX; ue4m3 for NVFP4; fp16/bf16/fp32 for INT-N groups).
        block_size: elements per block; None for the whole axis (per-channel; with axis=None at
            encode time, the whole tensor); a tuple for N-D tiles (e.g. (128, 128) weight blocks).
        scale_rule: a `ScaleRule`.
        tensor_scale: add an FP32 per-tensor scale amax / (scale.max * element.max) above the block
            scales (NVFP4's second level).
        zero_point: asymmetric quantisation with a per-block integer zero point (GPTQ style); needs an
            unsigned integer element and the AMAX rule.
        recipe: the float32 arithmetic of a scaled (non power-of-two) rule: "lowbit" divides x by
            fl32(s_b * s_t) and clamps s_b below at the scale's min normal; "torchao" (torchao >= 0.18,
            `nvfp4_quantize`) multiplies x by fl32(fl32(1 / s_t) / s_b) with the same clamp;
            "transformer_engine" (TE's NVFP4 reference quantizer) folds 1 / max_elem into the global
            encode scale, does not clamp s_b below, and multiplies x by fl32(1 / fl32(s_b * s_t)).
    """

    element: ScalarFormat
    scale: ScalarFormat
    block_size: int | tuple | None = 32
    scale_rule: ScaleRule = ScaleRule.FLOOR
    tensor_scale: bool = False
    zero_point: bool = False
    recipe: str = "lowbit"

    def __post_init__(self) -> None:
        if not isinstance(self.element, FloatFormat | IntFormat):
            raise TypeError(f"element must be a FloatFormat or IntFormat (e.g. get_format('e2m1')), got "
                            f"{type(self.element).__name__}")
        if not isinstance(self.scale, FloatFormat):
            raise TypeError(f"scale must be a FloatFormat (e.g. get_format('e8m0')), got {type(self.scale).__name__}")
        if not isinstance(self.scale_rule, ScaleRule):
            raise TypeError(f"scale_rule must be a ScaleRule ({', '.join('ScaleRule.' + r.name for r in ScaleRule)})"
                            f", got {self.scale_rule!r}")
        for f in ("tensor_scale", "zero_point"):
            if not isinstance(getattr(self, f), bool | np.bool_):
                raise TypeError(f"{f} must be a bool, got {getattr(self, f)!r}")
        if not isinstance(self.recipe, str) or self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; choose one of {', '.join(map(repr, RECIPES))}")
        if self.recipe != "lowbit":
            if self.scale_rule not in AMAX_RULES:
                raise ValueError(f"recipe {self.recipe!r} fixes the arithmetic of the amax rules "
                                 f"({', '.join(r.name for r in AMAX_RULES)}), not {self.scale_rule}")
            if self.zero_point:
                raise ValueError(f"recipe {self.recipe!r} does not go with zero_point")
            if self.recipe == "transformer_engine" and not self.tensor_scale:
                raise ValueError("recipe 'transformer_engine' has a global (tensor) scale: needs tensor_scale=True")
        bs = self.block_size
        if isinstance(bs, list):
            raise TypeError("block_size must be an int, a tuple or None (not a list: formats are hashable)")
        if bs == ():
            raise ValueError("block_size must not be an empty tuple")
        for b in (bs if isinstance(bs, tuple) else (bs,)):
            if b is None:
                continue
            if isinstance(b, bool) or not isinstance(b, int):
                raise TypeError(f"block_size entries must be ints or None, got {bs!r}")
            if b < 1:
                raise ValueError(f"block_size must be positive, got {bs!r}")
        if self.scale_rule in POW2_RULES and self.scale.man_bits != 0:
            raise ValueError(f"{self.scale_rule} gives power-of-two scales; the scale format must have no "
                             f"mantissa (e8m0), got {self.scale.name}")
        if self.zero_point:
            if not isinstance(self.element, IntFormat) or self.element.signed:
                raise ValueError("zero_point needs an unsigned integer element (e.g. uint4)")
            if self.scale_rule not in (ScaleRule.AMAX, ScaleRule.TRITON_UP, ScaleRule.TRITON_DOWN):
                raise ValueError("zero_point uses the AMAX rule (scale = (max - min) / (2^bits - 1))")
        if self.tensor_scale and self.scale_rule in POW2_RULES:
            raise ValueError("tensor_scale goes with the AMAX-style or MSE rules")
        if self.scale_rule == ScaleRule.FOUR_OVER_SIX and (isinstance(self.element, IntFormat) or self.zero_point):
            raise ValueError("four_over_six chooses between mapping amax to the element max and to 2/3 of it; it "
                             "needs a float element (e2m1)")
        el = self.element
        if not self.zero_point and not el.signed:
            raise ValueError(f"element {el.name} has no sign bit: symmetric block formats need a signed element "
                             "(an unsigned integer element goes with zero_point=True)")
        if isinstance(el, FloatFormat) and not el.zero:
            raise ValueError(f"element {el.name} has no zero (exponent field 0 is a normal binade); a block "
                             "element must represent 0")
        if self.tensor_scale and self.scale.max * float(el.max) > _F32_MAX:
            raise ValueError(f"tensor_scale: the FP32 tensor scale is amax / (scale max * element max), and "
                             f"{self.scale.name} max * {el.name} max = {self.scale.max * float(el.max):.6g} exceeds "
                             "float32's range; use a narrower scale format (e.g. ue4m3)")

    @property
    def _f32_recipe(self) -> bool:
        """Whether encode computes in float32 (the AMAX/MSE recipes: scales and x / s in FP32)."""
        return self.scale_rule not in POW2_RULES

    # -- derived ----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        from .registry import block_name_of
        return block_name_of(self)

    @cached_property
    def elem_max(self) -> float:
        return float(self.element.max)

    @property
    def scale_storage_bits(self) -> int:
        """Bits a stored scale occupies: whole bytes (UE4M3's 7 bits take one byte)."""
        return 8 * self.scale.code_dtype.itemsize

    @cached_property
    def _elem_mbits(self) -> int:
        e = self.element
        return e.man_bits if isinstance(e, FloatFormat) else e.bits - 2

    @cached_property
    def bits_per_element(self) -> float:
        """Stored bits per element for whole blocks (the FP32 tensor scale amortised away)."""
        sizes = self.block_size if isinstance(self.block_size, tuple) else (self.block_size,)
        if None in sizes:
            raise ValueError("bits_per_element of a whole-axis format depends on the axis length; "
                             "use BlockTensor.bits_per_element")
        n = math.prod(sizes)
        extra = self.scale_storage_bits + (self.element.bits if self.zero_point else 0)
        return self.element.bits + extra / n

    # -- encoding ---------------------------------------------------------------------------------
    def encode(self, x, axis=-1, rounding: RoundMode = RoundMode.TIES_TO_EVEN, rng=None,
               sr_bits: int | None = None, scale_rounding: RoundMode = RoundMode.TIES_TO_EVEN,
               block_shape: tuple | None = None, hadamard=None):
        """Quantise `x` into blocks along `axis` (an int, a tuple of axes for tiles, or None for the
        flattened tensor) and return a `BlockTensor`.

        `block_shape` (e.g. (16, 16) or (128, 128)) replaces the format's block size by a tile over the
        last len(block_shape) axes (or over `axis` when it is a tuple); each tiled dimension must be a
        multiple of the tile, so that W and W.T are cut into the same tiles and share scales.
        `hadamard` (an int seed, or 16 signs of ±1) first applies the 16-point random Hadamard transform
        x_g -> x_g · diag(signs) · H16 / 4 to each run of 16 elements along `axis` (TransformerEngine's
        wgrad RHT); the BlockTensor then holds, and decodes to, the transformed tensor.

        `x`: float16, bfloat16, float32, float64 or integer (|v| <= 2^53) numbers, at least 1-D;
        each converts exactly, so elements are rounded once from the input's own value.
        `rounding` (and `rng`, `sr_bits` for stochastic rounding) applies to the elements, which
        always saturate to ±element max (OCP MX v1.0 §6.3); `scale_rounding` to AMAX/MSE scales.
        A block holding NaN or ±inf gets the scale format's NaN code (its elements then decode as NaN);
        with a tensor scale, NaN/inf anywhere makes every block NaN.

        Range: the power-of-two rules (FLOOR, CEIL, EVEN, RCEIL) work in float64 and saturate (scale
        exponent clamped to the scale format, elements to ±max). The AMAX and MSE rules compute in
        float32 as the published recipes do (NVFP4's tensor scale is FP32 amax / (448 * 6)), so a
        finite |x| above float32 max (3.4028234663852886e+38) raises ValueError instead of giving NaN;
        values that underflow float32 flush to zero, and a tensor whose FP32 tensor scale underflows
        to 0 uses s_t = 1 (its elements then round to 0) instead of dividing by zero.

        Raises:
            TypeError: x not numeric (complex, bool, object, str, ...), rounding not a RoundMode, rng
                not a Generator / int seed.
            ValueError: x 0-d, axis out of range or repeated, rng or sr_bits given without
                RoundMode.STOCHASTIC, stochastic scale_rounding, |x| beyond float32 under AMAX/MSE,
                NaN/inf with a scale format that has no NaN.
        """
        from .tensor import BlockTensor
        if block_shape is not None:
            fmt, axis = self._tiled(x, block_shape, axis)
            return fmt.encode(x, axis, rounding=rounding, rng=rng, sr_bits=sr_bits, scale_rounding=scale_rounding,
                              hadamard=hadamard)
        if hadamard is not None:
            from .hadamard import random_hadamard
            if axis is None or isinstance(axis, tuple):
                raise ValueError("hadamard applies along one axis; give axis as an int")
            x = random_hadamard(block_input(x), hadamard, axis)
        rounding = _inputs.rounding_mode(rounding)
        scale_rounding = _inputs.rounding_mode(scale_rounding)
        if scale_rounding == RoundMode.STOCHASTIC:
            raise ValueError("scale_rounding must be deterministic")
        if rng is not None:
            if not isinstance(rng, int | np.integer | np.random.Generator) or isinstance(rng, bool):
                raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")
            if rounding != RoundMode.STOCHASTIC:
                raise ValueError(f"rng is only used with rounding=RoundMode.STOCHASTIC, got rounding={rounding}")
        sr_k, key = _inputs.stochastic_args(rounding, rng, sr_bits)
        x = block_input(x)
        if x.ndim == 0:
            raise ValueError("x must have at least one dimension (a 0-d array has no axis to block)")
        shape = x.shape
        flat_axis = axis is None
        if flat_axis:
            if isinstance(self.block_size, tuple):
                raise ValueError("tile block sizes need explicit axes, not axis=None")
            x = x.reshape(-1)
            axis = 0
        blocking = Blocking.make(x.shape, self.block_size, axis)
        blocks = blocking.to_blocks(x)
        codes, scales, zps, ts = self._encode_blocks(blocks, rounding, sr_k, key, scale_rounding)
        codes = blocking.from_blocks(codes)
        scales = blocking.scales_from_blocks(scales)
        zps = None if zps is None else blocking.scales_from_blocks(zps)
        if flat_axis:
            codes = codes.reshape(shape)
        return BlockTensor(format=self, codes=np.ascontiguousarray(codes), scales=np.ascontiguousarray(scales),
                           tensor_scale=ts, zero_points=None if zps is None else np.ascontiguousarray(zps),
                           axis=None if flat_axis else axis, shape=shape)

    def _tiled(self, x, block_shape, axis):
        """The format with `block_shape` as its tile, and the axes it tiles; the tile must divide x."""
        if isinstance(block_shape, int | np.integer) and not isinstance(block_shape, bool):
            block_shape = (int(block_shape),)
        if not isinstance(block_shape, tuple | list) or not block_shape:
            raise TypeError(f"block_shape must be a non-empty tuple of positive ints, got {block_shape!r}")
        for b in block_shape:
            if isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1:
                raise ValueError(f"block_shape entries must be positive ints, got {block_shape!r}")
        shape = np.shape(x)
        k = len(block_shape)
        if len(shape) < k:
            raise ValueError(f"block_shape {tuple(block_shape)} needs x with at least {k} dimensions, "
                             f"got shape {shape}")
        if isinstance(axis, tuple):
            axes = axis
        elif axis == -1 or k == 1:
            axes = tuple(range(-k, 0)) if axis == -1 else (axis,)
        else:
            raise ValueError(f"with block_shape {tuple(block_shape)}, axis must be -1 (the last {k} axes) or a "
                             f"tuple of {k} axes, got {axis!r}")
        if len(axes) != k:
            raise ValueError(f"axis {axis!r} must name one axis per block_shape dimension {tuple(block_shape)}")
        for a, b in zip(axes, block_shape):
            if not -len(shape) <= a < len(shape):
                raise ValueError(f"axis {a} is out of range for an array of {len(shape)} dimensions")
            if shape[a] % b:
                raise ValueError(f"block_shape {tuple(block_shape)} does not tile x of shape {shape}: axis {a} has "
                                 f"length {shape[a]}, not a multiple of {b}")
        fmt = dataclasses.replace(self, block_size=tuple(int(b) for b in block_shape))
        return fmt, tuple(axes)

    def quantize(self, x, axis=-1, **kw) -> np.ndarray:
        """encode(x, axis, ...).decode(): the float64 values x becomes."""
        return self.encode(x, axis, **kw).decode()

    def _encode_blocks(self, blocks, rounding, sr_k, key, scale_rounding):
        """(n_blocks, B) -> element codes (n_blocks, B), scale codes, zero-point codes, tensor scale."""
        el, sc = self.element, self.scale
        amax = kernels.block_amax(blocks)
        bad = ~np.isfinite(amax)
        if self._f32_recipe and amax.size and np.max(amax, initial=0.0, where=~bad) > _F32_MAX:
            # fl32(x) would be inf and the FP32 scales inf or NaN: refuse rather than return NaN
            big = np.max(amax, initial=0.0, where=~bad)
            raise ValueError(f"{self.name}: x holds a finite value of magnitude {big:.17g}, above float32's range; the "
                             f"{self.scale_rule.value} rule computes scales and x / scale in FP32, so the largest "
                             f"finite |x| accepted is {_F32_MAX!r} (float32 max); scale x down or use an MX format")
        if bad.any() and sc.nan_code is None:
            raise ValueError(f"{self.name}: x holds NaN or inf and the scale format {sc.name} has no NaN")
        ts = None
        if self.tensor_scale:
            t_amax = np.float32(amax.max()) if amax.size else np.float32(0)
            if not np.isfinite(t_amax):
                bad[:] = True  # NaN/inf anywhere poisons the tensor scale, so every block
                ts = np.float32(1.0)
            elif self.recipe == "transformer_engine":
                ts = self._te_global_scales(t_amax)[1]
            else:
                ts = np.float32(t_amax / np.float32(sc.max * self.elem_max))  # torchao per_tensor_amax_to_scale
                if ts == 0:
                    ts = np.float32(1.0)  # all-zero tensor (or one that underflows): nothing to scale
        if self.scale_rule in (ScaleRule.TRITON_UP, ScaleRule.TRITON_DOWN):
            if scale_rounding != RoundMode.TIES_TO_EVEN:
                raise ValueError(f"scale_rule {self.scale_rule.name} fixes the scale rounding; leave scale_rounding "
                                 f"at its default (got {scale_rounding})")
            scale_rounding = (RoundMode.TOWARD_POSITIVE if self.scale_rule == ScaleRule.TRITON_UP
                              else RoundMode.TOWARD_NEGATIVE)
        zps = None
        # Blocks holding NaN/inf end up all NaN; the FP32 recipes compute them as zeros, so that no
        # inf, NaN or huge neighbour reaches the element quantiser (which would refuse it)
        work = np.where(bad[:, None], 0, blocks).astype(blocks.dtype) if bad.any() else blocks
        if self.zero_point:
            codes, scales, zps = self._encode_asymmetric(work, rounding, sr_k, key, scale_rounding)
        elif self.scale_rule in POW2_RULES:
            scales, shifts = self._pow2_scales(amax, bad)
            codes = self._encode_elements(blocks, shifts, None, rounding, sr_k, key)
        else:
            scales, sval = self._value_scales(work, amax, ts, scale_rounding, rounding)
            if self.recipe != "lowbit":  # x times a float32 reciprocal (torchao, TransformerEngine)
                codes = self._encode_scalar(self._multiplied(work, self._reciprocals(scales, ts)), rounding,
                                            sr_k, key)
            elif sc.man_bits == 0 and ts is None:  # power-of-two scales: scale exactly, any input precision
                shifts = scales.astype(np.int64) - sc.bias  # code = biased exponent field
                shifts[bad] = 0
                codes = self._encode_elements(work, shifts, None, rounding, sr_k, key)
            else:
                codes = self._encode_elements(work, None, sval, rounding, sr_k, key)
        if bad.any():
            scales[bad] = sc.nan_code
            fill = el.nan_code if el.has_nan else 0
            nanpos = ~np.isfinite(blocks[bad])
            codes[bad] = np.where(nanpos, fill, 0)
        return codes, scales, zps, (None if ts is None else float(ts))

    # power-of-two scales (E8M0) ------------------------------------------------------------------
    def _pow2_scales(self, amax, bad):
        """E8M0 scale codes and exponents; OCP MX §6.3: all-zero block -> 2^-127, clamp to ±127."""
        sc = self.scale
        good = (amax > 0) & ~bad
        exp = np.full(amax.shape, sc.emin, np.int64)
        exp[good] = pow2_exponents(self.scale_rule, amax[good], self.element.emax, self._elem_mbits,
                                   self.elem_max, self.element.bits)
        exp = np.clip(exp, sc.emin, sc.emax)
        codes = (exp + sc.bias).astype(sc.code_dtype)  # man_bits 0: the code is the biased exponent
        exp[bad] = 0
        return codes, exp

    # scales rounded into a float scale format (NVFP4, INT-N) ---------------------------------------
    def _te_global_scales(self, t_amax):
        """TransformerEngine's global encode and decode scales: fl32(scale max * elem max / amax), capped
        at float32 max (an all-zero tensor gives the cap), and its float32 reciprocal."""
        with np.errstate(divide="ignore", over="ignore"):
            ges = np.float32(np.float32(self.scale.max * self.elem_max) / np.float32(t_amax))
        ges = np.float32(min(ges, np.float32(_F32_MAX)))
        if ges == 0:
            ges = np.float32(1.0)
        return ges, np.float32(np.float32(1.0) / ges)

    def _raw_scales(self, amax, ts):
        """fl32 block scales before rounding into the scale format, and the clamp range, per recipe."""
        sc = self.scale
        hi = np.float32(min(sc.max, _F32_MAX))
        a32 = amax.astype(np.float32)
        if self.recipe == "transformer_engine":
            finite = amax[np.isfinite(amax)]
            ges = self._te_global_scales(np.float32(finite.max()) if finite.size else np.float32(0))[0]
            mult = np.float32(ges * np.float32(np.float32(1.0) / np.float32(self.elem_max)))
            with np.errstate(over="ignore"):
                raw = np.minimum((a32 * mult).astype(np.float32), np.float32(_F32_MAX))
            return raw, np.float32(0.0), hi  # TE clamps only at the scale max
        raw = (a32 / np.float32(self.elem_max)).astype(np.float32)
        if ts is not None:
            raw = (raw / ts).astype(np.float32)
        return raw, np.float32(sc.min_normal), hi

    def _value_scales(self, blocks, amax, ts, scale_rounding, rounding):
        sc = self.scale
        raw, lo, hi = self._raw_scales(amax, ts)
        if self.scale_rule in (ScaleRule.AMAX, ScaleRule.TRITON_UP, ScaleRule.TRITON_DOWN):
            codes = sc.encode(np.clip(np.nan_to_num(raw, nan=lo), lo, hi), rounding=scale_rounding)
        elif self.scale_rule == ScaleRule.FOUR_OVER_SIX:
            codes = self._four_over_six(blocks, raw, lo, hi, ts, scale_rounding, rounding)
        else:  # MSE: try candidate scales, keep the best per block (ties: the larger scale)
            if sc.man_bits == 0:  # power-of-two scales: the FLOOR exponent and its neighbours
                good = (amax > 0) & np.isfinite(amax)
                e0 = np.full(amax.shape, sc.emin, np.int64)
                e0[good] = pow2_exponents(ScaleRule.FLOOR, amax[good], self.element.emax, self._elem_mbits,
                                          self.elem_max)
                cands = [(np.clip(e0 + d, sc.emin, sc.emax) + sc.bias).astype(sc.code_dtype) for d in (1, 0, -1)]
            else:  # clipping ratios of the AMAX scale, 1 first
                cands = [sc.encode(np.clip(np.nan_to_num(raw * np.float32(r), nan=lo), lo, hi),
                                   rounding=scale_rounding) for r in _MSE_RATIOS[::-1]]
            best_err = np.full(amax.shape, np.inf)
            codes = np.zeros(amax.shape, sc.code_dtype)
            for cand in cands:
                sval = self._scale_values(cand, ts)
                q = self.element.quantize(self._scaled(blocks, sval), saturate=True) * sval[:, None]
                err = ((q - blocks.astype(np.float64)) ** 2).sum(axis=1)
                better = err < best_err
                codes[better], best_err[better] = cand[better], err[better]
        return codes, self._scale_values(codes, ts)

    def _four_over_six(self, blocks, raw, lo, hi, ts, scale_rounding, rounding):
        """Four Over Six (arXiv 2512.02010): per block, the scale mapping amax to max_elem (6 for E2M1) or
        the 1.5x larger one mapping it to 4, whichever gives the lower squared error (ties: 6)."""
        sc = self.scale
        best_err = None
        codes = None
        for factor in (np.float32(1.0), np.float32(1.5)):
            cand = sc.encode(np.clip(np.nan_to_num((raw * factor).astype(np.float32), nan=lo), lo, hi),
                             rounding=scale_rounding)
            sval = self._scale_values(cand, ts)
            if self.recipe == "lowbit":
                src = self._scaled(blocks, sval)
            else:
                src = self._multiplied(blocks, self._reciprocals(cand, ts))
            q = self.element.quantize(np.clip(src, -self.elem_max, self.elem_max), saturate=True)
            err = ((q * sval[:, None].astype(np.float64) - blocks.astype(np.float64)) ** 2).sum(axis=1)
            if codes is None:
                codes, best_err = cand, err
            else:
                better = err < best_err
                codes = np.where(better, cand, codes)
        return codes

    def _reciprocals(self, codes, ts):
        """The float32 factor x is multiplied by: torchao fl32(fl32(1 / s_t) / s_b) (fl32(1 / s_b) without a
        tensor scale); TransformerEngine min(fl32(1 / fl32(s_b * s_t)), float32 max)."""
        sb = self.scale.decode(codes).astype(np.float32)
        with np.errstate(divide="ignore", over="ignore"):
            if self.recipe == "transformer_engine":
                enc = (np.float32(1.0) / (sb * np.float32(ts)).astype(np.float32)).astype(np.float32)
                return np.minimum(enc, np.float32(_F32_MAX))
            inv_t = np.float32(1.0) if ts is None else np.float32(np.float32(1.0) / np.float32(ts))
            return (inv_t / sb).astype(np.float32)

    def _multiplied(self, blocks, enc):
        """fl32(x * e) per block, clamped to ±max_elem (both recipes clamp before the element cast)."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = (blocks.astype(np.float32) * enc[:, None]).astype(np.float32)
        out = np.nan_to_num(out, nan=0.0)  # 0 * inf where a zero scale meets a zero element
        return np.clip(out, np.float32(-self.elem_max), np.float32(self.elem_max))

    def _scale_values(self, codes, ts):
        """fl32(s_b * s_t): the factor elements are divided by (and decoded with)."""
        sval = self.scale.decode(codes).astype(np.float32)
        if ts is not None:
            sval = (np.float32(ts) * sval).astype(np.float32)
        return sval

    @staticmethod
    def _scaled(blocks, sval):
        """fl32(x / s) per block: the recipe's float32 arithmetic."""
        return kernels.block_divide_f32(np.ascontiguousarray(blocks, np.float32), sval.astype(np.float32))

    def _encode_elements(self, blocks, shifts, sval, rounding, sr_k, key):
        """Element codes for blocks scaled by 2^-shifts (exact) or divided by sval (in float32)."""
        el = self.element
        mx = self.elem_max
        if sval is not None:
            src = self._scaled(blocks, sval)
            if isinstance(el, IntFormat):  # symmetric ±max (the int range has one more negative code)
                src = np.clip(src, -mx, mx)
            return self._encode_scalar(src, rounding, sr_k, key)
        if isinstance(el, FloatFormat):
            flat = np.ascontiguousarray(blocks).reshape(-1)
            out, _ = el._encode_scaled(flat, int(rounding), True, sr_k, key, 0, shifts, max(blocks.shape[1], 1))
            return out.reshape(blocks.shape)
        src = np.ldexp(blocks.astype(np.float64), -shifts[:, None])  # exact
        return self._encode_scalar(np.clip(np.nan_to_num(src), -mx, mx), rounding, sr_k, key)

    def _encode_scalar(self, src, rounding, sr_k, key):
        el = self.element
        flat = np.ascontiguousarray(src).reshape(-1)
        codes, _ = el._encode_flat(flat, int(rounding), True, sr_k, key, 0)
        return codes.reshape(src.shape)

    # asymmetric INT-N with zero points (GPTQ) ---------------------------------------------------
    def _encode_asymmetric(self, blocks, rounding, sr_k, key, scale_rounding):
        """GPTQ's quantiser (Frantar et al. 2023, `quant.py`): range [min(x, 0), max(x, 0)], a zero
        range widened to [-1, 1]; scale = (xmax - xmin) / maxq rounded into the scale format;
        zero = round(-xmin / scale); q = clamp(round(x / scale) + zero, 0, maxq)."""
        el, sc = self.element, self.scale
        maxq = float(el.highest)
        b32 = blocks.astype(np.float32)
        xmin = np.minimum(b32.min(axis=1), 0).astype(np.float32)
        xmax = np.maximum(b32.max(axis=1), 0).astype(np.float32)
        same = xmin == xmax
        xmin[same], xmax[same] = -1, 1
        raw = ((xmax - xmin) / np.float32(maxq)).astype(np.float32)
        lo, hi = np.float32(sc.min_normal), np.float32(min(sc.max, np.finfo(np.float32).max))
        scodes = sc.encode(np.clip(np.nan_to_num(raw, nan=lo), lo, hi), rounding=scale_rounding)
        sval = sc.decode(scodes).astype(np.float32)
        z = np.clip(np.rint((-xmin / sval).astype(np.float32)), 0, maxq)
        zcodes = el.encode(z.astype(np.float64))
        # round(x / scale) in the requested mode, on the integer grid (saturating at ±2^31)
        scaled = np.nan_to_num(self._scaled(blocks, sval)).astype(np.float64).reshape(-1)
        q = _INT32.decode(_INT32._encode_flat(scaled, int(rounding), True, sr_k, key, 0)[0])
        q = np.clip(q.reshape(blocks.shape) + z[:, None], 0, maxq)
        codes = el.encode(q)
        return codes, scodes, zcodes


def block_input(x) -> np.ndarray:
    """x as a C-contiguous float32 or float64 array for block encoding.

    float16 and bfloat16 widen to float32 and integers (|v| <= 2^53) to float64, both exactly, so the
    result is the same as rounding from the input's own precision. Anything else raises TypeError.
    """
    if not isinstance(x, np.ndarray | np.generic):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"x must be an array of numbers, got {type(x).__name__}: {err}") from None
    x = np.asarray(x)
    dt = x.dtype
    if dt == np.float16 or dt.name == "bfloat16":
        x = x.astype(np.float32)
    elif dt.kind in "iu":
        if dt.itemsize == 8 and x.size:
            lo, hi = int(x.min()), int(x.max())
            if max(-lo, hi) > _EXACT_INT:
                raise ValueError(f"x holds the integer {hi if hi > -lo else lo}, beyond 2^53: it has no exact float64 "
                                 "value; convert it explicitly")
        x = x.astype(np.float64)
    elif dt not in (np.float32, np.float64):
        raise TypeError(f"x must be a float16, bfloat16, float32, float64 or integer array, got dtype {dt}")
    return x if x.flags.c_contiguous else x.copy(order="C")
