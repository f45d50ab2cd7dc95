"""Energy per action: Horowitz's 45 nm figures, interpolation rules between them, and node scaling.

Every number here comes from one source, M. Horowitz, "Computing's energy problem (and what we can do
about it)", ISSCC 2014, keynote, Table/Fig. 1 (45 nm, 0.9 V):

    int8 add 0.03 pJ, int32 add 0.1 pJ, int8 mult 0.2 pJ, int32 mult 3.1 pJ,
    fp16 add 0.4 pJ, fp32 add 0.9 pJ, fp16 mult 1.1 pJ, fp32 mult 3.7 pJ,
    SRAM 64-bit read 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB); DRAM 1.3-2.6 nJ per 64 bits.

Formats Horowitz did not measure are interpolated with a power law through his two points of the
same kind (the exponents below are computed, not chosen):

- float multiply ~ p^a, p = significand bits with the hidden bit (fp16 p = 11 -> 1.1 pJ, fp32 p = 24 ->
  3.7 pJ, so a = ln(3.7/1.1)/ln(24/11) = 1.55); an E4M3 product (p = 4) costs 0.23 pJ;
- integer multiply ~ b^a through int8 0.2 / int32 3.1 pJ (a = 1.98: the quadratic array multiplier);
- integer add ~ b^a through int8 0.03 / int32 0.1 pJ (a = 0.87, near-linear ripple/carry-select);
- float add ~ bits^a through fp16 0.4 / fp32 0.9 pJ;
- SRAM: Horowitz's three 64-bit reads (HOROWITZ_SRAM_64B_PJ) are kept as a check only; the model's SRAM
  energy is CACTI 7's (accel.memory_model.sram_pj_per_byte, by capacity, access width and node), and
  docs/constants.md reports its ratio to these points;
- DRAM: DDR-class off-chip DRAM at 1.3 nJ per 64-bit access (162.5 pJ/B, the low end of Horowitz's
  1.3-2.6 nJ); HBM2 at 3.9 pJ/bit (31.2 pJ/B; O'Connor et al., "Fine-Grained DRAM: Energy-Efficient
  DRAM for Extreme Bandwidth Systems", MICRO 2017). A memory level with a `technology` takes that
  technology's figure instead (accel.memory_model.DRAM_PJ_PER_BIT: LPDDR4/5, GDDR5/6, HBM2/2E/3/3E).
  DRAM energy is not scaled with the node.

Node scaling (logic and SRAM only): first-order CMOS switching energy C V^2 with capacitance in
proportion to the feature size (Dennard et al., IEEE JSSC 1974):  E(node, V) = E_45 x (node / 45 nm) x
(V / 0.9 V)^2. The energies here are dynamic energies per action; leakage (power density x area x time)
is accel.memory_model's.
"""

import math

_NODE0_NM = 45.0
_VDD0_V = 0.9

# Horowitz ISSCC 2014, 45 nm / 0.9 V, pJ per operation
_INT_ADD = {8: 0.03, 32: 0.1}
_INT_MUL = {8: 0.2, 32: 3.1}
_FP_ADD = {16: 0.4, 32: 0.9}
_FP_MUL = {11: 1.1, 24: 3.7}       # keyed by significand bits (fp16 p = 11, fp32 p = 24)
# Horowitz ISSCC 2014, 45 nm: pJ per 64-bit SRAM read by capacity (bytes); a check on the CACTI fit, not
# used by the model
HOROWITZ_SRAM_64B_PJ = {8 * 1024: 10.0, 32 * 1024: 20.0, 1024 * 1024: 100.0}
# DRAM per byte moved: DDR-class off-chip DRAM at Horowitz's 1.3 nJ per 64-bit access (the low end of his
# 1.3-2.6 nJ); HBM2 at 3.9 pJ/bit (O'Connor et al., "Fine-Grained DRAM", MICRO 2017). For a pinned level
# (technology ""); per-technology figures, HBM3/HBM3E among them, are accel.memory_model.DRAM_PJ_PER_BIT.
DRAM_PJ_PER_BYTE = {"ddr": 1300.0 / 8, "hbm": 3.9 * 8}


def _power_law(points: dict, x: float) -> float:
    """The power law y = y0 (x / x0)^a through two (x, y) points, evaluated at x."""
    (x0, y0), (x1, y1) = sorted(points.items())
    a = math.log(y1 / y0) / math.log(x1 / x0)
    return y0 * (x / x0) ** a


def node_scale(node_nm: float, vdd_v: float) -> float:
    """Factor from 45 nm / 0.9 V energies to another node and supply: (node/45) (V/0.9)^2."""
    return (node_nm / _NODE0_NM) * (vdd_v / _VDD0_V) ** 2


def multiply_pj(fmt) -> float:
    """Energy of one multiply of two `fmt` operands at 45 nm (Horowitz points, power-law between them)."""
    from numerics import FloatFormat, IntFormat
    if isinstance(fmt, FloatFormat):
        return _power_law(_FP_MUL, fmt.man_bits + 1)
    if isinstance(fmt, IntFormat):
        return _power_law(_INT_MUL, fmt.bits)
    # posits, logarithmic and lookup formats: a multiplier of their significand/index width
    return _power_law(_INT_MUL, fmt.bits)


def add_pj(fmt) -> float:
    """Energy of one add in `fmt` (the accumulator's format) at 45 nm."""
    from numerics import FloatFormat
    if isinstance(fmt, FloatFormat):
        return _power_law(_FP_ADD, fmt.bits)
    return _power_law(_INT_ADD, fmt.bits)


def mac_pj(element, accumulator) -> float:
    """One multiply-accumulate at 45 nm: a product of two `element` operands plus one add in the
    accumulator's number system (int32 for integer accumulators, the quire as a wide integer, the
    accumulator's float format otherwise)."""
    from numerics import AccMethod, get_format
    if accumulator.method == AccMethod.INTEGER:
        acc_fmt = get_format(f"int{accumulator.int_bits}") if accumulator.int_bits <= 32 else get_format("int32")
    elif accumulator.out_format is None:  # the quire: a 16n-bit fixed-point adder
        return multiply_pj(element) + _power_law(_INT_ADD, 16 * element.bits)
    else:
        acc_fmt = accumulator.out_format
    return multiply_pj(element) + add_pj(acc_fmt)

