"""accel.from_torch: a PyTorch module -> a Layer of GEMMs and element-wise ops, via torch.export."""

import math
import warnings

import numpy as np

from .lower import (
    MAX_OPERAND,
    adaptive_window,
    attention_ops,
    conv_gemm,
    elementwise,
    fold_batch_norm,
    gather_op,
    make_layer,
    matmul_gemm,
    pool_op,
    unsupported_error,
)

# ATen ops that only move or relabel data (their cost is in the ops around them)
LAYOUT = {"view", "reshape", "_unsafe_view", "flatten", "unflatten", "permute", "transpose", "t", "contiguous",
          "unsqueeze", "squeeze", "expand", "expand_as", "view_as", "clone", "dropout", "detach", "alias", "slice",
          "select", "split", "split_with_sizes", "chunk", "unbind", "cat", "sym_size", "_assert_tensor_metadata",
          "lift_fresh_copy", "to", "_to_copy", "getitem", "identity", "feature_dropout", "_assert_scalar"}
ELEMENTWISE = {"relu": "relu", "relu_": "relu", "gelu": "gelu", "silu": "silu", "silu_": "silu"}
CONV = {"conv1d", "conv2d", "conv3d", "convolution"}
POOL = {"max_pool1d", "max_pool2d", "max_pool3d", "max_pool2d_with_indices", "avg_pool1d", "avg_pool2d",
        "avg_pool3d"}
ADAPTIVE_POOL = {"adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "_adaptive_avg_pool2d",
                 "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"}
BATCH_NORM = {"batch_norm", "_native_batch_norm_legit_no_training"}


def _op_name(node) -> str:
    t = node.target
    if hasattr(t, "_overloadpacket"):
        return t._overloadpacket.__name__
    return getattr(t, "__name__", str(t))


def _shape(v) -> tuple:
    return tuple(int(s) for s in v.shape)


def _pads(padding, kernel, dilation) -> list:
    if isinstance(padding, str):  # conv2d.padding overload: "valid" or "same" (stride 1)
        if padding == "valid":
            return [(0, 0)] * len(kernel)
        return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    return [(int(p), int(p)) for p in padding]


def _expand(v, n: int) -> list:
    v = list(v) if isinstance(v, list | tuple) else [v]
    return [int(x) for x in (v * n if len(v) == 1 else v)]


def _is_weight(arg) -> bool:
    """Whether an fx argument is the module's weights: a parameter or buffer (a get_attr node of the exported
    module), through layout ops (a transposed weight), not an activation computed from the inputs."""
    import torch
    seen = set()
    while isinstance(arg, torch.fx.Node) and arg.op == "call_function" and _op_name(arg) in LAYOUT \
            and arg.args and arg not in seen:
        seen.add(arg)
        arg = arg.args[0]
    return isinstance(arg, torch.fx.Node) and arg.op == "get_attr"


def _check_model(model, example_inputs):
    import torch
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"from_torch: model must be a torch.nn.Module, got {type(model).__name__}")
    if example_inputs is None:
        raise ValueError("from_torch: example_inputs is required (a tuple of tensors): without one every shape is "
                         "dynamic and no GEMM has a size")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    if not isinstance(example_inputs, tuple) or not all(isinstance(t, torch.Tensor) for t in example_inputs):
        raise TypeError("from_torch: example_inputs must be a tensor or a tuple of tensors")
    for where, t in [*((f"parameter {n}", p) for n, p in model.named_parameters()),
                     *((f"example input {i}", t) for i, t in enumerate(example_inputs))]:
        if t.device.type not in ("cpu", "cuda"):
            raise ValueError(f"from_torch: {where} is on device {t.device.type!r}, which lowbit cannot read "
                             "(move the model and inputs to 'cpu' first)")
    return example_inputs


def from_torch(model, example_inputs, format: str = "fp16", act_format: str = "fp16", strict: bool = True,
               name: str | None = None):
    """The workload of `model` run on `example_inputs`: an accel.transformer.Layer whose ops are its
    GEMMs (linear, matmul, convolution as im2col, attention as batched GEMMs) in `format` and its
    element-wise ops (softmax, norms, activations, residual adds) in `act_format`. GEMMs carry the real
    weights and the activations seen on the example input (when under 2**21 values; else a seeded draw).
    Unsupported ops raise one ValueError naming them all; strict=False skips them with a warning."""
    import torch
    example_inputs = _check_model(model, example_inputs)
    with torch.no_grad():
        try:
            ep = torch.export.export(model.eval(), example_inputs)
        except Exception as err:  # torch.export's own errors name the line; say which step failed
            raise ValueError(f"from_torch: torch.export could not trace the model: {type(err).__name__}: {err}") \
                from err
        gm = ep.module()
        env = {}

        class _Recorder(torch.fx.Interpreter):
            def run_node(self, n):
                env[n.name] = out = super().run_node(n)
                return out

        _Recorder(gm).run(*example_inputs)
    ops, bad = [], {}
    conv_at = {}  # a convolution node's name -> its index in ops (a following batch norm folds into it)
    users = {n.name: len(n.users) for n in gm.graph.nodes}

    def val(a):
        return env[a.name] if isinstance(a, torch.fx.Node) else a

    def arr(t):
        return t.detach().to("cpu", torch.float64).numpy() if t.numel() <= 4 * MAX_OPERAND else None

    for node in gm.graph.nodes:
        if node.op != "call_function":
            continue
        op, args = _op_name(node), [val(a) for a in node.args]
        out = env[node.name]
        nm = node.name
        if op in LAYOUT:
            continue
        if op == "linear":
            x, w = args[0], args[1]
            ops.append(matmul_gemm(nm, _shape(x), _shape(w)[::-1], format, arr(x), arr(w.T),
                                   b_weight=_is_weight(node.args[1])))
        elif op in ("mm", "matmul", "bmm"):
            ops.append(matmul_gemm(nm, _shape(args[0]), _shape(args[1]), format, arr(args[0]), arr(args[1]),
                                   b_weight=_is_weight(node.args[1])))
        elif op == "addmm":
            ops.append(matmul_gemm(nm, _shape(args[1]), _shape(args[2]), format, arr(args[1]), arr(args[2]),
                                   b_weight=_is_weight(node.args[2])))
        elif op in CONV:
            conv_at[nm] = len(ops)
            ops.append(_conv(nm, op, args, node.kwargs, format, arr))
        elif op in BATCH_NORM:
            src = node.args[0]
            if isinstance(src, torch.fx.Node) and src.name in conv_at and users[src.name] == 1:
                # inference batch norm folds into the convolution's weights (its shift into the bias epilogue)
                eps = args[7] if op == "batch_norm" else args[6]
                ops[conv_at[src.name]] = fold_batch_norm(ops[conv_at[src.name]], arr(args[1]) if args[1] is not None
                                                         else None, arr(args[4]), float(eps))
            else:  # (_native_batch_norm_legit_no_training returns (out, mean, invstd))
                ops.append(elementwise("batchnorm", nm, _shape(out if isinstance(out, torch.Tensor) else out[0]),
                                       act_format))
        elif op in POOL or op in ADAPTIVE_POOL:
            y = out if isinstance(out, torch.Tensor) else out[0]  # max_pool2d_with_indices: (values, indices)
            if op in POOL:  # dilation spreads a max-pool window, not its element count
                window = math.prod(_expand(args[1], y.dim() - 2))
            else:
                window = adaptive_window(_shape(args[0])[2:], _shape(y)[2:])
            ops.append(pool_op(nm, _shape(y), window, act_format))
        elif op == "embedding":
            table, ids = args[0], args[1]
            ops.append(gather_op(nm, math.prod(_shape(ids)), _shape(table)[1], act_format))
        elif op == "scaled_dot_product_attention":
            ops.extend(attention_ops(nm, _shape(args[0]), _shape(args[1]), _shape(args[2]), act_format))
        elif op in ("softmax", "_softmax", "log_softmax", "_log_softmax"):
            ops.append(elementwise("softmax", nm, _shape(out), act_format, axis=int(args[1])))
        elif op in ("layer_norm", "rms_norm"):
            kind = "layernorm" if op == "layer_norm" else "rmsnorm"
            ops.append(elementwise(kind, nm, _shape(out), act_format, norm_len=math.prod(args[1])))
        elif op in ELEMENTWISE:
            ops.append(elementwise(ELEMENTWISE[op], nm, _shape(out), act_format))
        elif op in ("add", "add_") and all(isinstance(a, torch.Tensor) for a in args[:2]):
            ops.append(elementwise("add", nm, _shape(out), act_format))
        else:
            bad.setdefault(op if op != "add" else "add (of a scalar)", []).append(nm)
    if bad:
        err = unsupported_error("from_torch", bad)
        if strict:
            raise err
        warnings.warn(str(err).replace("; pass strict=False to skip the others with a warning", " (skipped)"),
                      stacklevel=2)
    info = {"source": "torch", "inputs": [list(_shape(t)) for t in example_inputs]}
    return make_layer(name or type(model).__name__, ops, info)


def _conv(nm, op, args, kwargs, fmt, arr):
    import torch
    x, w = args[0], args[1]
    nsp = w.dim() - 2
    if op == "convolution":
        stride, padding, dilation, transposed, _, groups = args[3], args[4], args[5], args[6], args[7], args[8]
        if transposed:
            raise ValueError(f"from_torch: {nm} is a transposed convolution, which lowbit does not lower")
    else:
        rest = list(args[3:]) + [None] * 4
        stride = rest[0] if rest[0] is not None else kwargs.get("stride", 1)
        padding = rest[1] if rest[1] is not None else kwargs.get("padding", 0)
        dilation = rest[2] if rest[2] is not None else kwargs.get("dilation", 1)
        groups = rest[3] if rest[3] is not None else kwargs.get("groups", 1)
    stride, dilation = _expand(stride, nsp), _expand(dilation, nsp)
    kernel = list(w.shape[2:])
    pads = _pads(padding if isinstance(padding, str) else _expand(padding, nsp), kernel, dilation)
    g = conv_gemm(nm, _shape(x), _shape(w), stride, pads, dilation, int(groups), fmt)
    cg, ng = w.shape[1], w.shape[0] // int(groups)
    b = arr(w[:ng].reshape(ng, -1).T)
    a = None
    if nsp == 2 and g.m * g.k <= MAX_OPERAND and all(lo == hi for lo, hi in pads):
        cols = torch.nn.functional.unfold(x[:, :cg].double(), kernel, dilation=dilation,
                                          padding=[lo for lo, _ in pads], stride=stride)
        a = cols.transpose(1, 2).reshape(-1, cols.shape[1]).numpy()
    return g.replace(a=a if a is not None and np.isfinite(a).all() else None, b=b)
