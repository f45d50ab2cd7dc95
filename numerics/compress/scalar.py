"""Scalar methods: round-to-nearest (RTN) on a GPTQ-style min-max integer grid or any lowbit scalar or
block format, GPTQ (Frantar et al., ICLR 2023), and OmniQuant-style learned weight clipping (LWC; Shao
et al., ICLR 2024)."""

import numpy as np

from .base import (
    CompressedWeight,
    Stored,
    check_bool,
    check_float,
    check_int,
    check_scale_format,
    meta,
    part,
    register,
    scale_bits,
    store_scales,
)
from .obs import inverse_cholesky, obs_sequential

# -- the integer grid GPTQ uses (its Quantizer class: asymmetric min-max, zero point rounded) -------------

def grid_params(w: np.ndarray, bits: int, sym: bool = False, clip: tuple | None = None, scale_format: str = "fp16"):
    """Per-row scale and zero point of the min-max grid over the columns of w (rows x cols). `clip`
    (gamma, beta) shrinks max and min (LWC). Scales are stored in `scale_format` (GPTQ: fp16): a scale past
    its largest value raises ValueError; one that rounds to zero becomes its smallest positive value."""
    maxq = 2**bits - 1
    xmin = np.minimum(w.min(axis=1), 0.0)
    xmax = np.maximum(w.max(axis=1), 0.0)
    if clip is not None:
        xmax, xmin = xmax * clip[0], xmin * clip[1]
    if sym:
        xmax = np.maximum(np.abs(xmin), xmax)
        xmin = -xmax
    degenerate = (xmin == 0) & (xmax == 0)
    xmin, xmax = np.where(degenerate, -1.0, xmin), np.where(degenerate, 1.0, xmax)
    with np.errstate(over="ignore"):  # a range past float64 (|w| near 1.8e308) is an overflow like any other
        scale = store_scales((xmax - xmin) / maxq, scale_format, hint=f" (a {bits}-bit min-max grid)")
    zero = np.full_like(scale, (maxq + 1) / 2) if sym else np.clip(np.rint(-xmin / scale), 0, maxq)
    return scale, zero


def grid_quantize(w: np.ndarray, scale: np.ndarray, zero: np.ndarray, bits: int) -> np.ndarray:
    """Integer codes q = clamp(round(w / scale) + zero, 0, 2^bits - 1) (w: (rows,) or (rows, cols))."""
    if w.ndim == 2:
        scale, zero = scale[:, None], zero[:, None]
    return np.clip(np.rint(w / scale) + zero, 0, 2**bits - 1)


def _groups(n: int, group: int | None) -> list[tuple[int, int]]:
    g = n if group is None else group
    return [(i, min(i + g, n)) for i in range(0, n, g)]


def _check_bits(bits, default: int = 4, hi: int = 16) -> int:
    bits = default if bits is None else bits
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= hi:
        raise ValueError(f"bits must be an int in 1..{hi} for this method, got {bits!r}")
    return int(bits)


def _check_group(group, n: int):
    if group is None:
        return None
    if isinstance(group, bool) or not isinstance(group, int | np.integer) or group < 1:
        raise ValueError(f"group must be None (per row) or a positive int, got {group!r}")
    return int(group)


def _grid_result(method, w_shape, codes, scales, zeros, bits, group, sym, perm=None, extra=None,
                 scale_format: str = "fp16") -> CompressedWeight:
    parts = {"codes": Stored(codes.astype(np.uint16), bits), "scales": Stored(scales, scale_bits(scale_format))}
    if not sym:
        parts["zeros"] = Stored(zeros.astype(np.uint16), bits)
    if perm is not None:
        parts["perm"] = Stored(perm.astype(np.int64), int(np.ceil(np.log2(max(len(perm), 2)))))
    parts.update(extra or {})
    hw = {"stores": f"{bits}-bit integer codes, an {scale_format} scale" + ("" if sym else f" and a {bits}-bit zero "
                                                                               "point")
          + f" per {'row' if group is None else f'{group} weights'}",
          "decode": "w = scale * (q - zero): one multiply-add per weight"}
    return CompressedWeight(method, w_shape, parts, meta={"bits": bits, "group": group, "sym": sym,
                                                          "scale_format": scale_format}, hardware=hw)


def _decode_grid(cw: CompressedWeight) -> np.ndarray:
    m, n = cw.shape
    bits = meta(cw, "bits", range(1, 17))
    group, sym = meta(cw, "group"), meta(cw, "sym", (True, False))
    if group is not None:
        _check_group(group, n)
    maxq = 2**bits - 1
    ng = len(_groups(n, group))
    codes = part(cw, "codes", (m, n), 0, maxq, integer=True).astype(np.float64)
    scales = part(cw, "scales", (m, ng), 0).astype(np.float64)
    zeros = (part(cw, "zeros", (m, ng), 0, maxq, integer=True).astype(np.float64) if not sym
             else np.full_like(scales, 2.0 ** (bits - 1)))
    w = np.empty((m, n))
    for gi, (a, b) in enumerate(_groups(n, group)):
        w[:, a:b] = scales[:, gi:gi + 1] * (codes[:, a:b] - zeros[:, gi:gi + 1])
    if "perm" in cw.parts:
        perm = part(cw, "perm", (n,), 0, n - 1, integer=True)
        if len(np.unique(perm)) != n:
            raise ValueError(f"{cw.method} part 'perm' is not a permutation of 0..{n - 1}")
        out = np.empty_like(w)
        out[:, perm] = w
        w = out
    return w


# -- RTN ---------------------------------------------------------------------------------------------------

def rtn(w, bits=None, hessian=None, seed=0, group: int | None = 128, sym: bool = False, format: str | None = None,
        scale_format: str = "fp16"):
    """Round to nearest. Default: the min-max integer grid of `bits` with a `scale_format` (fp16, bf16 or
    fp32; GPTQ: fp16) scale and zero point per `group` weights of a row (None: per row), as GPTQ stores it.
    `format`: any lowbit scalar format (per-tensor amax scaling, fp32 scale) or block format (e2m1, mxfp4,
    nvfp4, int4_g128_asym...) instead; it sets the width and scales itself, so bits, group, sym and
    scale_format must stay at their defaults."""
    sym = check_bool(sym, "sym")
    scale_format = check_scale_format(scale_format)
    if format is not None:
        if bits is not None or group != 128 or sym or scale_format != "fp16":
            raise ValueError("rtn with format= takes its width and scales from the format: leave bits, group, sym "
                             "and scale_format unset")
        if not isinstance(format, str):
            raise TypeError(f"format must be a lowbit format name (str), got {format!r}")
        return _rtn_format(w, format)
    bits = _check_bits(bits)
    group = _check_group(group, w.shape[1])
    codes = np.empty(w.shape)
    scales, zeros = [], []
    for a, b in _groups(w.shape[1], group):
        s, z = grid_params(w[:, a:b], bits, sym, scale_format=scale_format)
        codes[:, a:b] = grid_quantize(w[:, a:b], s, z, bits)
        scales.append(s)
        zeros.append(z)
    return _grid_result("rtn", w.shape, codes, np.stack(scales, 1), np.stack(zeros, 1), bits, group, sym,
                        scale_format=scale_format)


def _rtn_format(w, name: str) -> CompressedWeight:
    import numerics as nx
    try:
        bf = nx.get_block_format(name)
    except ValueError:
        bf = None
    if bf is not None:  # float64 in: the block format rounds from the input's precision (no float32 detour)
        if bf.scale_rule.name == "AMAX" and not bf.tensor_scale:
            # amax / element max is the smallest scale any block can need: past the scale format's largest
            # value the block format would saturate the scale and clip the weights (GPTQ-style int-N groups)
            need = float(np.abs(w).max()) / bf.element.max
            if need > bf.scale.max:
                raise ValueError(f"w is too large for {name}'s block scales: one would be at least {need:.4g}, beyond "
                                 f"the scale format's largest {bf.scale.max:.6g}; use the integer grid with "
                                 "scale_format='fp32' (rtn without format=) or scale w down")
        bt = bf.encode(w, axis=1)
        parts = {"codes": Stored(np.asarray(bt.codes), bf.element.bits)}
        if bt.zero_points is not None:
            parts["zeros"] = Stored(np.asarray(bt.zero_points), bf.element.bits)
        if bt.tensor_scale is not None:
            parts["tensor_scale"] = Stored(np.asarray([bt.tensor_scale]), 32)
        rest = bt.total_bits - sum(p.total_bits for p in parts.values())  # the block scales as numerics stores them
        parts["scales"] = Stored(np.asarray(bt.scales), rest / np.asarray(bt.scales).size)
        return CompressedWeight("rtn", w.shape, parts, meta={"format": name, "block": bt},
                                hardware={"stores": f"{name} blocks", "decode": "element x block scale"})
    f = nx.get_format(name)
    amax = np.abs(w).max()
    s = 1.0
    if amax > 0 and np.isfinite(f.max):
        s = float(store_scales(np.array([amax / f.max]), "fp32", what="tensor scale")[0])
    codes = f.encode(w / s)
    parts = {"codes": Stored(codes, f.bits), "tensor_scale": Stored(np.array([np.float32(s)]), 32)}
    hw = {"stores": f"{name} codes and an fp32 tensor scale", "decode": "code -> value x scale"}
    return CompressedWeight("rtn", w.shape, parts, meta={"format": name}, hardware=hw)


def _decode_rtn(cw: CompressedWeight) -> np.ndarray:
    fmt = cw.meta.get("format")
    if fmt is None:
        return _decode_grid(cw)
    if "block" in cw.meta:
        return cw.meta["block"].decode().astype(np.float64)
    import numerics as nx
    f = nx.get_format(fmt)
    codes = part(cw, "codes", cw.shape, 0, 2**f.bits - 1, integer=True)
    return f.decode(codes) * float(part(cw, "tensor_scale", (1,), 0)[0])


register("rtn", rtn, _decode_rtn)


# -- GPTQ --------------------------------------------------------------------------------------------------

def gptq(w, bits=None, hessian=None, seed=0, group: int | None = 128, sym: bool = False, act_order: bool = False,
         damp: float = 0.01, block: int = 128, scale_format: str = "fp16"):
    """GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative Pre-trained
    Transformers", ICLR 2023, Algorithm 1): columns quantized in order (by descending Hessian diagonal
    with `act_order`), each column's error spread over the columns not yet quantized through the upper
    Cholesky factor of the inverse of the damped Hessian (damping 1% of its mean diagonal), applied lazily
    in blocks of `block` columns; group parameters found when a group's first column comes up. Without a
    Hessian, H = I and GPTQ is RTN on the same grid. Scales in `scale_format` as for RTN."""
    bits = _check_bits(bits)
    m, n = w.shape
    group = _check_group(group, n)
    sym, act_order = check_bool(sym, "sym"), check_bool(act_order, "act_order")
    damp = check_float(damp, "damp", 0.0, 1.0)
    block = check_int(block, "block", 1)
    scale_format = check_scale_format(scale_format)
    h = np.eye(n) if hessian is None else hessian
    perm = None
    if act_order:
        perm = np.argsort(-np.diag(h), kind="stable")
        w, h = w[:, perm], h[np.ix_(perm, perm)]
    w = np.where((np.diag(h) == 0)[None, :], 0.0, w)
    u = inverse_cholesky(h, n, damp)
    codes = np.zeros((m, n))
    ngroups = len(_groups(n, group))
    scales, zeros = np.zeros((m, ngroups)), np.zeros((m, ngroups))
    state = {}

    def fix(j, col, pending):
        if j == 0 if group is None else j % group == 0:  # group parameters from the updated weights
            g = 0 if group is None else j // group
            width = n if group is None else min(group, n - j)
            state["s"], state["z"] = grid_params(pending(width), bits, sym, scale_format=scale_format)
            scales[:, g], zeros[:, g] = state["s"], state["z"]
        q = grid_quantize(col, state["s"], state["z"], bits)
        codes[:, j] = q
        return state["s"] * (q - state["z"])

    obs_sequential(w, u, fix, block)
    return _grid_result("gptq", (m, n), codes, scales, zeros, bits, group, sym, perm=perm, scale_format=scale_format)


register("gptq", gptq, _decode_grid)


# -- LWC ---------------------------------------------------------------------------------------------------

_CLIP_GRID = tuple(float(v) for v in np.round(np.arange(1.0, 0.49, -0.05), 2))


def lwc(w, bits=None, hessian=None, seed=0, group: int | None = 128, sym: bool = False, grid=_CLIP_GRID,
        scale_format: str = "fp16"):
    """Learned weight clipping (OmniQuant, Shao et al., ICLR 2024, §3.2): the grid's max and min of every
    row group are shrunk by factors (gamma, beta) in (0, 1] chosen to minimise the layer's proxy loss
    (Hessian-weighted when a Hessian is given, else MSE). OmniQuant learns them by gradient descent on
    calibration data; this implementation finds them by an exhaustive search over `grid` (same
    objective, no training loop). Stored like RTN. `grid`: the candidate factors, each in (0, 1]."""
    bits = _check_bits(bits)
    group = _check_group(group, w.shape[1])
    sym = check_bool(sym, "sym")
    scale_format = check_scale_format(scale_format)
    if isinstance(grid, str) or not hasattr(grid, "__iter__"):
        raise ValueError(f"grid must be a sequence of clipping factors in (0, 1], got {grid!r}")
    grid = tuple(check_float(g, "every grid factor", 0.0, 1.0, lo_open=True) for g in grid)
    if not grid:
        raise ValueError("grid must hold at least one clipping factor in (0, 1]")
    codes = np.empty(w.shape)
    scales, zeros = [], []
    for a, b in _groups(w.shape[1], group):
        blk = w[:, a:b]
        hb = None if hessian is None else hessian[a:b, a:b]
        best = np.full(w.shape[0], np.inf)
        bs, bz = grid_params(blk, bits, sym, scale_format=scale_format)
        bq = grid_quantize(blk, bs, bz, bits)
        for gamma in grid:
            for beta in (grid if not sym else (gamma,)):
                s, z = grid_params(blk, bits, sym, clip=(gamma, beta), scale_format=scale_format)
                q = grid_quantize(blk, s, z, bits)
                d = s[:, None] * (q - z[:, None]) - blk
                loss = np.einsum("ij,jk,ik->i", d, hb, d) if hb is not None else np.sum(d * d, axis=1)
                better = loss < best
                best = np.where(better, loss, best)
                bs, bz = np.where(better, s, bs), np.where(better, z, bz)
                bq = np.where(better[:, None], q, bq)
        codes[:, a:b] = bq
        scales.append(bs)
        zeros.append(bz)
    return _grid_result("lwc", w.shape, codes, np.stack(scales, 1), np.stack(zeros, 1), bits, group, sym,
                        scale_format=scale_format)


register("lwc", lwc, _decode_grid)
