"""accel.quantize_model: a PyTorch model whose nn.Linear and nn.Conv2d layers (and Hugging Face's GPT-style
Conv1D, a Linear with its weight stored transposed) run in lowbit's formats.

Three ways to compute each layer, from fast to exact:
- fake-quant (default): operands rounded by numerics.fake_quant (bit-exact to numpy quantize, straight-
  through gradients, torch.compile-able), the matmul itself in the tensor's float dtype;
- accumulator=: the GEMM summed bit for bit as a tensor core with that accumulator does
  (accel.accuracy.quantized_matmul: formats, per-tensor scales, block scales; inference only);
- analog=: the GEMM on analog crossbar tiles (accel.analog_matmul: programming noise, drift, read noise;
  inference only).
"""

import copy
import functools
import warnings

import numpy as np

AnalogSpec = dict  # {"tile": Crossbar, "t_seconds": float, "compensation": None | "global" | "column", "seed": int}


def _torch():
    import torch
    return torch


def _check(weights, activations, accumulator, analog, backward):
    from .design import format_info
    for name, v in (("weights", weights), ("activations", activations)):
        if v is not None:
            if not isinstance(v, str):
                raise TypeError(f"quantize_model: {name} must be a format name or None, got {type(v).__name__}")
            format_info(v)
    if accumulator is not None and analog is not None:
        raise ValueError("quantize_model: give accumulator= (a digital unit) or analog= (crossbar tiles), not both")
    if accumulator is not None:
        import numerics as nx
        nx.get_accumulator(accumulator)  # unknown names raise, listing the presets
        if weights is None or activations is None:
            raise ValueError("quantize_model: accumulator= runs the GEMM in formats: give weights= and activations=")
    if analog is not None:
        from .analog import Crossbar
        if not isinstance(analog, dict) or not set(analog) <= {"tile", "t_seconds", "compensation", "seed"}:
            raise ValueError("quantize_model: analog must be a dict with keys among tile (a Crossbar), t_seconds, "
                             f"compensation, seed; got {analog!r}")
        if "tile" in analog and not isinstance(analog["tile"], Crossbar):
            raise TypeError(f"quantize_model: analog['tile'] must be an accel.Crossbar, got {analog['tile']!r}")
        if "seed" in analog:  # as analog_matmul takes it: an int, a sequence of ints or a Generator
            from .checks import check_seed
            check_seed("quantize_model: analog['seed']", analog["seed"], generator=True, sequence=True)
        # what analog_matmul would refuse at the first forward, refused now and named as passed here
        from .analog.crossbar import check_compensation
        from .analog.devices import check_no_compensation, check_read_time
        from .checks import check_real
        device = analog.get("tile", Crossbar()).device
        t = check_real("quantize_model", "analog['t_seconds']", analog.get("t_seconds", 0.0), lo=0, lo_open=False)
        check_compensation("quantize_model: analog['compensation']", analog.get("compensation"))
        try:
            check_read_time(device, t)
            check_no_compensation(device, analog.get("compensation"))
        except ValueError as err:
            raise ValueError(f"quantize_model: analog: {err}") from None
    if backward not in ("identity", "clipped", "high_precision"):
        raise ValueError(f"quantize_model: backward must be 'identity', 'clipped' or 'high_precision', got "
                         f"{backward!r}")


def _gemm(a: np.ndarray, b: np.ndarray, weights, activations, accumulator, analog) -> np.ndarray:
    """(m, k) @ (k, n) in float64 by the exact engine chosen."""
    if accumulator is not None:
        from .accuracy import quantized_matmul
        return quantized_matmul(a, b, activations, weights, accumulator)
    from .analog import analog_matmul
    if activations is not None:
        import numerics as nx
        a = nx.fake_quant(a, activations)
    if weights is not None:
        import numerics as nx
        b = nx.fake_quant(b, weights)
    return analog_matmul(b.T, a.T, **analog).T


class _QuantMixin:
    def _setup(self, weights, activations, accumulator, analog, backward):
        self.lowbit = {"weights": weights, "activations": activations, "accumulator": accumulator,
                       "analog": analog, "backward": backward}

    def _fq(self, t, fmt, axis=None):
        """t rounded to fmt. Scalar formats of <= 8 bits get a per-tensor scale amax / max (float32), the rule
        of the exact engine's scaling="auto" (accel.accuracy.quantized_matmul); block formats carry their own."""
        import numerics as nx
        if fmt is None:
            return t
        if fmt not in nx.format_names():
            return nx.fake_quant(t, fmt, axis=axis)
        f = nx.get_format(fmt)
        backward = "clipped" if self.lowbit["backward"] == "clipped" else "identity"
        if f.bits > 8:
            return nx.fake_quant(t, fmt, backward=backward)
        amax = t.detach().abs().max().double()
        s = (amax / f.max if amax > 0 else amax.new_tensor(1.0)).float()
        return nx.fake_quant(t / s, fmt, backward=backward) * s

    def _high_precision(self, op, x, xq, wq, y, bias):
        """`y` = op(xq, wq) + bias as computed, with the gradients of backward="high_precision": x through its
        straight-through estimator against the quantised weight, the weight from the unquantised x (torchao's
        grad_weight in high precision; numerics.fake_quant_matmul). t - t.detach() adds exact zeros."""
        dx = op(xq, wq.detach())
        dw = op(x.detach(), wq)
        y = y.detach() + (dx - dx.detach()) + (dw - dw.detach())
        # the zeros in y's dtype: under autocast y is bf16 or fp16 while the bias stays fp32, which would promote
        return y if bias is None else y + (bias - bias.detach()).to(y.dtype)

    def _fq_weight(self, axis):
        """The rounded weight. Outside autograd (torch.no_grad(), inference) it is computed once and reused until
        the weight changes (its version counter, storage, dtype or device): inference pays for it once."""
        torch = _torch()
        fmt = self.lowbit["weights"]
        if fmt is None or torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self._fq(self.weight, fmt, axis)
        w = self.weight
        key = (w._version, w.data_ptr(), w.dtype, w.device, w.shape)
        cached = self.__dict__.get("_lowbit_weight")
        if cached is None or cached[0] != key:
            cached = (key, self._fq(w, fmt, axis).detach())
            self.__dict__["_lowbit_weight"] = cached
        return cached[1]

    @property
    def exact(self) -> bool:
        return self.lowbit["accumulator"] is not None or self.lowbit["analog"] is not None

    def _exact_gemm(self, a, b, group: int | None = None):
        """`group`: a grouped conv's group i, whose tiles are devices of their own (_own_devices)."""
        torch = _torch()
        q = self.lowbit
        analog = q["analog"] if not group or q["analog"] is None else _own_devices(q["analog"], 0, group)
        d = _gemm(a.detach().double().cpu().numpy(), b.detach().double().cpu().numpy(), q["weights"],
                  q["activations"], q["accumulator"], analog)
        out = torch.from_numpy(d).to(a.device)
        if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
            out = _inference_only().apply(out, a, b)  # a backward through it raises, not a silent zero gradient
        return out


@functools.cache
def _inference_only():
    """An autograd identity on the exact modes' GEMM output whose backward raises: the bit-exact and analog
    GEMMs run in numpy, so no gradient would reach the weights or inputs (only the bias would train)."""
    torch = _torch()

    class InferenceOnly(torch.autograd.Function):
        @staticmethod
        def forward(ctx, out, a, b):
            return out

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("quantize_model: the exact modes (accumulator=, analog=) are inference only: their "
                               "GEMM runs outside autograd, so no gradient reaches the weights or inputs; train with "
                               "the fake-quant mode (weights=, activations= alone) and evaluate under torch.no_grad()")

    return InferenceOnly


def _importable(cls):
    """`cls` (made once, by a cached factory: torch is optional) named as an attribute of this module, which
    __getattr__ below makes on demand: so torch.save(model) / pickle of a quantised model loads in a new
    process."""
    cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return cls


def __getattr__(name: str):
    """The quantised layer classes, made on first use (PEP 562), for pickle's lookup of them."""
    if name == "QuantLinear":
        return _make_linear()
    if name == "QuantConv2d":
        return _make_conv()
    if name == "QuantConv1D":
        from transformers.pytorch_utils import Conv1D
        return _make_hf_conv1d(Conv1D)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _make_linear():
    torch = _torch()

    class QuantLinear(_QuantMixin, torch.nn.Linear):
        """nn.Linear whose input and weight are rounded to lowbit formats (block formats along K)."""

        def forward(self, x):
            if self.exact:
                a = x.reshape(-1, self.in_features)
                y = self._exact_gemm(a, self.weight.T).to(x.dtype).reshape(*x.shape[:-1], self.out_features)
                return y if self.bias is None else y + self.bias
            w, xq = self._fq_weight(-1), self._fq(x, self.lowbit["activations"], -1)
            y = torch.nn.functional.linear(xq, w, self.bias)
            if self.lowbit["backward"] != "high_precision" or not torch.is_grad_enabled():
                return y
            return self._high_precision(torch.nn.functional.linear, x, xq, w, y, self.bias)

    return _importable(QuantLinear)


@functools.cache
def _make_conv():
    torch = _torch()
    F = torch.nn.functional

    class QuantConv2d(_QuantMixin, torch.nn.Conv2d):
        """nn.Conv2d whose input and weight are rounded to lowbit formats; exact modes run its im2col GEMM."""

        def forward(self, x):
            if not self.exact:
                # block formats: blocks along the input channels (the GEMM's K, for weights and inputs alike)
                w, xq = self._fq_weight(1), self._fq(x, self.lowbit["activations"], 1)
                y = self._conv_forward(xq, w, self.bias)
                if self.lowbit["backward"] != "high_precision" or not torch.is_grad_enabled():
                    return y
                return self._high_precision(lambda a, b: self._conv_forward(a, b, None), x, xq, w, y,
                                            None if self.bias is None else self.bias[:, None, None])
            err = _padding_error(str(self), self)
            if err:  # changed after quantisation, which checked it
                raise ValueError(err)
            n, _, h, wd = x.shape
            kh, kw = self.kernel_size
            ho = (h + 2 * self.padding[0] - self.dilation[0] * (kh - 1) - 1) // self.stride[0] + 1
            wo = (wd + 2 * self.padding[1] - self.dilation[1] * (kw - 1) - 1) // self.stride[1] + 1
            g, cg, og = self.groups, self.in_channels // self.groups, self.out_channels // self.groups
            outs = []
            for i in range(g):
                cols = F.unfold(x[:, i * cg:(i + 1) * cg], (kh, kw), self.dilation, self.padding, self.stride)
                a = cols.transpose(1, 2).reshape(-1, cols.shape[1])
                b = self.weight[i * og:(i + 1) * og].reshape(og, -1).T
                outs.append(self._exact_gemm(a, b, group=i if g > 1 else None).reshape(n, ho * wo, og))
            y = torch.cat(outs, dim=2).transpose(1, 2).reshape(n, self.out_channels, ho, wo).to(x.dtype)
            return y if self.bias is None else y + self.bias[:, None, None]

    return _importable(QuantConv2d)


def _is_hf_conv1d(mod, quantised: bool = False) -> bool:
    """Hugging Face's Conv1D (transformers.pytorch_utils; GPT and GPT-2): a Linear whose weight is stored as
    (in, out), computed as addmm(bias, x, weight). Known by its class, not imported: transformers is optional.
    `quantised`: a QuantConv1D (a subclass of it) counts too."""
    for t in type(mod).__mro__ if quantised else (type(mod),):
        if t.__name__ == "Conv1D" and t.__module__.split(".")[0] == "transformers":
            return True
    return False


@functools.cache
def _make_hf_conv1d(base):
    """A quantised subclass of `base` (Hugging Face's Conv1D class): the GEMM x (.., nx) @ weight (nx, nf) +
    bias in formats, as QuantLinear computes it with the weight's K along its first axis (block formats
    along K); the subclass keeps isinstance(layer, Conv1D) true for code that looks for it."""
    torch = _torch()

    class QuantConv1D(_QuantMixin, base):
        """Hugging Face Conv1D whose input and weight are rounded to lowbit formats (block formats along K)."""

        def forward(self, x):
            nx, nf = self.weight.shape
            a = x.reshape(-1, nx)
            if self.exact:
                y = self._exact_gemm(a, self.weight).to(x.dtype)
                y = y if self.bias is None else y + self.bias
            else:  # addmm, as Conv1D itself computes (and nn.Linear on 2-D inputs): the same sums, dtype, autocast
                w, aq = self._fq_weight(0), self._fq(a, self.lowbit["activations"], -1)
                y = aq @ w if self.bias is None else torch.addmm(self.bias, aq, w)
                if self.lowbit["backward"] == "high_precision" and torch.is_grad_enabled():
                    y = self._high_precision(torch.matmul, a, aq, w, y, self.bias)
            return y.reshape(*x.shape[:-1], nf)

    return _importable(QuantConv1D)


def _swappable(mod, torch):
    """The quantised class `mod` becomes, or None: plain nn.Linear and nn.Conv2d, Hugging Face's Conv1D."""
    if type(mod) is torch.nn.Linear:
        return _make_linear()
    if type(mod) is torch.nn.Conv2d:
        return _make_conv()
    return _make_hf_conv1d(type(mod)) if _is_hf_conv1d(mod) else None


def _layer_analog(analog, i: int):
    """Layer i's analog settings: its own devices, seeded `seed` (layer 0) or [seed, i] ([*seed, i] for a
    sequence), so that layers of one tile shape do not draw the same programming and read noise."""
    return None if analog is None else _own_devices(analog, *((i,) if i else ()))


def _own_devices(analog: dict, *tail: int) -> dict:
    """A copy of `analog` (a later change to the caller's dict reaches no layer) whose seed is extended by
    `tail`: devices of their own (a layer: [seed, i]; a grouped conv's group g > 0: [*layer seed, 0, g], the 0
    keeping groups apart from layers). A numpy Generator is shared, each user drawing on from the last."""
    seed = analog.get("seed", 0)
    if not tail or isinstance(seed, np.random.Generator):
        return dict(analog)
    return {**analog, "seed": [*(seed if isinstance(seed, list | tuple) else [int(seed)]), *tail]}


# Words (of a parameter's name split at "_" and ".") that say a parameter of two or more dimensions is added,
# looked up or applied elementwise rather than multiplied: tokens, position and bias tables, latents, scales, a
# state-space layer's log-decays (as torch's and Hugging Face's layers spell them). A name that also holds a word of
# _GEMM is not let through by them ("prompts_visual_projection", "pos_proj", "logit_weight"), unless it is a bias.
_ADDITIVE = frozenset(("token", "tokens", "pos", "position", "positions", "embed", "embeds", "embedding",
                       "embeddings", "emb", "bias", "biases", "table", "cls", "latent", "latents", "probe", "mask",
                       "scale", "scales", "gamma", "beta", "prompt", "prompts", "codebook", "log"))
_GEMM = frozenset(("proj", "projection", "weight", "weights", "kernel", "linear", "dense", "fc"))


def _additive(name: str, shape) -> bool:
    """Whether a parameter of 2+ dimensions named `name` computes no GEMM: broadcast-shaped (at most one
    dimension above 1: RWKV's (1, 1, C) mixes, ConvNeXt V2's GRN, a cls_token), or named by _ADDITIVE's words and
    none of _GEMM's."""
    if sum(d > 1 for d in shape) <= 1:
        return True
    words = set(name.lower().replace(".", "_").split("_"))
    return bool(words & {"bias", "biases"}) or bool(words & _ADDITIVE) and not words & _GEMM  # a bias is added


def _unreachable(model, torch) -> list[tuple[str, str]]:
    """GEMM layers quantize_model cannot reach, as (what is wrong, what strict=False leaves): attention and
    transformer layers (their forward reads the projections' weights directly, and PyTorch's fused fast path
    skips the submodules' forward under no_grad), subclasses of nn.Linear / nn.Conv2d (their own forward would be
    replaced), the other convolutions, recurrent layers, layers quantised already, and any other module that
    owns a parameter of two or more dimensions (its forward computes with it, and would in float: stacked MoE
    experts, XLNet's q/k/v, a custom layer's weight) unless it is an embedding, a normalisation layer, or the
    parameter is broadcast-shaped or named as added or looked up (_additive). A module that computes with
    another module's parameter, or with a tensor that is no parameter, cannot be seen."""
    nn = torch.nn
    fused = (nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)
    other = (nn.Conv1d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.RNNBase,
             nn.RNNCellBase, nn.Bilinear)
    lookups = (nn.Embedding, nn.EmbeddingBag, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm,
               nn.modules.batchnorm._NormBase, *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()))
    inside = set()  # modules inside a fused or refused layer: named by that layer, not again
    found = []
    in_float = "left in float"
    for name, mod in model.named_modules():
        where = _where(name)
        if any(p == "" or name.startswith(f"{p}.") for p in inside):
            continue
        if isinstance(mod, fused + other):
            inside.add(name)
        if isinstance(mod, _QuantMixin):
            found.append((f"{where} is a {type(mod).__name__}, a layer quantised already: quantise the original "
                          f"model", "left with the settings it was quantised with"))
        elif isinstance(mod, fused):
            found.append((f"{where} is a {type(mod).__name__}, whose forward reads its projection weights directly "
                          f"(and PyTorch's fused path skips its submodules under no_grad), so it would run in float; "
                          f"write the attention with nn.Linear layers, or price its GEMMs with accel.simulate_model",
                          in_float))
        elif isinstance(mod, nn.Linear | nn.Conv2d) and type(mod) not in (nn.Linear, nn.Conv2d):
            base = "nn.Linear" if isinstance(mod, nn.Linear) else "nn.Conv2d"
            found.append((f"{where} is a {type(mod).__name__}, a subclass of {base}: replacing its forward would "
                          f"drop its own; quantize_model swaps plain nn.Linear and nn.Conv2d layers", in_float))
        elif isinstance(mod, other):
            found.append((f"{where} is a {type(mod).__name__}, which quantize_model does not swap (it runs nn.Linear, "
                          f"nn.Conv2d and Hugging Face's Conv1D in formats or on tiles), so it would stay in float",
                          in_float))
        elif _swappable(mod, torch) is None and not isinstance(mod, lookups + (nn.Linear, nn.Conv2d)) \
                and not type(mod).__name__.endswith("Norm"):
            # a ParameterList's entries are named 0, 1, ...: what they are is in its owner's name (Reformer's
            # position_embeddings.weights)
            held = name.split(".")[-2] + "." if isinstance(mod, nn.ParameterList | nn.ParameterDict) and "." in name \
                else ""
            params = [(k, p) for k, p in mod.named_parameters(recurse=False)
                      if p.dim() >= 2 and not _additive(held + k, p.shape)]
            if params:
                owned = [k for k, _ in params]
                experts = " (stacked experts: one nn.Linear per expert)" if any(p.dim() >= 3 for _, p in params) else ""
                found.append((f"{where} is a {type(mod).__name__} that owns parameter(s) {owned} of two or more "
                              f"dimensions: its forward computes with them in float, which quantize_model cannot "
                              f"reach (it swaps nn.Linear, nn.Conv2d and Hugging Face's Conv1D); write its GEMMs "
                              f"with nn.Linear{experts}", in_float))
    return found


def _where(name: str) -> str:
    return f"layer {name!r}" if name else "the model"


def _padding_error(where: str, mod):
    """A Conv2d the exact modes cannot run (its im2col needs numeric zero padding), or None."""
    if isinstance(mod.padding, str):
        return (f"quantize_model: the exact modes need numeric zero padding on Conv2d; {where} has padding="
                f"{mod.padding!r}: give it as numbers (padding='same' at stride 1 is (kernel - 1) // 2, odd kernels)")
    if mod.padding_mode != "zeros":
        return (f"quantize_model: the exact modes need zero padding on Conv2d; {where} has padding_mode="
                f"{mod.padding_mode!r}: use padding_mode='zeros'")
    return None


def _check_fits(model, torch, tile) -> None:
    """ValueError when the swapped layers' weights need more tiles than the macro `tile` has cores (weights
    stay resident, as simulate and simulate_model require)."""
    from .analog.cost import check_resident
    mats = []
    for name, mod in model.named_modules():
        if type(mod) is torch.nn.Linear:
            mats.append((name or "model", 1, mod.in_features, mod.out_features))
        elif type(mod) is torch.nn.Conv2d:
            k = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            mats.append((name or "model", mod.groups, k, mod.out_channels // mod.groups))
        elif _is_hf_conv1d(mod):
            mats.append((name or "model", 1, *mod.weight.shape))
    try:
        check_resident(tile, mats, "analog['tile']")
    except ValueError as err:
        raise ValueError(f"quantize_model: {str(err).replace('the design has', 'the tile has')}; raise "
                         f"analog['tile'].cores for an accuracy study of a larger model") from None


def quantize_model(model, weights: str | None = None, activations: str | None = None, accumulator: str | None = None,
                   analog: AnalogSpec | None = None, backward: str = "identity", inplace: bool = False,
                   strict: bool = True):
    """`model` (a torch.nn.Module) with every nn.Linear and nn.Conv2d (and Hugging Face's Conv1D: GPT, GPT-2)
    replaced by a layer that rounds its
    weights to `weights` and its inputs to `activations` (scalar or block format names; None: keep), and
    computes the GEMM by fake-quant (default; `backward`: "identity", "clipped" or "high_precision", as
    numerics.fake_quant_matmul), by the bit-exact `accumulator` (a numerics accumulator
    preset, e.g. "nv_hopper_fp8"), or on analog crossbar tiles (`analog`: {"tile": Crossbar,
    "t_seconds": ..., "compensation": ..., "seed": ...}; each layer on devices of its own: the first
    seeded `seed`, layer i [seed, i]). Returns a copy unless inplace=True; the layers' settings are in
    `layer.lowbit`. GEMM layers it cannot reach (attention and transformer layers, subclasses of nn.Linear or
    nn.Conv2d, other convolutions, recurrent layers, any other module owning a weight of two or more
    dimensions) raise ValueError; `strict=False` warns and leaves them in float. With a
    component macro (a preset's unit) as analog["tile"], the swapped layers must fit its cores at once."""
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"quantize_model: model must be a torch.nn.Module, got {type(model).__name__}")
    _check(weights, activations, accumulator, analog, backward)
    if not isinstance(inplace, bool):
        raise TypeError(f"quantize_model: inplace must be a bool, got {inplace!r}")
    if not isinstance(strict, bool):
        raise TypeError(f"quantize_model: strict must be a bool, got {strict!r}")
    for problem, left in _unreachable(model, torch):
        if strict:
            raise ValueError(f"quantize_model: {problem} (strict=False: warn, and it is {left})")
        warnings.warn(f"quantize_model: {problem}; {left} (strict=False)", stacklevel=2)
    if accumulator is not None or analog is not None:  # the exact modes run a conv's im2col GEMM
        for name, mod in model.named_modules():
            err = _padding_error(_where(name), mod) if type(mod) is torch.nn.Conv2d else None
            if err:
                raise ValueError(err)
    tile = None if analog is None else analog.get("tile")
    if tile is not None and tile.periphery != "walden":  # a component macro is a chip: its cores hold the model
        _check_fits(model, torch, tile)
    model = model if inplace else copy.deepcopy(model)
    swapped = 0
    for mod in model.modules():
        qcls = _swappable(mod, torch)
        if qcls is not None:
            mod.__class__ = qcls  # same parameters and buffers; only forward changes
            mod._setup(weights, activations, accumulator, _layer_analog(analog, swapped), backward)
            swapped += 1
    if not swapped:
        raise ValueError("quantize_model: the model has no nn.Linear, nn.Conv2d or Hugging Face Conv1D layer to "
                         "quantise")
    return model


def _linear_weight(mod):
    """A Linear-like layer's weight as (out, in): nn.Linear's own, a Hugging Face Conv1D's (in, out) transposed
    (a view: writing it writes the layer's weight)."""
    return mod.weight.T if _is_hf_conv1d(mod, quantised=True) else mod.weight


def layer_hessians(model, calibration_inputs) -> dict:
    """{name: X^T X} of each nn.Linear's (or quantised Linear's) and Hugging Face Conv1D's inputs over
    `calibration_inputs` (a tensor or a tuple), the GPTQ-style proxy numerics.compress takes as hessian=."""
    torch = _torch()
    if isinstance(calibration_inputs, torch.Tensor):
        calibration_inputs = (calibration_inputs,)
    hs, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear) or _is_hf_conv1d(mod, quantised=True):
            def hook(m, inp, out, name=name):
                x = inp[0].detach().double().reshape(-1, _linear_weight(m).shape[1])
                hs[name] = hs.get(name, 0) + (x.T @ x).numpy()
            hooks.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(*calibration_inputs)
    finally:
        for h in hooks:
            h.remove()
    return hs


def compress_model(model, method: str, calibration_inputs=None, inplace: bool = False, **kw):
    """Every nn.Linear's (and Hugging Face Conv1D's) weight replaced by its numerics.compress(method, ...)
    reconstruction, with GPTQ-style Hessians from `calibration_inputs` when given; returns (model, {layer name:
    bits_per_weight})."""
    import numerics as nx
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"compress_model: model must be a torch.nn.Module, got {type(model).__name__}")
    model = model if inplace else copy.deepcopy(model)
    hs = layer_hessians(model, calibration_inputs) if calibration_inputs is not None else {}
    bits = {}
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear) or _is_hf_conv1d(mod, quantised=True):
            w = _linear_weight(mod)  # (out, in), as numerics.compress and the Hessian take it
            cw = nx.compress(w.detach().double().numpy(), method=method, hessian=hs.get(name), **kw)
            with torch.no_grad():
                w.copy_(torch.from_numpy(cw.decode()).to(w.dtype))
            bits[name] = cw.bits_per_weight
    if not bits:
        raise ValueError("compress_model: the model has no nn.Linear or Hugging Face Conv1D layer to compress")
    return model, bits


def quantize_jax(apply_fn, weights: str | None = None, activations: str | None = None, backward: str = "identity",
                 weight_axis: int = -2):
    """The JAX counterpart of quantize_model for a model written as a function `apply_fn(params, *inputs)`
    over a params pytree (no flax/equinox module to swap): returns `apply_q(params, *inputs)`, which rounds
    every weight (params leaves of two or more dimensions; biases and norms stay) to `weights` and every input
    array to `activations` with numerics.fake_quant, then calls apply_fn. Scalar formats of <= 8 bits get a
    per-tensor amax scale as in quantize_model (computed in the array's dtype); block formats run along
    `weight_axis` (-2: K of a kernel used as x @ W) and the inputs' last axis. Gradients reach the params
    straight through ("identity" or "clipped"); works under jax.jit and jax.grad. Activations inside the
    model are not reached: a function has no layers to intercept (round them in the model with
    nx.fake_quant, or use numerics.fake_quant_matmul for the GEMMs and its "high_precision" backward)."""
    if not callable(apply_fn):
        raise TypeError(f"quantize_jax: apply_fn must be a function apply_fn(params, *inputs), got "
                        f"{type(apply_fn).__name__}")
    _check(weights, activations, None, None, backward)
    if backward == "high_precision":
        raise ValueError("quantize_jax: backward='high_precision' is a property of the GEMM's backward; a params "
                         "wrapper sees no GEMM. Use numerics.fake_quant_matmul(..., backward='high_precision') in "
                         "the model, or 'identity' / 'clipped' here")
    if isinstance(weight_axis, bool) or not isinstance(weight_axis, int):
        raise TypeError(f"quantize_jax: weight_axis must be an int, got {weight_axis!r}")
    import jax
    import jax.numpy as jnp

    import numerics as nx

    def quant(t, fmt, axis):
        if fmt is None or not hasattr(t, "dtype") or not jnp.issubdtype(t.dtype, jnp.floating):
            return t
        if fmt not in nx.format_names():
            return nx.fake_quant(t, fmt, axis=axis)
        f = nx.get_format(fmt)
        if f.bits > 8:
            return nx.fake_quant(t, fmt, backward=backward)
        amax = jax.lax.stop_gradient(jnp.max(jnp.abs(t)))
        s = jnp.where(amax > 0, amax / f.max, 1.0).astype(t.dtype)
        return nx.fake_quant(t / s, fmt, backward=backward) * s

    def apply_q(params, *inputs, **kwargs):
        qp = jax.tree_util.tree_map(lambda p: quant(p, weights, weight_axis) if jnp.ndim(p) >= 2 else p, params)
        qi = [quant(x, activations, -1) if jnp.ndim(x) >= 1 else x for x in inputs]
        return apply_fn(qp, *qi, **kwargs)

    return apply_q
