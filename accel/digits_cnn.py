"""A small CNN on the digits data (accel/digits.py's split): the real network of the bring-your-own-model
examples. Conv 1->8 (3x3, pad 1), ReLU, Conv 8->16 (3x3, stride 2, pad 1), ReLU, Linear 256->10. Trained
with PyTorch (Adam, 30 epochs, a few seconds on one core) by `python scripts/train_digits_cnn.py`; the
float32 weights are vendored in accel/data/digits_cnn.npz. Needs the optional torch extra."""

import numpy as np

from .digits import _data_path, split


def build_cnn():
    """The untrained architecture (a torch.nn.Sequential)."""
    import torch
    nn = torch.nn
    return nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 10))


def train_cnn(epochs: int = 30, lr: float = 0.01, batch: int = 64, seed: int = 0):
    """Train the CNN on the 1297 training images; deterministic for a seed on one thread."""
    import torch
    torch.manual_seed(seed)
    model = build_cnn()
    xtr, ytr, _, _ = split()
    x, y = torch.tensor(xtr, dtype=torch.float32), torch.tensor(ytr)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def load_cnn():
    """The CNN with its vendored trained weights, in eval mode."""
    import torch
    model = build_cnn()
    with _data_path("digits_cnn.npz").open("rb") as fh, np.load(fh) as z:
        model.load_state_dict({k.replace("__", "."): torch.from_numpy(z[k]) for k in z.files})
    return model.eval()


def accuracy(model, x: np.ndarray | None = None, y: np.ndarray | None = None) -> float:
    """Top-1 accuracy of `model` on the 500 test images (or on x, y)."""
    import torch
    if x is None:
        _, _, x, y = split()
    with torch.no_grad():
        pred = model(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()
    return float((pred == y).mean())
