"""Rounding onto an explicit sorted level set with exact decision thresholds (lookup and log formats)."""

import numpy as np

from ..rounding import RoundMode

RNE, RNA, RZ, RU, RD, RO, SR = (RoundMode.TIES_TO_EVEN, RoundMode.TIES_TO_AWAY, RoundMode.TOWARD_ZERO,
                                RoundMode.TOWARD_POSITIVE, RoundMode.TOWARD_NEGATIVE, RoundMode.TO_ODD,
                                RoundMode.STOCHASTIC)


def round_to_levels(x: np.ndarray, levels: np.ndarray, thresholds: np.ndarray, exact: np.ndarray,
                    codes: np.ndarray, mode: int, saturate: bool, key) -> tuple[np.ndarray, np.ndarray]:
    """Codes of float64 x rounded onto sorted `levels` (with their `codes`).

    Between levels j and j+1 the nearest-rounding decision is `x <= thresholds[j]` -> j, except that
    `x == thresholds[j]` is a tie when `exact[j]` (the threshold is the true boundary). Ties go to the
    even code (TIES_TO_EVEN) or the larger magnitude (TIES_TO_AWAY). Directed modes follow the value
    order, TO_ODD picks the odd code, STOCHASTIC rounds up with probability (x - lo) / (hi - lo).
    Returns (codes, invalid) where invalid marks NaN/inf, and values outside [levels[0], levels[-1]]
    when not saturating.
    """
    mode = RoundMode(mode)
    finite = np.isfinite(x)
    xs = np.where(finite, x, 0.0)
    n = levels.size
    idx = np.clip(np.searchsorted(levels, xs, side="right") - 1, 0, n - 2)
    lo, hi = levels[idx], levels[idx + 1]
    clo, chi = codes[idx], codes[idx + 1]
    on_lo = xs == lo
    if mode in (RNE, RNA):
        t = thresholds[idx]
        tie = (xs == t) & exact[idx]
        up = (xs > t) & ~tie
        if mode == RNE:
            up |= tie & (clo % 2 == 1)
        else:
            up |= tie & (np.abs(hi) > np.abs(lo))
    elif mode == RZ:
        up = xs < 0
    elif mode == RU:
        up = np.ones(xs.shape, bool)
    elif mode == RD:
        up = np.zeros(xs.shape, bool)
    elif mode == RO:
        up = clo % 2 == 0
    else:
        u = np.random.default_rng(int(key)).random(xs.shape)
        up = u < (xs - lo) / (hi - lo)
    up = (up & ~on_lo) | (xs == hi)  # hi is hit only at the top level (idx is clipped)
    out = np.where(up, chi, clo)
    below, above = xs < levels[0], xs > levels[-1]
    out = np.where(below, codes[0], np.where(above, codes[-1], out))
    invalid = ~finite | (~saturate & (below | above))
    return out, invalid


def threshold_below(is_above, approx: float) -> float:
    """Largest float64 t with is_above(t) False, for a monotone predicate (False below the true
    boundary, True above) whose boundary is near `approx`: walk float64 neighbours from there."""
    t = float(approx)
    while is_above(t):
        t = float(np.nextafter(t, -np.inf))
    while not is_above(float(np.nextafter(t, np.inf))):
        t = float(np.nextafter(t, np.inf))
    return t
