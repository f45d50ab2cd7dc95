"""The JAX side of fake_quant (imported only when a jax array arrives): `jax.pure_callback` runs lowbit's
numpy quantize on the array's data (bit-identical by construction, under jit too), and `jax.custom_vjp`
gives it the straight-through gradient."""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .fake_quant import check_args, clip_max, quantize_numpy
from .rounding import RoundMode

_DTYPES = (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4, 5, 6))
def _fq(x, format, rounding, axis, seed, saturate, backward):
    def host(a):
        a = np.asarray(a)
        return np.asarray(quantize_numpy(a, format, RoundMode(rounding), axis, seed, saturate), dtype=a.dtype)

    return jax.pure_callback(host, jax.ShapeDtypeStruct(x.shape, x.dtype), x)


def _fq_fwd(x, format, rounding, axis, seed, saturate, backward):
    return _fq(x, format, rounding, axis, seed, saturate, backward), x


def _fq_bwd(format, rounding, axis, seed, saturate, backward, x, g):
    if backward == "clipped":
        from .fake_quant import resolve
        fmt, block, _ = resolve(format, axis)
        g = jnp.where(jnp.abs(x) <= clip_max(fmt, block), g, jnp.zeros_like(g))
    return (g,)


_fq.defvjp(_fq_fwd, _fq_bwd)


@functools.lru_cache(maxsize=512)
def _jitted(format, rounding, axis, seed, saturate, backward):
    """One jitted function per setting, so that eager calls hit JAX's compilation cache (a fresh closure per
    call would be traced and compiled again every time: ~0.1 s a call)."""
    return jax.jit(lambda x: _fq(x, format, rounding, axis, seed, saturate, backward))


def fake_quant_jax(x, format: str, rounding: RoundMode = RoundMode.TIES_TO_EVEN, axis=None, seed=None,
                   saturate: bool = True, backward: str = "identity"):
    """numerics.fake_quant for a jax array (eager or under jax.jit)."""
    check_args(format, rounding, axis, seed, saturate, backward)
    if x.dtype not in _DTYPES:
        raise TypeError(f"fake_quant: x must be a float16, bfloat16, float32 or float64 jax array, got {x.dtype}")
    return _jitted(format, int(rounding), None if axis is None else int(axis), None if seed is None else int(seed),
                   bool(saturate), backward)(x)
