"""Components of an analog or SRAM compute-in-memory macro, each with its own energy, latency and area per
action and the physics that sets them (CiMLoop's decomposition: Andrulis et al., ISPASS 2024).

Energies are pJ, times seconds, areas um^2. Each function returns the cost of one action of one
instance; accel.analog.macros counts the actions of an MVM and sums.

- ADC by architecture (B. Murmann, "ADC Performance Survey 1997-2024", and the textbook structure of each):
  SAR: one comparator decision and capacitor-DAC switch per bit, so energy and time per bit cycle;
  flash: 2^bits - 1 comparators fire at once, one decision time; integrating (single slope) and
  counting (CCO) ADCs: 2^bits time steps, energy per step; the integrate-and-fire neuron of NeuRRAM
  (Wan et al., Nature 2022): one charge-decrement step per output bit, energy and time linear in bits.
- Inputs: PWM: 2^N - 1 unit pulses for an N-bit magnitude slice (time and driver energy per pulse,
  scaled by the input magnitude: a row is on only for |x| of the window); bit-serial: one phase per bit
  (driver energy per bit set); multi-level voltage DAC (C-2C / R-2R ladder): one conversion per row,
  energy linear in bits (one ladder element per bit).
- Array: resistive cells dissipate G V^2 t while driven; charge-domain cells C V^2 per activation, only
  where the input and weight bits are both set (the output magnitude).
- Digital shift-add: one integer add per conversion of the ADC width plus the shift (Horowitz ISSCC 2014,
  accel.energy, scaled to the node and supply).
- Supply scaling: dynamic energy C V^2 (V^2 at a fixed capacitance); gate delay by the alpha-power law
  t ~ V / (V - V_th)^alpha (Sakurai and Newton, IEEE JSSC 25(2), 584, 1990; alpha = 1.3 for
  velocity-saturated short-channel devices, their fit).
"""

ADC_KINDS = ("sar", "flash", "integrating", "cco", "neuron")
DAC_KINDS = ("pwm", "bit_serial", "voltage")
CELL_KINDS = ("resistive", "charge")

# Largest resolution each ADC architecture is built with (Murmann survey: flash converters stop at about 8
# bits because their comparator count doubles per bit; SAR designs reach about 18 bits, integrating and
# counting ones about 16 (their time doubles per bit); NeuRRAM's neuron converts 1-10 bits (Wan et al.
# 2022, Fig. 2)). adc_bits above the range raises.
ADC_MAX_BITS = {"sar": 18, "flash": 8, "integrating": 16, "cco": 16, "neuron": 10}

# Alpha-power law (Sakurai and Newton 1990): alpha = 1.3 fitted there for short-channel devices; V_th a
# representative standard-Vt threshold (0.35 V, inside the 0.3-0.45 V that planar to FinFET nodes use:
# this model's choice, not a per-chip measurement).
ALPHA = 1.3
VTH_V = 0.35

# The supplies the model prices. Below: the alpha-power law and C V^2 are strong-inversion laws with no
# leakage term, so supplies approaching V_th (near-threshold operation, where leakage energy and an
# exponential delay take over: Dreslinski et al., Proc. IEEE 98(2), 253, 2010) are refused; 0.6 V = V_th +
# 0.25 V, just under the lowest supply the validation covers (0.65 V, Sinangil et al. 2021 Fig. 13b). Above:
# at most 1.5x the periphery's reference supply, past the widest validated step (Jia et al. 2020: 0.85 to
# 1.2 V, 1.41x); beyond it the devices leave their rated range. Both are this model's limits, not fits.
VDD_MIN_V = 0.6
VDD_MAX_RATIO = 1.5


def adc_steps(kind: str, bits: int) -> int:
    """Steps one conversion takes: bit cycles (SAR, neuron), comparators (flash), time steps (integrating,
    CCO)."""
    if kind in ("sar", "neuron"):
        return bits
    if kind == "flash":
        return 2 ** bits - 1
    return 2 ** bits


def adc_conversion(kind: str, bits: int, step_pj: float, step_s: float) -> tuple[float, float]:
    """(pJ, s) of one conversion: energy per step x steps; time per step x steps, except flash (one
    decision of all comparators at once)."""
    n = adc_steps(kind, bits)
    return step_pj * n, step_s * (1 if kind == "flash" else n)


def input_slice(kind: str, bits: int, step_pj: float, step_s: float, activity: float) -> tuple[float, float]:
    """(pJ, s) of one row driving an input slice of `bits` magnitude bits: PWM 2^bits - 1 pulses (energy
    x the mean magnitude: a row is driven for |x| of the window); bit-serial one bit (energy x the
    fraction of bits set); voltage DAC one conversion of `bits` (ladder energy linear in bits)."""
    if kind == "pwm":
        n = 2 ** bits - 1
        return step_pj * n * activity, step_s * n
    if kind == "bit_serial":
        return step_pj * activity, step_s
    return step_pj * bits, step_s


def resistive_cell_pj(g_us: float, v_read: float, t_on_s: float) -> float:
    """G V^2 t of one resistive cell driven for t_on."""
    return g_us * 1e-6 * v_read ** 2 * t_on_s * 1e12


def charge_cell_pj(c_ff: float, v: float, activity: float) -> float:
    """C V^2 of one capacitor cell, times the fraction of activations that charge it."""
    return c_ff * 1e-3 * v ** 2 * activity


def supply_energy_scale(vdd_v: float, vdd_ref_v: float) -> float:
    """Dynamic energy at vdd relative to the reference supply: (V / V_ref)^2."""
    return (vdd_v / vdd_ref_v) ** 2


def supply_delay_scale(vdd_v: float, vdd_ref_v: float, vth_v: float = VTH_V, alpha: float = ALPHA) -> float:
    """Gate delay at vdd relative to the reference supply, alpha-power law."""
    return (vdd_v / (vdd_v - vth_v) ** alpha) / (vdd_ref_v / (vdd_ref_v - vth_v) ** alpha)


def shift_add_pj(bits: int, node_nm: float, vdd_v: float) -> float:
    """One integer add of `bits` (Horowitz 45 nm power law, accel.energy; widths past 32 bits cost a 32-bit
    add: a wider shift-add carries its top bits in a second cycle) at the node and supply."""
    from numerics import IntFormat

    from ..energy import add_pj, node_scale
    return add_pj(IntFormat(bits=max(2, min(bits, 32)), signed=True)) * node_scale(node_nm, vdd_v)


def magnitude_bits(dac_bits: int) -> int:
    """Magnitude bits of a signed input of dac_bits."""
    return max(1, dac_bits - 1)


def split_bits(bits: int, phases: int) -> tuple[int, ...]:
    """`bits` magnitude bits in `phases` slices, most significant first, as equal as they can be."""
    base, extra = divmod(bits, phases)
    return tuple(base + (1 if i < extra else 0) for i in range(phases))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)
