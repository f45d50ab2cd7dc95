"""accel.from_scalesim_csv: a SCALE-Sim topology file -> a Layer of GEMMs.

Two layouts (SCALE-Sim v2/v3 `topologies/`): convolutions `Layer name, IFMAP Height, IFMAP Width, Filter
Height, Filter Width, Channels, Num Filter, Strides,` and GEMMs `Layer, M, N, K,`. SCALE-Sim takes the
IFMAP as already padded, so a convolution's output is (IFMAP - Filter) // Stride + 1 per axis, and its
GEMM is m = output pixels, n = Num Filter, k = Filter Height x Filter Width x Channels (as SCALE-Sim's
operand matrices are)."""

import csv
import os
import re

from ..workloads import Gemm
from .lower import conv_out, make_layer

CONV_COLS = ("layer name", "ifmap height", "ifmap width", "filter height", "filter width", "channels",
             "num filter", "strides")
GEMM_COLS = ("layer", "m", "n", "k")


def from_scalesim_csv(path, format: str = "fp16", name: str | None = None):
    """The GEMMs of a SCALE-Sim topology CSV (conv or GEMM layout), one per row, in `format`. Rows end with or
    without SCALE-Sim's trailing comma; blank lines are skipped; a UTF-8 byte-order mark (a spreadsheet's "CSV
    UTF-8") is dropped; a "Sparsity" column after the layout's (SCALE-Sim v3: "N:M", N nonzeros in every M weights;
    "M:M" or empty is dense) sets the GEMM's sparsity, other columns after the layout's are not read. An empty cell
    inside a row, a size that is not a plain positive integer, or a row without a name raises a ValueError naming
    the file and its line."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"from_scalesim_csv: path must be a file path, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise OSError(f"from_scalesim_csv: no such file {os.fspath(path)!r}")
    src = os.path.basename(os.fspath(path))
    rows = []  # (line number in the file, cells): blank lines skipped, a row's trailing empty cells dropped
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for r in reader:
                cells = [c.strip() for c in r]
                while cells and cells[-1] == "":
                    cells.pop()
                if cells:
                    rows.append((reader.line_num, cells))
    except UnicodeDecodeError as err:
        raise ValueError(f"from_scalesim_csv: {src} is not UTF-8 text (byte {err.start}: {err.reason})") from None
    if not rows:
        raise ValueError(f"from_scalesim_csv: {src} is empty")
    # SCALE-Sim reads its columns by position and never its header, and its own files vary the names ("Layer Name",
    # "num filters", a repeated "IFMAP Width", doubled spaces): the layout is told by the second column
    head = tuple(" ".join(c.lower().split()) for c in rows[0][1])
    if len(head) >= 8 and head[0].startswith("layer") and head[1].startswith("ifmap"):
        layout = "conv"
    elif len(head) >= 4 and head[0].startswith("layer") and head[1:4] == GEMM_COLS[1:]:
        layout = "gemm"
    else:
        raise ValueError(f"from_scalesim_csv: {src}: the header must start with {', '.join(CONV_COLS)} (conv: a "
                         f"layer name and an IFMAP column, 8 columns) or {', '.join(GEMM_COLS)} (GEMM), got "
                         f"{', '.join(rows[0][1])}")
    cols = CONV_COLS if layout == "conv" else GEMM_COLS
    ncols = len(cols)
    # SCALE-Sim v3's optional "Sparsity" column after the layout's (N nonzeros in every M weights, "N:M"; its
    # README_Sparsity.md; the first later column whose name starts so): a layer's sparsity, which a dense reading
    # would silently drop
    sparse_col = next((i for i in range(ncols, len(head)) if head[i].startswith("sparsity")), None)
    gemms = []
    for lineno, r in rows[1:]:
        where = f"from_scalesim_csv: {src} line {lineno}"
        if len(r) < ncols:
            raise ValueError(f"{where}: expected {ncols} fields ({', '.join(cols)}), got {len(r)}")
        empty = [cols[i] for i in range(ncols) if r[i] == ""]
        if empty:  # a cell left out: reading on would shift every later column into the wrong field
            raise ValueError(f"{where}: the {empty[0]!r} field is empty")
        if not all(_PLAIN_INT.fullmatch(c) for c in r[1:ncols]):
            raise ValueError(f"{where}: sizes must be positive ints (digits only), got {r[1:ncols]}")
        v = [int(c) for c in r[1:ncols]]
        if min(v) < 1:
            raise ValueError(f"{where}: sizes must be positive ints, got {v}")
        if layout == "gemm":
            m, n, k = v
        else:
            ih, iw, fh_, fw, ch, nf, st = v
            if fh_ > ih or fw > iw:
                raise ValueError(f"{where}: filter {fh_}x{fw} larger than the IFMAP {ih}x{iw}")
            m = conv_out(ih, fh_, st, 0, 0, 1) * conv_out(iw, fw, st, 0, 0, 1)
            n, k = nf, fh_ * fw * ch
        sparsity = None
        if sparse_col is not None and len(r) > sparse_col and r[sparse_col] != "":
            text = "".join(r[sparse_col].split())
            nm = re.fullmatch(r"([0-9]+):([0-9]+)", text)
            dense = nm is not None and int(nm[1]) == int(nm[2]) > 0  # N:N keeps every weight
            sparsity = None if dense else text  # anything else is Gemm's to check ("0:4", "5:4", "2:4:8")
        try:
            gemms.append(Gemm(m, n, k, a_format=format, name=r[0], sparsity=sparsity))
        except (ValueError, TypeError) as err:
            raise type(err)(f"{where} (layer {r[0]!r}): {err}") from None
    return make_layer(name or os.path.splitext(src)[0], gemms, {"source": "scalesim", "file": src})


_PLAIN_INT = re.compile(r"[0-9]+")  # int() would also take "+16", "1_000" and " 16"
