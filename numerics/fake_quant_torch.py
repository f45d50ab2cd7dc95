"""The PyTorch side of fake_quant: the custom op `lowbit::fake_quant` (imported only when a tensor arrives).

Its CPU kernel runs lowbit's numpy quantize on the tensor's data (bit-identical by construction); its fake
kernel returns an empty tensor of the same shape and dtype, so `torch.compile(fullgraph=True)` traces the
op as one node with no graph break; its autograd formula is the straight-through estimator."""

import ml_dtypes
import numpy as np
import torch

from .fake_quant import check_args, clip_max, quantize_numpy
from .rounding import RoundMode

_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _check_tensor(x: torch.Tensor) -> None:
    if x.dtype not in _DTYPES:
        raise TypeError(f"fake_quant: x must be a float16, bfloat16, float32 or float64 tensor, got {x.dtype}")
    if x.device.type == "meta":
        raise ValueError("fake_quant: x is on the 'meta' device, which holds no data for lowbit to read; "
                         "materialise the tensor (e.g. model.to_empty(device='cpu') and load weights) first")
    if x.is_sparse or x.layout != torch.strided:
        raise ValueError(f"fake_quant: x must be a dense (strided) tensor, got layout {x.layout}")


def _to_numpy(x: torch.Tensor) -> np.ndarray:
    x = x.detach().to("cpu").contiguous()
    if x.dtype == torch.bfloat16:  # numpy has no bfloat16: go through the bits
        return x.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return x.numpy()


def _from_numpy(a: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    if a.dtype == ml_dtypes.bfloat16:
        t = torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).view(torch.bfloat16)
    else:
        t = torch.from_numpy(np.ascontiguousarray(a))
    return t.to(like.device)


@torch.library.custom_op("lowbit::fake_quant", mutates_args=())
def _fake_quant_op(x: torch.Tensor, format: str, rounding: int, axis: int | None, seed: int | None,
                   saturate: bool, backward: str) -> torch.Tensor:
    _check_tensor(x)
    q = quantize_numpy(_to_numpy(x), format, RoundMode(rounding), axis, seed, saturate)
    return _from_numpy(q, x)


@_fake_quant_op.register_fake
def _(x, format, rounding, axis, seed, saturate, backward):
    # runs at trace time: check the constant arguments here so a compiled model fails as early as eager
    check_args(format, RoundMode(rounding), axis, seed, saturate, backward)
    if x.dtype not in _DTYPES:
        raise TypeError(f"fake_quant: x must be a float16, bfloat16, float32 or float64 tensor, got {x.dtype}")
    return torch.empty_like(x)


def _setup_context(ctx, inputs, output):
    x, format, _, axis, _, _, backward = inputs
    ctx.backward = backward
    if backward == "clipped":
        from .fake_quant import resolve
        fmt, block, _ = resolve(format, axis)
        ctx.clip = clip_max(fmt, block)
        ctx.save_for_backward(x)


def _backward(ctx, grad):
    if ctx.backward == "clipped":
        (x,) = ctx.saved_tensors
        grad = torch.where(x.abs() <= ctx.clip, grad, torch.zeros_like(grad))
    return grad, None, None, None, None, None, None


_fake_quant_op.register_autograd(_backward, setup_context=_setup_context)


def fake_quant_torch(x: torch.Tensor, format: str, rounding: RoundMode = RoundMode.TIES_TO_EVEN, axis=None,
                     seed=None, saturate: bool = True, backward: str = "identity") -> torch.Tensor:
    """numerics.fake_quant for a torch tensor: the `lowbit::fake_quant` op."""
    if not isinstance(rounding, RoundMode):
        raise TypeError(f"fake_quant: rounding must be a numerics.RoundMode, got {rounding!r}")
    if not torch.compiler.is_compiling():
        # eager: full checks before dispatch (compiled graphs check in the fake kernel at trace time)
        check_args(format, rounding, axis, seed, saturate, backward)
        _check_tensor(x)
    return torch.ops.lowbit.fake_quant(x, format, int(rounding), None if axis is None else int(axis),
                                       None if seed is None else int(seed), bool(saturate), backward)
