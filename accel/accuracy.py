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
from .workloads import SCALINGS, Gemm, draw, mma_formats, parse_sparsity

MAX_K = 16384


def error_metrics(d: np.ndarray, ref: np.ndarray, name: str = "error_metrics") -> dict:
    """Relative Frobenius error, SQNR in dB and max abs error of `d` against `ref` (same shape; `ref`
    finite and not zero everywhere: a relative error against 0 is undefined, and `name`, the workload, says so
    in a ValueError). Outputs of `d` that are NaN or inf (an overflowing format or accumulator) make the errors
    inf and -inf dB, and "nonfinite_outputs" counts them (the key is present only then)."""
    res = _metrics(d, ref)
    if res is None:
        if not np.size(ref):
            raise ValueError(f"{name}: no outputs to compare (empty arrays): an error needs at least one")
        raise ValueError(_zero_reference(name))
    return res


def _zero_reference(name: str) -> str:
    return (f"{name}: the float64 reference is zero at every output computed (an all-zero operand, or products "
            f"that cancel exactly), so a relative error against it is undefined; give operands whose product is "
            f"not zero")


def _metrics(d: np.ndarray, ref: np.ndarray) -> dict | None:
    """error_metrics, or None when `ref` is zero everywhere."""
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
    if not np.any(ref):
        return None
    bad = int(np.count_nonzero(~np.isfinite(d)))
    if bad:
        return {"rel_fro_err": float("inf"), "sqnr_db": float("-inf"), "max_abs_err": float("inf"),
                "nonfinite_outputs": bad}
    err = d - ref
    # the norms' squares of the errors and reference scaled by a power of two near their largest magnitude (exact),
    # so that outputs near the float range's ends neither overflow (nan) nor underflow to a false 0 when squared
    top = max(float(np.max(np.abs(err))), float(np.max(np.abs(ref)))) if err.size else 0.0
    shift = -math.frexp(top)[1] if 0 < top < math.inf else 0
    es, rs = np.ldexp(err, shift), np.ldexp(ref, shift)
    e2, r2 = float(np.sum(es * es)), float(np.sum(rs * rs))
    # r2 is 0 only where ref, though not zero, lies so far below the error that scaled it squares to 0
    rel = float(np.sqrt(e2 / r2)) if r2 > 0 else float("inf")
    sqnr = float("inf") if e2 == 0 else (float(10 * np.log10(r2 / e2)) if r2 > 0 else float("-inf"))
    return {"rel_fro_err": rel, "sqnr_db": sqnr, "max_abs_err": float(np.max(np.abs(err))) if err.size else 0.0}


def split_metrics(d: np.ndarray, d_exact: np.ndarray, ref: np.ndarray, name: str = "split_metrics") -> dict:
    """error_metrics(d, ref) plus the error split by cause, as normwise relative (Frobenius) errors:

    - rel_err_total = ||D_hw - D_ref||_F / ||D_ref||_F (equal to rel_fro_err): everything;
    - rel_err_accumulation = ||D_hw - D_exact||_F / ||D_exact||_F: the accumulator and the epilogue
      alone (D_exact: the exact product of the quantised, pruned operands, exact_product);
    - rel_err_quantization = ||D_exact - D_ref||_F / ||D_ref||_F: operand rounding and pruning alone.

    D_ref is the float64 product of the operands as given. The two parts need not add up to the total
    (they are norms of two error terms that may cancel), but total <= accumulation (1 + quantization) +
    quantization. Non-finite hardware outputs make the total and accumulation errors inf. A D_ref of zeros
    raises as in error_metrics (`name`); a D_exact of zeros (every product rounded away) gives an accumulation
    error of 0 where D_hw is zero too, else inf."""
    res = error_metrics(d, ref, name)
    res["rel_err_total"] = res["rel_fro_err"]
    acc = _metrics(d, d_exact)
    if acc is None:  # D_exact of zeros: no error where D_hw is zero too
        acc = {"rel_fro_err": float("inf") if np.any(np.asarray(d, np.float64)) else 0.0}
    res["rel_err_accumulation"] = acc["rel_fro_err"]
    res["rel_err_quantization"] = error_metrics(d_exact, ref)["rel_fro_err"]
    return res


def _scaled(x: np.ndarray, fmt, scaling: str, axis: int):
    """x / s with s per tensor or per channel (amax / fmt.max), and s, for a scalar format."""
    if scaling == "auto":
        scaling = "tensor" if fmt.bits <= 8 else "none"
    if scaling == "none":
        return x, 1.0
    amax = np.max(np.abs(x)) if scaling == "tensor" else np.max(np.abs(x), axis=axis, keepdims=True)
    s = np.where(amax > 0, amax / fmt.max, 1.0).astype(np.float32).astype(np.float64)
    return (x / s).astype(np.float32), s


def _quantize_scalar(x: np.ndarray, f, scaling: str, axis: int):
    """(values of `f`, scale) for x in scalar format f with the scaling rule of _scaled."""
    xs, s = _scaled(np.asarray(x, np.float64), f, scaling, axis)
    if isinstance(f, nx.IntFormat):
        return f.decode(f.encode(np.clip(np.rint(xs), f.lowest, f.highest))), s
    return f.quantize(xs), s


def quantize_operands(a: np.ndarray, b: np.ndarray, a_format: str, b_format: str, scaling: str = "auto",
                      sparsity: str | None = None) -> tuple:
    """The operands as the MMA consumes them: ((op_a, op_b), (scale_a, scale_b), (fmt_a, fmt_b), (val_a,
    val_b)). B is first pruned to N:M along K. op: a BlockTensor (block formats) or the float64 values of
    the scalar format fmt (None for block operands); scale: the per-tensor/per-channel scale the epilogue
    applies (1.0 for block operands); val: the float64 value of every element the MMA multiplies (block
    scales included, epilogue scales not). Mixed pairs follow workloads.mma_formats: the dequantised operand
    is decoded (or converted) and then rounded into the other operand's format."""
    a, b = real_array("a", a, ndim=(2,)), real_array("b", b, ndim=(2,))
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"a (m x k) and b (k x n) must share k, got shapes {a.shape} and {b.shape}")
    check_str("quantized_matmul", "scaling", scaling, SCALINGS)
    for name, v in (("a_format", a_format), ("b_format", b_format)):
        try:
            element_name(v)
        except (ValueError, TypeError) as err:
            raise type(err)(f"quantized_matmul.{name}: {err}") from None
    fa_name, fb_name, deq = mma_formats(a_format, b_format)
    sp = parse_sparsity(sparsity)
    if sp is not None:
        b = nx.sparse24(b, n=sp[0], m=sp[1], axis=0).decompress()
    ops, scales, fmts, vals = [], [], [], []
    for x, given, name, axis, which in ((a, a_format, fa_name, 1, "a"), (b, b_format, fb_name, 0, "b")):
        x = np.asarray(x, np.float64)
        if deq == which:  # dequantise-then-GEMM: the operand's own format first, decoded to values
            try:
                g = nx.get_format(given)
                x = _quantize_scalar(x, g, scaling, axis)
                x = x[0] * x[1]
            except ValueError:
                x = nx.get_block_format(given).encode(np.asarray(x, np.float32), axis=axis).decode()
        try:
            f = nx.get_format(name)
        except ValueError:
            bt = nx.get_block_format(name).encode(np.asarray(x, np.float32), axis=axis)
            ops.append(bt)
            scales.append(1.0)
            fmts.append(None)
            vals.append(np.asarray(bt.decode(), np.float64))
            continue
        q, s = _quantize_scalar(x, f, scaling, axis)
        ops.append(q)
        scales.append(s)
        fmts.append(f)
        vals.append(q)
    return tuple(ops), tuple(scales), tuple(fmts), tuple(vals)


def exact_product(vals: tuple, scales: tuple) -> np.ndarray:
    """The product of the quantised operands without the accumulator's rounding: float64 BLAS on their
    values, then the epilogue scales. Integer-valued products are exact (every partial sum below 2^53 for
    the formats' ranges at k <= MAX_K); float ones carry float64's own error, at most about k 2^-53
    relative (2e-12 at k = 16384), four orders below the finest hardware accumulator (FP32, ~1e-7)."""
    return (vals[0] @ vals[1]) * scales[0] * scales[1]


def quantized_matmul(a: np.ndarray, b: np.ndarray, a_format: str, b_format: str, accumulator: str,
                     scaling: str = "auto", sparsity: str | None = None, exact: bool = False):
    """A @ B as the unit computes it: B pruned to N:M along K, both operands rounded into their formats
    (scalar formats with per-tensor/per-channel scales applied after accumulation, as FP8/INT8 GEMM
    epilogues do; block formats with their own scales; mixed pairs per workloads.mma_formats), summed by
    `accumulator`. Returns float64; with exact=True the pair (hardware result, exact_product of the same
    quantised operands)."""
    if not isinstance(exact, bool):
        raise TypeError(f"quantized_matmul: exact must be True or False, got {exact!r}")
    ops, scales, fmts, vals = quantize_operands(a, b, a_format, b_format, scaling, sparsity)
    acc = nx.get_accumulator(accumulator)
    if fmts[0] is None:
        d = nx.matmul(ops[0], ops[1], acc)
    else:
        d = nx.matmul(ops[0], ops[1], acc, a_format=fmts[0], b_format=fmts[1])
    d = d * scales[0] * scales[1]
    return (d, exact_product(vals, scales)) if exact else d


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


def pad_k(a: np.ndarray, b: np.ndarray, accumulator: str) -> tuple[np.ndarray, np.ndarray]:
    """A (m, k) and B (k, n) with K zero-padded to a whole number of the accumulator's fused steps when it
    needs whole steps (GROUPED: Blackwell NVFP4's 64), as the hardware pads a partial K tile. Exact: the
    padded products are zero, and zeros change no block's amax, so no scale or quantised element changes."""
    acc = nx.get_accumulator(accumulator)
    step = acc.block_bytes if acc.method == nx.AccMethod.GROUPED else 1
    pad = -a.shape[1] % step
    if not pad:
        return a, b
    return np.pad(a, ((0, 0), (0, pad))), np.pad(b, ((0, pad), (0, 0)))


def reference_product(a: np.ndarray, b: np.ndarray, name: str, zero_ok: bool = False, sample: str = "") -> np.ndarray:
    """The float64 reference a @ b, or ValueError naming `name` when it leaves float64's range: an overflow, or
    operands so small that even their largest product max|a| max|b| is below the smallest normal float64
    (2^-1022), where the products lose their digits to subnormals or 0 and a result of 0 would score as exact;
    or, unless `zero_ok` (a chain's inner layer, whose bias may follow), a product of zeros, against which no
    relative error is defined (error_metrics): said before the hardware runs. `sample`: what a sampled reference
    covers (sample_note), said with a zero one: the workload's whole product may not be zero."""
    amax = float(np.max(np.abs(a))) if a.size else 0.0
    bmax = float(np.max(np.abs(b))) if b.size else 0.0
    sizes = f"|a| up to {amax:.3g}, |b| up to {bmax:.3g}"
    if amax > 0 and bmax > 0 and math.log2(amax) + math.log2(bmax) < -1022:
        raise ValueError(f"{name}: the float64 reference A @ B underflows ({sizes}: their product is below float64's "
                         f"smallest normal number, 2.2e-308); scale the operands up")
    with np.errstate(over="ignore", invalid="ignore"):
        ref = a @ b
    if not np.isfinite(ref).all():
        raise ValueError(f"{name}: the float64 reference A @ B overflows ({sizes}); scale the operands")
    if not zero_ok and not np.any(ref):
        raise ValueError(_zero_reference(name) + sample)
    return ref


def sample_note(g, a: np.ndarray, b: np.ndarray) -> str:
    """For a zero reference: "" when a (rows x K) and b (K x cols) are all of Gemm g's operands, else what the seeded
    sample covers and how to draw another (a Gemm.seed), since the rest of the product may not be zero."""
    if a.shape[0] >= g.m and b.shape[1] >= g.n and b.shape[0] >= g.k:
        return ""
    zero = [n for n, x in (("A", g.a), ("B", g.b)) if x is not None and not np.any(x)]
    if zero:  # another sample would not help
        return f" (the workload's own {zero[0]} is zero everywhere)"
    return (f" (these are the outputs of a seeded sample of the workload: {a.shape[0]} of its {g.m} rows, {b.shape[1]} "
            f"of its {g.n} columns, {b.shape[0]} of its {g.k} K terms; its whole product may not be zero: another "
            f"Gemm.seed, now {g.seed}, samples other outputs)")


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
    a, b = pad_k(a, b, accumulator)
    ref = reference_product(a, b, f"workload {w.name!r}", sample=sample_note(w, a, b))
    d, dq = quantized_matmul(a, b, w.a_format, w.b_fmt, accumulator, w.scaling, w.sparsity, exact=True)
    out = element_name(w.out_fmt)
    of = nx.get_format(out)
    if isinstance(of, nx.FloatFormat) and of.bits < 32:  # the stored result (e.g. fp16 out)
        d = of.quantize(d, saturate=True)
    res = split_metrics(d, dq, ref, f"workload {w.name!r}")
    res["outputs_computed"] = int(d.size)
    res["k_sampled"] = ks
    return res


def chain_accuracy(net, layer_matmul) -> dict:
    """A Dense chain run end to end through the hardware (`layer_matmul(i, x, w)`, layer i) and in
    float64; error metrics of the logits, the two top-1 scores against the labels, their agreement. When
    layer_matmul returns a pair (hardware result, exact product of the same quantised operands), a third
    run with every layer's accumulation exact (fed its own activations) splits the error by cause
    (split_metrics); a single array (analog tiles) gives error_metrics only."""
    x = xq = xf = np.asarray(net.inputs, np.float64)
    split = True
    for i, layer in enumerate(net.layers):
        w = np.asarray(layer.weight, np.float64)
        y = layer_matmul(i, x, w)
        split = split and isinstance(y, tuple)
        if split:  # the exact-accumulation chain feeds its own activations: the pipeline less the accumulator
            y, xq = y[0], layer.activate(layer_matmul(i, xq, w)[1])
        x, xf = layer.activate(y), layer.activate(reference_product(xf, w, f"layer {i}", zero_ok=True))
    name = f"workload {net.name!r} (the chain's float64 output)"
    res = split_metrics(x, xq, xf, name) if split else error_metrics(x, xf, name)
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


# Bump when a change to this module or to numerics changes the numbers a key maps to: stale entries then
# miss instead of returning old metrics.
CACHE_VERSION = 1


def _array_digest(h, arr) -> None:
    if arr is None:
        h.update(b"none")
        return
    a = np.ascontiguousarray(arr)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


class AccuracyCache:
    """Accuracy metrics keyed on what determines them, shared across grid points, sweep workers and runs.

    The key (accuracy_key) hashes the GEMM's shape, formats, out format, sparsity, scaling, seed and
    distribution (or the operands' bytes when given), the accumulator's full definition and the sample
    bounds; not the array size, clock or memories, which change the time and energy only. `path`: a JSON
    Lines file (created if absent) that several processes may share: each entry is appended under an
    exclusive lock and entries other processes wrote are read before a miss is computed. None: in memory
    only."""

    def __init__(self, path=None):
        import os
        if path is not None and not isinstance(path, str | os.PathLike):
            raise TypeError(f"AccuracyCache: path must be None, a str or os.PathLike, got {type(path).__name__}")
        self.path = None if path is None else os.fspath(path)
        self._mem: dict = {}
        self._read_upto = 0
        self.hits = self.misses = 0
        if self.path is not None:
            try:
                with open(self.path, "a", encoding="utf-8"):
                    pass
            except OSError as err:
                raise type(err)(err.errno, f"cannot open the accuracy cache: {err.strerror}", self.path) from None
            self._load()

    def _load(self) -> None:
        import json
        with open(self.path, encoding="utf-8") as fh:
            fh.seek(self._read_upto)
            while True:
                line = fh.readline()
                if not line.endswith("\n"):  # end of file, or another process's append still under way
                    break
                self._read_upto += len(line.encode("utf-8"))
                try:
                    entry = json.loads(line)
                    self._mem[entry["key"]] = entry["metrics"]
                except (ValueError, KeyError, TypeError):
                    raise ValueError(f"{self.path}: a line of the accuracy cache is not a cache entry "
                                     f"({line[:60]!r}); delete the file to rebuild it") from None

    def get(self, key: str):
        if key not in self._mem and self.path is not None:
            self._load()
        v = self._mem.get(key)
        return None if v is None else dict(v)

    def put(self, key: str, metrics: dict) -> None:
        import fcntl
        import json
        self._mem[key] = dict(metrics)
        if self.path is None:
            return
        line = json.dumps({"key": key, "metrics": metrics}) + "\n"
        with open(self.path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.write(line)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def __len__(self) -> int:
        return len(self._mem)

    def gemm_accuracy(self, w: Gemm, accumulator: str, max_rows: int = 128, max_cols: int = 128,
                      max_k: int = MAX_K) -> dict:
        """gemm_accuracy(w, accumulator, ...) through the cache."""
        key = accuracy_key(w, accumulator, max_rows, max_cols, max_k)
        hit = self.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        res = gemm_accuracy(w, accumulator, max_rows, max_cols, max_k)
        self.put(key, res)
        return dict(res)


def accuracy_key(w: Gemm, accumulator: str, max_rows: int = 128, max_cols: int = 128, max_k: int = MAX_K) -> str:
    """The cache key of gemm_accuracy(w, accumulator, ...): a SHA-256 of what determines its numbers."""
    import hashlib
    if not isinstance(w, Gemm):
        raise TypeError(f"accuracy_key: w must be a Gemm, got {type(w).__name__}")
    acc = nx.get_accumulator(accumulator)
    h = hashlib.sha256()
    fields = (CACHE_VERSION, w.m, w.n, w.k, w.a_format, w.b_fmt, w.out_fmt, w.sparsity, w.scaling, w.seed, w.dist,
              repr(acc), max_rows, max_cols, max_k)
    h.update(repr(fields).encode())
    _array_digest(h, w.a)
    _array_digest(h, w.b)
    return h.hexdigest()


def chain_key(net, accumulator: str) -> str:
    """The cache key of a Dense chain's accuracy on a digital unit using `accumulator`: a SHA-256 of the
    formats, scaling, sparsity, the accumulator's definition and every weight, bias, activation, input
    and label."""
    import hashlib
    acc = nx.get_accumulator(accumulator)
    h = hashlib.sha256()
    h.update(repr((CACHE_VERSION, "chain", net.a_format, net.b_fmt, net.scaling, net.sparsity, repr(acc))).encode())
    for layer in net.layers:
        h.update(repr(layer.activation).encode())
        _array_digest(h, np.asarray(layer.weight))
        _array_digest(h, np.asarray(layer.bias))
    _array_digest(h, None if net.inputs is None else np.asarray(net.inputs))
    _array_digest(h, None if net.labels is None else np.asarray(net.labels))
    return h.hexdigest()
