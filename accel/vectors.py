"""Golden test vectors for hardware: deterministic input/output bit patterns of a format operation,
boundary cases first, then random, with a header that names what made them."""

import numpy as np

import numerics as nx

OPS = ("encode", "decode", "add", "mul", "fma", "dot", "convert")
STYLES = ("hex", "csv", "readmemh")


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("lowbit")
    except Exception:  # noqa: BLE001 - running from a source tree without an install
        return "unknown"


def _special_codes(f) -> np.ndarray:
    """Codes that matter to hardware: zeros, extremes, the smallest subnormal and normal, NaN/inf."""
    vals = [0.0, -0.0, 1.0, -1.0, float(f.max), -float(f.max), float(f.min_normal), -float(f.min_normal)]
    if getattr(f, "min_subnormal", None):
        vals += [float(f.min_subnormal), -float(f.min_subnormal)]
    if isinstance(f, nx.FloatFormat) and f.has_inf:
        vals += [np.inf, -np.inf]
    codes = []
    for v in vals:
        try:
            codes.append(int(f.encode(np.array([v]))[0]))
        except ValueError:
            pass
    if f.has_nan if hasattr(f, "has_nan") else False:
        codes.append(int(f.nan_code))
    if isinstance(f, nx.PositFormat):
        codes.append(int(f.nan_code))
    return np.unique(np.array(codes, dtype=np.int64))


def round_mode(rounding) -> "nx.RoundMode":
    """A RoundMode from itself or its name (any case)."""
    if isinstance(rounding, nx.RoundMode):
        return rounding
    names = list(nx.RoundMode.__members__)
    if isinstance(rounding, str) and rounding.upper() in names:
        return nx.RoundMode[rounding.upper()]
    raise ValueError(f"--rounding must be a RoundMode name, one of {', '.join(names)}; got {rounding!r}")


def _random_codes(f, rng, n) -> np.ndarray:
    return rng.integers(0, 1 << f.bits, n, dtype=np.int64)


def generate(fmt: str, op: str, n: int = 1000, seed: int = 0, rounding: str = "TIES_TO_EVEN",
             to: str | None = None, accumulator: str = "fp32", k: int = 16) -> tuple[list, list, list]:
    """(column names, rows of integer bit patterns, column widths in bits). The first rows are the
    boundary cases (every special code, and for <= 16-bit encodes every rounding boundary), then random."""
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    for name, v, lo in (("n", n, 1), ("k", k, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    f = nx.get_format(fmt)
    mode = round_mode(rounding)
    rng = np.random.default_rng(seed)
    # Stochastic rounding draws its key from a generator of the seed too (not the OS entropy pool), so the
    # file is a function of its header: the same header, the same bytes. Other modes get no rng (one given
    # with a deterministic mode is refused, since it would be ignored).
    sr_rng = np.random.default_rng([seed, 1]) if mode is nx.RoundMode.STOCHASTIC else None
    cb = f.bits
    if op == "encode":
        from numerics.testing import _boundaries
        bnd = np.array(_boundaries(f, np.float32), np.float32) if f.bits <= 16 else np.zeros(0, np.float32)
        bnd = bnd[np.isfinite(bnd) | (f.has_nan if hasattr(f, "has_nan") else False)]
        mag = float(min(f.max, 1e30) / 8)
        rnd = (rng.standard_normal(n) * np.exp2(rng.uniform(-10, 10, n)) * mag).astype(np.float32)
        x = np.concatenate([bnd, rnd])[:n]
        nan_code = getattr(f, "nan_code", 0) if not np.all(np.isfinite(x)) else None
        y = f.encode(x, rounding=mode, saturate=True, nan_code=nan_code, rng=sr_rng)
        return ["input_f32", f"{fmt}_code"], [[int(a), int(b)] for a, b in zip(x.view(np.uint32), y)], [32, cb]
    if op == "decode":
        c = np.concatenate([np.arange(min(1 << cb, n)), _random_codes(f, rng, n)])[:n]
        v = f.decode(c.astype(f.code_dtype))
        wide = not np.all((v.astype(np.float32).astype(np.float64) == v) | np.isnan(v))
        out = v.view(np.uint64) if wide else v.astype(np.float32).view(np.uint32)
        name, width = ("value_f64", 64) if wide else ("value_f32", 32)
        return [f"{fmt}_code", name], [[int(a), int(b)] for a, b in zip(c, out)], [cb, width]
    if op in ("add", "mul", "fma", "convert"):
        sp = _special_codes(f)
        arity = {"add": 2, "mul": 2, "fma": 3, "convert": 1}[op]
        grid = np.array(np.meshgrid(*[sp] * arity, indexing="ij")).reshape(arity, -1).T
        ops_in = np.concatenate([grid, _random_codes(f, rng, n * arity).reshape(n, arity)])[:n]
        cols = [ops_in[:, i].astype(f.code_dtype) for i in range(arity)]
        names = [f"{fmt}_{'abc'[i]}" for i in range(arity)]
        if op == "convert":
            if to is None:
                raise ValueError("convert needs --to FORMAT")
            t = nx.get_format(to)
            fin = np.ones(len(cols[0]), bool)
            if isinstance(t, nx.FloatFormat) and not t.has_nan:
                fin = ~np.isnan(f.decode(cols[0]))
            cols = [cols[0][fin]]
            res = nx.ops.convert(cols[0], f, t, mode, rng=sr_rng)
            return [names[0], f"{to}_code"], [[int(a), int(b)] for a, b in zip(cols[0], res)], [cb, t.bits]
        res = getattr(nx.ops, op)(*cols, f, mode, rng=sr_rng)
        return names + [f"{fmt}_result"], [[*map(int, r), int(o)] for r, o in zip(zip(*cols), res)], [cb] * (arity + 1)
    # dot: K-element dot products of finite operands through an accumulator preset, FP32 result bits
    if f.bits <= 16:
        allc = np.arange(1 << f.bits)
        finite = allc[np.isfinite(f.decode(allc.astype(f.code_dtype)))]
        a = rng.choice(finite, (n, k))
        b = rng.choice(finite, (n, k))
    else:
        a = _random_codes(f, rng, n * k).reshape(n, k)
        b = _random_codes(f, rng, n * k).reshape(n, k)
    va, vb = f.decode(a.astype(f.code_dtype)), f.decode(b.astype(f.code_dtype))
    ok = np.isfinite(va).all(1) & np.isfinite(vb).all(1)
    va, vb, a, b = va[ok], vb[ok], a[ok], b[ok]
    d = np.array([nx.matmul(va[i:i + 1], vb[i][:, None], accumulator, a_format=f, b_format=f)[0, 0]
                  for i in range(len(va))])
    out = d.astype(np.float32).view(np.uint32)
    names = [f"a{i}" for i in range(k)] + [f"b{i}" for i in range(k)] + [f"{accumulator}_f32"]
    rows = [[*map(int, a[i]), *map(int, b[i]), int(out[i])] for i in range(len(out))]
    return names, rows, [cb] * (2 * k) + [32]


def write(path, fmt, op, names, rows, widths, style="hex", rounding="TIES_TO_EVEN", seed=0, extra="") -> None:
    if style not in STYLES:
        raise ValueError(f"--as must be one of {STYLES}, got {style!r}")
    digits = [(w + 3) // 4 for w in widths]
    c = "#" if style == "csv" else "//"
    head = [f"{c} lowbit {_version()} golden vectors: format {fmt}, op {op}, rounding {rounding}, seed {seed}"
            + (f", {extra}" if extra else ""),
            f"{c} {len(rows)} vectors; columns (hex, MSB first): "
            + " ".join(f"{n}[{w}]" for n, w in zip(names, widths))]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(head) + "\n")
        if style == "csv":
            fh.write(",".join(names) + "\n")
        for r in rows:
            cells = [f"{v:0{d}X}" for v, d in zip(r, digits)]
            sep = {"hex": " ", "csv": ",", "readmemh": ""}[style]
            fh.write(sep.join(cells) + "\n")
