"""Rounding modes (IEEE 754-2019 §4.3 names, plus round-to-odd and stochastic)."""

from enum import IntEnum

import kernels


class RoundMode(IntEnum):
    """How a value between two representable neighbours is rounded.

    TIES_TO_EVEN / TIES_TO_AWAY / TOWARD_ZERO / TOWARD_POSITIVE / TOWARD_NEGATIVE are IEEE 754-2019
    §4.3. TO_ODD truncates and sets the last code bit when inexact (Boldo & Melquiond 2008).
    STOCHASTIC adds `sr_bits` random bits below the kept last bit and truncates, so a value rounds
    away from zero with probability equal to its discarded fraction (to `sr_bits` bits).
    """

    TIES_TO_EVEN = kernels.RNE
    TIES_TO_AWAY = kernels.RNA
    TOWARD_ZERO = kernels.RZ
    TOWARD_POSITIVE = kernels.RU
    TOWARD_NEGATIVE = kernels.RD
    TO_ODD = kernels.RO
    STOCHASTIC = kernels.SR
