"""Networks: a chain of dense layers run end to end (the digits MLP), or a list of independent GEMMs (a
transformer block's)."""

from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .checks import check_int, check_seed, check_str, real_array
from .checks import replace as _replace
from .workloads import SCALINGS, Gemm, check_analog_fields, check_formats, parse_sparsity

# the fields a Network applies to every Gemm layer (Network.gemms), and the Gemm's defaults of them
_NETWORK_FIELDS = ("a_format", "b_format", "sparsity", "scaling", "t_seconds", "compensation")
_GEMM_DEFAULTS = {f: Gemm.__dataclass_fields__[f].default for f in _NETWORK_FIELDS}


@dataclass(frozen=True)
class Dense:
    """y = activation(x @ weight + bias); weight is (in, out)."""

    weight: np.ndarray = field(repr=False, compare=False)
    bias: np.ndarray = field(repr=False, compare=False)
    activation: str | None = "relu"

    def __post_init__(self) -> None:
        w, b = real_array("Dense.weight", self.weight), real_array("Dense.bias", self.bias)
        if w.ndim != 2 or 0 in w.shape or b.shape != (w.shape[1],):
            raise ValueError(f"Dense needs weight (in, out) and bias (out,), got {w.shape} and {b.shape}")
        if not (self.activation is None or (isinstance(self.activation, str) and self.activation == "relu")):
            raise ValueError(f"Dense.activation must be None or 'relu', got {self.activation!r}")

    def activate(self, y: np.ndarray) -> np.ndarray:
        """activation(y + bias) in float64: the layer's output from its product y = x @ weight."""
        y = y + np.asarray(self.bias, np.float64)
        return np.maximum(y, 0.0) if self.activation == "relu" else y


@dataclass(frozen=True)
class Network:
    """A named workload of several GEMMs. `layers`: Dense layers run as a chain on `inputs` (accuracy:
    top-1 against `labels` and against the float64 model), or Gemm objects (accuracy: the worst of
    their errors). `a_format`/`b_format`/`sparsity`/`scaling` apply to every layer (sweepable fields),
    except that GEMMs named in `dense_layers` stay dense.

    Analog devices (crossbar designs): `seed` seeds the device draws (programming noise, drift, read
    noise, faults; the operands keep their own seeds) and `draws` repeats the whole device draw that many
    times with seeds derived from `seed`; with draws > 1 the accuracy dict holds the mean of each metric
    over the draws with its 95 % confidence interval (Student t, `<metric>_ci95_lo` / `_ci95_hi`) and the
    sample standard deviation (`<metric>_std`), see accel.analog.run.summarise_draws. Digital units are
    deterministic: there every draw is the same. `inferences`: how many inferences one run of a network of
    Gemm layers is (a Dense chain: its batch of inputs), for the report's energy_per_inference_j."""

    name: str
    layers: tuple = field(compare=False)
    inputs: np.ndarray | None = field(default=None, repr=False, compare=False)
    labels: np.ndarray | None = field(default=None, repr=False, compare=False)
    a_format: str = "fp16"
    b_format: str | None = None
    sparsity: str | None = None
    scaling: str = "auto"
    dense_layers: tuple = ()
    t_seconds: float = 0.0
    compensation: str | None = None
    seed: int = 0
    draws: int = 1
    inferences: int = 1

    def __post_init__(self) -> None:
        check_str("Network", "name", self.name)
        object.__setattr__(self, "seed", check_seed("Network.seed", self.seed))
        object.__setattr__(self, "draws", check_int("Network", "draws", self.draws, hi=10_000))
        object.__setattr__(self, "inferences", check_int("Network", "inferences", self.inferences))
        if isinstance(self.layers, list):
            object.__setattr__(self, "layers", tuple(self.layers))
        if not isinstance(self.layers, tuple) or not self.layers:
            raise ValueError("Network.layers must be a non-empty tuple of Dense or Gemm")
        kinds = {type(layer) for layer in self.layers}
        if kinds not in ({Dense}, {Gemm}):
            raise ValueError("Network.layers must be all Dense (a chain) or all Gemm")
        check_formats(self, ("a_format", "b_format"))
        try:
            parse_sparsity(self.sparsity)
        except (ValueError, TypeError) as err:
            raise type(err)(f"Network.{err}") from None
        check_str("Network", "scaling", self.scaling, SCALINGS)
        if isinstance(self.dense_layers, list):
            object.__setattr__(self, "dense_layers", tuple(self.dense_layers))
        if not isinstance(self.dense_layers, tuple) or not all(isinstance(n, str) for n in self.dense_layers):
            raise TypeError(f"Network.dense_layers must be a tuple of layer names, got {self.dense_layers!r}")
        check_analog_fields(self)
        if kinds == {Gemm}:
            # the network's fields replace each layer's (gemms()): never silently. A layer's value equal to the
            # network's is the network's, and follows it (replace, sweeps); another one raises
            layers = []
            for g in self.layers:
                own = {}
                for f in _NETWORK_FIELDS:
                    v = getattr(g, f)
                    if v == _GEMM_DEFAULTS[f]:
                        continue
                    if v != getattr(self, f) and not (f == "b_format" and v == self.b_fmt):
                        hint = " (dense_layers keeps named layers dense)" if f == "sparsity" else ""
                        raise ValueError(f"Network {self.name!r}: layer {g.name!r} has {f}={v!r}, but the network "
                                         f"applies its own {f} ({getattr(self, f)!r}) to every layer; leave {f} at "
                                         f"its default ({_GEMM_DEFAULTS[f]!r}) on the layers and set it on the "
                                         f"Network{hint}")
                    own[f] = _GEMM_DEFAULTS[f]
                layers.append(g.replace(**own) if own else g)
            object.__setattr__(self, "layers", tuple(layers))
            unknown = set(self.dense_layers) - {g.name for g in self.layers}
            if unknown:  # a misspelt name would silently leave that GEMM sparse
                raise ValueError(f"Network.dense_layers names {sorted(unknown)}, which are not layers; the GEMMs are "
                                 f"{[g.name for g in self.layers]}")
        if kinds == {Dense}:
            if self.inputs is None:
                raise ValueError("a Dense chain needs inputs")
            x = real_array("Network.inputs", self.inputs)
            if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != self.layers[0].weight.shape[0]:
                raise ValueError(f"Network.inputs must be (batch, {self.layers[0].weight.shape[0]}), got {x.shape}")
            for a, b in zip(self.layers, self.layers[1:]):
                if a.weight.shape[1] != b.weight.shape[0]:
                    raise ValueError("consecutive Dense layers must chain: out of one = in of the next")
            if self.inferences != 1 and self.inferences != x.shape[0]:
                raise ValueError(f"Network.inferences of a Dense chain is its batch of inputs ({x.shape[0]}), got "
                                 f"{self.inferences}")
            object.__setattr__(self, "inferences", x.shape[0])
            if self.labels is not None:
                y = np.asarray(self.labels)
                if y.dtype.kind not in "iu" or y.shape != (x.shape[0],):
                    raise ValueError(f"Network.labels must be an int array of shape ({x.shape[0]},), got dtype "
                                     f"{y.dtype} shape {y.shape}")
        elif self.inputs is not None or self.labels is not None:
            raise ValueError("Network.inputs and labels belong to a Dense chain; a network of Gemm layers ignores "
                             "them (give the operands to each Gemm as a=, b=)")

    @property
    def b_fmt(self) -> str:
        return self.a_format if self.b_format is None else self.b_format

    @property
    def is_chain(self) -> bool:
        return isinstance(self.layers[0], Dense)

    def replace(self, **changes) -> "Network":
        return _replace(self, changes)

    def gemms(self, operands: bool = False) -> list[Gemm]:
        """The GEMMs the hardware runs, with this network's formats. A Dense chain's GEMMs carry their
        weights, and with `operands=True` their float64 inputs too (`inputs`, then each layer's float
        activations: a forward pass), for costs that follow the data (a crossbar's pulse activity)."""
        fmt = {"a_format": self.a_format, "b_format": self.b_fmt, "sparsity": self.sparsity,
               "scaling": self.scaling, "t_seconds": self.t_seconds, "compensation": self.compensation}
        if not self.is_chain:
            return [g.replace(**{**fmt, "sparsity": None if g.name in self.dense_layers else self.sparsity})
                    for g in self.layers]
        batch = len(self.inputs)
        x = np.asarray(self.inputs, np.float64)
        out = []
        for i, layer in enumerate(self.layers):
            w = np.asarray(layer.weight, np.float64)
            out.append(Gemm(batch, w.shape[1], w.shape[0], a=x if operands else None, b=w, name=f"{self.name}.{i}",
                            **fmt))
            if operands and i + 1 < len(self.layers):
                x = layer.activate(x @ w)
        return out

    def describe(self) -> dict:
        return {"workload": self.name, "a_format": self.a_format, "b_format": self.b_fmt,
                "sparsity": self.sparsity, "t_seconds": self.t_seconds, "compensation": self.compensation,
                "seed": self.seed, "draws": self.draws, "inferences": self.inferences}


def digits_mlp(a_format: str = "int8", b_format: str | None = None, sparsity: str | None = None) -> Network:
    """The trained digits MLP (64-64-10) on the 500 held-out test images."""
    from .digits import load_mlp, split
    w = load_mlp()
    _, _, xte, yte = split()
    return Network("digits-mlp", (Dense(w["w1"], w["b1"], "relu"), Dense(w["w2"], w["b2"], None)),
                   inputs=xte, labels=yte, a_format=a_format, b_format=b_format, sparsity=sparsity)


def _minilm(name: str) -> np.ndarray:
    with (resources.files("numerics") / "data" / "minilm" / name).open("rb") as fh:
        return np.load(fh)


def transformer_block(seq: int = 128, batch: int = 1, d_model: int = 384, heads: int = 12, d_ff: int = 1536,
                      a_format: str = "fp16", b_format: str | None = None, sparsity: str | None = None,
                      seed: int = 0) -> Network:
    """The GEMMs of one encoder block (QKV projections, attention scores and values per head, output
    projection, the two FFN GEMMs) at all-MiniLM-L6-v2's shapes by default. With MiniLM's shapes the
    query projection and the second FFN GEMM use MiniLM's real weights (numerics/data/minilm); the other
    weights and all activations are seeded unit Gaussians (the error metrics are relative). The attention
    GEMMs (activation x activation) stay dense under 2:4 sparsity."""
    seq, batch, d_model, heads, d_ff = (check_int("transformer_block", f, v) for f, v in
                                        (("seq", seq), ("batch", batch), ("d_model", d_model), ("heads", heads),
                                         ("d_ff", d_ff)))
    seed = check_seed("transformer_block.seed", seed)
    t, dh = seq * batch, d_model // heads
    if d_model % heads:
        raise ValueError(f"d_model ({d_model}) must be a multiple of heads ({heads})")
    real = (d_model, d_ff) == (384, 1536)
    wq = _minilm("layer5_attention_query.npy").T.astype(np.float64) if real else None
    wff2 = _minilm("layer0_output_dense.npy").T.astype(np.float64) if real else None
    g = [Gemm(t, d_model, d_model, b=wq, seed=seed, name="q_proj"),
         Gemm(t, 2 * d_model, d_model, seed=seed + 1, name="kv_proj"),
         Gemm(seq, seq, dh, count=batch * heads, seed=seed + 2, name="scores"),
         Gemm(seq, dh, seq, count=batch * heads, seed=seed + 3, name="attn_v"),
         Gemm(t, d_model, d_model, seed=seed + 4, name="out_proj"),
         Gemm(t, d_ff, d_model, seed=seed + 5, name="ffn1"),
         Gemm(t, d_model, d_ff, b=wff2, seed=seed + 6, name="ffn2")]
    return Network(f"transformer-{d_model}x{seq}", tuple(g), a_format=a_format, b_format=b_format,
                   sparsity=sparsity, dense_layers=("scores", "attn_v"), inferences=batch)


def linear_training(m: int, k: int, n: int, a_format: str = "fp16", sparsity: str | None = None) -> Network:
    """The three GEMMs of one training step of a linear layer y = x W^T (x: m x k, W: n x k): forward
    (m x n, reduce k), input gradient dY W (m x k, reduce n) and weight gradient dY^T x (n x k, reduce m).
    With 2:4 sparsity the first two use the pruned W (pruned along k, and its transposable mask along
    n), the weight gradient stays dense: the set-up of torchao's semi-structured training benchmark."""
    g = (Gemm(m, n, k, name="forward"), Gemm(m, k, n, name="grad_input"), Gemm(n, k, m, name="grad_weight"))
    return Network(f"linear-train-{m}x{k}x{n}", g, a_format=a_format, sparsity=sparsity,
                   dense_layers=("grad_weight",))
