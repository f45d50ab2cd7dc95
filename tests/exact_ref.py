"""Shared by the exact references of the compute-in-memory tiles (tests/test_analog_exact.py,
tests/test_analog_exact_resistive.py): their exact arithmetic (Python fractions and integers only: numpy
serves only `compare` and the law, which run lowbit) and the comparison and law both apply to lowbit's
outputs."""

from fractions import Fraction as Fr

import numpy as np

from accel.analog import analog_matmul


def round_half_even(fr: Fr) -> int:
    """Nearest integer, ties to even (Fraction.__round__ is exactly that)."""
    return round(fr)


def to_binary(fr: Fr, mant: int) -> Fr:
    """fr rounded to nearest (ties to even) with `mant` significant bits (normal range assumed)."""
    if fr == 0:
        return Fr(0)
    s, a = (1, fr) if fr > 0 else (-1, -fr)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fr(2) ** e > a:
        e -= 1
    ulp = Fr(2) ** (e - mant + 1)
    return s * round_half_even(a / ulp) * ulp


def split(bits: int, phases: int) -> list:
    """`bits` in `phases` near-equal slices, the larger first (docs/analog.md: input_phases)."""
    base, extra = divmod(bits, phases)
    return [base + (1 if i < extra else 0) for i in range(phases)]


def accumulate(parts: list, accumulator: str) -> Fr:
    """The tiles' partial outputs added in the digital accumulator, in K order (docs/analog.md: "fp32" rounds
    every part, a lone one too, and every sum to binary32; "fp16" to binary16; "exact" adds them exactly)."""
    if accumulator == "exact":
        return sum(parts, Fr(0))
    mant = 24 if accumulator == "fp32" else 11
    acc = to_binary(parts[0], mant)
    for p in parts[1:]:
        acc = to_binary(acc + to_binary(p, mant), mant)
    return acc


def scale_inputs(xs: list, dac_range) -> tuple:
    """(s_x, xs / s_x): an input vector's slice on one tile over its own max |x|, or over a fixed `dac_range`
    and clipped to [-1, 1] (docs/analog.md, `dac_bits` row); an all-zero slice stays 0 (s_x = 1)."""
    if dac_range is None:
        s = max(abs(v) for v in xs)
        if s == 0:
            return Fr(1), [Fr(0)] * len(xs)
        return s, [v / s for v in xs]
    s = Fr(dac_range)
    return s, [min(Fr(1), max(Fr(-1), v / s)) for v in xs]


def adc_ranges(group_weights: list, adc_range, significances: list) -> list:
    """Each conversion group's ADC full scale per output column (docs/analog.md, `adc_bits` row), from the
    programmed weights group_weights[g][j][i]: "column": the column's sum of |w|; "global": the largest such;
    a number r: r times the group's significance (its top slice's over the weight's top slice's)."""
    out = []
    for w, sig in zip(group_weights, significances):
        col = [sum((abs(v) for v in row), Fr(0)) for row in w]
        if adc_range == "column":
            out.append(col)
        elif adc_range == "global":
            out.append([max(col)] * len(col))
        else:
            out.append([Fr(adc_range) * sig] * len(col))
    return out


def assert_odd_symmetry(w, x, tile) -> None:
    """Ties to even is symmetric (round(-u) = -round(u)), and so is float arithmetic: negating x, or w,
    negates lowbit's output exactly."""
    y = analog_matmul(w, x, tile=tile)
    assert np.array_equal(analog_matmul(w, -x, tile=tile), -y + 0.0)
    assert np.array_equal(analog_matmul(-w, x, tile=tile), -y + 0.0)


def compare(w, x, tile, ref_matmul, atol=0) -> tuple:
    """analog_matmul(w, x, tile=tile) against ref_matmul(w, x as (n_in, batch), tile) -> (want, scale, extra):
    every output within 64 float64 ulps of its full scale `scale` (2 binary32 or binary16 ulps for the fp32 or
    fp16 accumulator), plus `atol`. Returns (got as (n_out, batch), want as floats, extra)."""
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    x2 = x.reshape(-1, 1) if x.ndim == 1 else x
    got = analog_matmul(w, x, tile=tile, seed=0)
    got2 = got.reshape(-1, 1) if x.ndim == 1 else got
    want, scale, extra = ref_matmul(w, x2, tile)
    rel = {"fp32": Fr(2) ** -22, "fp16": Fr(2) ** -9}.get(tile.accumulator, 64 * Fr(2) ** -52)
    bad = [(j, b, float(got2[j, b]), float(want[j][b])) for j in range(got2.shape[0]) for b in range(got2.shape[1])
           if abs(Fr(float(got2[j, b])) - want[j][b]) > rel * scale[j][b] + Fr(atol)]
    assert not bad, f"{len(bad)} outputs differ (j, b, got, want): {bad[:6]}"
    return got2, np.array([[float(v) for v in r] for r in want]), extra
