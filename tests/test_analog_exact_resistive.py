"""Exact reference for lowbit's resistive compute-in-memory tiles made deterministic (hermes-like, neurram-like
and the 'walden' Crossbar, each with `device="ideal"`, out_noise 0, stuck_rate 0, r_wire_ohm 0), and tests of
`accel.analog.analog_matmul` against it.

The reference (`ref_matmul`) uses only Python integers and `fractions.Fraction`: every input is converted exactly
(Fraction(float) is exact), every intermediate is exact, and the only roundings are the tile's own (DAC, weight
quantiser, ADC, accumulator). It encodes these rules (docs/analog.md unless said otherwise):

R1  Tiling ("The tile", rows/cols row and periphery row; "Conversion groups"; the NeuRRAM paragraph): a matrix
    (n_out, n_in) is split into ceil(n_in / weight rows) x ceil(n_out / weight cols) tiles, partial sums added
    in `accumulator`. Walden: rows x cols weights. hermes ("pair"): a differential pair takes two columns, each
    weight slice a column: cols // (2 x slices) weight columns, rows weight rows. neurram ("row_pair"): the pair
    lies on two adjacent rows of one column: floor(rows / 2) weight rows (offset mapping: rows), cols // slices
    weight columns ("K in 128s, N in 256s").
R2  Inputs scaled by the max |x| of the vector's slice on one tile, or by a fixed `dac_range` with clipping at
    +-1 (`dac_bits` row; cost table "over the max of its vector's slice on one tile"); an all-zero slice gives 0.
R3  DAC: signed dac_bits, L = 2^(dac_bits-1) - 1 levels each side, nearest, ties to even ("The numerics'
    rules"); dac_bits None: ideal (walden only).
R4  Weights scaled by the tile's max |w| ("the tile's largest |w| maps to g_max"); weight_bits None: analog, kept
    exactly (an ideal device "holds its target exactly", section "Devices"); else |w_n| quantised to
    Q = 2^weight_bits - 1 levels, ties to even, sign-magnitude ("The numerics' rules").
R5  Bit slices (`weight_bits`, `bits_per_cell` row): the level q split into ceil(wb / bpc) slices of bpc bits,
    most significant first; slice s (counted from the least significant) holds digit (q >> bpc s) mod 2^bpc and
    carries 2^(bpc s) / Q in normalised weight units.
R6  Conversion groups ("Conversion groups"): "pair" and "row_pair": the two devices of one slice, their
    difference converted once: one conversion per slice; walden: all slices "recombined in one analog read"
    (`weight_bits` row): one conversion per weight column. Offset mapping: the reference (g_max / 2) is
    subtracted before the conversion, so the ADC sees the same signed sum (`mapping` row).
R7  ADC (`adc_bits` row): signed adc_bits, La = 2^(adc_bits-1) - 1; full scale F calibrated on the programmed
    weights: "column" = the column's sum of |w| (per conversion group), "global" = the tile's largest such, a
    number r = r x the group's significance (its top slice's over the weight's top slice's). Level k =
    clip(round(y / F x La), -La, La), ties to even ("The numerics' rules"), value k / La x F. adc_bits None:
    ideal.
R8  Input slices (Knobs; macros.py docstring): PWM with input_phases p: the magnitude bits split into p near-equal
    slices, most significant first, a later slice converted at max(2, adc_bits - bits before it); bit-serial: one
    plane per magnitude bit, each converted at adc_bits over the same F and shift-added. Slice of s bits with `a`
    bits below it: v = sign(q) ((|q| >> a) mod 2^s) / (2^s - 1), weight (2^s - 1) 2^a / L.
R9  Output = tile output x s_x x max|w|; "fp32": each partial rounded to binary32, added in binary32 in K order;
    "exact": the exact sum rounded once.
R10 `read_phases` repeats the same read; "the numerics model one" (Knobs paragraph): outputs equal to
    read_phases 1. `g_max_us` "changes the accuracy only through IR drop": outputs independent of it (r_wire 0).

Comparison: lowbit computes in float64, so outputs are compared within 64 float64 ulps (2^-52) of the output's own
full scale S = sum over K tiles of (sum over its conversion groups of its own column's F) x s_x x max|w| (fp32 / fp16:
2 binary32 / binary16 ulps of S; no ADC: the sum of |x w|); one ADC LSB of that column is at least 2^40 times
larger, so every quantisation level of every column is pinned exactly. On the offset mapping the outputs also
carry round-off relative to the tile's largest |w| (offset_atol; docs/analog.md says so). Written from the docs by
an independent reviewer (2026-11-30); its findings (exact ADC ties on the offset mapping decided by round-off,
a 1e-12 floor on the column range) were fixed, and the tests at the end pin them and the documented bounds.
"""

import dataclasses
import itertools
from fractions import Fraction as Fr

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accel
from accel.analog import Crossbar, analog_matmul
from tests.exact_ref import accumulate, adc_ranges, assert_odd_symmetry, compare, round_half_even, scale_inputs, split

MACROS = ("hermes-like", "neurram-like")


def unit(name, **kw):
    """A preset's unit made deterministic (ideal devices), then the knobs `kw`."""
    base = dataclasses.replace(accel.get_design(name).unit, device="ideal")
    assert base.out_noise == 0 and base.stuck_rate == 0 and base.r_wire_ohm == 0
    return dataclasses.replace(base, **kw)


def walden(**kw):
    return Crossbar(**{**dict(rows=8, cols=8, device="ideal"), **kw})


# ------------------------------------------------------------------------------------------------- reference







class Spec:
    """The rules' parameters, read from a Crossbar's documented fields (not from its methods)."""

    def __init__(self, tile):
        self.walden = tile.periphery == "walden"
        self.wb, self.bpc = tile.weight_bits, tile.bits_per_cell
        self.nsl = 1 if self.wb is None else -(-self.wb // self.bpc)
        diff = tile.mapping == "differential"
        if self.walden:
            self.rows, self.cols = tile.rows, tile.cols
            kind = "bit_serial" if tile.input_mode == "bit_serial" else "pwm"
        else:
            p = tile.periphery
            assert p.combine in ("pair", "row_pair")
            row_pair = p.combine == "row_pair" and diff
            self.rows = tile.rows // 2 if row_pair else tile.rows
            self.cols = tile.cols // (self.nsl * (2 if diff and not row_pair else 1))
            kind = p.dac_kind
        self.dac_bits, self.adc_bits = tile.dac_bits, tile.adc_bits
        self.adc_range, self.dac_range, self.acc = tile.adc_range, tile.dac_range, tile.accumulator
        # R8: input slices (bits of each) and their ADC widths; None: an ideal DAC, one slice
        if self.dac_bits is None:
            self.slices = None
            self.slice_adc = [self.adc_bits]
        else:
            m = self.dac_bits - 1
            self.slices = [1] * m if kind == "bit_serial" else split(m, 1 if self.walden else tile.input_phases)
            self.slice_adc, before = [], 0
            for i, s in enumerate(self.slices):
                later_pwm = kind == "pwm" and i > 0
                self.slice_adc.append(max(2, self.adc_bits - before) if later_pwm and self.adc_bits else self.adc_bits)
                before += s
        # R6: conversion groups as lists of slice indices (0 = most significant)
        self.groups = [list(range(self.nsl))] if self.walden else [[s] for s in range(self.nsl)]


def quantise_inputs(xs, spec):
    """R2, R3: (scale s_x, normalised inputs: exact levels q (ints), or exact values if dac_bits is None)."""
    s, xn = scale_inputs(xs, spec.dac_range)
    if spec.dac_bits is None:
        return s, xn
    L = 2 ** (spec.dac_bits - 1) - 1
    return s, [round_half_even(v * L) for v in xn]


def weight_slices(wt, spec):
    """R4, R5: (tile scale, per slice (most significant first) the normalised signed contributions
    sl[s][j][i] in weight units, summing to the quantised normalised weight)."""
    amax = max(abs(v) for row in wt for v in row)
    if amax == 0:
        return Fr(0), None
    if spec.wb is None:
        return amax, [[[v / amax for v in row] for row in wt]]
    Q = 2 ** spec.wb - 1
    base = 2 ** spec.bpc
    out = []
    for s in range(spec.nsl - 1, -1, -1):
        out.append([[(1 if v >= 0 else -1) * Fr((round_half_even(abs(v) / amax * Q) >> (spec.bpc * s)) % base
                                                * base ** s, Q) for v in row] for row in wt])
    return amax, out


def ref_tile(wt, xs, spec):
    """Exact output of one tile (outputs j of wt[j][i]) for one input vector; the output's full scale S; the
    number of conversions at an exact ADC tie (y / F x La = k + 1/2)."""
    n_out = len(wt)
    amax, sl = weight_slices(wt, spec)
    if amax == 0:
        return [Fr(0)] * n_out, [Fr(0)] * n_out, 0
    s_x, qx = quantise_inputs(xs, spec)
    gw = [[[sum((sl[s][j][i] for s in g), Fr(0)) for i in range(len(xs))] for j in range(n_out)]
          for g in spec.groups]
    top = spec.bpc * (spec.nsl - 1) if spec.wb else 0
    sig = [Fr(2 ** (spec.bpc * (spec.nsl - 1 - g[0])) if spec.wb else 1, 2 ** top) for g in spec.groups]  # R7
    full = adc_ranges(gw, spec.adc_range, sig)
    if spec.slices is None:
        reads = [(qx, Fr(1), spec.adc_bits)]
    else:
        L = 2 ** (spec.dac_bits - 1) - 1
        reads, after = [], spec.dac_bits - 1
        for s, abits in zip(spec.slices, spec.slice_adc):
            after -= s
            top = 2 ** s - 1
            v = [Fr((1 if q >= 0 else -1) * ((abs(q) >> after) % (top + 1)), top) for q in qx]
            reads.append((v, Fr(top * 2 ** after, L), abits))
    out, ties = [Fr(0)] * n_out, 0
    for v, weight, abits in reads:
        for w, F in zip(gw, full):
            for j in range(n_out):
                y = sum((vi * wi for vi, wi in zip(v, w[j])), Fr(0))
                if abits is None:
                    val = y
                elif F[j] == 0:
                    val = Fr(0)
                else:
                    La = 2 ** (abits - 1) - 1
                    u = y / F[j] * La
                    ties += u.denominator == 2 and abs(u) < La
                    val = Fr(max(-La, min(La, round_half_even(u))), La) * F[j]
                out[j] += weight * val
    # each output's own full scale (its own column's ranges), so a small column's levels are pinned too
    S = [sum((F[j] for F in full), Fr(0)) * s_x * amax for j in range(n_out)]
    if spec.adc_bits is None:  # no ADC: the full scale of the exact sum
        S = [max(S[j], sum((abs(v * wv) for v, wv in zip(xs, wt[j])), Fr(0))) for j in range(n_out)]
    return [o * s_x * amax for o in out], S, ties


def ref_matmul(w, x, tile):
    """Exact reference of analog_matmul(w, x, tile) for w (n_out, n_in), x (n_in, batch): y (lists of
    Fractions), each output's full scale S, and the number of conversions at exact ADC ties."""
    spec = Spec(tile)
    W = [[Fr(float(v)) for v in row] for row in np.asarray(w, dtype=float)]
    X = [[Fr(float(v)) for v in row] for row in np.asarray(x, dtype=float)]
    n_out, n_in, batch = len(W), len(W[0]), len(X[0])
    y = [[Fr(0)] * batch for _ in range(n_out)]
    scale = [[Fr(0)] * batch for _ in range(n_out)]
    ties = 0
    for j0 in range(0, n_out, spec.cols):
        j1 = min(j0 + spec.cols, n_out)
        for b in range(batch):
            parts, scales = [], [Fr(0)] * (j1 - j0)
            for i0 in range(0, n_in, spec.rows):
                i1 = min(i0 + spec.rows, n_in)
                part, S, t = ref_tile([W[j][i0:i1] for j in range(j0, j1)], [X[i][b] for i in range(i0, i1)], spec)
                parts.append(part)
                scales = [a + b for a, b in zip(scales, S)]
                ties += t
            for jj in range(j1 - j0):
                y[j0 + jj][b] = accumulate([p[jj] for p in parts], spec.acc)
                scale[j0 + jj][b] = scales[jj]
    return y, scale, ties


def check(w, x, tile, atol=0):
    """analog_matmul against ref_matmul (exact_ref.compare), plus `atol` (the offset mapping's round-off,
    relative to the tile's largest |w|: offset_atol). Returns (got, want, number of conversions at an exact ADC
    tie)."""
    return compare(w, x, tile, ref_matmul, atol)


def offset_atol(w, x, tile):
    """docs/analog.md ("The numerics' rules"): the offset mapping's read 2 g / g_max - 1 carries float64
    round-off relative to g_max, i.e. to the tile's largest |w|, not to the weight: 64 ulps of rows x max|x| x
    max|w| per output bound it."""
    return 64 * 2.0 ** -52 * tile.rows * float(np.max(np.abs(x))) * float(np.max(np.abs(w)))


def ints(rng, shape, lo=-6, hi=6):
    return rng.integers(lo, hi + 1, size=shape).astype(float)


# ------------------------------------------------------------------------------------- geometry and defaults

@pytest.mark.parametrize("name,kw,rows,cols", [
    ("hermes-like", {}, 256, 256),
    ("hermes-like", dict(mapping="offset"), 256, 512),
    ("neurram-like", {}, 128, 256),
    ("neurram-like", dict(weight_bits=4, bits_per_cell=2), 128, 128),
    ("neurram-like", dict(weight_bits=4, bits_per_cell=1), 128, 64),
    ("neurram-like", dict(mapping="offset"), 256, 256),
])
def test_tile_geometry(name, kw, rows, cols):
    """R1: hermes 256 x 256 weights (a pair per weight on two columns), neurram 128 x 256 (a pair on two rows)."""
    t = unit(name, **kw)
    spec = Spec(t)
    assert (t.weight_rows(), t.weight_cols()) == (spec.rows, spec.cols) == (rows, cols)


@pytest.mark.parametrize("name", MACROS)
def test_preset_defaults_random(name):
    """The presets' own settings (hermes: 8-bit DAC/ADC, analog weights; neurram: dac 4, adc 6, 4-bit weights),
    one full tile of small integers, two input vectors."""
    t = unit(name)
    rng = np.random.default_rng(7)
    w = ints(rng, (12, t.weight_rows()))
    x = ints(rng, (t.weight_rows(), 2))
    check(w, x, t)


@pytest.mark.parametrize("name", MACROS)
def test_boundary_cases(name):
    t = unit(name)
    L = 2 ** (t.dac_bits - 1) - 1
    Q = 2 ** t.weight_bits - 1 if t.weight_bits else 15
    cases = [
        (np.zeros((3, 4)), np.ones(4)),                                   # all-zero weights
        (np.ones((3, 4)), np.zeros(4)),                                   # all-zero input
        (np.array([[0, 0, 5.0, 0]]), np.array([0, 0, -3.0, 0])),          # a single nonzero
        (np.full((2, 5), 7.0), np.full(5, 2.0)),                          # full scale, each sign
        (np.full((2, 5), -7.0), np.full(5, 2.0)),
        (np.full((2, 5), 7.0), np.full(5, -2.0)),
        (np.array([[1.0, -1, 1, -1], [0, 0, 0, 0], [2, 2, 2, 2]]), np.array([1.0, 1, -1, -1])),  # zero row
        (np.array([[1.0, 0, 0], [2.0, 0, 0]]), np.array([0.0, 3, -1])),  # the only weights meet zero inputs
        (np.ones((2, 3)), np.array([1.0, 3.0, 2.0 * L])),                 # DAC ties: x_n L = k + 1/2
        (np.ones((1, 2 * L + 1)), np.arange(-L, L + 1, dtype=float) + 0.5 * np.sign(np.arange(-L, L + 1))),
        (np.array([[1.0, 3.0, 2.0 * Q, -5.0]]), np.ones(4)),              # weight ties: |w_n| Q = k + 1/2
        (np.array([[2.0 * k + 1 for k in range(Q)] + [2.0 * Q]]), np.ones(Q + 1)),
        (np.array([[0.25, -0.75, 0.5, 1.0], [0.125, 0.375, -1.0, 0.0]]), np.array([0.3125, -1.0, 0.5, 0.0625])),
    ]
    for w, x in cases:
        check(w, x, t)
        check(w, x, dataclasses.replace(t, accumulator="exact"))


# ------------------------------------------------------------------------------------------------ knobs

KNOBS = [
    ("hermes-like", dict(rows=8, cols=16)),
    ("hermes-like", dict(rows=8, cols=16, dac_bits=2, adc_bits=3)),
    ("hermes-like", dict(rows=8, cols=16, dac_bits=3, adc_bits=4)),
    ("hermes-like", dict(rows=8, cols=16, dac_bits=4, adc_bits=5)),
    ("hermes-like", dict(rows=8, cols=16, dac_bits=5, adc_bits=6)),
    ("hermes-like", dict(rows=8, cols=16, dac_bits=6, adc_bits=7)),
    ("hermes-like", dict(rows=8, cols=16, adc_bits=3)),
    ("hermes-like", dict(rows=8, cols=16, adc_bits=12)),
    ("hermes-like", dict(rows=8, cols=16, input_phases=2)),
    ("hermes-like", dict(rows=8, cols=16, input_phases=2, dac_bits=4, adc_bits=4)),
    ("hermes-like", dict(rows=8, cols=16, read_phases=4)),
    ("hermes-like", dict(rows=8, cols=16, adc_range="global")),
    ("hermes-like", dict(rows=8, cols=16, adc_range=2.0)),
    ("hermes-like", dict(rows=8, cols=16, dac_range=4.0, adc_bits=6)),
    ("hermes-like", dict(rows=8, cols=16, weight_bits=3, bits_per_cell=1, dac_bits=4, adc_bits=5)),
    ("hermes-like", dict(rows=8, cols=16, weight_bits=4, bits_per_cell=2, adc_range=1.5)),
    ("neurram-like", dict(rows=16, cols=8)),
    ("neurram-like", dict(rows=16, cols=8, dac_bits=2, adc_bits=3)),
    ("neurram-like", dict(rows=16, cols=8, dac_bits=3, adc_bits=4)),
    ("neurram-like", dict(rows=16, cols=8, dac_bits=5, adc_bits=7)),
    ("neurram-like", dict(rows=16, cols=8, dac_bits=6, adc_bits=8)),
    ("neurram-like", dict(rows=16, cols=8, adc_bits=10)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=1, bits_per_cell=1)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=2, bits_per_cell=2)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=3, bits_per_cell=3, adc_bits=5)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=4, bits_per_cell=1)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=4, bits_per_cell=2, adc_range="global")),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=3, bits_per_cell=2, adc_range=2.0)),
    ("neurram-like", dict(rows=16, cols=8, input_phases=2)),
    ("neurram-like", dict(rows=16, cols=8, input_phases=2, dac_bits=8, adc_bits=8)),
    ("neurram-like", dict(rows=16, cols=8, input_phases=2, dac_bits=6, adc_bits=3)),
    ("neurram-like", dict(rows=16, cols=8, adc_range="global", dac_range=3.0)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=None, bits_per_cell=None)),
    ("neurram-like", dict(rows=16, cols=8, accumulator="exact", adc_range=0.75)),
]
KNOB_IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in KNOBS]


@pytest.mark.parametrize("name,kw", KNOBS, ids=KNOB_IDS)
def test_knobs_random_small_integers(name, kw):
    """Random small integers (DAC, weight and ADC ties among them) on small cores: every output exact."""
    t = unit(name, **kw)
    rng = np.random.default_rng(sum(map(ord, repr((name, kw)))))
    for _ in range(10):
        k = int(rng.integers(1, 9))
        n = int(rng.integers(1, 4))
        check(ints(rng, (n, k)), ints(rng, (k, 3)), t)


WALDEN = [
    dict(),                                                        # ideal converters, analog weights
    dict(dac_bits=4),
    dict(dac_bits=4, adc_bits=5),
    dict(dac_bits=2, adc_bits=3),
    dict(dac_bits=6, adc_bits=8, adc_range="global"),
    dict(dac_bits=5, adc_bits=6, adc_range=2.5),
    dict(dac_bits=4, adc_bits=5, dac_range=4.0),
    dict(dac_bits=4, adc_bits=6, weight_bits=3, bits_per_cell=1),
    dict(dac_bits=5, adc_bits=6, weight_bits=4, bits_per_cell=2),
    dict(dac_bits=5, adc_bits=6, weight_bits=3, bits_per_cell=2, adc_range=1.5),
    dict(dac_bits=4, adc_bits=5, input_mode="bit_serial"),
    dict(dac_bits=5, adc_bits=4, input_mode="bit_serial", weight_bits=2, bits_per_cell=1),
    dict(dac_bits=4, adc_bits=5, weight_bits=3, bits_per_cell=1, mapping="offset"),
    dict(dac_bits=4, adc_bits=5, mapping="offset"),
    dict(adc_bits=6),                                              # ideal DAC, real ADC
    dict(dac_bits=4, adc_bits=5, accumulator="exact", read_phases=4),
    dict(dac_bits=4, adc_bits=5, weight_bits=2, bits_per_cell=1, accumulator="fp16"),
]


@pytest.mark.parametrize("kw", WALDEN, ids=[repr(k) for k in WALDEN])
def test_walden_knobs(kw):
    """The 'walden' Crossbar: one analog read of the whole (sliced) weight per column (R6), ideal devices."""
    t = walden(**kw)
    rng = np.random.default_rng(sum(map(ord, repr(kw))))
    for _ in range(10):
        k = int(rng.integers(1, 12))  # up to two tiles along K
        n = int(rng.integers(1, 11))  # up to two along N
        check(ints(rng, (n, k)), ints(rng, (k, 2)), t)


# --------------------------------------------------------------------------- tiling along K and N

@pytest.mark.parametrize("name,kw,k,n", [
    ("neurram-like", dict(), 300, 3),                           # three tiles along K: 128, 128, 44 rows
    ("neurram-like", dict(accumulator="exact"), 257, 2),
    ("neurram-like", dict(rows=16, cols=8), 20, 11),            # 8 weight rows, 8 columns: 3 x 2 tiles
    ("neurram-like", dict(rows=16, cols=8, weight_bits=4, bits_per_cell=1), 17, 5),  # 2 weight columns
    ("hermes-like", dict(), 260, 2),                            # 256 + 4 rows
    ("hermes-like", dict(rows=8, cols=16), 20, 19),             # 8 weight columns
    ("hermes-like", dict(rows=8, cols=16, accumulator="exact"), 20, 19),
])
def test_several_tiles(name, kw, k, n):
    """Each tile scales by its own max |w| and its vector slice's max |x| (R2, R4); partials summed in K order."""
    t = unit(name, **kw)
    rng = np.random.default_rng(k + n)
    w = ints(rng, (n, k))
    w[:, : t.weight_rows()] *= 4  # tiles of different scales
    x = ints(rng, (k, 2), -3, 3)
    x[-1] = 0
    check(w, x, t)


def test_neurram_tiles_k_in_128s():
    """K = 129 on neurram-like is two tiles (128 + 1): the lone last row is its own tile at its own scale."""
    t = unit("neurram-like", accumulator="exact")
    assert t.weight_rows() == 128
    w = np.zeros((2, 129))
    w[0, [0, 127, 128]] = [1.0, -1.0, 1.0]
    w[1, [3, 128]] = [2.0, -5.0]
    x = np.zeros(129)
    x[[0, 3, 127, 128]] = [7.0, 1.0, 2.0, 0.001]
    got = check(w, x, t)[0]
    x0 = x.copy()
    x0[128] = 0.0
    first = check(w, x0, t)[0]
    # the second tile alone: w 1 of its max 5 (level 3 of 15, its column's whole range), x at its own full scale
    assert got[0, 0] - first[0, 0] == pytest.approx(0.001, rel=1e-12)
    assert got[1, 0] - first[1, 0] == pytest.approx(-0.005, rel=1e-12)


def test_ragged_shapes():
    for name in MACROS:
        t = unit(name)
        check(np.array([[1.0, -2.0, 3.0]]), np.array([3.0, -1.0, 2.0]), t)
        check(np.array([[4.0], [-2.0]]), np.array([-5.0]), t)


# ------------------------------------------------------------------------------------ exhaustive sweeps

@pytest.mark.slow  # exhaustive: the quick tier leaves it to the full suite
@pytest.mark.parametrize("name,kw", [
    ("hermes-like", dict(rows=8, cols=16, dac_bits=4, adc_bits=5)),
    ("hermes-like", dict(rows=8, cols=16, dac_bits=4, adc_bits=4, input_phases=2)),
    ("neurram-like", dict(rows=16, cols=8)),
    ("neurram-like", dict(rows=16, cols=8, input_phases=2, adc_bits=4)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=2, bits_per_cell=1, adc_bits=4)),
])
def test_every_input_vector(name, kw):
    """Every input vector of length 3 over the DAC levels (a fourth row of L fixes s_x) against a fixed tiny
    weight matrix: exact, exact ADC ties included (and hit)."""
    t = unit(name, **kw)
    L = 2 ** (t.dac_bits - 1) - 1
    grid = np.array(list(itertools.product(range(-L, L + 1), repeat=3)), dtype=float).T
    x = np.vstack([grid, np.full(grid.shape[1], float(L))])
    w = np.array([[3.0, -1.0, 2.0, 1.0], [0.0, 2.0, -3.0, -1.0]])
    assert check(w, x, t)[2] > 0


@pytest.mark.slow  # exhaustive: the quick tier leaves it to the full suite
def test_every_input_pair_hermes_8bit():
    """Every input vector of length 2 over hermes's 255 DAC levels (a third row of 127 fixes s_x)."""
    t = unit("hermes-like", rows=8, cols=16)
    grid = np.array(list(itertools.product(range(-127, 128, 3), repeat=2)), dtype=float).T
    x = np.vstack([grid, np.full(grid.shape[1], 127.0)])
    check(np.array([[3.0, -1.0, 2.0], [1.0, 2.0, -3.0]]), x, t)


@pytest.mark.parametrize("name,kw", [
    ("neurram-like", dict(rows=16, cols=8)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=4, bits_per_cell=1)),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=4, bits_per_cell=2, adc_range="global")),
    ("neurram-like", dict(rows=16, cols=8, weight_bits=3, bits_per_cell=2, adc_range=1.0)),
    ("hermes-like", dict(rows=8, cols=16)),
])
def test_every_weight_level(name, kw):
    """Every weight level k / Q next to a full-scale weight (hermes: analog weights k / 15), fixed input."""
    t = unit(name, **kw)
    Q = 2 ** t.weight_bits - 1 if t.weight_bits else 15
    x = np.array([[2.0, 1.0], [-1.0, 2.0]])
    w = np.array([[float(k), float(Q)] for k in range(-Q, Q + 1)] + [[float(Q), float(k)] for k in range(-Q, Q + 1)])
    check(w, x, t)


# --------------------------------------------------------------------------------- documented invariances

@pytest.mark.parametrize("name,kw", [("hermes-like", dict(rows=8, cols=16)), ("hermes-like", {}),
                                     ("neurram-like", dict(rows=16, cols=8))])
def test_read_phases_do_not_change_the_numerics(name, kw):
    """R10: read_phases repeats the same read; the numerics model one."""
    t = unit(name, **kw)
    rng = np.random.default_rng(3)
    w, x = rng.standard_normal((9, 20)), rng.standard_normal((20, 3))
    y = analog_matmul(w, x, tile=t)
    for r in (2, 4):
        assert np.array_equal(analog_matmul(w, x, tile=dataclasses.replace(t, read_phases=r)), y)


@pytest.mark.parametrize("name,kw", [("hermes-like", dict(rows=8, cols=16)), ("neurram-like", dict(rows=16, cols=8)),
                                     ("neurram-like", dict(rows=16, cols=8, mapping="offset"))])
def test_g_max_does_not_change_the_numerics(name, kw):
    """R10: g_max_us changes the accuracy only through IR drop: with r_wire_ohm 0 the outputs match the exact
    reference (which has no g_max) at any g_max, and are identical for power-of-two ratios."""
    t = unit(name, **kw)
    rng = np.random.default_rng(5)
    w, x = ints(rng, (5, 8)), ints(rng, (8, 3))
    y = analog_matmul(w, x, tile=t)
    for g in (1.0, 3.0, 0.1, 1e3):
        check(w, x, dataclasses.replace(t, g_max_us=g))
    assert np.array_equal(analog_matmul(w, x, tile=dataclasses.replace(t, g_max_us=2 * t.g_max_us)), y)


# ----------------------------------------------------------------------------------------- laws

small = st.integers(-8, 8).map(float)


@st.composite
def operands(draw):
    n, k, b = draw(st.integers(1, 3)), draw(st.integers(1, 6)), draw(st.integers(1, 2))
    return (np.array(draw(st.lists(small, min_size=n * k, max_size=n * k))).reshape(n, k),
            np.array(draw(st.lists(small, min_size=k * b, max_size=k * b))).reshape(k, b))


EXACT = dict(accumulator="exact")
LAW_TILES = [("hermes-like", dict(rows=4, cols=8, **EXACT)),
             ("hermes-like", dict(rows=4, cols=8, input_phases=2, dac_bits=5, adc_bits=5, **EXACT)),
             ("neurram-like", dict(rows=8, cols=8, **EXACT)),
             ("neurram-like", dict(rows=8, cols=8, input_phases=2, weight_bits=4, bits_per_cell=2, **EXACT))]
LAWS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@pytest.mark.parametrize("name,kw", LAW_TILES)
@LAWS
@given(ops=operands())
def test_law_odd_symmetry(name, kw, ops):
    assert_odd_symmetry(*ops, unit(name, **kw))


@pytest.mark.parametrize("name,kw", LAW_TILES)
@LAWS
@given(ops=operands(), e=st.integers(-6, 6))
def test_law_power_of_two_scaling(name, kw, ops, e):
    w, x = ops
    t = unit(name, **kw)
    y = analog_matmul(w, x, tile=t)
    assert np.array_equal(analog_matmul(w * 2.0 ** e, x * 2.0 ** -e, tile=t), y)
    assert np.array_equal(analog_matmul(w * 2.0 ** e, x, tile=t), y * 2.0 ** e)


@pytest.mark.parametrize("name,kw", LAW_TILES)
@LAWS
@given(ops=operands())
def test_law_idempotent_quantisers(name, kw, ops):
    """Inputs and weights already on their grids (the reference's levels x scale) give the same output."""
    w, x = ops
    t = unit(name, **kw)
    spec = Spec(t)
    if spec.rows < w.shape[1]:
        return
    L = 2 ** (spec.dac_bits - 1) - 1
    xq = np.zeros_like(x)
    for b in range(x.shape[1]):
        s, q = quantise_inputs([Fr(v) for v in x[:, b]], spec)
        xq[:, b] = [float(v * s / L) for v in q]
    y = analog_matmul(w, x, tile=t)
    assert np.array_equal(analog_matmul(w, xq, tile=t), y)
    if spec.wb is not None:
        amax, sl = weight_slices([[Fr(v) for v in r] for r in w], spec)
        if sl is not None:
            wq = np.array([[float(sum((s[j][i] for s in sl), Fr(0)) * amax) for i in range(w.shape[1])]
                           for j in range(w.shape[0])])
            assert np.array_equal(analog_matmul(wq, x, tile=t), y)


@pytest.mark.parametrize("name,kw", LAW_TILES + [("walden", dict(rows=4, cols=4, dac_bits=4, adc_bits=5,
                                                                   weight_bits=3, bits_per_cell=1, **EXACT))])
@LAWS
@given(ops=operands())
def test_law_matches_reference(name, kw, ops):
    w, x = ops
    check(w, x, walden(**kw) if name == "walden" else unit(name, **kw))


# --------------------------------------------------------------------------------------- other documented laws


def test_nothing_else_is_random_or_time_dependent():
    """With ideal devices, out_noise 0, stuck_rate 0 and r_wire_ohm 0 the seed, t_seconds and drift
    compensation change nothing (an ideal device "holds its target exactly, forever"; compensation rescales by
    reference / now = 1)."""
    for t in (unit("neurram-like", rows=16, cols=8), unit("hermes-like", rows=8, cols=16, input_phases=2)):
        rng = np.random.default_rng(0)
        w, x = rng.standard_normal((5, 20)), rng.standard_normal((20, 3))
        y = analog_matmul(w, x, tile=t)
        for seed, ts, comp in itertools.product((1, 99), (0.0, 86400.0), (None, "global", "column")):
            assert np.array_equal(analog_matmul(w, x, tile=t, seed=seed, t_seconds=ts, compensation=comp), y)


@pytest.mark.parametrize("name,kw", [
    ("neurram-like", dict(adc_bits=11)),                     # the neuron ADC has at most 10 bits
    ("neurram-like", dict(input_phases=3)),                  # 1 or 2 phases
    ("neurram-like", dict(dac_bits=2, input_phases=2)),      # more phases than magnitude bits
    ("neurram-like", dict(rows=1)),                          # a row pair needs two rows
    ("neurram-like", dict(input_mode="bit_serial")),         # the periphery's inputs are PWM
    ("neurram-like", dict(weight_bits=4, bits_per_cell=None)),
    ("neurram-like", dict(device="sram")),                   # resistive periphery
    ("hermes-like", dict(cols=1)),                           # a pair needs two columns
    ("hermes-like", dict(dac_bits=None)),                    # a macro's converters have a width
])
def test_documented_refusals(name, kw):
    with pytest.raises(ValueError):
        unit(name, **kw)


def test_documented_tie_band_on_analog_weights():
    """docs/analog.md, "The numerics' rules": the converter takes every value within rows x levels x 2^-49 of a
    level of k + 1/2 as the tie. On analog weights (hermes) a value that is not a tie can lie in that band: here
    u = 127 (1 - e) / (2 - e) = 63.5 - 127 e / 4 + ..., e = 2^-48, which exact rounding takes to 63; the tile
    takes it as the tie and rounds to even, 64, as documented."""
    t = unit("hermes-like", accumulator="exact")
    w, x = np.array([[1 - 2.0 ** -48, 1.0]]), np.array([1.0, 0.0])
    want = ref_matmul(w, x.reshape(-1, 1), t)[0][0][0]
    F = 2 - Fr(2) ** -48
    assert want == Fr(63, 127) * F
    assert analog_matmul(w, x, tile=t)[0] == pytest.approx(float(Fr(64, 127) * F), rel=2.0 ** -50)


# ----------------------------------------------- what the independent reference found (fixed, or documented)

@pytest.mark.parametrize("tile", [walden(rows=2, cols=2, dac_bits=4, adc_bits=5, mapping="offset", accumulator="exact"),
                                  unit("hermes-like", rows=2, cols=4, dac_bits=4, adc_bits=5, mapping="offset",
                                       accumulator="exact"),
                                  unit("hermes-like", mapping="offset", accumulator="exact")],
                         ids=["walden", "hermes-small", "hermes-preset"])
def test_offset_mapping_exact_adc_tie_rounds_to_even(tile):
    """Output 1: weights (1, -1) / 7000 of the tile's max, x = (0, -1): y / F = 1/2, u = La / 2 = k + 1/2, an exact
    tie that rounds to even (docs/analog.md, "The numerics' rules"); the offset mapping subtracts its reference
    before the conversion, so the ADC converts the same signed sum as a differential pair (`mapping` row)."""
    w, x = np.array([[7000.0, 0.0], [1.0, -1.0]]), np.array([0.0, -1.0])
    assert ref_matmul(w, x.reshape(-1, 1), tile)[2] > 0
    # the level is the even one (round-off used to decide it: 7 of 15); the value carries the offset round-off,
    # far below one LSB (0.13 here)
    check(w, x, tile, atol=offset_atol(w, x, tile))


def test_offset_mapping_precision_of_a_small_column():
    """A column 1000x below the tile's max |w| on the offset mapping: exact to the documented bound relative
    to the tile's max |w| (offset_atol), though not to 64 ulps of its own full scale (about 4e3 of them)."""
    t = walden(rows=2, cols=2, dac_bits=4, adc_bits=5, mapping="offset", accumulator="exact")
    w, x = np.array([[1000.0, 0.0], [1.0, -1.0]]), np.array([0.0, -1.0])
    check(w, x, t, atol=offset_atol(w, x, t))
    with pytest.raises(AssertionError, match="outputs differ"):
        check(w, x, t)


@pytest.mark.parametrize("name", MACROS + ("walden",))
def test_column_range_of_a_tiny_column(name):
    """`adc_bits` row: "column" is the column's full-scale sum of |w|, whatever its size (a floor of 1e-12 on
    it read 1e-14 as 7.87e-15; only an all-zero column, which reads 0, takes a placeholder range)."""
    t = walden(dac_bits=8, adc_bits=8) if name == "walden" else unit(name, weight_bits=None, bits_per_cell=None)
    check(np.array([[1.0], [1e-14]]), np.array([1.0]), t)


def test_a_small_fixed_range_keeps_exact_ties_even():
    """The tie band follows the column's own sum of |w| over the range: with a fixed adc_range far below it
    (here 127 / 2^13 against a column sum near 256), an exact tie used to land on either level by round-off."""
    rows, r = 256, 127 / 2 ** 13
    t = walden(rows=rows, cols=2, dac_bits=2, adc_bits=8, adc_range=r, accumulator="exact")
    for seed in range(20):
        rng = np.random.default_rng(seed)
        a = rng.uniform(0.3, 0.99, (rows - 4) // 2)
        k = int(rng.integers(0, 100))
        col = np.concatenate([[1.0], a, [-1.0], -a[::-1] if seed % 2 else -a, [(2 * k + 1) * 2.0 ** -14, 0.0]])
        u = sum((Fr(float(v)) for v in col), Fr(0)) / Fr(r) * 127
        assert u.denominator == 2  # an exact tie, k + 1/2
        got = analog_matmul(np.stack([col, np.zeros(rows)]), np.ones(rows), tile=t)[0]
        assert got == pytest.approx(float(round(u) / Fr(127) * Fr(r)), rel=1e-9)


def test_a_column_of_no_weight_reads_zero_under_output_noise():
    """Output noise is added before the conversion; a column that holds no weight converts nothing and reads 0
    (it once took a 1e-12 range, then for a while a placeholder range of 1 that let the noise through)."""
    t = walden(rows=16, cols=4, adc_bits=8, out_noise=0.1)
    x = np.random.default_rng(1).uniform(-1, 1, (16, 64))
    y = analog_matmul(np.array([[1.0] * 16, [0.0] * 16]), x, tile=t, seed=3)
    assert np.all(y[1] == 0.0) and np.count_nonzero(y[0]) > 0


def test_the_tie_band_stops_at_a_quarter_level():
    """A column 1e14 below the tile's largest |w| on the offset mapping: its round-off spans several levels,
    and a band that covered every value would make every level even; the band stops at 1/4, so odd levels
    still come out and every output stays within the documented absolute bound."""
    t = walden(rows=2, cols=2, dac_bits=8, adc_bits=8, mapping="offset", accumulator="exact")
    w, xs = np.array([[1.0, 0.0], [1e-14, -0.5e-14]]), np.stack([np.linspace(-1, 1, 101), np.ones(101)])
    y = analog_matmul(w, xs, tile=t)[1]
    levels = np.rint(y / 1.5e-14 * 127)
    assert np.any(levels % 2 != 0)
    assert np.all(np.abs(y - (xs[0] * 1e-14 - 0.5e-14)) <= 1.5e-14 / 127 + offset_atol(w, xs, t))
