"""Compute-in-memory macros as sums of components (accel.analog.components): the constants of one
macro's periphery (`Periphery`), and the cost of one MVM on it (`mvm_cost`): energy per component,
latency and area, following the data where the physics does.

One MVM pushes one input vector through one array of `rows` x `cols` cells:
- the input's magnitude bits (dac_bits - 1) are split into slices: `input_phases` near-equal slices for PWM
  inputs (2^s - 1 pulses each), one slice per bit for bit-serial inputs, one conversion for a voltage DAC;
- each slice is integrated on every column, converted by the ADCs (each weight's cells are summed in
  the analog domain in the groups `conversion_groups` gives, a differential pair or up to
  `cols_per_conversion` bit columns on a capacitor ladder, one conversion per group: a weight never
  shares one; `adc_share` conversions per ADC in series) and shift-added digitally; a later PWM
  slice is converted to adc_bits less the bits of the slices before it (its result lies that many bits
  below the output's MSB; Wan et al. 2022, two-phase), and the tile's numerics convert it the same way;
- `read_phases` repeats the analog read (HERMES's four-phase mode): drivers, cells, integration and
  conversion, and their time, once per phase; the phases' counts add up in the converters' counters and
  the digital datapath (`digital`) acts once per output of the MVM; a counting converter fed during the
  input (`adc_during_input`, HERMES's CCO) is read out and reset once (`phase_s`), not once per phase.
Data statistics: `x_act` (what the DAC emits, on its codes, in the unit the periphery spends per input: the
fraction of magnitude bits set for bit-serial inputs and per-bit drivers, the pulses' duty for PWM, the mean level
for a voltage DAC; accel.analog.cost.input_activity takes it from a workload) and `w_act` (analog weights: mean
|w| / max |w|, each over its own tile; bit-sliced weights: the mean |cell value| of sign-magnitude slices, the
fraction of cells storing a 1 bit for two's complement and XNOR; as accel.analog.cost.mean_abs_fractions takes
them from a workload). PWM and bit-serial drivers spend energy in proportion to x_act; charge-domain cells in
proportion to x_act * w_act (a cell charges only where its input bit and its stored bit are both 1: the output
magnitude); resistive cells
G v_read^2 t at their own read voltage, so with the supply their energy follows the pulse length (the
delay law), not V^2, and their mean G follows the cells the encoding programs (`conductance_fraction`).
"""

import math
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from ..checks import check_int, check_real, check_str
from . import components as C

COMBINES = ("ladder", "pair", "row_pair")  # what one conversion sums (Periphery.combine)
ENERGY_PARTS = ("adc", "dac", "array", "integrator", "control", "digital")  # one MVM's energy, per component (_cost)
# the weight encodings of one bit per cell (Crossbar.weight_encoding): (the fewest weight_bits, the cell values of a
# stored 1 bit and a stored 0 bit); one two's complement bit would be only a sign. Sign-magnitude's 1 bit takes its
# weight's sign (crossbar._bit_values).
BIT_CELLS = {"twos_complement": (2, 1.0, 0.0), "xnor": (1, 1.0, -1.0)}


@dataclass(frozen=True)
class Periphery:
    """The per-action constants of one macro's components at the supply `vdd_ref_v` (pJ, s, um^2).

    Fields: `cell` ("resistive" or "charge"); ADC `adc_kind`, `adc_step_pj`, `adc_step_s` (per step:
    bit cycle, comparator or time step), `adc_area_um2` at `adc_ref_bits`; input `dac_kind`,
    `dac_step_pj` (per row per pulse / bit / ladder bit, at full magnitude), `dac_step_s`,
    `dac_area_um2` (per row, drivers included);
    `cell_pj` (charge cells: per cell per activation at full
    activity), `cell_area_um2`; `integrator_pj` (per column per integration step), `sample_pj` (per column per input
    magnitude bit: sampling the settled column onto the integrator's sampling capacitor, the column wire's
    precharge), `column_area_um2`
    (integrator, sample-and-hold, neuron: per column); `row_wire_pj` (per cell along a driven row per
    pulse or bit at full magnitude: the row wire's C V^2 grows with the cells it passes); `control_pj`
    (per cell along a column per input magnitude bit: word-line switching, C V^2 of the column's wire);
    `phase_s` (per slice and read phase: sampling, phase change; for a counting converter,
    `adc_during_input`, once per slice whatever read_phases: its counter's read-out and reset);
    `drive_per_bit` (PWM timing only: the row drivers switch once per input magnitude bit and the
    integrator repeats bit i's sample 2^i times, so driver and row-wire energy follow the bits, time and
    integration steps the 2^s - 1 unit steps); `pulse_s`
    (resistive cells: conduction time per unit input pulse, for G V^2 t); `digital_pj` (per conversion:
    near-memory datapath, None: a Horowitz integer adder at the node and supply); `digital_per_output`
    (digital_pj is spent once per output of the MVM instead, HERMES's per-output affine scaling, and the
    conversions past an output's first are combined by Horowitz integer shift-adds);
    `digital_area_um2` (per ADC); `misc_area_um2` (per array); `cols_per_conversion` and `combine`
    (what one conversion sums in the analog domain: "ladder", up to cols_per_conversion bit slices of one
    polarity, binary-weighted; "pair", the two devices of one slice on columns of their own, subtracted:
    cols_per_conversion 2; "row_pair", the two devices of one slice on adjacent rows of one column, driven
    with opposite inputs so the column sums their difference: cols_per_conversion 1, and a tile of `rows`
    holds rows / 2 weight rows);
    `node_nm` (the node the constants were measured at: it prices only what is costed from Horowitz's figures,
    the digital adders, and rescales none of the other constants);
    `adc_during_input` (a counting converter fed by the column current, HERMES's CCO: it counts while the
    inputs drive, so a slice takes the longer of the input window and the count, not their sum; columns
    sharing one converter each need their own window);
    `x_act_ref`, `w_act_ref` (the data of the paper's headline figures, for `peak_ops_per_j`)."""

    name: str
    cell: str
    adc_kind: str
    adc_step_pj: float
    adc_step_s: float
    dac_kind: str
    dac_step_pj: float
    dac_step_s: float
    vdd_ref_v: float
    node_nm: float
    cell_pj: float = 0.0
    integrator_pj: float = 0.0
    sample_pj: float = 0.0
    control_pj: float = 0.0
    row_wire_pj: float = 0.0
    phase_s: float = 0.0
    pulse_s: float = 0.0
    drive_per_bit: bool = False
    adc_during_input: bool = False
    digital_pj: float | None = None
    digital_per_output: bool = False
    cols_per_conversion: int = 1
    combine: str = "ladder"
    adc_ref_bits: int = 8
    adc_area_um2: float = 0.0
    dac_area_um2: float = 0.0
    cell_area_um2: float = 0.0
    column_area_um2: float = 0.0
    digital_area_um2: float = 0.0
    misc_area_um2: float = 0.0
    x_act_ref: float = 0.5
    w_act_ref: float = 0.5
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        own = "Periphery"
        check_str(own, "name", self.name)
        if not isinstance(self.source, str):  # free text, "" allowed: where the constants come from
            raise TypeError(f"{own}.source must be a str (where the constants come from; '' for none), got "
                            f"{self.source!r}")
        check_str(own, "cell", self.cell, C.CELL_KINDS)
        check_str(own, "adc_kind", self.adc_kind, C.ADC_KINDS)
        check_str(own, "dac_kind", self.dac_kind, C.DAC_KINDS)
        for f in ("vdd_ref_v", "node_nm"):
            object.__setattr__(self, f, check_real(own, f, getattr(self, f), lo=0))
        for f in ("adc_step_pj", "adc_step_s", "dac_step_pj", "dac_step_s", "cell_pj", "integrator_pj", "sample_pj",
                  "control_pj", "row_wire_pj", "phase_s", "pulse_s", "adc_area_um2", "dac_area_um2", "cell_area_um2",
                  "column_area_um2", "digital_area_um2", "misc_area_um2"):
            object.__setattr__(self, f, check_real(own, f, getattr(self, f), lo=0, lo_open=False))
        if self.digital_pj is not None:
            object.__setattr__(self, "digital_pj", check_real(own, "digital_pj", self.digital_pj, lo=0,
                                                              lo_open=False, desc="None or a number >= 0"))
        for f in ("x_act_ref", "w_act_ref"):
            object.__setattr__(self, f, check_real(own, f, getattr(self, f), lo=0, hi=1, lo_open=False))
        object.__setattr__(self, "cols_per_conversion", check_int(own, "cols_per_conversion",
                                                                  self.cols_per_conversion))
        object.__setattr__(self, "adc_ref_bits", check_int(own, "adc_ref_bits", self.adc_ref_bits, lo=1,
                                                           hi=C.ADC_MAX_BITS[self.adc_kind]))
        check_str(own, "combine", self.combine, COMBINES)
        need = {"pair": 2, "row_pair": 1}.get(self.combine)
        if need is not None and self.cols_per_conversion != need:
            where = "on two columns" if self.combine == "pair" else "on two rows of one column"
            raise ValueError(f"{own}.combine {self.combine!r} sums the two devices of a differential pair {where}: "
                             f"cols_per_conversion must be {need}, got {self.cols_per_conversion}")
        for f in ("drive_per_bit", "adc_during_input", "digital_per_output"):  # numpy's bools normalised
            v = getattr(self, f)
            if not isinstance(v, bool | np.bool_):
                raise TypeError(f"{own}.{f} must be a bool, got {v!r}")
            object.__setattr__(self, f, bool(v))
        if self.digital_per_output and self.digital_pj is None:
            raise ValueError(f"{own}.digital_per_output spends digital_pj once per output: give digital_pj (pJ per "
                             f"output), got None")
        # fields the periphery's cells or converter never read (audit s34): a Crossbar refuses its own likewise
        if self.cell == "resistive" and self.cell_pj != 0:
            raise ValueError(f"{own}.cell_pj prices charge-domain cells; resistive cells spend G v_read^2 t per pulse "
                             f"(pulse_s): leave cell_pj 0, got {self.cell_pj}")
        if self.cell == "charge" and self.pulse_s != 0:
            raise ValueError(f"{own}.pulse_s is a resistive cell's conduction time per pulse; charge-domain cells "
                             f"spend cell_pj per activation: leave pulse_s 0, got {self.pulse_s}")
        if self.adc_during_input and self.adc_kind != "cco":
            raise ValueError(f"{own}.adc_during_input is a counting converter fed by the column current while the "
                             f"inputs drive (adc_kind 'cco', HERMES's); a {self.adc_kind!r} ADC converts a settled "
                             f"result after them: leave it False")
        if self.drive_per_bit and self.cell == "resistive" and self.pulse_s > 0:  # review s34: one x_act for both
            raise ValueError(f"{own}.drive_per_bit prices the drivers per input bit set, but resistive cells pulsed "
                             f"for pulse_s conduct per unit pulse: the two need different activities, which one MVM's "
                             f"x_act cannot carry; price the cells inside the per-bit drivers (pulse_s 0, NeuRRAM's "
                             f"calibration) or drive them per pulse (drive_per_bit False)")
        if self.drive_per_bit and self.dac_kind != "pwm":
            raise ValueError(f"{own}.drive_per_bit applies to PWM-timed inputs (dac_kind 'pwm'), got dac_kind "
                             f"{self.dac_kind!r}")
        if self.adc_step_s == 0 and self.dac_step_s == 0 and self.phase_s == 0:
            raise ValueError(f"{own}: adc_step_s, dac_step_s and phase_s are all 0, so an MVM would take no time (and "
                             f"its throughput would be infinite); give the converters' or the inputs' time")
        energies = ("adc_step_pj", "dac_step_pj", "integrator_pj", "sample_pj", "control_pj", "row_wire_pj") + \
            (("cell_pj",) if self.cell == "charge" else ())  # resistive cells spend G V^2 t: pulse_s, not cell_pj
        if (all(getattr(self, f) == 0 for f in energies) and self.digital_pj == 0
                and not (self.cell == "resistive" and self.pulse_s > 0)):
            raise ValueError(f"{own}: {', '.join(energies)} and digital_pj are all 0 (and no resistive cell is "
                             f"pulsed), so an MVM would cost no energy (and its TOPS/W would be infinite); give the "
                             f"components' energy")
        if self.vdd_ref_v < C.VDD_MIN_V:
            raise ValueError(f"Periphery.vdd_ref_v must be at least {C.VDD_MIN_V} V (the model's laws hold in strong "
                             f"inversion, above the {C.VTH_V} V threshold), got {self.vdd_ref_v}")


def input_slices(xbar) -> tuple[int, ...]:
    """Magnitude bits of each input slice (most significant first)."""
    m = C.magnitude_bits(xbar.dac_bits)
    kind = xbar.periphery.dac_kind
    if kind == "bit_serial":
        return (1,) * m
    if kind == "voltage":
        return (m,)
    return C.split_bits(m, xbar.input_phases)


def slice_values(mag, xbar) -> list:
    """Each PWM slice's part of integer input magnitudes `mag` (input_slices' order): (2^s - 1, the bits below it,
    the slice's values in 0..2^s - 1). What the tiles drive slice by slice (crossbar) and the cost counts pulses of
    (cost.input_activity)."""
    after, out = C.magnitude_bits(xbar.dac_bits), []
    for s in input_slices(xbar):
        after -= s
        out.append((2 ** s - 1, after, (mag >> after) & (2 ** s - 1)))
    return out


def slice_adc_bits(xbar) -> tuple[int, ...]:
    """ADC bits of each input slice's conversion (input_slices' order): adc_bits for the first, and for a
    later PWM slice adc_bits less the bits of the slices before it, at least 2 (its result lies that many
    bits below the output's MSB; `_cost` charges the same)."""
    out, before = [], 0
    for i, s in enumerate(input_slices(xbar)):
        pwm_later = xbar.periphery.dac_kind == "pwm" and i > 0
        out.append(max(2, xbar.adc_bits - before) if pwm_later else xbar.adc_bits)
        before += s
    return tuple(out)


def check_macro(xbar) -> None:
    """Knob checks a Periphery adds to a Crossbar (called from Crossbar.__post_init__)."""
    p = xbar.periphery
    own = "Crossbar"
    if xbar.dac_bits is None or xbar.adc_bits is None:
        raise ValueError(f"{own} with periphery {p.name!r} needs dac_bits and adc_bits (a macro's converters have "
                         f"a width; None means an ideal converter, which has no cost)")
    if xbar.cols_per_weight() > xbar.cols:
        raise ValueError(f"{own}.cols {xbar.cols} cannot hold one weight of {xbar.cols_per_weight()} cells "
                         f"(weight_bits, bits_per_cell and mapping)")
    if xbar.rows_per_weight() > xbar.rows:
        raise ValueError(f"{own}.rows {xbar.rows} cannot hold one differential pair: periphery {p.name!r} puts a "
                         f"weight's G+ and G- on two rows (combine 'row_pair'); use rows >= 2")
    mode = "bit_serial" if p.dac_kind == "bit_serial" else "pwm"
    if xbar.input_mode != mode:
        raise ValueError(f"{own}.input_mode {xbar.input_mode!r} does not match periphery {p.name!r}, whose inputs "
                         f"are {p.dac_kind}: use input_mode={mode!r} ('pwm': the whole input in one analog read "
                         f"per slice, whatever drives it; 'bit_serial': one read per input bit)")
    vdd = xbar.supply_v
    dac, adc, ph = xbar.dac_bits, xbar.adc_bits, xbar.input_phases
    if not (type(dac) is int and type(adc) is int and type(ph) is int and type(vdd) is float
            and _scalar_ok(p, dac, adc, ph, vdd)):
        _check_grid(xbar, p, *(np.asarray(v) for v in (dac, adc, ph, vdd)))


def macs_per_mvm(xbar) -> int:
    """Weight MACs one MVM of one array performs: the weight rows x the whole weights its columns hold (a
    differential pair or a sliced weight holds one; rows and columns left over past the last whole weight
    hold none)."""
    return xbar.weight_rows() * xbar.weight_cols()


def conversion_groups(xbar) -> list[list[tuple[int, int]]]:
    """The cells of one weight that each conversion sums in the analog domain, as (slice, polarity) pairs
    (slices most significant first; polarity 0: G+ or the offset device, 1: G-). The periphery's
    `combine` says what it can sum: a "ladder" of up to `cols_per_conversion` bit slices of one polarity
    (binary-weighted capacitors, a C-2C ladder), or a "pair" or "row_pair", the two devices of one slice (a
    differential pair's currents, on two columns or on two oppositely driven rows of one column); a ladder of
    one column per conversion sums nothing. A weight narrower than the ladder still
    takes its own conversion, never a share of one; a wider one takes several, shift-added digitally."""
    return [list(g) for g in _groups(xbar)]


def _groups(xbar) -> tuple:
    p = xbar.periphery
    return _groups_of(2 if xbar.mapping == "differential" else 1, xbar.slices, p.cols_per_conversion, p.combine)


@lru_cache(maxsize=256)
def _groups_of(n_pol: int, n_slices: int, k: int, combine: str) -> tuple:  # cached: the cost asks per setting
    pols, slices = range(n_pol), range(n_slices)
    if combine != "ladder":  # "pair" or "row_pair": each slice's two devices in one conversion
        return tuple(tuple((s, d) for d in pols) for s in slices)
    if k == 1:
        return tuple(((s, d),) for s in slices for d in pols)
    return tuple(tuple((s, d) for s in slices[i:i + k]) for d in pols for i in range(0, n_slices, k))


def conversions_per_slice(xbar, weight_cols: int | None = None) -> int:
    """ADC conversions per input slice: every weight's conversion groups (conversion_groups), over the
    array's weight columns or the `weight_cols` an MVM uses."""
    return (xbar.weight_cols() if weight_cols is None else weight_cols) * len(_groups(xbar))


def _periphery_of(xbar, fn: str) -> "Periphery":
    """The tile's Periphery: a ValueError for a Crossbar on the 'walden' cost, a TypeError for anything else
    (a Design among them), each naming `fn`."""
    p = getattr(xbar, "periphery", None)
    if type(p) is Periphery:
        return p
    if p == "walden":
        raise ValueError(f"{fn} needs a Crossbar with a component periphery, not 'walden'")
    hint = " (pass design.unit)" if hasattr(xbar, "unit") else ""
    raise TypeError(f"{fn} needs a Crossbar with a component periphery (one of {sorted(PERIPHERIES)} or a "
                    f"Periphery), got a {type(xbar).__name__}{hint}")


def mvm_cost(xbar, x_act: float, w_act: float, rows_used: int | None = None, cols_used: int | None = None,
             w_mean: float = 0.0) -> dict:
    """Energy (pJ per component), seconds and area (um^2 per component) of one MVM on one array:
    {"energy_pj": {...}, "seconds": s, "conversions": n, "area_um2": {...}} (floats).

    `rows_used`, `cols_used`: the weight rows and weight columns the MVM uses (a GEMM's last tile along K
    or N holds fewer; default: all, `weight_rows()` x `weight_cols()`). Rows without an input are not
    driven and their cells do not conduct or charge; columns without a weight are not integrated,
    converted or shift-added. The wires keep the array's length, and the time and area are the array's.
    `w_mean`: the mean signed cell value in [-1, 1] of offset-mapped sign-magnitude or analog weights on resistive
    cells (their mean conductance, conductance_fraction; 0, the default: symmetric weights); read nowhere else.

    One setting runs the algorithm of `mvm_cost_grid` on Python numbers (`_Scalar` ops): numpy's per-call
    overhead on 0-d arrays would cost ten times the arithmetic. Anything not plain Python numbers goes
    through the grid."""
    p = _periphery_of(xbar, "mvm_cost")
    vdd = xbar.supply_v
    dac, adc, ph = xbar.dac_bits, xbar.adc_bits, xbar.input_phases
    used = _occupancy(xbar, rows_used, cols_used)
    if not (type(w_mean) is float and -1.0 <= w_mean <= 1.0):  # the default and a workload's own: no call
        w_mean = check_real("mvm_cost", "w_mean", w_mean, lo=-1, hi=1, lo_open=False,
                            desc="the mean signed cell value, a number in [-1, 1]")
    if w_mean != 0.0 and not needs_cell_mean(xbar):
        raise ValueError(f"mvm_cost.w_mean {w_mean!r} is not read here: only offset-mapped sign-magnitude or analog "
                         f"weights on resistive cells price their cells by it (this tile: {p.cell} cells, mapping "
                         f"{xbar.mapping!r}, weight_encoding {xbar.weight_encoding!r}); leave it 0")
    if (vdd is not None and type(dac) is int and type(adc) is int and type(ph) is int and type(vdd) is float
            and type(x_act) in (float, int) and type(w_act) in (float, int) and 0 <= x_act <= 1 and 0 <= w_act <= 1
            and _scalar_ok(p, dac, adc, ph, vdd)):
        c = _cost(xbar, p, dac, adc, ph, vdd, float(x_act), float(w_act), _Scalar, used, w_mean)
        c["conversions"] = int(c["conversions"])
        return c
    if np.ndim(x_act) or np.ndim(w_act):
        raise TypeError("mvm_cost prices one setting: x_act and w_act must be numbers (mvm_cost_grid takes arrays), "
                        f"got x_act={x_act!r}, w_act={w_act!r}")
    c = mvm_cost_grid(xbar, x_act, w_act, _used=used, _w_mean=w_mean)
    return {"energy_pj": {k: float(v) for k, v in c["energy_pj"].items()}, "seconds": float(c["seconds"]),
            "conversions": int(c["conversions"]), "area_um2": {k: float(v) for k, v in c["area_um2"].items()}}


def _fp32_fma_pj(node_nm: float, vdd_v: float) -> float:
    """One FP32 multiply and add (Horowitz ISSCC 2014, accel.energy) at the node and supply."""
    import numerics as nx

    from ..energy import mac_pj, node_scale
    return mac_pj(nx.get_format("fp32"), nx.get_accumulator("fp32")) * node_scale(node_nm, vdd_v)


@lru_cache(maxsize=64)
def _adder_table(node_nm: float, vdd_v: float) -> np.ndarray:
    """pJ of an integer add of 0..96 bits at the node and supply (index = bits)."""
    return np.array([C.shift_add_pj(b, node_nm, vdd_v) for b in range(97)])


@lru_cache(maxsize=64)
def _adder_list(node_nm: float, vdd_v: float) -> tuple:
    return tuple(float(v) for v in _adder_table(node_nm, vdd_v))


class _Grid:
    """numpy operations of `_cost` (arrays of one broadcast shape)."""
    where = staticmethod(np.where)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    ones_like = staticmethod(np.ones_like)

    @staticmethod
    def zeros(like, dtype=np.float64):
        return np.zeros(like.shape, dtype=dtype)

    @staticmethod
    def full(like, v):
        return np.full(like.shape, v)

    @staticmethod
    def top(x) -> int:
        return int(x.max())

    @staticmethod
    def adders(p):
        return _adder_table(p.node_nm, p.vdd_ref_v)

    @staticmethod
    def finite(x) -> bool:
        return bool(np.isfinite(x).all())


class _Scalar:
    """The same operations on Python numbers (one setting)."""
    maximum = staticmethod(max)
    minimum = staticmethod(min)
    top = staticmethod(int)

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    @staticmethod
    def ones_like(x):
        return 1

    @staticmethod
    def zeros(like, dtype=float):
        return dtype(0)

    @staticmethod
    def full(like, v):
        return v

    @staticmethod
    def adders(p):
        return _adder_list(p.node_nm, p.vdd_ref_v)

    finite = staticmethod(math.isfinite)


def mvm_cost_grid(xbar, x_act, w_act, dac_bits=None, adc_bits=None, input_phases=None, vdd_v=None,
                  _used=None, _w_mean: float = 0.0) -> dict:
    """`mvm_cost` for many settings at once: dac_bits, adc_bits, input_phases, vdd_v (None: the tile's
    own) and x_act, w_act broadcast as numpy arrays; every setting is checked as Crossbar checks it.
    Returns arrays of the broadcast shape: one algorithm (`_cost`) serves the scalar and the grid. The
    whole array is in use (mvm_cost takes rows_used and cols_used)."""
    p = _periphery_of(xbar, "mvm_cost_grid")
    for name, v in (("dac_bits", dac_bits), ("adc_bits", adc_bits), ("input_phases", input_phases)):
        if _has_bool(v):  # numpy would read [8, True] as [8, 1]
            raise TypeError(f"mvm_cost_grid: {name} must be ints, got a bool in {v!r}")
    dac = np.asarray(xbar.dac_bits if dac_bits is None else dac_bits)
    adc = np.asarray(xbar.adc_bits if adc_bits is None else adc_bits)
    ph = np.asarray(xbar.input_phases if input_phases is None else input_phases)
    vdd = _volts(xbar.supply_v if vdd_v is None else vdd_v)
    x_act, w_act = _activity("x_act", x_act), _activity("w_act", w_act)
    try:
        dac, adc, ph, vdd, x_act, w_act = np.broadcast_arrays(dac, adc, ph, vdd, x_act, w_act)
    except ValueError:
        shapes = {k: np.shape(v) for k, v in (("dac_bits", dac), ("adc_bits", adc), ("input_phases", ph),
                                               ("vdd_v", vdd), ("x_act", x_act), ("w_act", w_act))}
        raise ValueError(f"mvm_cost_grid's settings must broadcast to one shape (numpy rules), got shapes "
                         f"{shapes}") from None
    if dac.size == 0:
        raise ValueError("mvm_cost_grid's settings must hold at least one value each, got an empty array")
    _check_grid(xbar, p, dac, adc, ph, vdd)
    # the bit counts in int64 whatever integer type they came in: 2 ** bits in int8 or int16 would wrap
    dac, adc, ph = (a.astype(np.int64) for a in (dac, adc, ph))
    return _cost(xbar, p, dac, adc, ph, vdd, x_act, w_act, _Grid, _used or _occupancy(xbar, None, None), _w_mean)


def _has_bool(v) -> bool:
    """Whether v, or an element of a (nested) list or tuple v, is a bool: numpy would turn [0.9, True] into
    floats before any dtype could say so."""
    if isinstance(v, list | tuple):
        return any(_has_bool(e) for e in v)
    return isinstance(v, bool | np.bool_)


def _reals(v) -> np.ndarray | None:
    """v as a float64 array when it holds real numbers only (no bools, text, complex, None or ragged
    sequences), else None."""
    try:
        a = np.asarray(v)
    except ValueError:  # a ragged sequence
        return None
    return a.astype(np.float64) if a.dtype.kind in "iuf" and not _has_bool(v) else None


def _volts(v) -> np.ndarray:
    """vdd_v as float64 volts: real numbers only (no bools, text or complex), as Crossbar takes them."""
    a = _reals(v)
    if a is None:
        raise TypeError(f"Crossbar.vdd_v must be a number of volts or an array of them (at least {C.VDD_MIN_V} V, "
                        f"at most {C.VDD_MAX_RATIO}x the periphery's reference), got {v!r}")
    return a


def _occupancy(xbar, rows_used, cols_used) -> tuple[int, int]:
    """(weight rows, weight columns) an MVM uses: the whole array by default, else checked ints in range."""
    wr, wc = xbar.weight_rows(), xbar.weight_cols()
    if rows_used is None and cols_used is None:
        return wr, wc
    r = wr if rows_used is None else check_int("mvm_cost", "rows_used", rows_used, lo=1, hi=wr)
    c = wc if cols_used is None else check_int("mvm_cost", "cols_used", cols_used, lo=1, hi=wc)
    return r, c


def _activity(name: str, v) -> np.ndarray:
    """x_act / w_act as float64: a fraction in [0, 1] (module docstring)."""
    a = _reals(v)
    if a is None:  # None, text and bools included
        raise TypeError(f"mvm_cost: {name} must be a number or an array of numbers in [0, 1] (mean |value| / "
                        f"max |value|), got {v!r}")
    bad = ~((a >= 0) & (a <= 1))
    if bad.any():
        raise ValueError(f"mvm_cost: {name} must be in [0, 1] (mean |value| / max |value|), got "
                         f"{float(a[bad].flat[0])}")
    return a


def needs_cell_mean(xbar) -> bool:
    """Whether a tile's array energy reads the weights' mean signed cell value (`conductance_fraction`'s w_mean):
    offset-mapped sign-magnitude or analog weights on resistive cells (a 'walden' tile or a resistive periphery);
    charge cells and the bit-per-cell encodings do not."""
    resistive = type(xbar.periphery) is str or xbar.periphery.cell == "resistive"
    return resistive and xbar.mapping == "offset" and xbar.weight_encoding not in BIT_CELLS


def conductance_fraction(xbar, w_act, w_mean=0.0):
    """Mean G / g_max of a resistive tile's cells, from the weight statistic `w_act` (module docstring) and the
    cells `weight_encoding` programs (crossbar.weight_codes: a cell of value v in [-1, 1] is G+ = max(v, 0) g_max
    and G- = max(-v, 0) g_max on a differential pair, (v + 1) / 2 g_max on the offset mapping). A pair holds |v|
    on one of its two cells: w_act / 2 for sign-magnitude and analog weights (mean |v|); on the offset mapping such
    a cell holds (v + 1) / 2, whose mean is (1 + w_mean) / 2 with `w_mean` the mean signed cell value (0, the
    default, for symmetric weights; accel.analog.cost.cell_mean counts it on a workload). A bit-per-cell encoding
    (BIT_CELLS) stores a 1 bit in a fraction w_act of its cells and a 0 bit in the rest, each at its cell value:
    XNOR's +-1 puts one cell of every pair at g_max whatever the data; on the offset mapping its 0 bit is 0, a two's
    complement 0 bit g_max / 2."""
    cells = BIT_CELLS.get(xbar.weight_encoding)
    if cells is None:
        return w_act / 2 if xbar.mapping == "differential" else (1 + w_mean) / 2
    _, one, zero = cells
    if xbar.mapping == "differential":
        return (abs(zero) + w_act * (abs(one) - abs(zero))) / 2
    return (zero + 1) / 2 + w_act * (one - zero) / 2


def _cost(xbar, p, dac, adc, ph, vdd, x_act, w_act, xp, used_w, w_mean=0.0) -> dict:
    """The MVM's energy, time and area: `xp` is `_Grid` (numpy arrays) or `_Scalar` (Python numbers);
    `used_w`: the (weight rows, weight columns) in use (`_occupancy`)."""
    es = C.supply_energy_scale(vdd, p.vdd_ref_v)
    ts = C.supply_delay_scale(vdd, p.vdd_ref_v)
    m = xp.maximum(dac - 1, 1)
    cols = xbar.cols
    rows = used_w[0] * xbar.rows_per_weight()  # rows driven: those of the weights in use (an odd one idle)
    used = used_w[1] * xbar.cols_per_weight()  # columns of the weights in use (the rest stay idle)
    conv = conversions_per_slice(xbar, used_w[1])
    wbits = xbar.weight_bits or 1
    adders = xp.adders(p)
    if p.dac_kind == "pwm":
        n_slices = ph
    elif p.dac_kind == "bit_serial":
        n_slices = m
    else:
        n_slices = xp.ones_like(m)
    e = {k: xp.zeros(dac) for k in ENERGY_PARTS}
    t = xp.zeros(dac)  # the analog read of every slice, repeated read_phases times
    t_once = xp.zeros(dac)  # a counting ADC's fixed step per slice (read-out, reset, hand-off): once
    before = xp.zeros(dac, int)
    g = xbar.g_max_us * conductance_fraction(xbar, w_act, w_mean)
    where = xp.where
    # a converter that counts during the input (HERMES's CCO) serves its adc_share columns one input window each:
    # the rows are driven, and every cell conducts, once per window (audit s34: the time repeated, the energy did not)
    redrive = xbar.adc_share if p.adc_during_input else 1
    for i in range(xp.top(n_slices)):
        on = i < n_slices
        if p.dac_kind == "pwm":  # near-equal slices, most significant first
            s = m // ph + (i < m % ph)
            a = adc if i == 0 else xp.maximum(2, adc - before)
            pulses = 2 ** s - 1
            drives = s if p.drive_per_bit else pulses
            in_pj, in_s = (p.dac_step_pj + cols * p.row_wire_pj) * drives * x_act, p.dac_step_s * pulses
        elif p.dac_kind == "bit_serial":
            s, a, pulses = xp.ones_like(m), adc, xp.ones_like(m)
            in_pj, in_s = (p.dac_step_pj + cols * p.row_wire_pj) * x_act, xp.full(dac, p.dac_step_s)
        else:
            s, a, pulses = m, adc, xp.ones_like(m)
            in_pj, in_s = p.dac_step_pj * m + cols * p.row_wire_pj * x_act, xp.full(dac, p.dac_step_s)
        before = before + s
        steps = _adc_steps(p.adc_kind, a)
        adc_pj = p.adc_step_pj * steps
        adc_s = p.adc_step_s * (1 if p.adc_kind == "flash" else steps)
        e["dac"] += where(on, rows * in_pj * redrive, 0.0)
        e["adc"] += where(on, conv * adc_pj, 0.0)
        e["integrator"] += where(on, used * (p.integrator_pj * pulses + p.sample_pj * s), 0.0)
        if p.cell == "charge":  # a cell charges where its input and weight bits are both set
            cell = rows * used * p.cell_pj * x_act * w_act
        else:  # G V^2 t while its row is driven
            cell = rows * used * g * 1e-6 * xbar.v_read ** 2 * p.pulse_s * pulses * x_act * 1e12
        e["array"] += where(on, cell * redrive, 0.0)
        if not p.digital_per_output:
            dig = p.digital_pj if p.digital_pj is not None else adders[xp.minimum(a + s + wbits, 96)]
            e["digital"] += where(on, conv * dig, 0.0)
        if p.adc_during_input:
            slice_s = xp.maximum(in_s, adc_s) * xbar.adc_share
        else:
            slice_s = in_s + adc_s * xbar.adc_share
        t += where(on, slice_s, 0.0)
        if p.adc_during_input:  # a counter accumulates the phases' counts: read out once per slice and column
            t_once += where(on, p.phase_s * xbar.adc_share, 0.0)
        else:  # the conversion repeats with each phase, and so does its fixed step
            t += where(on, p.phase_s, 0.0)
    if p.digital_per_output:  # once per output (a weight column in use), and a shift-add per further conversion
        outputs = used_w[1]
        e["digital"] = outputs * p.digital_pj + (conv * n_slices - outputs) * adders[xp.minimum(adc + m + wbits, 96)]
    e["control"] = used * xbar.rows * p.control_pj * m * 1.0  # each used column's wire, the array's height
    rp = xbar.read_phases
    # every circuit's C V^2 follows the supply; resistive cells read at their own fixed v_read dissipate
    # G v_read^2 t, so their energy follows the pulse length, which stretches with the clock (delay law)
    cell_s = ts if p.cell == "resistive" else es
    energy = {k: v * (cell_s if k == "array" else es) * (1 if k == "digital" else rp) for k, v in e.items()}
    n_adc = C.ceil_div(conversions_per_slice(xbar), xbar.adc_share)  # the array's converters, used or not
    grow = 2.0 ** (adc - p.adc_ref_bits) if p.adc_kind in ("sar", "flash") else adc / p.adc_ref_bits
    zero = xp.zeros(dac)
    area = {"adc": n_adc * p.adc_area_um2 * grow, "dac": zero + xbar.rows * p.dac_area_um2,
            "array": zero + xbar.rows * cols * p.cell_area_um2, "integrator": zero + cols * p.column_area_um2,
            "digital": zero + n_adc * p.digital_area_um2, "misc": zero + p.misc_area_um2}
    seconds = (t * rp + t_once) * ts
    # finite constants whose products leave the float range (a periphery's constant near 1e305, audit s34): inf, or
    # NaN where an inf meets an activity of 0; said here rather than returned. Every part is >= 0, so the sum is finite
    # only if every part is (a sum of finite parts that overflows is refused too: its total leaves the float range):
    # one test on the hot path
    if not xp.finite(sum(energy.values()) + sum(area.values()) + seconds):
        bad = [(what, k) for what, parts in (("energy", energy), ("area", area), ("time", {"seconds": seconds}))
               for k, v in parts.items() if not xp.finite(v)] or [("energy and area", "total")]
        raise ValueError(f"mvm_cost: the MVM's {bad[0][0]} ({bad[0][1]}) on periphery {p.name!r} leaves the float "
                         f"range; check its per-action constants (*_pj, *_s, *_area_um2) and the tile's rows, cols, "
                         f"cores and read_phases")
    return {"energy_pj": energy, "seconds": seconds, "conversions": conv * n_slices * rp, "area_um2": area}


def _adc_steps(kind: str, bits):
    if kind in ("sar", "neuron"):
        return bits
    return 2 ** bits - 1 if kind == "flash" else 2 ** bits


def _scalar_ok(p, dac: int, adc: int, ph: int, vdd: float) -> bool:
    """Whether one setting (Python ints and a float) passes every check of `_check_grid`: the fast path of
    a valid setting; an invalid one goes to `_check_grid` for its error."""
    return (2 <= dac <= 24 and 2 <= adc <= C.ADC_MAX_BITS[p.adc_kind] and (ph == 1 or ph == 2)
            and (ph == 1 or p.dac_kind == "pwm") and ph <= max(dac - 1, 1)
            and C.VDD_MIN_V <= vdd <= C.VDD_MAX_RATIO * p.vdd_ref_v)


def _check_grid(xbar, p, dac, adc, ph, vdd) -> None:
    """The knob checks of check_macro on arrays (each error names a failing value)."""
    own = "Crossbar"
    for name, arr in (("dac_bits", dac), ("adc_bits", adc), ("input_phases", ph)):
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{own}.{name} must be ints, got dtype {arr.dtype}")
    if (dac < 2).any() or (dac > 24).any():
        raise ValueError(f"{own}.dac_bits must be in 2..24 (signed), got {int(dac[(dac < 2) | (dac > 24)].flat[0])}")
    hi = C.ADC_MAX_BITS[p.adc_kind]
    bad = (adc < 2) | (adc > hi)
    if bad.any():
        raise ValueError(f"{own}.adc_bits {int(adc[bad].flat[0])} is outside the {p.adc_kind} ADC's range (2..{hi} "
                         f"bits; ranges: {C.ADC_MAX_BITS})")
    if ((ph != 1) & (ph != 2)).any():
        raise ValueError(f"{own}.input_phases must be 1 or 2 (slices the input bits are split into), got "
                         f"{int(ph[(ph != 1) & (ph != 2)].flat[0])}")
    if p.dac_kind != "pwm" and (ph != 1).any():
        raise ValueError(f"{own}.input_phases splits PWM inputs; a {p.dac_kind} input takes input_phases=1, got "
                         f"{int(ph[ph != 1].flat[0])}")
    m = np.maximum(dac - 1, 1)
    if (ph > m).any():
        i = np.argmax(ph > m)
        raise ValueError(f"{own}.input_phases {int(ph.flat[i])} cannot split {int(m.flat[i])} magnitude bit(s) "
                         f"(dac_bits {int(dac.flat[i])}, signed); use input_phases <= {int(m.flat[i])}")
    if not np.isfinite(vdd).all():
        raise ValueError(f"{own}.vdd_v must be a finite number of volts, got {float(vdd[~np.isfinite(vdd)].flat[0])}")
    bad = vdd < C.VDD_MIN_V
    if bad.any():
        raise ValueError(f"{own}.vdd_v must be at least {C.VDD_MIN_V} V, got {float(vdd[bad].flat[0])}: the model's "
                         f"laws (C V^2, the alpha-power delay with V_th {C.VTH_V} V) hold in strong inversion, "
                         f"without the leakage that dominates near the threshold")
    # C V^2 and the alpha-power law are first-order laws about the nominal supply: far above it the devices
    # leave their rated range, and the model refuses rather than extrapolate
    hi = C.VDD_MAX_RATIO * p.vdd_ref_v
    if (vdd > hi).any():
        raise ValueError(f"{own}.vdd_v {float(vdd[vdd > hi].flat[0])} V is beyond the model's range for {p.name!r}: "
                         f"at most {C.VDD_MAX_RATIO}x its reference supply {p.vdd_ref_v} V ({hi:g} V)")


def reference_cost(xbar) -> dict:
    """`mvm_cost` of the whole array at the periphery's reference data (`x_act_ref`, `w_act_ref`), with the
    peaks it gives at full utilisation (2 ops per weight MAC, every core): "ops_per_s", "ops_per_j"; what
    Design.peak_ops_per_s / peak_ops_per_j, the area and macro_report read. Computed once per tile object and
    kept on it: a Crossbar is frozen and every change (dataclasses.replace, set_field) makes a new one.
    A read-only mapping (it is not pickled or copied with the tile: Crossbar.__getstate__)."""
    c = getattr(xbar, "__dict__", {}).get("_reference_cost")
    if c is None:
        p = _periphery_of(xbar, "reference_cost")
        c = mvm_cost(xbar, p.x_act_ref, p.w_act_ref)
        ops = 2.0 * macs_per_mvm(xbar)
        e = sum(c["energy_pj"].values())  # 0 only where the reference data drive nothing: no energy spent
        # energy and time are finite (mvm_cost refuses otherwise); their ratios may still overflow (Python floats
        # give inf), and a tiny e's joules underflow to 0: infinite too, refused below rather than a ZeroDivision
        c["ops_per_s"] = ops * xbar.cores / c["seconds"]
        joules = e * 1e-12
        c["ops_per_j"] = ops / joules if joules else math.inf
        peaks = (("throughput", c["ops_per_s"]), ("efficiency", c["ops_per_j"] if e else 0.0))
        bad = [what for what, v in peaks if not math.isfinite(v)]
        if bad:  # inf TOPS or TOPS/W (audit s34); e == 0 (reference data that drive nothing) stays infinite
            raise ValueError(f"the reference MVM's {bad[0]} on periphery {p.name!r} leaves the float range (energy "
                             f"{e:g} pJ, time {c['seconds']:g} s, {xbar.cores} cores); check its per-action constants "
                             f"(*_pj, *_s)")
        # read-only, all the way down: preset tiles are shared by every get_design in the process
        c = MappingProxyType({k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in c.items()})
        object.__setattr__(xbar, "_reference_cost", c)
    return c


def macro_area_mm2(xbar) -> dict | None:
    """Area per component of all `cores` arrays, mm^2; None where the periphery gives no area constants (all
    its *_area_um2 are 0: an area of 0 would make TOPS/mm^2 infinite)."""
    p = _periphery_of(xbar, "macro_area_mm2")
    area = {k: v * xbar.cores * 1e-6 for k, v in reference_cost(xbar)["area_um2"].items()}
    big = [k for k, v in area.items() if not math.isfinite(v)]
    if big:  # finite constants whose product leaves the float range: say so rather than report inf mm^2
        raise ValueError(f"macro_area_mm2: the {big[0]} area of periphery {p.name!r} (cores {xbar.cores}) leaves the "
                         f"float range; check its *_area_um2 constants and the tile's rows, cols and cores")
    return area if any(area.values()) else None


# ---------------------------------------------------------------------------------------------------------
# The macros' peripheries. Each is calibrated on ONE operating point of its paper, named in its comment;
# every other published figure is a prediction (docs/validation.md, tests/test_validation_analog.py).
# Published figures as CiMLoop digitised them (accel/data/macros/published.json; mit-emze/cimloop, MIT).

# NeuRRAM (Wan et al., Nature 608, 504, 2022): 48 cores of 256 x 256 RRAM, 130 nm, differential weight
# pairs on adjacent rows (128 x 256 MACs per core), a voltage-mode integrate-and-fire neuron per column.
# The pair: the chip's test software (weierwan/Neurram_48core, commit 2ed5f8d, python/nn_layers.py
# weight_mapping: G+ on even rows, G- on odd rows of one column; python/matmul.py _populate_nparray: input
# +x on the even row, -x on the odd one) subtracts the pair on the column, so each neuron converts a
# weight's difference once: combine "row_pair". An N-bit input slice
# takes 2^N - 1 unit integration steps (time and integration energy), but the row drivers switch once per
# input bit: bit i is applied, the settled source line is sampled once onto C_sample and the neuron
# integrates it with weight 2^i (Extended Data Fig. 4's sequence: initialise, sample and integrate,
# compare, charge decrement; CiMLoop's NeuRRAM model toggles the word lines and drives the rows, cells and
# sampler once per input bit the same way), so drive_per_bit. Conversion: charge-decrement steps, one per
# output bit.
# Calibration point: 4-bit input, 6-bit output, 4-bit weights, one phase (Fig. 12c/b: 0.744 TOPS over 48
# cores; 21.76 / 29.11 / 11.51 fJ/op for WL switching / neuron ops and control / input pulses), chosen
# a priori as the point where the one- and two-phase modes coincide. Per MVM there (256 ops x 256):
# - time 48 x 65536 / 0.7439e12 = 4.229 us over 7 integration steps, 6 conversion steps and 1 phase; the
#   ratios 0.27 : 0.30 : 0.30 us of those steps are the neuron timings as CiMLoop tabulates them (its
#   wan_nature_2022 variables), scaled here by 4.229 / 3.99;
# - WL switching 21.76 fJ x 65536 over 256 columns x 256 cells x 3 magnitude bits: control_pj;
# - neuron 29.11 fJ x 65536 less the shift-add (Horowitz, 130 nm, 1.8 V) over 256 columns, split by what
#   the neuron does (Extended Data Fig. 4): per input magnitude bit it samples the settled source line onto
#   C_sample (precharging the line and the capacitor); per integration step it moves that charge onto
#   C_integ; per output bit it compares and decrements the charge. The relative energies 1.2 : 0.25 : 0.3
#   pJ of sample : integration step : conversion step are CiMLoop's tabulation of this neuron
#   (hwcomponents-library wan_nature_2022: wan_analog_sample, wan_analog_integrator,
#   wan_variable_precision_adc); at the calibration point 3 samples, 7 integration and 6 conversion steps
#   carry 29.11 fJ/op, which fixes the scale: sample_pj, integrator_pj, adc_step_pj;
# - input pulses 11.51 fJ x 65536 over 256 rows x 256 cells x 3 bits x x_act: row_wire_pj (the row lines;
#   no separate driver share is published, so dac_step_pj = 0). The cells' own G V^2 t
#   cannot be separated (a 40 uS cell at the 0.5 V read of Fig. 12b's legend for even 10 ns per pulse would
#   dissipate 5.7 nJ per MVM, more than the 0.75 nJ measured: the neuron's capacitor, not the cell, limits
#   the charge); pulse_s = 0 folds it into the driver energy.
# Area (Fig. 11f, one core 1270 x 256 / 0.28 um^2): neurons 28 %, array drivers 21 %, RRAM 12 %, the rest
# control and I/O (misc).
_NR_OPS = 256 * 128 * 2
_NR_T = 48 * _NR_OPS / 0.7439e12
_NR_K = _NR_T / (7 * 0.27e-6 + 6 * 0.30e-6 + 0.30e-6)
_NR_SHIFT = 256 * C.shift_add_pj(6 + 3 + 4, 130.0, 1.8)
_NR_NEURON = (29.11e-3 * _NR_OPS - _NR_SHIFT) / (256 * (3 * 1.2 + 7 * 0.25 + 6 * 0.3))  # pJ per tabulated pJ
_NR_AREA = 1270 * 256 / 0.28
NEURRAM = Periphery(
    name="neurram", cell="resistive", adc_kind="neuron", adc_step_pj=0.3 * _NR_NEURON, adc_step_s=0.30e-6 * _NR_K,
    dac_kind="pwm", dac_step_pj=0.0, row_wire_pj=11.51e-3 * _NR_OPS / (65536 * 3 * 0.5),
    drive_per_bit=True, dac_step_s=0.27e-6 * _NR_K,
    vdd_ref_v=1.8, node_nm=130.0, integrator_pj=0.25 * _NR_NEURON,
    sample_pj=1.2 * _NR_NEURON, control_pj=21.76e-3 * _NR_OPS / (65536 * 3),
    phase_s=0.30e-6 * _NR_K, adc_ref_bits=6, combine="row_pair", column_area_um2=0.28 * _NR_AREA / 256,
    dac_area_um2=0.21 * _NR_AREA / 256, cell_area_um2=0.12 * _NR_AREA / 65536, misc_area_um2=0.39 * _NR_AREA,
    source="Wan et al., Nature 608, 504 (2022)")

# Jia et al., IEEE JSSC 55(9), 2609 (2020): 768 x 768 SRAM bit cells with 1.2 fF-class capacitors, 65 nm;
# three 768-cell column segments folded onto each of 256 8-bit SAR ADCs (rows = 2304, cols = 256);
# bit-serial inputs, one weight bit per column (digital shift-add in the near-memory datapath, NMC).
# Calibration point: 0.85 V, 1-bit inputs and weights (Table II: 0.874 TOPS, 400 1b-TOPS/W; Table I: ADC
# 1.79 pJ per conversion, CiM 9.7 pJ per column, NMC 8.3 pJ per output; Fig. 11 areas: ADC 0.497, CiM
# 2.91, NMC 0.497, sparsity controller 0.392 mm^2). The paper's 1b-TOPS/W counts the CIMU (ADC + CiM),
# not the NMC. One bit cycle is 2 x 589,824 / 0.874e12 = 1.35 us. The CiM energy is put on the cells at
# the calibration's random-bit activity (x_act = w_act = 0.5).
# What sets the bit cycle: the CIMU's compute (precharge, input broadcast, charge sharing, 8-bit SAR
# conversion) is sequenced by the chip's digital clock, about 50 clock cycles per bit cycle (CiMLoop's
# reading of the paper: 25 ns x 54 at 0.85 V), so the macro's speed follows the chip's clock, a logic
# critical path, not an analog settling time. The model scales that clock by the alpha-power law with its
# generic constants (components.ALPHA, VTH_V): 1.41x from 0.85 to 1.2 V against the chip's 2.5x. A
# steeper law needs the process's own threshold and alpha, which this model has no source for; the 1.2 V
# clock is left a measured miss (docs/validation.md), not fitted.
# Time within the bit cycle: the SAR decides one bit per clock (8 of the 54 clocks at 8 bits), the rest
# (precharge, input broadcast, charge sharing) is dac_step_s; so adc_bits sets the bit cycle, 46 + adc_bits
# clocks.
_JIA_BIT_CYCLE = 2 * 589_824 / 0.874e12
_JIA_CLOCK = _JIA_BIT_CYCLE / 54
JIA = Periphery(
    name="jia", cell="charge", adc_kind="sar", adc_step_pj=1.79 / 8, adc_step_s=_JIA_CLOCK, dac_kind="bit_serial",
    dac_step_pj=0.0, dac_step_s=_JIA_BIT_CYCLE - 8 * _JIA_CLOCK, vdd_ref_v=0.85, node_nm=65.0,
    cell_pj=9.7 / (2304 * 0.25), digital_pj=8.3, adc_ref_bits=8, adc_area_um2=0.497e6 / 256,
    cell_area_um2=2.91e6 / 589_824, digital_area_um2=0.497e6 / 256, misc_area_um2=0.392e6,
    source="Jia et al., IEEE JSSC 55(9), 2609 (2020)")

# Sinangil et al., IEEE JSSC 56(1), 188 (2021): 64 x 64 SRAM, 7 nm, 4-bit weights on 4 cells summed by
# binary-weighted capacitors (16 conversions per MVM), 4-bit PWM inputs (15 read-word-line pulses), 4-bit
# outputs from a 4-bit flash ADC whose sense amplifiers' own capacitance forms the computation capacitors
# (the paper's abstract): 15 comparators deciding at once.
# Calibration point: 0.8 V, 4b/4b/4b (Table I: 372.4 GOPS; 610.5 and 262.3 TOPS/W at average output 0
# and 15, i.e. 3.355 and 7.808 pJ per 1024-MAC MVM). Output value 0 leaves the fixed energy (ADC, control,
# shift-add); the data-dependent 4.45 pJ at full activity is split equally between PWM row drivers (~ x)
# and cell capacitors (~ x w): the model's choice (the paper gives no split). The MVM time 5.5 ns is split
# half PWM pulses, half the ADC's decision and readout (CiMLoop's reading: pulse width = cycle / 2 / 15).
# Data: average output o of 15 maps to x_act = w_act = sqrt(o / 15). Areas (Sec. IV): ADC and its readout
# 1596 um^2, the original SRAM macro 800 um^2, binary-weighting capacitors 160 um^2.
# Supply: C V^2 on every component (no leakage term). The paper's two 1.0 V measurements at worst-case data
# disagree (Table I 10.8 pJ, Fig. 13b 13.1 pJ per MVM); V^2 lands between them, within 7 % of Fig. 13b's
# sweep (docs/validation.md says why that is the comparable one).
_SN_E0 = 2 * 1024 / 610.5e12 * 1e12
_SN_E15 = 2 * 1024 / 262.3e12 * 1e12
_SN_T = 2 * 1024 / 372.4e9
_SN_SHIFT = 16 * C.shift_add_pj(4 + 4 + 4, 7.0, 0.8)
SINANGIL = Periphery(
    name="sinangil", cell="charge", adc_kind="flash", adc_step_pj=(_SN_E0 - _SN_SHIFT) / (16 * 15),
    adc_step_s=_SN_T / 2, dac_kind="pwm", dac_step_pj=0.0, row_wire_pj=(_SN_E15 - _SN_E0) / 2 / (4096 * 15),
    dac_step_s=_SN_T / 2 / 15, vdd_ref_v=0.8, node_nm=7.0, cell_pj=(_SN_E15 - _SN_E0) / 2 / 4096,
    cols_per_conversion=4, adc_ref_bits=4, adc_area_um2=1596 / 16, cell_area_um2=800 / 4096,
    column_area_um2=160 / 64, x_act_ref=1.0, w_act_ref=1.0,
    source="Sinangil et al., IEEE JSSC 56(1), 188 (2021)")

# Wang et al., VLSI 2022 / IEEE JSSC 2023: C-2C ladder SRAM macro, 22 nm; 64 input rows, 16 outputs of 8-bit
# weights on 8-cell C-2C ladders (128 columns, 1024 MACs per cycle), 8-bit voltage-mode input DACs, 8-bit
# SAR ADCs (16). Calibration point: 1.0 V, 8b/8b/8b (Fig. 23: 16.38 TOPS/W, 3.596 TOPS/mm^2 on 0.124 mm^2
# = 0.446 TOPS; Fig. 22: energy ADC 34 %, DAC 22 %, MAC 40 %, misc 4 %; area ADC 13 %, DAC 30 %, MAC 46 %,
# misc 11 %). Per cycle 2048 / 16.38 = 125 pJ and 2048 / 0.446e12 = 4.59 ns, the SAR's 8 bit cycles. The
# digital shift-add (Horowitz, 16 outputs) is counted inside the 4 % misc, with the word-line control.
_WG_E = 2 * 1024 / 16.37572276
_WG_T = 2 * 1024 / (3.596e12 * 0.124)
_WG_A = 0.124e6
_WG_SHIFT = 16 * C.shift_add_pj(8 + 8 + 8, 22.0, 1.0)
WANG = Periphery(
    name="wang-c2c", cell="charge", adc_kind="sar", adc_step_pj=0.34 * _WG_E / (16 * 8), adc_step_s=_WG_T / 8,
    dac_kind="voltage", dac_step_pj=0.22 * _WG_E / (64 * 8), dac_step_s=0.0, vdd_ref_v=1.0, node_nm=22.0,
    cell_pj=0.40 * _WG_E / (8192 * 0.25), control_pj=(0.04 * _WG_E - _WG_SHIFT) / (8192 * 8), cols_per_conversion=8,
    adc_ref_bits=8, adc_area_um2=0.13 * _WG_A / 16, dac_area_um2=0.30 * _WG_A / 64,
    cell_area_um2=0.46 * _WG_A / 8192, misc_area_um2=0.11 * _WG_A,
    source="Wang et al., VLSI 2022 / IEEE JSSC 2023 (C-2C)")

# IBM HERMES (Le Gallo et al., Nat. Electron. 6, 680, 2023): 64 cores of 256 x 256 PCM weights on differential
# pairs (512 physical columns), 14 nm; each core is HERMES-Core (Khaddam-Aljameh et al., IEEE JSSC 57(4),
# 1027, 2022; VLSI 2021): 256 linearised current-controlled-oscillator (CCO) ADCs at 300 ps/LSB, one per
# weight column (a pair's two currents: cols_per_conversion = 2), a 1 GHz main clock, a local digital
# processing unit (LDPU) doing affine scaling and ReLU per output; 0.8 V.
# Mechanisms: an 8-bit signed input is one PWM pulse of up to 2^7 - 1 = 127 unit steps of one 1 GHz clock
# (127 ns); each cell conducts G V^2 for its row's pulse (pulse_s = one clock, v_read 0.2 V and g_max 25 uS
# from the preset); the CCO is fed by the column current and counts while the pulses run
# (adc_during_input): its 2^8 counts at 300 ps take 76.8 ns, inside the window; the LDPU does one FP32
# multiply-add per output (Horowitz, accel.energy, at 14 nm and 0.8 V; the model's choice of width, as the
# Walden cost's digital periphery). Four-phase mode (read_phases = 4) repeats the analog read; the counts add
# up in the CCOs' counters, read out once (phase_s), and the LDPU acts once per output.
# Calibration point: the chip's one-phase 8-bit MVM (63.1 TOPS, 9.76 TOPS/W over 64 cores):
# - time 64 x 131072 / 63.1e12 = 132.9 ns = 127 PWM steps + phase_s (5.9 ns: the MVM's fixed overhead,
#   counter reset and hand-off to the LDPU; fitted here);
# - energy 131072 / 9.76e12 = 13.43 nJ per MVM less the cells' G V^2 t and the LDPU at the reference data
#   (x_act = w_act = 0.5) is the CCOs' 256 conversions of 2^8 counts each: adc_step_pj. The PWM row drivers
#   switch once per MVM per row; no paper separates their energy, so it is inside adc_step_pj (dac_step_pj = 0).
# Area: HERMES-Core's 1.59 TOPS/mm^2 (Khaddam-Aljameh et al. 2022) at the calibration point's per-core
# throughput (63.1 / 64 TOPS) is a 0.620 mm^2 core, so the model reproduces that figure; the core's own 1.008
# TOPS, which the model predicts (-2.2 %), is not used (it would make the core 0.634 mm^2). No per-component
# split is published (the ADCs' 4 um pitch fixes their width, not their height), so the core's area is one
# undivided item, not split by assumption, carried per physical cell (cell_area_um2 = 0.620 mm^2 / (256 x 512))
# so that a core of other rows x cols scales with its cells (this model's choice; the report's "array" item is
# the whole core, periphery included, and TOPS/mm^2 stays the chip's at any array size).
_HM_OPS = 2 * 256 * 256
_HM_T = 64 * _HM_OPS / 63.1e12
_HM_STEP_S = 1e-9
_HM_VDD = 0.8
_HM_LDPU = 256 * _fp32_fma_pj(14.0, _HM_VDD)
_HM_CELLS = 256 * 512 * 25.0 * 0.5 / 2 * 1e-6 * 0.2 ** 2 * _HM_STEP_S * 127 * 0.5 * 1e12
HERMES = Periphery(
    name="hermes", cell="resistive", adc_kind="cco",
    adc_step_pj=(_HM_OPS / 9.76e12 * 1e12 - _HM_CELLS - _HM_LDPU) / (256 * 2 ** 8), adc_step_s=300e-12,
    adc_during_input=True, dac_kind="pwm", dac_step_pj=0.0, dac_step_s=_HM_STEP_S, pulse_s=_HM_STEP_S,
    phase_s=_HM_T - 127 * _HM_STEP_S, vdd_ref_v=_HM_VDD, node_nm=14.0, digital_pj=_HM_LDPU / 256,
    digital_per_output=True,
    cols_per_conversion=2, combine="pair", adc_ref_bits=8, cell_area_um2=63.1 / 64 / 1.59 * 1e6 / (256 * 512),
    source="Le Gallo et al., Nat. Electron. 6, 680 (2023); Khaddam-Aljameh et al., IEEE JSSC 57(4) (2022)")

PERIPHERIES = {p.name: p for p in (NEURRAM, JIA, SINANGIL, WANG, HERMES)}


def get_periphery(p):
    """A Periphery from its name (PERIPHERIES), the object itself, or "walden" (the converter-only
    Walden-FOM cost of accel.analog.cost)."""
    if p == "walden" or isinstance(p, Periphery):
        return p
    if isinstance(p, str) and p in PERIPHERIES:
        return PERIPHERIES[p]
    err = ValueError if isinstance(p, str) else TypeError
    raise err(f"Crossbar.periphery must be 'walden', one of {sorted(PERIPHERIES)} or a Periphery, got {p!r}")
