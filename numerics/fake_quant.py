"""fake_quant: round an array to a format and back to its own dtype, for numpy, PyTorch and JAX alike.

The forward value is lowbit's numpy `quantize` (scalar or block format) cast to the input's dtype, in
every framework (block formats: element x scales rounded once to that dtype, see `quantize_numpy`):
the PyTorch op (`lowbit::fake_quant`, a `torch.library` custom op with a fake kernel, so
`torch.compile(fullgraph=True)` traces it) and the JAX function (`jax.pure_callback` under
`jax.custom_vjp`) hand the tensor's data to the same numpy code, so they are bit-identical to it by
construction. Gradients are straight-through: "identity" passes the incoming gradient unchanged,
"clipped" zeroes it where the input lies beyond the format's largest value (scalar formats: where the
quantiser saturates). Stochastic rounding takes an explicit integer `seed`: one seed gives the same bits
in numpy, eager PyTorch, compiled PyTorch and JAX (use a new seed per training step).

torch and jax are optional (`pip install lowbit[torch]`, `lowbit[jax]`); they are imported only when a
tensor of theirs arrives.
"""

import numpy as np

from .rounding import RoundMode

BACKWARDS = ("identity", "clipped")


def resolve(format: str, axis):
    """(format object, is_block, axis) for a format name; clear errors for bad names and axes."""
    from .blocks import block_format_names, get_block_format
    from .formats import format_names, get_format
    if not isinstance(format, str):
        raise TypeError(f"fake_quant: format must be a format name (str), got {type(format).__name__}")
    try:
        fmt = get_format(format)
        block = False
    except ValueError:
        try:
            fmt = get_block_format(format)
        except ValueError:
            raise ValueError(f"fake_quant: unknown format {format!r}; scalar formats: {', '.join(format_names())}; "
                             f"block formats: {', '.join(block_format_names())}") from None
        block = True
    if block:
        axis = -1 if axis is None else axis
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"fake_quant: axis must be an int for block format {format!r}, got {axis!r}")
        axis = int(axis)
    elif axis is not None:
        raise ValueError(f"fake_quant: axis={axis!r} applies to block formats only; {format!r} is a scalar format "
                         "(quantised element by element): leave axis=None")
    return fmt, block, axis


def check_args(format: str, rounding, axis, seed, saturate, backward):
    """Validate every argument but the array; returns (format object, is_block, axis)."""
    fmt, block, axis = resolve(format, axis)
    if not isinstance(rounding, RoundMode):
        raise TypeError(f"fake_quant: rounding must be a numerics.RoundMode, got {rounding!r} "
                        f"(one of {', '.join('RoundMode.' + r.name for r in RoundMode)})")
    if rounding == RoundMode.STOCHASTIC:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError("fake_quant: rounding=RoundMode.STOCHASTIC needs an explicit seed= (an int >= 0) so that "
                             f"numpy, PyTorch (eager and compiled) and JAX draw the same bits; got seed={seed!r}")
    elif seed is not None:
        raise ValueError("fake_quant: seed= is only used with rounding=RoundMode.STOCHASTIC")
    if not isinstance(saturate, bool | np.bool_):
        raise TypeError(f"fake_quant: saturate must be a bool, got {saturate!r}")
    if block and not saturate:
        raise ValueError("fake_quant: block formats always saturate their elements (OCP MX v1.0 §6.3); "
                         "saturate=False applies to scalar formats only")
    if backward not in BACKWARDS:
        raise ValueError(f"fake_quant: backward must be one of {BACKWARDS}, got {backward!r}")
    if backward == "clipped" and block:
        raise ValueError("fake_quant: backward='clipped' needs a scalar format (a block format's scale follows each "
                         "block's amax, so there is no fixed range to clip at); use backward='identity'")
    return fmt, block, axis


def clip_max(fmt, block: bool) -> float:
    """The largest magnitude the format holds (the 'clipped' gradient's bound); inf for block formats."""
    return float("inf") if block else float(fmt.max)


def quantize_numpy(x: np.ndarray, format: str, rounding: RoundMode = RoundMode.TIES_TO_EVEN, axis=None,
                   seed: int | None = None, saturate: bool = True) -> np.ndarray:
    """lowbit's quantize of `x` (float16/bfloat16/float32/float64), cast back to x's dtype. Scalar formats:
    ValueError if that cast would change a value (a format wider than the dtype, e.g. int16's 32767 in
    float16). Block formats: a value is element x scale(s), which may need more bits than the dtype (NVFP4's
    float32 tensor scale times its E4M3 block scale): it is rounded once, to nearest even, as torchao's
    dequantise to the high-precision dtype does."""
    fmt, block, axis = check_args(format, rounding, axis, seed, saturate, "identity")
    rng = None if seed is None else int(seed)
    if block:
        # 16-bit floats widen exactly to float32; the block kernels take neither (numba typing errors)
        xb = x.astype(np.float32) if np.asarray(x).dtype.name in ("bfloat16", "float16") else x
        q = fmt.quantize(xb, axis=axis, rounding=rounding, rng=rng)
    else:
        q = fmt.quantize(x, rounding=rounding, saturate=saturate, rng=rng)
    x = np.asarray(x)
    if q.dtype == x.dtype:
        return q
    out = q.astype(x.dtype)
    if block:
        return out
    same = (out.astype(np.float64) == q) | (np.isnan(q) & np.isnan(out.astype(np.float64)))
    if not same.all():
        i = int(np.flatnonzero(~same.reshape(-1))[0])
        raise ValueError(f"fake_quant: {format!r} produced {q.reshape(-1)[i]!r}, which a {x.dtype} tensor cannot hold "
                         f"exactly (flat index {i}); pass the input as float32 or float64")
    return out


def fake_quant(x, format: str, rounding: RoundMode = RoundMode.TIES_TO_EVEN, axis: int | None = None,
               seed: int | None = None, saturate: bool = True, backward: str = "identity"):
    """`x` rounded to `format` and returned as the same kind of array with the same dtype.

    Args:
        x: a numpy array, a torch tensor (any device torch can copy to the CPU; gradients flow through)
            or a jax array; float16, bfloat16, float32 or float64.
        format: any scalar (`nx.format_names()`) or block (`nx.block_format_names()`) format name.
        rounding: a RoundMode; STOCHASTIC needs `seed`.
        axis: the blocks' axis for block formats (default -1); must be None for scalar formats.
        seed: the stochastic-rounding seed (an int; the same seed gives the same bits everywhere).
        saturate: scalar formats: clamp overflow to ±max (False: ±inf or NaN, as `encode`).
        backward: the straight-through gradient, "identity" or "clipped" (zero beyond ±max).
    """
    mod = type(x).__module__
    if mod.startswith("torch"):
        from .fake_quant_torch import fake_quant_torch
        return fake_quant_torch(x, format, rounding, axis, seed, saturate, backward)
    if mod.startswith(("jax", "jaxlib")):
        from .fake_quant_jax import fake_quant_jax
        return fake_quant_jax(x, format, rounding, axis, seed, saturate, backward)
    if isinstance(x, np.ndarray | np.generic):
        check_args(format, rounding, axis, seed, saturate, backward)
        return quantize_numpy(x, format, rounding, axis, seed, saturate)
    raise TypeError(f"fake_quant: x must be a numpy array, a torch tensor or a jax array, got {type(x).__name__}")


MATMUL_BACKWARDS = ("identity", "clipped", "high_precision")


def fake_quant_matmul(a, b, a_format: str, b_format: str, rounding: RoundMode = RoundMode.TIES_TO_EVEN,
                      backward: str = "identity"):
    """fake_quant(a) @ fake_quant(b) in a's framework and dtype, with a choice of backward GEMMs.

    `a` holds the activations (..., m, k), `b` the weight (k, n); block formats run their blocks along K in
    both. The forward value is the framework's matmul of the two fake-quantised operands. Gradients, for an
    incoming gradient g:
      - "identity": straight-through on both quantisers: da = g fq(b)^T, db = fq(a)^T g;
      - "clipped": the same, zeroed where an operand lies beyond its scalar format's largest value;
      - "high_precision": the weight gradient from the unquantised activations, db = a^T g (da as
        "identity"): torchao's float8 recipe with "grad_weight in high precision" (LW_AXISWISE_WITH_GW_HP,
        rowwise_with_gw_hp: grad_weight_hp = input_t_hp @ grad_output_hp, the input kept in its original
        precision for that GEMM). It is a property of the GEMM's backward, not of an element-wise rounding
        (an element-wise op cannot tell its consumer which tensor to use), hence an op of its own.
    numpy arrays: the forward value only (no gradients).
    """
    if backward not in MATMUL_BACKWARDS:
        raise ValueError(f"fake_quant_matmul: backward must be one of {MATMUL_BACKWARDS}, got {backward!r}")
    mod_a, mod_b = type(a).__module__.split(".")[0], type(b).__module__.split(".")[0]
    if mod_a != mod_b:
        raise TypeError(f"fake_quant_matmul: a and b must be arrays of one framework, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    elem = "clipped" if backward == "clipped" else "identity"
    aq = fake_quant(a, a_format, rounding, backward=elem)  # blocks (if any) along a's last axis, K, and b's rows
    if mod_a == "numpy":
        bq = np.ascontiguousarray(np.swapaxes(fake_quant(np.swapaxes(b, -1, -2), b_format, rounding), -1, -2))
    else:
        bq = fake_quant(b.mT, b_format, rounding, backward=elem).mT
        bq = bq.contiguous() if mod_a == "torch" else bq  # the matmul's summation order follows the layout
    if backward != "high_precision" or mod_a not in ("torch", "jax", "jaxlib"):
        return aq @ bq
    if mod_a == "torch":
        def stop(t):
            return t.detach()
    else:
        import jax
        stop = jax.lax.stop_gradient
    # value: aq @ bq exactly (t - stop(t) is exactly zero for finite t); gradients: a through its straight-through
    # estimator against the quantised weight, b through its estimator against the unquantised a
    da_path = aq @ stop(bq)
    db_path = stop(a) @ bq
    return stop(aq @ bq) + (da_path - stop(da_path)) + (db_path - stop(db_path))
