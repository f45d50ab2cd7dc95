"""Shape arithmetic shared by the importers: each framework op becomes lowbit workload ops (accel.Gemm,
accel.ops.Elementwise), collected into one accel.transformer.Layer.

Conventions (the hand counts the tests check):
- linear / matmul with x (..., k) and W (k, n): Gemm(m = prod(...), n, k); with batch dimensions on both
  operands (attention's Q K^T), count = prod(batch dims), batched=True.
- convolution (N, C, *spatial) * W (C_out, C/g, *kernel), stride s, padding p, dilation d, groups g: the
  im2col GEMM of one group, out_i = floor((in_i + 2 p_i - d_i (kernel_i - 1) - 1) / s_i) + 1,
  m = N prod(out_i), n = C_out / g, k = (C / g) prod(kernel_i), count = g (batched when g > 1).
- scaled-dot-product attention q (..., L, E), k (..., S, E), v (..., S, Ev): Gemm(L, S, E) and
  Gemm(L, Ev, S), count = prod(...), batched, with a softmax of prod(...) L rows of S.
- softmax, layer norm, RMS norm: rows x cols with cols the reduced length; ReLU, GELU, SiLU, add, inference
  batch norm not after a convolution: the output's elements as rows of the last dimension.
- batch norm right after a convolution (its only user): folded into the convolution's weights, no op.
- max / average pooling: Elementwise("pool", rows = output elements, cols = kernel elements); adaptive
  pooling: cols = its largest window (in / out per axis when out divides in).
- embedding (x (...) of indices into a table (V, d)): Elementwise("gather", rows = prod(...), cols = d).
"""

import dataclasses
import math

import numpy as np

from ..ops import Elementwise
from ..transformer import Layer
from ..workloads import Gemm

# operand size past which an importer keeps only the GEMM's shape (the accuracy check then draws seeded
# operands): 2**21 float64 values are 16 MiB per operand
MAX_OPERAND = 2**21


def conv_out(size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int) -> int:
    """Output length of one spatial axis of a convolution (PyTorch/ONNX arithmetic)."""
    out = (size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"convolution of an axis of {size} with kernel {kernel} (dilation {dilation}), stride "
                         f"{stride}, padding ({pad_lo}, {pad_hi}) has no output")
    return out


def conv_gemm(name: str, x_shape, w_shape, stride, pads, dilation, groups: int, fmt: str) -> Gemm:
    """The im2col GEMM of a convolution; `pads` is ((lo, hi), ...) per spatial axis."""
    n, c = x_shape[0], x_shape[1]
    c_out, c_g = w_shape[0], w_shape[1]
    kernel = w_shape[2:]
    if c != c_g * groups or c_out % groups:
        raise ValueError(f"{name}: input channels {c} and weight {tuple(w_shape)} do not fit groups={groups}")
    outs = [conv_out(s, kk, st, lo, hi, d) for s, kk, st, (lo, hi), d in
            zip(x_shape[2:], kernel, stride, pads, dilation)]
    return Gemm(n * math.prod(outs), c_out // groups, c_g * math.prod(kernel), a_format=fmt, count=groups,
                batched=groups > 1, name=name)


def matmul_gemm(name: str, a_shape, b_shape, fmt: str, a=None, b=None, b_weight: bool = True) -> Gemm:
    """x @ W for x (..., m, k) and W (k, n) or (..., k, n): shared weights fold the batch into m. `b_weight`:
    whether B is the model's weights (a parameter or initializer) or an activation (Gemm.b_weight)."""
    a_shape, b_shape = tuple(a_shape), tuple(b_shape)
    if len(a_shape) < 1 or len(b_shape) < 2 or a_shape[-1] != b_shape[-2]:
        raise ValueError(f"{name}: matmul of shapes {a_shape} and {b_shape} does not chain")
    k, n = b_shape[-2], b_shape[-1]
    if len(b_shape) == 2:  # a weight shared by every row: one GEMM with the batch folded into m
        m, count = math.prod(a_shape[:-1]), 1
    else:
        batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        m, count = (a_shape[-2] if len(a_shape) > 1 else 1), math.prod(batch)
    a = _operand(a, (m, k))
    b = _operand(b, (k, n))
    return Gemm(m, n, k, a_format=fmt, count=count, batched=count > 1, name=name, a=a, b=b, b_weight=b_weight)


def _operand(arr, shape):
    """The first GEMM's operand as float64, when given and small enough; else None (seeded draw). An operand
    that holds exactly the GEMM's values (a batch folded into m: x of (B, S, K) for a GEMM of B S rows) is the
    whole of it; one that holds `count` GEMMs' operands (batched matmuls) gives the first."""
    if arr is None or math.prod(shape) > MAX_OPERAND:
        return None
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == math.prod(shape):
        arr = arr.reshape(shape)
    elif arr.ndim > 2:
        arr = arr.reshape(-1, *arr.shape[-2:])[0]
        arr = arr if arr.shape == shape else None
    else:
        arr = None
    return arr if arr is not None and np.isfinite(arr).all() else None


def attention_ops(name: str, q_shape, k_shape, v_shape, fmt: str) -> list:
    """Q K^T, softmax and (softmax) V of scaled-dot-product attention."""
    *batch, seq_q, e = q_shape
    seq_k, ev = k_shape[-2], v_shape[-1]
    count = math.prod(batch)
    att = {"a_format": fmt, "count": count, "batched": count > 1, "b_weight": False}  # K and V are activations
    return [Gemm(seq_q, seq_k, e, name=f"{name}.qk", **att),
            Elementwise("softmax", count * seq_q, seq_k, fmt, name=f"{name}.softmax"),
            Gemm(seq_q, ev, seq_k, name=f"{name}.av", **att)]


def elementwise(kind: str, name: str, shape, fmt: str, axis: int = -1, norm_len: int | None = None) -> Elementwise:
    """An element-wise op over `shape`: reductions (softmax, norms) along `axis` or the last `norm_len`."""
    shape = tuple(int(s) for s in shape) or (1,)
    if norm_len is not None:
        cols = norm_len
    else:
        cols = shape[axis]
    return Elementwise(kind, math.prod(shape) // cols, cols, fmt, name=name)


def pool_op(name: str, out_shape, window: int, fmt: str) -> Elementwise:
    """Max or average pooling: one output per window, rows = the output's elements, cols = the window's."""
    return Elementwise("pool", math.prod(out_shape), int(window), fmt, name=name)


def adaptive_window(in_spatial, out_spatial) -> int:
    """The largest window of adaptive pooling from `in_spatial` to `out_spatial` (PyTorch and ONNX: window i
    of an axis spans floor(i n / o) to ceil((i + 1) n / o)); every window when o divides n."""
    return math.prod(max(-(-(i + 1) * n // o) - i * n // o for i in range(o)) for n, o in zip(in_spatial, out_spatial))


def gather_op(name: str, rows: int, cols: int, fmt: str) -> Elementwise:
    """An embedding lookup: `rows` indices each gather a row of `cols` values (bytes moved; no GEMM)."""
    return Elementwise("gather", int(rows), int(cols), fmt, name=name)


def fold_batch_norm(conv: Gemm, gamma, var, eps: float) -> Gemm:
    """The convolution with an inference batch norm folded in: output channel j's weights times
    gamma_j / sqrt(var_j + eps) (the shift joins the bias, the GEMM's epilogue). Operands the importer did
    not keep stay unknown."""
    if conv.b is None or var is None:
        return conv
    var = np.asarray(var, np.float64).reshape(-1)
    gamma = np.ones_like(var) if gamma is None else np.asarray(gamma, np.float64).reshape(-1)
    scale = gamma / np.sqrt(var + eps)
    return conv.replace(b=conv.b * scale[:conv.n][None, :])


def unsupported_error(source: str, ops: dict) -> ValueError:
    listed = ", ".join(f"{op} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                       for op, names in sorted(ops.items()))
    return ValueError(f"{source}: unsupported op(s): {listed}. lowbit lowers linear/matmul/conv/attention, "
                      "softmax, layer/RMS/batch norm, ReLU/GELU/SiLU, add, pooling, embedding and layout ops; pass "
                      "strict=False to skip the others with a warning")


def make_layer(name: str, ops: list, info: dict) -> Layer:
    """The Layer of an imported model's ops; ops that share a name (ONNX nodes may, SCALE-Sim rows may) take
    "#1", "#2", ... after it in the order they come, the first keeping it, and a taken name is never reused."""
    if not ops:
        raise ValueError(f"{name}: the model has no op lowbit can run (no GEMM or element-wise op)")
    taken = {op.name for op in ops}
    seen: set = set()
    out = []
    for op in ops:
        if op.name in seen:
            i = 1
            while f"{op.name}#{i}" in taken:
                i += 1
            taken.add(f"{op.name}#{i}")
            op = dataclasses.replace(op, name=f"{op.name}#{i}")
        seen.add(op.name)
        out.append(op)
    return Layer(name, tuple(out), info)
