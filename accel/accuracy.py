"""Accuracy of the numbers the hardware would produce: the real operands through `numerics` with the
unit's formats, scaling and accumulator, compared with float64.

The reference is the float64 product of the operands as given (before pruning and quantization), so the
error includes input rounding, N:M pruning and the unit's accumulation. Large GEMMs are measured on a
seeded sample of at most `max_rows` rows of A and `max_cols` columns of B (every output of those rows
and columns); the report says how many outputs were computed ("outputs_computed").

K is sampled too, so that the work and memory stay bounded whatever the GEMM's size: when K exceeds
`max_k` (MAX_K = 16384 by default), each computed output sums a contiguous slice of `k_sampled` terms
(max_k rounded down to a whole number of the formats' scale blocks and of the N:M sparsity groups, never
less than one of them), starting at a seeded offset that is a multiple of the same; drawn operands are
drawn for that slice only. The metrics are then an estimate of the full-K error (accumulation error
grows with K), and the report says so: "k_sampled" is the K actually summed (equal to K when K was not
sampled).
"""

import math

import numpy as np

import numerics as nx

from .checks import check_str, real_array
from .design import element_name, format_info
from .workloads import SCALINGS, Gemm, draw, parse_sparsity

MAX_K = 16384


def error_metrics(d: np.ndarray, ref: np.ndarray) -> dict:
    """Relative Frobenius error, SQNR in dB and max abs error of `d` against `ref` (same shape; `ref`
    finite). Outputs of `d` that are NaN or inf (an overflowing format or accumulator) make the errors
    inf and -inf dB, and "nonfinite_outputs" counts them (the key is present only then)."""
    if isinstance(d, np.ndarray) and d.dtype.kind == "f":
        d = d.astype(np.float64, copy=False)
    else:
        d = np.asarray(d)
        if d.dtype.kind not in "iuf":
            raise TypeError(f"d must be an array of real numbers, got dtype {d.dtype}")
        d = d.astype(np.float64)
    ref = real_array("ref", ref)
    if d.shape != ref.shape:
        raise ValueError(f"d and ref must have the same shape, got {d.shape} and {ref.shape}")
    bad = int(np.count_nonzero(~np.isfinite(d)))
    if bad:
        return {"rel_fro_err": float("inf"), "sqnr_db": float("-inf"), "max_abs_err": float("inf"),
                "nonfinite_outputs": bad}
    err = d - ref
    e2, r2 = float(np.sum(err * err)), float(np.sum(ref * ref))
    rel = float(np.sqrt(e2 / r2)) if r2 > 0 else (0.0 if e2 == 0 else float("inf"))
    sqnr = float("inf") if e2 == 0 else (float(10 * np.log10(r2 / e2)) if r2 > 0 else float("-inf"))
    return {"rel_fro_err": rel, "sqnr_db": sqnr, "max_abs_err": float(np.max(np.abs(err))) if err.size else 0.0}


def _scaled(x: np.ndarray, fmt, scaling: str, axis: int):
    """x / s with s per tensor or per channel (amax / fmt.max), and s, for a scalar format."""
    if scaling == "auto":
        scaling = "tensor" if fmt.bits <= 8 else "none"
    if scaling == "none":
        return x, 1.0
    amax = np.max(np.abs(x)) if scaling == "tensor" else np.max(np.abs(x), axis=axis, keepdims=True)
    s = np.where(amax > 0, amax / fmt.max, 1.0).astype(np.float32).astype(np.float64)
    return (x / s).astype(np.float32), s


def quantized_matmul(a: np.ndarray, b: np.ndarray, a_format: str, b_format: str, accumulator: str,
                     scaling: str = "auto", sparsity: str | None = None) -> np.ndarray:
    """A @ B as the unit computes it: B pruned to N:M along K, both operands rounded into their formats
    (scalar formats with per-tensor/per-channel scales applied after accumulation, as FP8/INT8 GEMM
    epilogues do; block formats with their own scales), summed by `accumulator`. Returns float64."""
    a, b = real_array("a", a, ndim=(2,)), real_array("b", b, ndim=(2,))
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"a (m x k) and b (k x n) must share k, got shapes {a.shape} and {b.shape}")
    check_str("quantized_matmul", "scaling", scaling, SCALINGS)
    for name, v in (("a_format", a_format), ("b_format", b_format)):
        try:
            element_name(v)
        except (ValueError, TypeError) as err:
            raise type(err)(f"quantized_matmul.{name}: {err}") from None
    sp = parse_sparsity(sparsity)
    if sp is not None:
        b = nx.sparse24(b, n=sp[0], m=sp[1], axis=0).decompress()
    acc = nx.get_accumulator(accumulator)
    ops, scales, fmts = [], [], []
    for x, name, axis in ((a, a_format, 1), (b, b_format, 0)):
        try:
            f = nx.get_format(name)
        except ValueError:
            bf = nx.get_block_format(name)
            ops.append(bf.encode(np.asarray(x, np.float32), axis=axis))
            scales.append(1.0)
            fmts.append(None)
            continue
        xs, s = _scaled(np.asarray(x, np.float64), f, scaling, axis)
        if isinstance(f, nx.IntFormat):
            q = f.decode(f.encode(np.clip(np.rint(xs), f.lowest, f.highest)))
        else:
            q = f.quantize(xs)
        ops.append(q)
        scales.append(s)
        fmts.append(f)
    if (fmts[0] is None) != (fmts[1] is None):
        raise ValueError(f"a_format {a_format!r} and b_format {b_format!r}: both block formats or both scalar")
    if fmts[0] is None:
        d = nx.matmul(ops[0], ops[1], acc)
    else:
        d = nx.matmul(ops[0], ops[1], acc, a_format=fmts[0], b_format=fmts[1])
    return d * scales[0] * scales[1]


def k_slice(w: Gemm, max_k: int) -> tuple[int, int]:
    """(k0, k_sampled): the contiguous slice of K the accuracy sample sums (module docstring)."""
    if w.k <= max_k:
        return 0, w.k
    align = 1
    for f in (w.a_format, w.b_fmt):
        bs = format_info(f)[2]
        align = math.lcm(align, bs or 1)
    sp = parse_sparsity(w.sparsity)
    if sp is not None:
        align = math.lcm(align, sp[1])
    ks = min(w.k, max(align, max_k // align * align))
    k0 = align * int(np.random.default_rng([w.seed, 3]).integers(0, (w.k - ks) // align + 1))
    return k0, ks


def gemm_accuracy(w: Gemm, accumulator: str, max_rows: int = 128, max_cols: int = 128, max_k: int = MAX_K) -> dict:
    """Error metrics of `w` on a unit using `accumulator`, on a seeded sample of its outputs and of K
    (module docstring); "outputs_computed" and "k_sampled" say what was computed."""
    rng = np.random.default_rng(w.seed)
    rows = np.sort(rng.choice(w.m, max_rows, replace=False)) if w.m > max_rows else np.arange(w.m)
    cols = np.sort(rng.choice(w.n, max_cols, replace=False)) if w.n > max_cols else np.arange(w.n)
    k0, ks = k_slice(w, max_k)
    if w.a is not None:
        a = np.asarray(w.a[rows, k0:k0 + ks], np.float64)
    else:
        a = draw(w.dist, (len(rows), ks), np.random.default_rng([w.seed, 1]))
    if w.b is not None:
        b = np.asarray(w.b[k0:k0 + ks, cols], np.float64)
    else:
        b = draw(w.dist, (ks, len(cols)), np.random.default_rng([w.seed, 2]))
    ref = a @ b
    if not np.isfinite(ref).all():
        raise ValueError(f"{w.name}: the float64 reference A @ B overflows (|a| up to {np.abs(a).max():.3g}, |b| up "
                         f"to {np.abs(b).max():.3g}); scale the operands")
    d = quantized_matmul(a, b, w.a_format, w.b_fmt, accumulator, w.scaling, w.sparsity)
    out = element_name(w.out_fmt)
    of = nx.get_format(out)
    if isinstance(of, nx.FloatFormat) and of.bits < 32:  # the stored result (e.g. fp16 out)
        d = of.quantize(d, saturate=True)
    res = error_metrics(d, ref)
    res["outputs_computed"] = int(d.size)
    res["k_sampled"] = ks
    return res


def chain_accuracy(net, layer_matmul) -> dict:
    """A Dense chain run end to end twice: through `layer_matmul(i, x, w)` (the hardware, layer i) and
    in float64; error metrics of the logits, the two top-1 scores against the labels, their agreement."""
    x = xf = np.asarray(net.inputs, np.float64)
    for i, layer in enumerate(net.layers):
        w = np.asarray(layer.weight, np.float64)
        b = np.asarray(layer.bias, np.float64)
        y, yf = layer_matmul(i, x, w) + b, xf @ w + b
        if layer.activation == "relu":
            y, yf = np.maximum(y, 0.0), np.maximum(yf, 0.0)
        x, xf = y, yf
    res = error_metrics(x, xf)
    pred, pred_f = x.argmax(1), xf.argmax(1)
    res["agreement"] = float((pred == pred_f).mean())
    if net.labels is not None:
        res["top1"] = float((pred == net.labels).mean())
        res["top1_float"] = float((pred_f == net.labels).mean())
    res["outputs_computed"] = int(x.size)
    return res


def worst_gemm(gemms, accuracy_of) -> dict:
    """The metrics of the GEMM with the largest relative error, and the outputs computed over all."""
    worst: dict = {}
    total = 0
    for g in gemms:
        r = accuracy_of(g)
        total += r.pop("outputs_computed")
        if not worst or r["rel_fro_err"] > worst["rel_fro_err"]:
            worst = r
    return {**worst, "outputs_computed": total}
