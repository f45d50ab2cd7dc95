"""accel.from_onnx: an ONNX file -> a Layer of GEMMs and element-wise ops (shapes from ONNX shape
inference; weights from the initializers)."""

import math
import os
import warnings

from .lower import (
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

LAYOUT = {"Reshape", "Flatten", "Transpose", "Identity", "Dropout", "Squeeze", "Unsqueeze", "Constant", "Shape",
          "Concat", "Slice", "Split", "Cast", "Expand", "ConstantOfShape", "Range"}
POOL = {"MaxPool", "AveragePool", "LpPool"}
GLOBAL_POOL = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}
ELEMENTWISE = {"Relu": "relu", "Gelu": "gelu"}


def _attrs(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def from_onnx(path, format: str = "fp16", act_format: str = "fp16", input_shapes: dict | None = None,
              strict: bool = True, name: str | None = None):
    """The workload of the ONNX model at `path` (see accel.from_torch for what becomes what).
    `input_shapes` ({input name: shape}) fixes dynamic dimensions; a GEMM or op whose shape stays
    unknown raises ValueError naming the tensor."""
    import onnx
    import onnx.numpy_helper
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"from_onnx: path must be a file path, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise OSError(f"from_onnx: no such file {os.fspath(path)!r}")
    try:
        model = onnx.load(os.fspath(path))
    except Exception as err:
        raise ValueError(f"from_onnx: {os.fspath(path)!r} is not a readable ONNX model: {err}") from None
    if input_shapes:
        for inp in model.graph.input:
            if inp.name in input_shapes:
                dims = inp.type.tensor_type.shape.dim
                shape = list(input_shapes[inp.name])
                if len(shape) != len(dims):
                    raise ValueError(f"from_onnx: input_shapes[{inp.name!r}] has {len(shape)} dims, the model's "
                                     f"input has {len(dims)}")
                for d, s in zip(dims, shape):
                    d.ClearField("dim_param")
                    d.dim_value = int(s)
    model = onnx.shape_inference.infer_shapes(model, data_prop=True)  # data_prop: Reshape to Shape()-built shapes
    g = model.graph
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
    shapes = {name: tuple(a.shape) for name, a in inits.items()}
    for vi in [*g.input, *g.value_info, *g.output]:
        if not vi.type.tensor_type.HasField("shape"):
            continue  # unknown rank: shape() below says so if an op needs it
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in dims)
    src = os.path.basename(os.fspath(path))

    def shape(t: str) -> tuple:
        s = shapes.get(t)
        if s is None or not all(isinstance(d, int) and d > 0 for d in s):
            raise ValueError(f"from_onnx: {src}: tensor {t!r} has a dynamic or unknown shape {s}; pass "
                             "input_shapes={input name: shape} to fix the model's inputs")
        return s

    producer = {t: node for node in g.node for t in node.output}

    def _is_weight(t: str) -> bool:
        """Whether tensor t is the model's weights: an initializer or a Constant, through layout ops (a transposed
        or reshaped weight), not an activation computed from the inputs (attention's K and V)."""
        seen = set()
        while t not in inits and t not in seen:
            seen.add(t)
            node = producer.get(t)
            if node is None or node.op_type not in LAYOUT:
                return False  # a graph input, or computed by an op
            if node.op_type == "Constant":
                return True
            t = node.input[0] if node.input else ""
        return t in inits

    ops, bad = [], {}
    conv_at = {}  # a Conv's output tensor -> its index in ops (a following BatchNormalization folds into it)
    consumers = {}
    for node in g.node:
        for t in node.input:
            consumers[t] = consumers.get(t, 0) + 1
    for i, node in enumerate(g.node):
        nm = node.name or f"{node.op_type}_{i}"
        a = _attrs(node)
        t = node.op_type
        if t in LAYOUT:
            continue
        if t == "MatMul":
            ops.append(matmul_gemm(nm, shape(node.input[0]), shape(node.input[1]), format,
                                   None, inits.get(node.input[1]), b_weight=_is_weight(node.input[1])))
        elif t == "Gemm":
            sa, sb = shape(node.input[0]), shape(node.input[1])
            sa = sa[::-1] if a.get("transA", 0) else sa
            w = inits.get(node.input[1])
            if a.get("transB", 0):
                sb, w = sb[::-1], None if w is None else w.T
            ops.append(matmul_gemm(nm, sa, sb, format, None, w, b_weight=_is_weight(node.input[1])))
        elif t == "Conv":
            xs, ws = shape(node.input[0]), shape(node.input[1])
            nsp = len(ws) - 2
            pads = a.get("pads", [0] * 2 * nsp)
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise ValueError(f"from_onnx: {src}: Conv {nm!r} uses auto_pad; export with explicit pads")
            conv = conv_gemm(nm, xs, ws, a.get("strides", [1] * nsp), list(zip(pads[:nsp], pads[nsp:])),
                             a.get("dilations", [1] * nsp), int(a.get("group", 1)), format)
            w = inits.get(node.input[1])
            if w is not None:
                ng = ws[0] // int(a.get("group", 1))
                conv = conv.replace(b=w[:ng].reshape(ng, -1).T.astype("float64"))
            conv_at[node.output[0]] = len(ops)
            ops.append(conv)
        elif t == "BatchNormalization":
            src = node.input[0]
            if src in conv_at and consumers.get(src) == 1:  # inference batch norm folds into the Conv's weights
                j = conv_at[src]
                ops[j] = fold_batch_norm(ops[j], inits.get(node.input[1]), inits.get(node.input[4]),
                                         float(a.get("epsilon", 1e-5)))
            else:
                ops.append(elementwise("batchnorm", nm, shape(node.output[0]), act_format))
        elif t in POOL:
            ops.append(pool_op(nm, shape(node.output[0]), math.prod(a["kernel_shape"]), act_format))
        elif t in GLOBAL_POOL:
            ops.append(pool_op(nm, shape(node.output[0]), math.prod(shape(node.input[0])[2:]), act_format))
        elif t == "Gather":
            table = inits.get(node.input[0])
            if table is None or table.ndim != 2 or int(a.get("axis", 0)) != 0:
                continue  # indexing a shape or an activation: layout
            ops.append(gather_op(nm, math.prod(shape(node.input[1])), table.shape[1], act_format))
        elif t == "Attention":
            q = shape(node.input[0])
            ops.extend(attention_ops(nm, q, shape(node.input[1]), shape(node.input[2]), act_format))
        elif t in ("Softmax", "LogSoftmax"):
            ops.append(elementwise("softmax", nm, shape(node.output[0]), act_format, axis=int(a.get("axis", -1))))
        elif t in ("LayerNormalization", "RMSNormalization"):
            s = shape(node.output[0])
            ax = int(a.get("axis", -1)) % len(s)
            kind = "layernorm" if t == "LayerNormalization" else "rmsnorm"
            ops.append(elementwise(kind, nm, s, act_format, norm_len=math.prod(s[ax:])))
        elif t in ELEMENTWISE:
            ops.append(elementwise(ELEMENTWISE[t], nm, shape(node.output[0]), act_format))
        elif t == "Add" and not any(x in inits for x in node.input) and shape(node.input[0]) == shape(node.input[1]):
            ops.append(elementwise("add", nm, shape(node.output[0]), act_format))
        elif t == "Add" and any(x in inits for x in node.input):
            continue  # a bias add after MatMul: the GEMM's epilogue
        else:
            bad.setdefault(t, []).append(nm)
    if bad:
        err = unsupported_error(f"from_onnx: {src}", bad)
        if strict:
            raise err
        warnings.warn(str(err).replace("; pass strict=False to skip the others with a warning", " (skipped)"),
                      stacklevel=2)
    info = {"source": "onnx", "file": src}
    return make_layer(name or os.path.splitext(src)[0], ops, info)
