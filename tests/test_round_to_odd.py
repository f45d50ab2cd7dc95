"""kernels.gemm.round_to_odd, the one round-to-odd of the exact-sum kernels, against exact fractions:
the float64 nearest toward zero, with its last bit set when the value is not representable."""

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kernels.gemm import round_to_odd, two_sum


def _reference(s: float, err: float) -> float:
    v = Fraction(s) + Fraction(err)
    if v == 0:
        return s
    t = float(v)  # nearest; step toward zero if it overshoots
    if abs(Fraction(t)) > abs(v):
        t = math.nextafter(t, 0.0)
    if Fraction(t) == v:
        return t
    if int(np.float64(t).view(np.uint64)) & 1 == 0:
        t = math.nextafter(t, math.copysign(math.inf, t))
    return t


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@given(finite, finite)
def test_round_to_odd_of_two_sum(a, b):
    s, err = two_sum(a, b)
    got = round_to_odd(s, err)
    assert np.float64(got).view(np.uint64) == np.float64(_reference(s, err)).view(np.uint64)


def test_round_to_odd_boundaries():
    cases = [(1.0, -2.0**-60), (1.0, 2.0**-60), (-1.0, 2.0**-60), (2.0**-1022, -2.0**-1080),
             (1.5, 2.0**-100), (math.nextafter(2.0, 0.0), 2.0**-60), (4.0, 0.0), (0.0, 0.0),
             (5e-324 * 6, 0.0), (-(2.0**1023), -(2.0**960))]
    for s, err in cases:
        got = round_to_odd(s, err)
        assert np.float64(got).view(np.uint64) == np.float64(_reference(s, err)).view(np.uint64), (s, err)
    # just below a power of two: the largest float below it, which is odd
    assert round_to_odd(1.0, -2.0**-60) == math.nextafter(1.0, 0.0)
