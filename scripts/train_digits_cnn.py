"""Train the digits CNN (accel/digits_cnn.py) and vendor its float32 weights in accel/data/digits_cnn.npz."""

import pathlib

import numpy as np
import torch

from accel.digits_cnn import accuracy, train_cnn

if __name__ == "__main__":
    torch.set_num_threads(1)  # one thread: the same weights on every machine's CPU build
    model = train_cnn()
    out = pathlib.Path(__file__).resolve().parents[1] / "accel" / "data" / "digits_cnn.npz"
    np.savez_compressed(out, **{k.replace(".", "__"): v.detach().numpy() for k, v in model.state_dict().items()})
    print(f"wrote {out}: test top-1 {accuracy(model):.3f}")
