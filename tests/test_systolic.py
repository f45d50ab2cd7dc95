"""Systolic-array compute cycles against SCALE-Sim v3's closed forms and its printed totals."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accel.systolic import Dataflow, compute_cycles, fold_cycles, folds, scalesim_cycles, utilisation


def test_scalesim_reference_totals():
    # DESIGN.md / SCALE-Sim v3: 512^3 on 32 x 32 prints 146,943 (OS) and 155,135 (WS)
    assert scalesim_cycles(512, 512, 512, 32, 32, Dataflow.OS) == 146_943
    assert scalesim_cycles(512, 512, 512, 32, 32, Dataflow.WS) == 155_135
    assert scalesim_cycles(512, 512, 512, 32, 32, Dataflow.IS) == 155_135  # symmetric for a cube


def test_tiny_hand_derived():
    # 2x2 array, M=3, N=2, K=4, output stationary: ceil(3/2) * ceil(2/2) = 2 folds of 4 + 2 + 2 - 2 = 6
    assert folds(3, 2, 4, 2, 2, Dataflow.OS) == 2
    assert fold_cycles(3, 2, 4, 2, 2, Dataflow.OS) == 6
    assert compute_cycles(3, 2, 4, 2, 2, Dataflow.OS) == 12
    # weight stationary: ceil(4/2) * ceil(2/2) = 2 folds of 3 + 4 + 2 - 2 = 7
    assert compute_cycles(3, 2, 4, 2, 2, Dataflow.WS) == 14
    # input stationary: ceil(4/2) * ceil(3/2) = 4 folds of 2 + 4 + 2 - 2 = 6
    assert compute_cycles(3, 2, 4, 2, 2, Dataflow.IS) == 24


@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 300), st.integers(1, 64), st.integers(1, 64),
       st.sampled_from(list(Dataflow)))
def test_invariants(m, n, k, r, c, df):
    cyc = compute_cycles(m, n, k, r, c, df)
    assert cyc >= m * n * k / (r * c)  # never beats the MAC bound
    assert 0 < utilisation(m, n, k, r, c, df) <= 1
    # a bigger problem never takes fewer cycles
    assert compute_cycles(m + 1, n, k, r, c, df) >= cyc and compute_cycles(m, n, k + 1, r, c, df) >= cyc


def test_errors():
    with pytest.raises(ValueError, match="rows must be a positive int"):
        compute_cycles(4, 4, 4, 0, 4, Dataflow.OS)
    with pytest.raises(TypeError, match="dataflow must be a Dataflow"):
        compute_cycles(4, 4, 4, 4, 4, "os")
