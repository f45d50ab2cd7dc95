"""Record an NVIDIA H200's FP8 tensor-core results and kernel times: the golden vectors behind
tests/test_h200.py and the measurements behind the `h200-like` rows of docs/validation.md.

Run on a machine with an H200 (or any sm_90 GPU) and PyTorch with CUDA:
    PYTHONPATH=. python scripts/h200_record.py OUTDIR
It writes OUTDIR/h200_fp8_golden.npz (crafted FP8 GEMMs: inputs are regenerated from the seeds below, so
only their SHA-256 and the outputs are stored), OUTDIR/h200_study_a.npz (a 4096^3 FP8 GEMM: errors, and
the top-left 64 x 64 block of each result) and OUTDIR/h200_times.json (kernel times, device facts).
`PYTHONPATH=. python scripts/h200_record.py --golden16 OUTDIR` records FP16 / BF16 GEMMs the same way
(OUTDIR/h200_f16_golden.npz). Then, on any machine, `python scripts/h200_record.py --vendor OUTDIR`
writes the repository's copies: numerics/data/h200/ (each result's top-left 32 x 32 block; Triton runs
whose K is below the kernel's K step, which reads past the operands, dropped) and accel/data/h200/ (the
times and device facts).

The inputs come from `golden_inputs()` / `study_inputs()`: a SplitMix64 stream (integer arithmetic only)
mapped to FP8 codes, and sums of uniforms rounded by ml_dtypes, so that they are the same bytes on any
machine and numpy version; the recorded SHA-256 of each case checks that.
"""

import hashlib
import json
import sys
import time

import ml_dtypes
import numpy as np

M = N = 64  # every golden case's output is 64 x 64
_GOLDEN = (  # (name, K, how the operands are drawn)
    ("all_codes_k64", 64, "all_codes"), ("all_codes_k256", 256, "all_codes"),
    ("all_codes_k1024", 1024, "all_codes"), ("narrow_k128", 128, "narrow"), ("narrow_k4096", 4096, "narrow"),
    ("swamp_k4096", 4096, "swamp"), ("cancel_k1024", 1024, "cancel"), ("wide_a_k512", 512, "wide_a"),
    ("normal_k4096", 4096, "normal"), ("e5m2_a_k1024", 1024, "e5m2_a"),
)
STUDY_SHAPE = (4096, 4096, 4096)
# Triton: promote the wgmma partial sum into FP32 every this many K elements (None: Triton's sm_90 default,
# no promotion); the K loop steps by TRITON_BK
TRITON_PROMOTE = (None, 32, 64, 128)
TRITON_BK = 128


def splitmix64(seed: int, n, start: int = 0) -> np.ndarray:
    """Words start .. start + n - 1 of SplitMix64 (Steele, Lea, Flood, OOPSLA 2014) from seed, or the words
    at the indices in n if it is an array: uint64 arithmetic only."""
    idx = np.asarray(n, dtype=np.uint64) if np.ndim(n) else np.arange(start, start + n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + ((idx + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _e4m3(sign, exp, man) -> np.ndarray:
    return ((sign.astype(np.uint8) << 7) | (exp.astype(np.uint8) << 3) | man.astype(np.uint8)).astype(np.uint8)


def _normal(seed: int, shape, index=None) -> np.ndarray:
    """Approximately N(0, 1): the sum of four uniforms on [0, 1) (53-bit, exact sums) centred and scaled
    (Irwin-Hall, variance 1/3), so that every machine gets the same float64 values. index: the flat
    indices of the elements wanted (default all)."""
    n = int(np.prod(shape))
    e = np.arange(n, dtype=np.uint64) if index is None else np.asarray(index, dtype=np.uint64)
    s = sum((splitmix64(seed, e + np.uint64(j * n)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
            for j in range(4))
    return ((s - 2.0) * np.sqrt(3.0)).reshape(shape if index is None else e.shape)


def _codes(kind: str, seed: int, shape) -> tuple[np.ndarray, str]:
    n = int(np.prod(shape))
    w = splitmix64(seed, n)
    b = (w & np.uint64(0xFF)).astype(np.uint8)
    sign, exp, man = (w >> np.uint64(8)) & np.uint64(1), (w >> np.uint64(9)) & np.uint64(15), \
        (w >> np.uint64(13)) & np.uint64(7)
    if kind == "all_codes":  # every finite E4M3 code (NaN 0x7F / 0xFF replaced by zero)
        c = np.where((b & 0x7F) == 0x7F, np.uint8(0), b)
    elif kind == "narrow":  # exponents 2^-2 .. 2^2, random signs
        c = _e4m3(sign, 5 + exp % 5, man)
    elif kind == "swamp":  # all positive in [1, 2): the sum outgrows the accumulator's fraction
        c = _e4m3(np.zeros_like(sign), np.full_like(exp, 7), man)
    elif kind == "wide_a":  # exponents 2^-6 .. 2^7 with signs: large alignment shifts in every step
        c = _e4m3(sign, 1 + exp % 14, man)
    elif kind == "normal":
        c = _normal(seed, shape).astype(ml_dtypes.float8_e4m3fn).view(np.uint8).ravel()
    elif kind == "e5m2":  # every finite E5M2 code (Inf / NaN, exponent field 31, replaced by zero)
        c = np.where((b & 0x7C) == 0x7C, np.uint8(0), b)
        return c.reshape(shape), "e5m2"
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return c.reshape(shape).astype(np.uint8), "e4m3"


def golden_inputs() -> list[dict]:
    """The crafted cases: {name, a (M, K) uint8 codes, b (K, N) uint8 codes, a_format, b_format}."""
    out = []
    for i, (name, k, kind) in enumerate(_GOLDEN):
        seed_a, seed_b = 1000 + 2 * i, 1001 + 2 * i
        if kind == "cancel":
            # the first half of K adds large positive products, the second half subtracts the same
            # magnitudes in another order; small products throughout: partial sums grow, then cancel
            a, fa = _codes("narrow", seed_a, (M, k))
            half, _ = _codes("narrow", seed_b, (k // 2, N))
            half = half & np.uint8(0x7F)
            perm = np.argsort(splitmix64(seed_b + 7, k // 2))
            b = np.concatenate([half, half[perm] | np.uint8(0x80)])
            a = a & np.uint8(0x7F)
            a[:, k // 2:] = a[:, :k // 2][:, perm]
            small = (splitmix64(seed_a + 3, M * k).reshape(M, k) % np.uint64(8)) == 0
            a = np.where(small, _codes("wide_a", seed_a + 5, (M, k))[0] & np.uint8(0x87), a)
            fb = "e4m3"
        elif kind == "e5m2_a":
            a, fa = _codes("e5m2", seed_a, (M, k))
            b, fb = _codes("narrow", seed_b, (k, N))
        else:
            a, fa = _codes(kind, seed_a, (M, k))
            b, fb = _codes(kind, seed_b, (k, N))
        out.append({"name": name, "a": np.ascontiguousarray(a), "b": np.ascontiguousarray(b),
                    "a_format": fa, "b_format": fb})
    return out


_GOLDEN16 = (  # (name, K, format, how the operands are drawn)
    ("f16_all_k64", 64, "fp16", "all"), ("f16_all_k1024", 1024, "fp16", "all"),
    ("f16_narrow_k4096", 4096, "fp16", "narrow"), ("f16_swamp_k4096", 4096, "fp16", "swamp"),
    ("bf16_wide_k1024", 1024, "bf16", "wide"), ("bf16_normal_k4096", 4096, "bf16", "normal"),
)


def golden16_inputs() -> list[dict]:
    """FP16 and BF16 cases (uint16 codes): every finite FP16 code (subnormals too); FP16 exponents 2^-2..2^2
    with signs; all-positive FP16 in [1, 2); BF16 exponents 2^-20..2^20 with signs; N(0, 1) in BF16."""
    out = []
    for i, (name, k, fmt, kind) in enumerate(_GOLDEN16):
        ops = []
        for j, shape in enumerate(((M, k), (k, N))):
            seed = 5000 + 2 * i + j
            w = splitmix64(seed, int(np.prod(shape)))
            bits = (w & np.uint64(0xFFFF)).astype(np.uint16)
            sign = ((w >> np.uint64(16)) & np.uint64(1)).astype(np.uint16) << 15
            e = (w >> np.uint64(17)) & np.uint64(0xFF)
            if kind == "all":  # FP16 exponent field 31 (Inf / NaN) replaced by zero
                c = np.where((bits & 0x7C00) == 0x7C00, np.uint16(0), bits)
            elif kind == "narrow":
                c = sign | ((13 + e % 5).astype(np.uint16) << 10) | (bits & 0x3FF)
            elif kind == "swamp":
                c = (np.uint16(15) << 10) | (bits & 0x3FF)
            elif kind == "wide":
                c = sign | ((107 + e % 41).astype(np.uint16) << 7) | (bits & 0x7F)
            else:
                c = _normal(seed, shape).astype(ml_dtypes.bfloat16).view(np.uint16).ravel()
            ops.append(np.ascontiguousarray(c.reshape(shape).astype(np.uint16)))
        out.append({"name": name, "a": ops[0], "b": ops[1], "format": fmt})
    return out


def study_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Study A's operands: float64 N(0, 1)-like values (M, K) and (K, N) and their E4M3 codes."""
    m, n, k = STUDY_SHAPE
    xa, xb = _normal(77, (m, k)), _normal(78, (k, n))
    return (xa, xb, xa.astype(ml_dtypes.float8_e4m3fn).view(np.uint8),
            xb.astype(ml_dtypes.float8_e4m3fn).view(np.uint8))


def study_block(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """The E4M3 codes of study A's first `rows` rows of A (rows, K) and first `cols` columns of B (K, cols),
    without building the whole operands."""
    m, n, k = STUDY_SHAPE
    ia = (np.arange(rows)[:, None] * k + np.arange(k)[None, :]).ravel()
    ib = (np.arange(k)[:, None] * n + np.arange(cols)[None, :]).ravel()
    f8 = ml_dtypes.float8_e4m3fn
    return (_normal(77, (m, k), ia).reshape(rows, k).astype(f8).view(np.uint8),
            _normal(78, (k, n), ib).reshape(k, cols).astype(f8).view(np.uint8))


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---------------------------------------------------------------------------------------------- device side

def timed(fn, reps: int = 20) -> dict:  # pragma: no cover - runs on a GPU machine
    """LLMCompass's convention (median host wall-clock of one call and its synchronize, after 3 warm-ups)
    and the GPU's own time per call (CUDA events around `reps` back-to-back calls)."""
    import torch
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    wall = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        wall.append(time.perf_counter() - t0)
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    for _ in range(reps):
        fn()
    e1.record()
    torch.cuda.synchronize()
    return {"wall_median_s": float(np.median(wall)), "event_mean_s": e0.elapsed_time(e1) * 1e-3 / reps}


def _main(out: str) -> None:  # pragma: no cover - runs on a GPU machine
    import torch
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    facts = {"name": props.name, "sm_count": props.multi_processor_count,
             "l2_bytes": getattr(props, "L2_cache_size", None), "total_memory": props.total_memory,
             "capability": list(torch.cuda.get_device_capability(dev)), "torch": torch.__version__,
             "cuda": torch.version.cuda, "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    print(facts, flush=True)
    tdt = {"e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2}
    one = torch.ones((), device=dev, dtype=torch.float32)

    def fp8(codes, fmt):
        return torch.from_numpy(np.ascontiguousarray(codes)).to(dev).view(tdt[fmt])

    def scaled_mm(a, b_t, fast):  # a (M, K) row-major, b_t (N, K) row-major -> b column-major
        return torch._scaled_mm(a, b_t.t(), scale_a=one, scale_b=one, out_dtype=torch.float32,
                                use_fast_accum=fast)

    triton_mm = None
    try:
        import triton
        import triton.language as tl

        @triton.jit
        def _kernel(a_ptr, b_ptr, c_ptr, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr,
                    PROMOTE: tl.constexpr):
            pm, pn = tl.program_id(0), tl.program_id(1)
            rm = pm * BM + tl.arange(0, BM)
            rn = pn * BN + tl.arange(0, BN)
            rk = tl.arange(0, BK)
            acc = tl.zeros((BM, BN), dtype=tl.float32)
            for k0 in range(0, K, BK):
                a = tl.load(a_ptr + rm[:, None] * K + (k0 + rk)[None, :])
                b = tl.load(b_ptr + rn[None, :] * K + (k0 + rk)[:, None])  # (BK, BN) from B^T (N, K)
                if PROMOTE == 0:
                    acc = tl.dot(a, b, acc)
                else:
                    acc = tl.dot(a, b, acc, max_num_imprecise_acc=PROMOTE)
            tl.store(c_ptr + rm[:, None] * BN * tl.num_programs(1) + rn[None, :], acc)

        def triton_mm(a, b_t, promote):
            c = torch.empty((a.shape[0], b_t.shape[0]), device=dev, dtype=torch.float32)
            _kernel[(a.shape[0] // 64, b_t.shape[0] // 64)](a, b_t, c, a.shape[1], BM=64, BN=64, BK=TRITON_BK,
                                                            PROMOTE=promote or 0)
            return c
        facts["triton"] = triton.__version__
    except Exception as e:  # noqa: BLE001 - record why and go on
        print("triton unavailable:", repr(e), flush=True)

    # 1. golden vectors
    res, hashes, errs = {}, {}, {}
    for case in golden_inputs():
        nm = case["name"]
        hashes[nm] = [sha(case["a"]), sha(case["b"])]
        a, b_t = fp8(case["a"], case["a_format"]), fp8(case["b"].T, case["b_format"])
        for fast in (True, False):
            r1 = scaled_mm(a, b_t, fast)
            r2 = scaled_mm(a, b_t, fast)
            res[f"{nm}__cublas_{'fast' if fast else 'slow'}"] = r1.cpu().numpy()
            assert torch.equal(r1, r2), f"cuBLAS not deterministic on {nm}"
        if triton_mm is not None and case["a_format"] == case["b_format"] == "e4m3":
            for p in TRITON_PROMOTE:
                try:
                    res[f"{nm}__triton_{p or 'none'}"] = triton_mm(a, b_t, p).cpu().numpy()
                except Exception as e:  # noqa: BLE001
                    errs[f"{nm}__triton_{p}"] = repr(e)[:300]
    np.savez_compressed(f"{out}/h200_fp8_golden.npz", **res,
                        meta=np.array(json.dumps({"facts": facts, "sha256": hashes, "errors": errs})))
    print("golden:", len(res), "results;", errs, flush=True)

    # 2. Study A: a 4096^3 FP8 GEMM, fast accumulation vs promotion, errors against float64
    xa, xb, ca, cb = study_inputs()
    A, Bt = fp8(ca, "e4m3"), fp8(cb.T, "e4m3")
    qa, qb = A.float().double(), Bt.float().double().t()
    exact = qa @ qb
    ref = torch.from_numpy(xa).to(dev) @ torch.from_numpy(xb).to(dev)
    fro = lambda x, y: float(torch.linalg.norm(x - y) / torch.linalg.norm(y))  # noqa: E731
    study = {"sha256": [sha(ca), sha(cb)], "quantization": fro(exact, ref)}
    blocks = {}
    for fast in (True, False):
        d = scaled_mm(A, Bt, fast).double()
        key = "fast" if fast else "slow"
        study[key] = {"accumulation": fro(d, exact), "total": fro(d, ref)}
        blocks[key] = d[:64, :64].cpu().numpy().astype(np.float32)
    bf = (A.float().bfloat16() @ Bt.float().bfloat16().t()).double()
    study["bf16_gemm_bf16_out"] = {"accumulation": fro(bf, exact)}
    np.savez_compressed(f"{out}/h200_study_a.npz", **blocks, meta=np.array(json.dumps(study)))
    print("study A:", study, flush=True)

    # 3. kernel times: LLMCompass's convention (median host wall-clock of one call and its synchronize)
    # and the GPU's own (CUDA events around 20 back-to-back calls)
    rows = []
    gemms = [(m, 12288, 12288) for m in (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)] + \
        [(8192, n, n) for n in (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)] + [STUDY_SHAPE]
    for m, n, k in gemms:
        a16 = torch.randn(m, k, device=dev, dtype=torch.float16)
        b16 = torch.randn(k, n, device=dev, dtype=torch.float16)
        rows.append({"op": "gemm", "dtype": "fp16", "m": m, "n": n, "k": k, **timed(lambda a=a16, b=b16: a @ b)})
        a8, b8t = a16.to(torch.float8_e4m3fn), b16.t().contiguous().to(torch.float8_e4m3fn)
        del a16, b16
        for fast in (True, False):
            rows.append({"op": "gemm", "dtype": "e4m3", "fast_accum": fast, "m": m, "n": n, "k": k,
                         **timed(lambda a=a8, b=b8t, f=fast: scaled_mm(a, b, f))})
        del a8, b8t
        print(rows[-3:], flush=True)
    F = torch.nn.functional
    shapes = [(4096, c) for c in (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)] + \
        [(r, 4096) for r in (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)]
    for r, c in shapes:
        x = torch.randn(r, c, device=dev, dtype=torch.float16)
        w, bb = torch.ones(c, device=dev, dtype=torch.float16), torch.zeros(c, device=dev, dtype=torch.float16)
        rows.append({"op": "softmax", "dtype": "fp16", "rows": r, "cols": c, **timed(lambda x=x: torch.softmax(x, -1))})
        rows.append({"op": "layernorm", "dtype": "fp16", "rows": r, "cols": c,
                     **timed(lambda x=x, c=c, w=w, bb=bb: F.layer_norm(x, (c,), w, bb))})
    for e in (1 << p for p in range(10, 30)):
        x = torch.randn(e, device=dev, dtype=torch.float16)
        rows.append({"op": "gelu", "dtype": "fp16", "rows": e, "cols": 1,
                     **timed(lambda x=x: F.gelu(x, approximate="tanh"))})
    x = torch.empty(1 << 31, device=dev, dtype=torch.uint8)
    y = torch.empty_like(x)
    rows.append({"op": "copy", "bytes": 2 * x.numel(), **timed(lambda: y.copy_(x))})
    json.dump({"facts": facts, "rows": rows}, open(f"{out}/h200_times.json", "w"), indent=1)
    print("times:", len(rows), "rows", flush=True)


def _record16(out: str) -> None:  # pragma: no cover - runs on a GPU machine
    """FP16 / BF16 GEMMs with an FP32 result: a Triton kernel (wgmma, K step 64, the FP32 accumulator
    chained through every step) and cuBLAS (torch.matmul, FP16 / BF16 result)."""
    import torch
    import triton
    import triton.language as tl
    dev = torch.device("cuda")

    @triton.jit
    def _k16(a_ptr, b_ptr, c_ptr, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
        pm, pn = tl.program_id(0), tl.program_id(1)
        rm = pm * BM + tl.arange(0, BM)
        rn = pn * BN + tl.arange(0, BN)
        rk = tl.arange(0, BK)
        acc = tl.zeros((BM, BN), dtype=tl.float32)
        for k0 in range(0, K, BK):
            a = tl.load(a_ptr + rm[:, None] * K + (k0 + rk)[None, :])
            b = tl.load(b_ptr + (k0 + rk)[:, None] * BN * tl.num_programs(1) + rn[None, :])
            acc = tl.dot(a, b, acc)
        tl.store(c_ptr + rm[:, None] * BN * tl.num_programs(1) + rn[None, :], acc)

    tdt = {"fp16": torch.float16, "bf16": torch.bfloat16}
    res, hashes = {}, {}
    for case in golden16_inputs():
        nm, dt = case["name"], tdt[case["format"]]
        hashes[nm] = [sha(case["a"]), sha(case["b"])]
        a = torch.from_numpy(case["a"].view(np.int16)).to(dev).view(dt)
        b = torch.from_numpy(case["b"].view(np.int16)).to(dev).view(dt)
        c = torch.empty((M, N), device=dev, dtype=torch.float32)
        _k16[(1, 1)](a, b, c, a.shape[1], BM=M, BN=N, BK=64)
        res[f"{nm}__triton"] = c.cpu().numpy()
        r1, r2 = a @ b, a @ b
        assert torch.equal(r1, r2), nm
        res[f"{nm}__cublas_out16"] = r1.float().cpu().numpy()
    np.savez_compressed(f"{out}/h200_f16_golden.npz", **res, meta=np.array(json.dumps({"sha256": hashes})))
    print("golden16:", len(res), flush=True)


def _vendor(raw: str) -> None:
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    num, acc = root / "numerics" / "data" / "h200", root / "accel" / "data" / "h200"
    num.mkdir(exist_ok=True)
    acc.mkdir(exist_ok=True)
    z = np.load(f"{raw}/h200_fp8_golden.npz")
    k_of = {name: k for name, k, _ in _GOLDEN}
    keep = {key: z[key][:32, :32] for key in z.files if key != "meta"
            and not ("__triton_" in key and k_of[key.split("__")[0]] < TRITON_BK)}
    np.savez_compressed(num / "golden.npz", **keep, meta=z["meta"])
    s = np.load(f"{raw}/h200_study_a.npz")
    np.savez_compressed(num / "study_a.npz", **{k: s[k] for k in s.files})
    times = json.load(open(f"{raw}/h200_times.json"))
    json.dump(times, open(acc / "times.json", "w"), indent=0)
    g16 = Path(raw) / "h200_f16_golden.npz"
    if g16.exists():  # the Triton runs only: cuBLAS's FP16-output kernels are not one wgmma chain (README)
        z = np.load(g16)
        np.savez_compressed(num / "golden16.npz", meta=z["meta"],
                            **{k: z[k][:32, :32] for k in z.files if k.endswith("__triton")})
    for src, dst in (("h200_clocks.json", "clocks.json"), ("h200_sparse.json", "sparse.json")):
        if (Path(raw) / src).exists():
            json.dump(json.load(open(Path(raw) / src)), open(acc / dst, "w"), indent=0)


if __name__ == "__main__":
    if sys.argv[1] == "--vendor":
        _vendor(sys.argv[2])
    elif sys.argv[1] == "--golden16":
        _record16(sys.argv[2])
    else:
        _main(sys.argv[1])
