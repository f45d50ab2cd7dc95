"""Regenerate accel/data/digits_mlp.npz: the digits MLP trained with numpy (deterministic).

    python scripts/train_digits_mlp.py
"""

from pathlib import Path

import numpy as np

from accel.digits import float_predict, split, train_mlp

if __name__ == "__main__":
    w = train_mlp()
    out = Path(__file__).resolve().parents[1] / "accel" / "data" / "digits_mlp.npz"
    np.savez(out, **w)
    _, _, xte, yte = split()
    acc = float((float_predict(w, xte).argmax(1) == yte).mean())
    print(f"wrote {out} ({out.stat().st_size} bytes); float64 test top-1 {acc:.4f}")
