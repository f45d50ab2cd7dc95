"""Run CACTI 7 over a grid of plain SRAM scratchpads and write the table accel.memory_model fits
(accel/data/cacti/sram.csv; accel/data/cacti/README.md gives the commit, build and licence).

    python scripts/cacti_sram_table.py /path/to/cacti [--out accel/data/cacti/sram.csv]

The binary runs in its own directory (CACTI reads tech_params/ relative to the working directory). Each
configuration is accel/data/cacti/sram_template.cfg with the capacity, the word (block size and bus width)
and the node filled in: one bank, one read/write port, no tag array. A configuration for which CACTI finds
no organisation (too few rows for the word, e.g. 1 KB of 128-byte words) is left out of the table and
named on stderr.
"""

import argparse
import csv
import os
import string
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "accel" / "data" / "cacti" / "sram_template.cfg"
NODES_NM = (22, 32, 45, 65, 90)                       # every node CACTI 7's tech_params/ enables
CAPACITIES = tuple(1 << p for p in range(10, 26))      # 1 KiB .. 32 MiB
WORD_BITS = (8, 16, 32, 64, 128, 256, 512, 1024)
FIELDS = ("node_nm", "capacity_bytes", "word_bits", "read_nj", "write_nj", "leakage_mw", "area_mm2",
          "access_ns", "cycle_ns")
# columns of CACTI's "<infile>.out" CSV line (io.cc output_data_csv)
_CSV = {"access_ns": "Access time (ns)", "cycle_ns": "Random cycle time (ns)",
        "read_nj": "Dynamic read energy (nJ)", "write_nj": "Dynamic write energy (nJ)",
        "leakage_mw": "Standby leakage per bank(mW)", "area_mm2": "Area (mm2)"}


def run_one(cacti: Path, node_nm: int, capacity: int, word_bits: int, tmp: Path) -> dict | None:
    """CACTI's figures for one scratchpad, or None when it finds no organisation."""
    cfg = tmp / f"sram_{node_nm}_{capacity}_{word_bits}.cfg"
    cfg.write_text(string.Template(TEMPLATE.read_text()).substitute(
        size_bytes=capacity, word_bytes=word_bits // 8, word_bits=word_bits, node_um=f"{node_nm / 1000:.3f}"))
    out = Path(str(cfg) + ".out")
    proc = subprocess.run([str(cacti), "-infile", str(cfg)], cwd=cacti.parent, capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        reason = next((ln for ln in proc.stdout.splitlines() if "ERROR" in ln), f"exit {proc.returncode}")
        print(f"no result: {node_nm} nm, {capacity} B, {word_bits} b: {reason.strip()}", file=sys.stderr)
        return None
    with out.open() as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f)]
    head, last = rows[0], rows[-1]
    got = {k: float(last[head.index(col)]) for k, col in _CSV.items()}
    # CACTI echoes the node, capacity and output width: check it ran what was asked
    assert (int(last[0]), int(last[1]), int(last[4])) == (node_nm, capacity, word_bits), last[:5]
    return {"node_nm": node_nm, "capacity_bytes": capacity, "word_bits": word_bits, **got}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cacti", type=Path, help="the CACTI 7 binary (built from HewlettPackard/cacti)")
    p.add_argument("--out", type=Path, default=ROOT / "accel" / "data" / "cacti" / "sram.csv")
    args = p.parse_args(argv)
    cacti = args.cacti.resolve()
    if not os.access(cacti, os.X_OK):
        p.error(f"{cacti} is not an executable")
    if not (cacti.parent / "tech_params").is_dir():
        p.error(f"{cacti.parent} has no tech_params/: give the binary inside CACTI's source tree")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for node in NODES_NM:
            for cap in CAPACITIES:
                for wb in WORD_BITS:
                    r = run_one(cacti, node, cap, wb, Path(tmp))
                    if r is not None:
                        rows.append(r)
            print(f"{node} nm done, {len(rows)} rows", file=sys.stderr)
    with args.out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in FIELDS})
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
