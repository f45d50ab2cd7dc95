"""Exact results of +, -, *, /, sqrt and fma on float64 operands, rounded to odd at float64's 53 bits.

Each result is the float64 s = RN(exact) and the sign of (exact - s), from error-free transformations
(TwoSum, Dekker's TwoProduct, the exact residuals of division and square root, Shewchuk's expansion for
the three terms of fma), then moved to the odd neighbour when inexact (Boldo & Melquiond, IEEE TC 2008:
one more rounding to <= 51 bits is then correctly rounded). Exact only where the operations do not
underflow or overflow float64: operands of formats of <= 32 bits (|x| in [2^-149, 2^128]), as
numerics.ops passes them. IEEE 754 §6.3 zero signs: an exact zero from operands of opposite signs is +0,
or -0 when `toward_negative`. No fastmath: every operation is the IEEE one written.
"""

import numpy as np
from numba import njit

from .gemm import expansion_head, grow_expansion, round_to_odd

ADD, SUB, MUL, DIV, SQRT = 0, 1, 2, 3, 4
_SPLIT = 134217729.0  # 2^27 + 1, Veltkamp splitting for Dekker's product


@njit(cache=True, inline="always")
def _two_prod_err(a, b, p):
    """The exact a * b - p for p = RN(a * b) (Dekker 1971; no FMA: the IEEE products written)."""
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


@njit(cache=True, inline="always")
def _odd(s, err):
    """s moved to its odd neighbour toward s + err when err != 0; 0, inf and NaN stay (exact or special)."""
    if not np.isfinite(s) or err != err:
        return s
    return round_to_odd(s, err)


@njit(cache=True, error_model="numpy")
def odd_binary(op, x, y, toward_negative, out):
    """out[i] = op(x[i], y[i]) (ADD, SUB, MUL, DIV; SQRT ignores y) rounded to odd; x, y, out float64 1-D of
    one length."""
    for i in range(out.shape[0]):
        a = x[i]
        b = y[i]
        if op == ADD or op == SUB:
            if op == SUB:
                b = -b
            s = a + b
            bb = s - a
            err = (a - (s - bb)) + (b - bb)
            if toward_negative and s == 0.0 and err == 0.0 and np.signbit(a) != np.signbit(b):
                s = -0.0
        elif op == MUL:
            s = a * b
            err = _two_prod_err(a, b, s)
        elif op == DIV:
            s = a / b
            r = (a - s * b) - _two_prod_err(s, b, s * b)
            err = r if b > 0.0 else -r  # sign of r / b; b = +-inf or 0 leave s 0, NaN or inf
        else:
            s = np.sqrt(a)
            err = (a - s * s) - _two_prod_err(s, s, s * s)
        out[i] = _odd(s, err)
    return out


@njit(cache=True, error_model="numpy")
def odd_fma(x, y, z, toward_negative, out):
    """out[i] = x[i] * y[i] + z[i] with one rounding, to odd (IEEE 754 §5.4.1 zero signs); float64 1-D."""
    parts = np.empty(4, np.float64)
    for i in range(out.shape[0]):
        a = x[i]
        b = y[i]
        c = z[i]
        p = a * b
        naive = p + c
        if not np.isfinite(naive):
            out[i] = naive  # inf or NaN operands (finite ones cannot overflow here)
            continue
        cnt = grow_expansion(parts, 0, p)
        cnt = grow_expansion(parts, cnt, _two_prod_err(a, b, p))
        cnt = grow_expansion(parts, cnt, c)
        s, rest = expansion_head(parts, cnt)
        if s == 0.0 and rest == 0.0:
            # an exact zero keeps the common sign of a*b and c, else +0 (-0 rounding toward negative)
            same = np.signbit(p) == np.signbit(c)
            s = (-0.0 if np.signbit(c) else 0.0) if same else (-0.0 if toward_negative else 0.0)
        out[i] = _odd(s, rest)
    return out
