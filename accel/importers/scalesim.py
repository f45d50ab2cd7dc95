"""accel.from_scalesim_csv: a SCALE-Sim topology file -> a Layer of GEMMs.

Two layouts (SCALE-Sim v2/v3 `topologies/`): convolutions `Layer name, IFMAP Height, IFMAP Width, Filter
Height, Filter Width, Channels, Num Filter, Strides,` and GEMMs `Layer, M, N, K,`. SCALE-Sim takes the
IFMAP as already padded, so a convolution's output is (IFMAP - Filter) // Stride + 1 per axis, and its
GEMM is m = output pixels, n = Num Filter, k = Filter Height x Filter Width x Channels (as SCALE-Sim's
operand matrices are)."""

import csv
import os

from ..workloads import Gemm
from .lower import conv_out, make_layer

CONV_COLS = ("layer name", "ifmap height", "ifmap width", "filter height", "filter width", "channels",
             "num filter", "strides")
GEMM_COLS = ("layer", "m", "n", "k")


def from_scalesim_csv(path, format: str = "fp16", name: str | None = None):
    """The GEMMs of a SCALE-Sim topology CSV (conv or GEMM layout), one per row, in `format`."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"from_scalesim_csv: path must be a file path, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise OSError(f"from_scalesim_csv: no such file {os.fspath(path)!r}")
    src = os.path.basename(os.fspath(path))
    with open(path, newline="") as fh:
        rows = [[c.strip() for c in r] for r in csv.reader(fh)]
    rows = [[c for c in r if c != ""] for r in rows]
    rows = [r for r in rows if r]
    if not rows:
        raise ValueError(f"from_scalesim_csv: {src} is empty")
    head = tuple(c.lower() for c in rows[0])
    if head[:8] == CONV_COLS:
        layout = "conv"
    elif head[:4] == GEMM_COLS:
        layout = "gemm"
    else:
        raise ValueError(f"from_scalesim_csv: {src}: the header must start with {', '.join(CONV_COLS)} (conv) or "
                         f"{', '.join(GEMM_COLS)} (GEMM), got {', '.join(rows[0])}")
    ncols = 8 if layout == "conv" else 4
    gemms = []
    for lineno, r in enumerate(rows[1:], start=2):
        if len(r) < ncols:
            raise ValueError(f"from_scalesim_csv: {src} line {lineno}: expected {ncols} fields, got {len(r)}")
        try:
            v = [int(c) for c in r[1:ncols]]
        except ValueError:
            raise ValueError(f"from_scalesim_csv: {src} line {lineno}: sizes must be positive ints, got "
                             f"{r[1:ncols]}") from None
        if min(v) < 1:
            raise ValueError(f"from_scalesim_csv: {src} line {lineno}: sizes must be positive ints, got {v}")
        if layout == "gemm":
            m, n, k = v
        else:
            ih, iw, fh_, fw, ch, nf, st = v
            if fh_ > ih or fw > iw:
                raise ValueError(f"from_scalesim_csv: {src} line {lineno}: filter {fh_}x{fw} larger than the "
                                 f"IFMAP {ih}x{iw}")
            m = conv_out(ih, fh_, st, 0, 0, 1) * conv_out(iw, fw, st, 0, 0, 1)
            n, k = nf, fh_ * fw * ch
        gemms.append(Gemm(m, n, k, a_format=format, name=r[0]))
    if len({g.name for g in gemms}) != len(gemms):
        gemms = [g.replace(name=f"{g.name}#{i}") for i, g in enumerate(gemms)]
    return make_layer(name or os.path.splitext(src)[0], gemms, {"source": "scalesim", "file": src})
