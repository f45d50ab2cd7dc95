"""Accuracy of the numbers the hardware would produce: the real operands through `numerics` with the
unit's formats, scaling and accumulator, compared with float64.

The reference is the float64 product of the operands as given (before pruning and quantization), so the
error includes input rounding, N:M pruning and the unit's accumulation. Large GEMMs are measured on a
seeded sample of at most `max_rows` rows of A and `max_cols` columns of B (every output of those rows
and columns); the report says how many outputs were computed.
"""

import numpy as np

import numerics as nx

from .design import element_name
from .workloads import Gemm, draw, parse_sparsity


def error_metrics(d: np.ndarray, ref: np.ndarray) -> dict:
    """Relative Frobenius error, SQNR in dB and max abs error of `d` against `ref`."""
    err = d - ref
    e2, r2 = float(np.sum(err * err)), float(np.sum(ref * ref))
    rel = float(np.sqrt(e2 / r2)) if r2 > 0 else (0.0 if e2 == 0 else float("inf"))
    sqnr = float("inf") if e2 == 0 else (10 * np.log10(r2 / e2) if r2 > 0 else float("-inf"))
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


def gemm_accuracy(w: Gemm, accumulator: str, max_rows: int = 128, max_cols: int = 128) -> dict:
    """Error metrics of `w` on a unit using `accumulator`, on a seeded sample of its outputs."""
    rng = np.random.default_rng(w.seed)
    rows = np.sort(rng.choice(w.m, max_rows, replace=False)) if w.m > max_rows else np.arange(w.m)
    cols = np.sort(rng.choice(w.n, max_cols, replace=False)) if w.n > max_cols else np.arange(w.n)
    if w.a is not None:
        a = np.asarray(w.a, np.float64)[rows]
    else:
        a = draw(w.dist, (len(rows), w.k), np.random.default_rng([w.seed, 1]))
    if w.b is not None:
        b = np.asarray(w.b, np.float64)[:, cols]
    else:
        b = draw(w.dist, (w.k, len(cols)), np.random.default_rng([w.seed, 2]))
    ref = a @ b
    d = quantized_matmul(a, b, w.a_format, w.b_fmt, accumulator, w.scaling, w.sparsity)
    out = element_name(w.out_fmt)
    of = nx.get_format(out)
    if isinstance(of, nx.FloatFormat) and of.bits < 32:  # the stored result (e.g. fp16 out)
        d = of.quantize(d, saturate=True)
    res = error_metrics(d, ref)
    res["outputs_computed"] = int(d.size)
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
