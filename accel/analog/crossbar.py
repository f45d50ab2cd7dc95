"""Analog crossbar tiles: weight mapping onto conductances, the matrix-vector multiply through DACs,
the array and ADCs, drift compensation, and large matrices split across tiles.

Conventions follow IBM aihwkit's inference tiles: each tile's weights are scaled so that its largest
|w| maps to g_max (SinglePairConductanceConverter); each input vector is scaled by its largest |x|
before the DAC (noise management "abs max"); the column outputs are in units of g_max x the full-scale
input, so a column of `rows` cells at g_max driven at full scale reads `rows`.
"""

import math
import operator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..checks import check_int, check_real, check_seed, check_str, real_array
from .components import ADC_MAX_BITS, VDD_MAX_RATIO, VDD_MIN_V
from .devices import (
    DEVICE_TYPES,
    SRAM,
    IdealDevice,
    check_no_compensation,
    check_no_drift,
    check_tile,
    device_label,
    get_device,
)
from .macros import (
    BIT_CELLS,
    PERIPHERIES,
    Periphery,
    check_macro,
    conversion_groups,
    conversions_per_slice,
    get_periphery,
    input_slices,
    slice_adc_bits,
    slice_values,
)

INPUT_MODES = ("pwm", "bit_serial")
_DEFAULT_NODE_NM = 14.0  # the 'walden' cost's node when Crossbar.node_nm is None (a macro's is its periphery's)
MAPPINGS = ("differential", "offset")
# how a bit-sliced weight's cells hold its value (docs/analog.md, "The numerics' rules")
WEIGHT_ENCODINGS = ("sign_magnitude", "twos_complement", "xnor")
COMPENSATIONS = (None, "global", "column")


@dataclass(frozen=True)
class Crossbar:
    """An analog in-memory compute tile (and, for the accelerator model, `cores` of them).

    Mapping: `mapping="differential"` puts w > 0 on a G+ device and w < 0 on a G- device (aihwkit's
    single pair); `"offset"` uses one device per weight at g_max (w + 1) / 2 and subtracts a reference
    column digitally. `weight_bits` with `bits_per_cell` slices each weight over several cells
    (most-significant first), recombined in one analog read (the 'walden' cost) or, on a component macro,
    in the groups of cells its periphery sums in the analog domain (macros.conversion_groups: a ladder of
    up to `cols_per_conversion` slices, or a differential pair), each group converted apart and the groups
    shift-added digitally; None keeps analog weights. `weight_encoding` says how the cells hold a weight:
    "sign_magnitude" (the magnitude's digits, each cell signed by the weight's sign), "twos_complement" (the
    bits of a symmetric two's complement integer, the top one negative) or "xnor" (each bit a ±1: odd levels,
    no zero); the last two take bits_per_cell=1 (docs/analog.md, "The numerics' rules").
    Inputs: each input vector is scaled by its max |x| (aihwkit's "abs max" noise management), or, with
    `dac_range`, by that fixed full-scale value with inputs beyond it clipped; then `dac_bits` (None:
    ideal) per pulse-width-modulated input, or `input_mode="bit_serial"`: one bit plane per phase, each
    converted and shift-added. Outputs: `adc_bits` (None: ideal) over a range
    calibrated per column at programming time (`adc_range="column"`: the column's full-scale sum of |w|),
    one range for the tile (`"global"`), or a number r (r full-scale weights times a full-scale input, in the
    normalised units before the outputs are rescaled); `adc_share` columns per ADC.
    `out_noise`: Gaussian output noise, standard deviation in output units. Faults: `stuck_rate` of
    devices stuck at 0 or g_max (`stuck_on_fraction` at g_max). IR drop: `r_wire_ohm` per cell segment
    of wire (first-order series-resistance model). Partial sums of a matrix larger than a tile are added
    digitally in `accumulator` ("fp32", "fp16" or "exact").

    Timing and energy (accel.analog.cost): `t_mvm_s` per MVM window, `read_phases` windows per MVM (for
    timing and energy; the numerics model one read), `v_read` read voltage, `adc_fom_fj` Walden figure of
    merit of the ADCs and DACs, `node_nm` of the digital periphery (None: 14 nm; on a component macro its
    periphery's node, the only one it takes; a value equal to None's is stored as None, so the node follows a
    new periphery: `node_in_use()`); sources in docs/analog.md.
    Component macros (accel.analog.macros): `periphery` "walden" (the converter-only cost above) or a
    `Periphery` (by name: "hermes", "neurram", "jia", "sinangil", "wang-c2c"): ADC by architecture, input
    drivers, cells, integrators, shift-add, each with energy, time and area per action; then
    `input_phases` (1 or 2 slices of the PWM input bits, each read and converted apart, in the numerics
    as in the cost) and `vdd_v` (None: the periphery's reference supply; circuits' energy ~ V^2, resistive
    cells' G V_read^2 t with the pulse length, delay by the alpha-power law) apply.
    """

    rows: int = 256
    cols: int = 256
    device: object = "pcm"
    g_max_us: float = 25.0
    dac_bits: int | None = None
    dac_range: float | None = None
    adc_bits: int | None = None
    out_noise: float = 0.0
    input_mode: str = "pwm"
    adc_range: str | float = "column"
    adc_share: int = 1
    mapping: str = "differential"
    weight_bits: int | None = None
    bits_per_cell: int | None = None
    stuck_rate: float = 0.0
    stuck_on_fraction: float = 0.5
    r_wire_ohm: float = 0.0
    accumulator: str = "fp32"
    cores: int = 64
    read_phases: int = 1
    t_mvm_s: float = 133e-9
    v_read: float = 0.2
    adc_fom_fj: float = 10.0
    node_nm: float | None = None
    name: str = field(default="crossbar")
    periphery: object = "walden"
    input_phases: int = 1
    vdd_v: float | None = None
    weight_encoding: str = field(default="sign_magnitude", metadata={"since": "2026-11-30"})  # sweep hashes: sweep.py

    def __post_init__(self) -> None:
        # Each field's own rule (_RULES). A sweep replaces a field or two of a checked tile: a value that is
        # the very object the last checked tile held has passed its rule (the values are immutable), and
        # other values are memoised on (field, type, value) once they pass. The cross-field checks below
        # run every time.
        vals = _values(self)
        last = _LAST[0]
        seen = _SEEN
        same = True  # every value stands as given (none normalised to another object)
        for i in range(len(_RULES)) if len(last) != len(vals) else \
                [i for i, (a, b) in enumerate(zip(vals, last)) if a is not b]:
            f, rule = _RULES[i]
            v = vals[i]
            if f in _OBJECTS:  # a device or periphery object: its rule is a type test, cheaper than its hash
                out = rule(v)
            else:
                try:
                    key = (f, type(v), v)
                    out = seen[key]
                except KeyError:
                    out = rule(v)
                    if len(seen) < _SEEN_MAX:
                        seen[key] = out
                except TypeError:  # unhashable: checked every time
                    out = rule(v)
            if out is not v:
                object.__setattr__(self, f, out)
                same = False
        if self.node_nm is not None and self.node_nm == self._default_node():
            # a node equal to the default's is the default (None): it follows the periphery, and a tile read back
            # from a file that spells it out equals the one that leaves it out
            object.__setattr__(self, "node_nm", None)
            same = False
        if (self.weight_bits is None) != (self.bits_per_cell is None):
            raise ValueError(f"Crossbar.weight_bits and bits_per_cell go together (both None: analog weights), got "
                             f"weight_bits={self.weight_bits!r}, bits_per_cell={self.bits_per_cell!r}: set both at "
                             f"once (dataclasses.replace(unit, weight_bits=..., bits_per_cell=...), or zipped fields "
                             f"in a sweep)")
        need = BIT_CELLS[self.weight_encoding][0] if self.weight_encoding in BIT_CELLS else None
        if need is not None and (self.weight_bits is None or self.bits_per_cell != 1 or self.weight_bits < need):
            raise ValueError(f"Crossbar.weight_encoding {self.weight_encoding!r} stores each weight as bits, one per "
                             f"cell: it needs bits_per_cell=1 and weight_bits >= {need}, got weight_bits="
                             f"{self.weight_bits!r}, bits_per_cell={self.bits_per_cell!r}")
        if self.weight_encoding == "twos_complement" and self.mapping == "differential":
            raise ValueError("Crossbar.weight_encoding 'twos_complement' holds 0/1 bits, which a differential pair "
                             "would hold on its G+ alone (its G- idle, yet priced and faulty): use mapping='offset'")
        if self.input_mode == "bit_serial" and self.dac_bits is None:
            raise ValueError("Crossbar.input_mode='bit_serial' needs dac_bits (the input width)")
        if type(self.periphery) is str:
            if self.input_phases != 1 or self.vdd_v is not None:
                raise ValueError(f"Crossbar.input_phases and vdd_v need a component periphery (periphery one of "
                                 f"{sorted(PERIPHERIES)} or a Periphery); the 'walden' cost has neither")
        else:
            check_macro(self)
            p = self.periphery
            if self.node_nm is not None:  # any other node: a macro is not scaled across nodes
                raise ValueError(f"Crossbar.node_nm {self.node_nm} is not used by periphery {p.name!r}: its components "
                                 f"are measured at {p.node_nm} nm (a macro is not scaled across nodes); set node_nm "
                                 f"to {p.node_nm} or None (the periphery's)")
            if (p.cell == "charge") != (type(self.device) is SRAM):
                raise ValueError(f"Crossbar.device {device_label(self.device)!r} does not match periphery {p.name!r}, "
                                 f"whose cells are {p.cell}: a charge-domain periphery computes on SRAM cells "
                                 f"(device 'sram'), a resistive one on 'pcm', 'hermes_pcm', 'rram' or 'ideal' "
                                 f"conductances")
            _check_unused(self, _MACRO_UNUSED, f"a component periphery ({p.name!r}) times and prices the MVM "
                                               f"by its own components")
            if p.cell == "charge":
                _check_unused(self, _CHARGE_UNUSED, "charge-domain SRAM cells have no conductance, read voltage "
                                                    "or series wire resistance")
            elif p.pulse_s == 0:
                _check_unused(self, _UNPULSED_UNUSED, f"periphery {p.name!r} prices its cells inside its calibrated "
                                                      f"drivers (pulse_s 0), so the read voltage sets no energy (a "
                                                      f"design file saved from neurram-like before 2026-11-30's "
                                                      f"commit 47a3557 holds v_read = 0.5: drop that line)")
        check_tile(self.device, self.g_max_us, self.v_read)  # the conductance and read voltage its sources cover
        # one ADC serves adc_share conversions of a slice in series: past the conversions the array has, the
        # extra share would only lengthen the time (an ADC with nothing left to convert)
        walden = type(self.periphery) is str
        conv = self.cols if walden else conversions_per_slice(self)
        if self.adc_share > conv:
            what = "its columns" if walden else "its weight columns x conversion groups"
            raise ValueError(f"Crossbar.adc_share {self.adc_share} is more than the {conv} conversions one input slice "
                             f"of this array needs ({what}): use 1..{conv} (one ADC for the whole array at {conv})")
        if type(self.device) is SRAM and (self.weight_bits is None or self.bits_per_cell != 1):
            raise ValueError(f"Crossbar.device 'sram' holds one weight bit per cell: it needs weight_bits (an int) "
                             f"and bits_per_cell=1, got weight_bits={self.weight_bits!r}, "
                             f"bits_per_cell={self.bits_per_cell!r}")
        _LAST[0] = vals if same else _values(self)

    def __getstate__(self) -> dict:
        """Pickled and copied without the memo of reference_cost (a copy recomputes it, so a tile pickled by
        one version never carries that version's numbers into another)."""
        state = self.__dict__.copy()
        state.pop("_reference_cost", None)
        return state

    def node_in_use(self) -> float:
        """The node the tile is priced at: `node_nm`, else the default's (_default_node)."""
        return self._default_node() if self.node_nm is None else self.node_nm

    def _default_node(self) -> float:
        """A component macro's periphery's node, or the 'walden' cost's 14 nm."""
        return _DEFAULT_NODE_NM if type(self.periphery) is str else self.periphery.node_nm

    def unused_fields(self) -> tuple:
        """The fields this tile's cost and numerics never read (held at their defaults): a component macro's
        `t_mvm_s` and `adc_fom_fj` (the 'walden' cost's), on charge-domain SRAM cells `g_max_us`, `v_read`
        and `r_wire_ohm`, and on resistive cells priced inside the drivers (pulse_s 0: NeuRRAM) `v_read`; on the
        'walden' cost `input_phases` and `vdd_v` (a macro's knobs)."""
        if type(self.periphery) is str:
            return ("input_phases", "vdd_v")
        p = self.periphery
        return _MACRO_UNUSED + (_CHARGE_UNUSED if p.cell == "charge" else _UNPULSED_UNUSED if p.pulse_s == 0 else ())

    @property
    def slices(self) -> int:
        return 1 if self.weight_bits is None else -(-self.weight_bits // self.bits_per_cell)

    @property
    def phases(self) -> int:
        """MVM windows per input vector: `read_phases` (HERMES's high-precision mode reads in four phases)
        times the magnitude bits for bit-serial inputs."""
        if type(self.periphery) is not str:
            return self.read_phases * len(input_slices(self))
        return self.read_phases * (self.dac_bits - 1 if self.input_mode == "bit_serial" else 1)

    @property
    def supply_v(self) -> float | None:
        """The supply a component macro runs at: vdd_v, else its periphery's reference supply (None for the
        'walden' cost, which has no supply)."""
        if type(self.periphery) is str:
            return None
        return self.periphery.vdd_ref_v if self.vdd_v is None else self.vdd_v

    def devices_per_weight(self) -> int:
        return self.slices * (2 if self.mapping == "differential" else 1)

    def rows_per_weight(self) -> int:
        """Physical rows one weight spans: 2 for a differential pair on a periphery that puts the pair on
        adjacent rows and drives them with opposite inputs (`Periphery.combine` "row_pair", NeuRRAM),
        else 1."""
        if type(self.periphery) is not str and self.periphery.combine == "row_pair" and self.mapping == "differential":
            return 2
        return 1

    def cols_per_weight(self) -> int:
        """Physical columns one weight spans on a component macro: its slices, times 2 for a differential
        pair held on columns of its own."""
        return self.devices_per_weight() // self.rows_per_weight()

    def weight_rows(self) -> int:
        """Weight rows (inputs) one tile holds: `rows`, or `rows // 2` where each weight's pair lies on
        adjacent rows (rows_per_weight)."""
        return self.rows // self.rows_per_weight()

    def weight_cols(self) -> int:
        """Weight columns one tile holds: `cols` for the Walden cost (its columns are weights, a pair's
        second device implied), `cols // cols_per_weight()` for a component macro (its `cols` are the
        physical columns that hold each weight's slices and, unless the pair lies on rows, its pair)."""
        return self.cols if type(self.periphery) is str else self.cols // self.cols_per_weight()

    def perfect(self) -> "Crossbar":
        """The same tile with ideal devices and converters and no noise, faults or IR drop."""
        import dataclasses
        return dataclasses.replace(self, device=IdealDevice(), dac_bits=None, dac_range=None, adc_bits=None,
                                   out_noise=0.0,
                                   input_mode="pwm", weight_bits=None, bits_per_cell=None, stuck_rate=0.0,
                                   r_wire_ohm=0.0, accumulator="exact", periphery="walden", input_phases=1,
                                   vdd_v=None)


_OWN = "Crossbar"
# fields a component macro never reads (the 'walden' cost's window and converter figure of merit), and those
# its charge-domain cells never read: a value other than the default would be silently ignored, so it raises
_MACRO_UNUSED = ("t_mvm_s", "adc_fom_fj")
_CHARGE_UNUSED = ("g_max_us", "v_read", "r_wire_ohm")
_UNPULSED_UNUSED = ("v_read",)  # a resistive periphery with pulse_s 0 (NeuRRAM): cells priced in its drivers
_DEFAULTS = {f: Crossbar.__dataclass_fields__[f].default for f in _MACRO_UNUSED + _CHARGE_UNUSED}


def _check_unused(xbar, names, why) -> None:
    for f in names:
        if getattr(xbar, f) != _DEFAULTS[f]:
            raise ValueError(f"Crossbar.{f} {getattr(xbar, f)!r} is not used here: {why}; leave it at its default "
                             f"{_DEFAULTS[f]!r}")


_SEEN: dict = {}
_SEEN_MAX = 4096
_OBJECTS = ("device", "periphery")


def _int(f, **kw):
    return lambda v: check_int(_OWN, f, v, **kw)


def _bits(f):
    signed = f in ("dac_bits", "adc_bits")  # a sign bit and at least one magnitude bit

    def rule(v):
        if v is None:
            return v
        try:
            return check_int(_OWN, f, v, lo=2 if signed else 1, hi=24)
        except (TypeError, ValueError) as err:
            msg = str(err).replace("must be an int", "must be None (ideal) or an int")
            if signed:
                msg += " (signed: a sign bit and at least one magnitude bit"
                msg += f"; a component periphery's ADC kind allows at most {ADC_MAX_BITS})" if f == "adc_bits" else ")"
            raise type(err)(msg) from None
    return rule


def _device(v):
    return v if type(v) in DEVICE_TYPES else get_device(v)


def _adc_range(v):
    if isinstance(v, str) and v in ("column", "global"):
        return v
    if isinstance(v, str):
        raise ValueError(f"Crossbar.adc_range must be 'column', 'global' or a positive number, got {v!r}")
    return check_real(_OWN, "adc_range", v, lo=0, desc="'column', 'global' or a positive number")


def _periphery(v):
    """A Periphery, or the str "walden" itself (a numpy string normalised): the only str a tile's periphery holds,
    which the hot paths test by type (`type(periphery) is str`; a dataclass == "walden" costs a call)."""
    if type(v) is Periphery:
        return v
    p = get_periphery(v)
    return "walden" if isinstance(p, str) else p


_NORMAL_MIN = float(np.finfo(np.float64).tiny)
MAX_ARRAY = 2 ** 20  # Crossbar rows, cols and cores at most (the model's range: _RULES)
MAX_READ_PHASES = 64  # Crossbar.read_phases at most (HERMES reads in 1 or 4)


def _real(f, **kw):
    return lambda v: check_real(_OWN, f, v, **kw)


def _none_or(rule):
    return lambda v: v if v is None else rule(v)


# Crossbar's per-field rules, in the order its errors are raised.
_RULES = (
    # the model's range, not a device limit (the largest fabricated arrays hold a few thousand rows, chips a few
    # hundred cores): every count the cost multiplies out (ops, conversions, cells) stays exact in int64 and
    # float64 (audit s34: read_phases near 2^56 wrapped the grid's conversion count; 10^300 cores gave inf TOPS)
    *((f, _int(f, hi=MAX_ARRAY)) for f in ("rows", "cols", "cores")),
    ("adc_share", _int("adc_share")),
    ("read_phases", _int("read_phases", hi=MAX_READ_PHASES)),
    ("device", _device),
    *((f, _bits(f)) for f in ("dac_bits", "adc_bits", "weight_bits", "bits_per_cell")),
    ("input_mode", lambda v: check_str(_OWN, "input_mode", v, INPUT_MODES)),
    ("mapping", lambda v: check_str(_OWN, "mapping", v, MAPPINGS)),
    ("adc_range", _adc_range),
    ("dac_range", _none_or(_real("dac_range", lo=0, desc="None or a positive number"))),
    # a subnormal g_max would lose the conductances' digits (audit s34): float64's smallest normal number at least
    ("g_max_us", _real("g_max_us", lo=_NORMAL_MIN, lo_open=False,
                       desc=f"a positive number of microsiemens, at least {_NORMAL_MIN:.4g} (float64's smallest "
                            f"normal number)")),
    *((f, _real(f, lo=0)) for f in ("t_mvm_s", "v_read", "adc_fom_fj")),
    ("node_nm", _none_or(_real("node_nm", lo=0, desc="None (the periphery's node; 14 nm for the 'walden' cost) "
                                                  "or a positive number of nanometres"))),
    *((f, _real(f, lo=0, lo_open=False)) for f in ("out_noise", "r_wire_ohm")),
    *((f, _real(f, lo=0, hi=1, lo_open=False)) for f in ("stuck_rate", "stuck_on_fraction")),
    ("accumulator", lambda v: check_str(_OWN, "accumulator", v, ("fp32", "fp16", "exact"))),
    ("name", lambda v: check_str(_OWN, "name", v)),
    ("periphery", _periphery),
    ("input_phases", _int("input_phases", lo=1, hi=2)),  # the slices a PWM input's bits are split into
    ("vdd_v", _none_or(_real("vdd_v", lo=0, desc=f"None (the periphery's reference supply) or a positive number of "
                                             f"volts, at least {VDD_MIN_V} V and at most {VDD_MAX_RATIO}x the "
                                             f"reference"))),
    ("weight_encoding", lambda v: check_str(_OWN, "weight_encoding", v, WEIGHT_ENCODINGS)),
)


_values = operator.attrgetter(*(f for f, _ in _RULES))
_LAST = [()]  # the field values of the last Crossbar that passed every check


def _signed_levels(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def _round_to_odd(v):
    """The odd integer nearest v (a float array, or one Fraction); a tie (v an even integer) away from zero, and 0
    to +1 (a ±1 bit's 0 state is not there: the sign bit of 0 reads +1)."""
    k = v // 2  # v in [2k, 2k + 2): the odd integer inside is 2k + 1; v = 2k exactly is a tie
    return 2 * k + 1 - 2 * ((v == 2 * k) & (v < 0))


def _quantise(num: np.ndarray, den, levels: int, odd: bool = False) -> np.ndarray:
    """The level of num / den x levels (den > 0, broadcast to num), exactly as the rationals decide it: the
    nearest integer, a tie to the even one, or with `odd` the nearest odd integer (_round_to_odd's rule). The
    float64 product errs by a few ulps, which decides a value that close to a tie by round-off: such values are
    decided again in exact arithmetic (fractions), once per distinct (num, den)."""
    z = num / den * levels
    if odd:
        q = _round_to_odd(z)
        dist = np.abs(z - 2.0 * np.rint(z / 2.0))  # from the nearest even integer, an odd rounding's tie
    else:
        q = np.rint(z)
        dist = np.abs(z - np.floor(z) - 0.5)
    near = dist <= 2.0 ** -48 * np.maximum(np.abs(z), 1.0)
    if near.any():
        if np.ndim(den) == 0:  # one scale (a tile's weights): the distinct values alone
            distinct, where = np.unique(num[near], return_inverse=True)
            distinct = [(n, float(den)) for n in distinct.tolist()]
        else:  # a scale per row (the DAC's inputs): distinct (value, scale) pairs
            pairs = np.stack([num[near], np.broadcast_to(den, np.shape(num))[near]], axis=1)
            distinct, where = np.unique(pairs, axis=0, return_inverse=True)
            distinct = distinct.tolist()
        exact = np.empty(len(distinct))
        for i, (n, d) in enumerate(distinct):
            r = Fraction(n) * levels / Fraction(d)
            exact[i] = _round_to_odd(r) if odd else round(r)  # Fraction rounds a half to even, as np.rint
        q = q.copy()
        q[near] = exact[where.ravel()]
    return q


def weight_codes(wt: np.ndarray, amax, xbar) -> tuple:
    """The unsigned integers the cells of weights wt (largest |w| amax > 0, a number or an array broadcast to wt) hold
    by `weight_encoding`, and the digits they split into: (codes, bits per cell, slices, the weights' signs or None).
    Slice s, most significant first, is (code >> bits_per_cell s) & (2^bits_per_cell - 1). Two's complement: q mod
    2^b for q in [-(2^(b-1) - 1), 2^(b-1) - 1] (symmetric); XNOR: (q + 2^b - 1) / 2 for q odd in [-(2^b - 1),
    2^b - 1], each bit a +-1 cell; sign-magnitude: |q| in [0, 2^b - 1], each digit signed by its weight's sign."""
    b, enc = xbar.weight_bits, xbar.weight_encoding
    if enc == "twos_complement":
        return _quantise(wt, amax, _signed_levels(b)).astype(np.int64) % 2 ** b, 1, b, None
    if enc == "xnor":
        levels = 2 ** b - 1
        q = np.clip(_quantise(wt, amax, levels, odd=True), -levels, levels)
        return ((q + levels) / 2).astype(np.int64), 1, b, None
    return _quantise(np.abs(wt), amax, 2 ** b - 1).astype(np.int64), xbar.bits_per_cell, xbar.slices, np.sign(wt)


def _weight_slices(wt: np.ndarray, amax: float, xbar) -> tuple[list, list]:
    """The cells of weights wt (a tile, largest |w| amax > 0) by `weight_encoding`, most significant first: the
    value each slice's cells hold (in [-1, 1] of their own range) and each slice's significance in normalised
    weight units (docs/analog.md, "The numerics' rules"); the codes are `weight_codes`'."""
    b, enc = xbar.weight_bits, xbar.weight_encoding
    u, bpc, n, sign = weight_codes(wt, amax, xbar)
    order = range(n - 1, -1, -1)
    if enc == "twos_complement":  # 0/1 cells; the top bit counts negative
        levels = _signed_levels(b)
        return [((u >> s) & 1).astype(np.float64) for s in order], [(-1 if s == b - 1 else 1) * 2.0 ** s / levels
                                                                    for s in order]
    if enc == "xnor":  # +-1 cells
        return [2.0 * ((u >> s) & 1) - 1.0 for s in order], [2.0 ** s / (2 ** b - 1) for s in order]
    cell_max = 2 ** bpc - 1  # sign-magnitude: the magnitude's digits, each cell signed by its weight's sign
    return ([sign * ((u >> (bpc * s)) & cell_max) / cell_max for s in order],
            [cell_max * 2 ** (bpc * s) / (2 ** b - 1) for s in order])


def _bit_values(wn: np.ndarray, xbar) -> tuple:
    """The values (in [-1, 1] of a cell) of a stored 1 bit and a stored 0 bit, by `weight_encoding` (one bit per
    cell): BIT_CELLS's, or for sign-magnitude the weight's sign (+1 for w >= 0) and 0."""
    if xbar.weight_encoding in BIT_CELLS:
        return BIT_CELLS[xbar.weight_encoding][1:]
    return np.where(wn < 0, -1.0, 1.0), 0.0


def _rint_ties_even(z: np.ndarray, tol: float) -> np.ndarray:
    """np.rint (the nearest integer, a half to the even one), where every z within `tol` of a half-integer k +
    1/2 is taken as that tie."""
    f = np.floor(z)
    tie = np.abs(z - f - 0.5) <= tol
    return np.where(tie, f + (np.fmod(f, 2) != 0), np.rint(z))


class _Tile:
    """One programmed tile: target conductances per slice and polarity, device states, faults."""

    def __init__(self, xbar: Crossbar, wt: np.ndarray, rng: np.random.Generator):
        self.xbar = xbar
        self.rows_used, self.cols_used = wt.shape
        amax = float(np.max(np.abs(wt))) if wt.size else 0.0
        # the digital periphery scales the tile's outputs by its max |w| (the abs-max mapping): a tile of zero
        # weights has no other scale, and its outputs are exactly 0 whatever its devices read
        self.w_scale = amax
        wn = wt / amax if amax > 0 else np.zeros_like(wt)
        g_max = xbar.g_max_us
        # slices of the normalised weights, most significant first, each in [-1, 1] of its own cells
        if xbar.weight_bits is None:
            parts = [wn]
            self.slice_weights = [1.0]
        else:
            parts, self.slice_weights = _weight_slices(wt, amax if amax > 0 else 1.0, xbar)
        self.targets = []  # per slice: list of target-conductance arrays (G+, G-) or (G,)
        for p in parts:
            if xbar.mapping == "differential":
                self.targets.append((np.clip(p, 0, None) * g_max, np.clip(-p, 0, None) * g_max))
            else:
                self.targets.append(((p + 1.0) / 2.0 * g_max,))
        # a component macro sums each weight's cells in the analog domain in groups (macros.conversion_groups:
        # a differential pair, a ladder over bit slices), which its ADCs convert apart and its digital periphery
        # shift-adds, as the cost charges them; None: one conversion per weight
        self.groups = None
        if type(xbar.periphery) is not str:
            groups = conversion_groups(xbar)
            self.groups = groups if len(groups) > 1 else None
        self.group_ranges = self.group_sums = None
        dev = xbar.device
        self.states = [[dev.program(g, g_max, rng) for g in tg] for tg in self.targets]
        self.stuck = None
        if xbar.stuck_rate > 0:
            self.stuck = [[_stuck_mask(g.shape, xbar, rng) for g in tg] for tg in self.targets]
        # what a stuck device reads: g_max (on) or 0 (off); an SRAM cell on the offset mapping is a stored bit
        # stuck at 1 or 0, read as that bit's state in its encoding (a 0 bit of a sign-magnitude or two's
        # complement weight is the offset reference g_max / 2, not 0, which would read as -1)
        self.stuck_g = (g_max, 0.0)
        if isinstance(xbar.device, SRAM) and xbar.mapping == "offset":
            one, zero = _bit_values(wn, xbar)
            self.stuck_g = ((one + 1.0) / 2.0 * g_max, (zero + 1.0) / 2.0 * g_max)
        self.r_path = self._wire_paths() if xbar.r_wire_ohm > 0 else None
        self.range = self.sums = None
        self.alpha = None
        self.reference = None

    def _wire_paths(self) -> list:
        """Wire resistance in series with each device (per slice, per polarity): the driver feeds each row from
        column 0, the sense amplifier reads each column at the last row. On a component macro the cells lie
        where they sit: a weight's slices (most significant first) and, on columns, its pair (G+ then G-) side
        by side, or its pair on two adjacent rows (rows_per_weight); the 'walden' cost's columns are weights."""
        xbar = self.xbar
        n_pol = len(self.targets[0])
        walden = type(xbar.periphery) is str
        rpw = 1 if walden else xbar.rows_per_weight()
        cpw = 1 if walden else xbar.cols_per_weight()
        pol_cols = n_pol if rpw == 1 else 1  # a slice's devices side by side along the row
        i = np.arange(self.rows_used)[:, None]
        j = np.arange(self.cols_used)[None, :]
        out = []
        for s in range(len(self.targets)):
            per = []
            for d in range(n_pol):
                row = i * rpw + (d if rpw == 2 else 0)
                col = j if walden else j * cpw + s * pol_cols + (d if pol_cols == 2 else 0)
                per.append(xbar.r_wire_ohm * ((col + 1) + (self.rows_used * rpw - row)))
            out.append(per)
        return out

    def conductances(self, t_inference_s: float, rng, at_programming: bool = False) -> list:
        xbar, out = self.xbar, []
        for si, states in enumerate(self.states):
            gs = []
            for di, st in enumerate(states):
                g = st[0] if at_programming else xbar.device.read(st, xbar.g_max_us, t_inference_s, rng)
                if self.stuck is not None:
                    on, off = self.stuck[si][di]
                    g = np.where(on, self.stuck_g[0], np.where(off, self.stuck_g[1], g))
                if self.r_path is not None:  # g_eff = g / (1 + g R): the cell in series with its wire path
                    g = g / (1.0 + g * 1e-6 * self.r_path[si][di])
                gs.append(g)
            out.append(gs)
        _check_finite(out, "conductances", xbar, t_inference_s, at_programming)
        return out

    def effective_weights(self, gs: list) -> np.ndarray:
        """Normalised weights (in units of g_max) the conductances implement, slices recombined; ValueError
        where they leave the float range."""
        w = self._effective_weights(gs)
        _check_finite([[w]], "weights (conductance / g_max)", self.xbar)
        return w

    def _effective_weights(self, gs: list) -> np.ndarray:
        g_max = self.xbar.g_max_us
        w = np.zeros((self.rows_used, self.cols_used))
        for sw, g in zip(self.slice_weights, gs):
            if self.xbar.mapping == "differential":
                w += sw * (g[0] - g[1]) / g_max
            else:
                w += sw * (2.0 * g[0] / g_max - 1.0)
        return w

    def group_weights(self, gs: list) -> list | None:
        """Normalised weights of each conversion group (`groups`), which add up to effective_weights; None
        when each weight is one conversion."""
        if self.groups is None:
            return None
        g_max, out = self.xbar.g_max_us, []
        for group in self.groups:
            w = np.zeros((self.rows_used, self.cols_used))
            for si, di in group:
                g = gs[si][di]
                if self.xbar.mapping == "differential":
                    w += self.slice_weights[si] * (g if di == 0 else -g) / g_max
                else:
                    w += self.slice_weights[si] * (2.0 * g / g_max - 1.0)
            out.append(w)
        return out

    def _full_scale(self, full: np.ndarray, significance: float = 1.0) -> np.ndarray:
        """The ADC range of each column from its programmed sum of |w| (`full`)."""
        r = self.xbar.adc_range
        # a column (or tile) of no weight at all reads 0 (_convert): 1 keeps the division finite; any other
        # converts over its own sum, however small
        if r == "column":
            return np.where(full > 0, full, 1.0)
        if r == "global":
            top = float(full.max()) if full.size else 0.0
            return np.full(self.cols_used, top if top > 0 else 1.0)
        # a fixed range is the converter's, which sees a group's own (unshifted) sum: in the weight's units it
        # is the range times the group's significance (its top slice's weight over the weight's top slice's)
        return np.full(self.cols_used, float(r) * significance)

    def calibrate(self, w_eff0: np.ndarray, groups0: list | None = None) -> None:
        """ADC ranges from the programmed (t = 0) weights: the full-scale |sum| of each column (of each
        conversion group's column, where a weight takes several)."""
        self.sums = np.sum(np.abs(w_eff0), axis=0)
        self.range = self._full_scale(self.sums)
        if groups0 is not None:
            top = abs(self.slice_weights[0])  # a two's complement weight's top slice counts negative
            self.group_sums = [np.sum(np.abs(w), axis=0) for w in groups0]
            self.group_ranges = [self._full_scale(c, max(abs(self.slice_weights[si]) for si, _ in group) / top)
                                 for c, group in zip(self.group_sums, self.groups)]

    def forward_normalised(self, xn: np.ndarray, w_eff: np.ndarray, rng, groups: list | None = None) -> np.ndarray:
        """ADC outputs (normalised units) for normalised inputs xn (batch, rows) in [-1, 1]; `groups`: the
        conversion groups' weights (group_weights), each read and converted apart and added."""
        xbar = self.xbar
        if xbar.input_mode == "bit_serial":
            levels = _signed_levels(xbar.dac_bits)
            q = np.rint(xn * levels)
            mag, sgn = np.abs(q).astype(np.int64), np.sign(q)
            y = np.zeros((xn.shape[0], self.cols_used))
            for b in range(xbar.dac_bits - 1):
                plane = sgn * ((mag >> b) & 1)
                y += (2.0 ** b / levels) * self._read(plane, w_eff, groups, rng)
            return y
        if xbar.input_phases > 1:  # a component macro's PWM input in slices (accel.analog.macros)
            return self._forward_slices(xn, w_eff, groups, rng)
        if xbar.dac_bits is not None:
            levels = _signed_levels(xbar.dac_bits)
            xn = np.rint(xn * levels) / levels
        return self._read(xn, w_eff, groups, rng)

    def _read(self, v: np.ndarray, w_eff: np.ndarray, groups: list | None, rng, adc_bits: int | None = None):
        """One analog read of inputs v, converted: the whole weight at once, or each conversion group apart
        (at its own calibrated range) and the results added digitally."""
        if groups is None:
            return self._convert(v @ w_eff, rng, adc_bits)
        return sum(self._convert(v @ wg, rng, adc_bits, r, c)
                   for wg, r, c in zip(groups, self.group_ranges, self.group_sums))

    def _forward_slices(self, xn: np.ndarray, w_eff: np.ndarray, groups: list | None, rng) -> np.ndarray:
        """The input's magnitude bits in slices, most significant first (macros.input_slices): each slice
        is a full-scale read of its own bits, converted at its own width (macros.slice_adc_bits, a later
        slice narrower) and shift-added digitally, as the cost model charges it."""
        xbar = self.xbar
        levels = _signed_levels(xbar.dac_bits)
        q = np.rint(xn * levels)
        mag, sgn = np.abs(q).astype(np.int64), np.sign(q)
        y = np.zeros((xn.shape[0], self.cols_used))
        for (top, after, v), a in zip(slice_values(mag, xbar), slice_adc_bits(xbar)):
            y += (top * 2.0 ** after / levels) * self._read(sgn * v / top, w_eff, groups, rng, a)
        return y

    def _convert(self, y: np.ndarray, rng, adc_bits: int | None = None, full: np.ndarray | None = None,
                 sums: np.ndarray | None = None) -> np.ndarray:
        """ADC conversion of column sums y over the calibrated range `full` (default: the tile's), whose columns'
        programmed sums of |w| are `sums`."""
        xbar = self.xbar
        adc_bits = xbar.adc_bits if adc_bits is None else adc_bits
        if xbar.out_noise > 0:
            y = y + xbar.out_noise * rng.standard_normal(y.shape)
        if adc_bits is not None:
            levels = _signed_levels(adc_bits)
            r, c = (self.range, self.sums) if full is None else (full, sums)
            # an exact tie of the converter (y / r * levels = k + 1/2 in the tile's own arithmetic: SRAM bits and
            # quantised inputs make such sums rational) rounds to even, like the DAC and the weight quantiser. In
            # float64 a tie arrives within round-off of k + 1/2 on either side: a rows_used-term sum errs by at
            # most about rows_used ulps of the column's sum of |w| (c; inputs are at most 1), and the offset
            # mapping's read 2 g / g_max - 1 by an ulp of g_max (1 in these units) per row; in levels that is
            # the band below (8 ulps per term as margin), read as the tie. A band of 1/4 or more would turn
            # every value into a "tie" (a column far below the tile's largest |w| on the offset mapping): its
            # round-off is then past one level anyway, and the band stops at 1/4.
            tol = self.rows_used * levels * 2.0 ** -49 * (c + (1.0 if xbar.mapping == "offset" else 0.0)) / r
            z = _rint_ties_even(y / r * levels, np.minimum(tol, 0.25))
            y = np.clip(z, -levels, levels) / levels * r
            y = np.where(c > 0, y, 0.0)  # a column that holds no weight reads 0: noise before it converts nothing
        return y


def dac_codes(xs: np.ndarray, tile: Crossbar) -> tuple:
    """(the signed DAC levels of one row split's inputs xs (vectors x rows), their scale): each vector scaled by its
    max |x| or by the fixed dac_range (clipped), and rounded to the levels exactly as the rationals decide
    (_quantise); with an ideal DAC (dac_bits None) the scaled values themselves. What the tiles are driven with
    (ProgrammedMatrix) and what the cost counts the input activity on (cost.input_activity)."""
    if tile.dac_range is None:
        s_x = np.max(np.abs(xs), axis=1, keepdims=True)
        s_x = np.where(s_x > 0, s_x, 1.0)
    else:
        s_x = tile.dac_range
        xs = np.clip(xs, -s_x, s_x)  # beyond the range: its full scale (and no exact decision far past it)
    if tile.dac_bits is None:
        return xs / s_x, s_x
    lv = _signed_levels(tile.dac_bits)
    return np.clip(_quantise(xs, s_x, lv), -lv, lv), s_x


def _check_finite(arrays: list, what: str, xbar: Crossbar, t_s: float | None = None,
                  at_programming: bool = False) -> None:
    """ValueError when any array of `arrays` (a list of lists) holds NaN or inf: device statistics or tile fields at
    the float range's ends (a huge prog_coeff, r_wire_ohm or g_max_us, a subnormal reference conductance) would
    otherwise reach the converters, which read a NaN column as one holding no weight."""
    bad = sum(int(np.count_nonzero(~np.isfinite(a))) for row in arrays for a in row)
    if bad:
        when = " at programming" if at_programming else ("" if t_s is None else f" at t = {t_s!r} s")
        raise ValueError(f"the tile's {what}{when} leave the float range ({bad} non-finite): check the device's "
                         f"fields ({device_label(xbar.device)}: {xbar.device!r}) and the tile's g_max_us "
                         f"{xbar.g_max_us!r} and r_wire_ohm {xbar.r_wire_ohm!r}")


def check_compensation(name: str, compensation) -> None:
    """ValueError unless `compensation` is one of COMPENSATIONS (`name`: how the caller passed it)."""
    if not (compensation is None or (isinstance(compensation, str) and compensation in COMPENSATIONS)):
        raise (ValueError if isinstance(compensation, str) else TypeError)(
            f"{name} must be one of {COMPENSATIONS}, got {compensation!r}")


def _check_t(t) -> float:
    """t_seconds (time since programming) as a float: a finite number >= 0."""
    try:
        return check_real("analog_matmul", "t_seconds", t, lo=0, lo_open=False) + 0.0  # -0.0 is 0.0
    except (TypeError, ValueError) as err:  # the name users pass it by, in every entry point
        raise type(err)(str(err).replace("analog_matmul.t_seconds", "t_seconds")) from None


def _stuck_mask(shape, xbar: Crossbar, rng):
    stuck = rng.random(shape) < xbar.stuck_rate
    on = stuck & (rng.random(shape) < xbar.stuck_on_fraction)
    return on, stuck & ~on


def _accumulate(parts: list, accumulator: str) -> np.ndarray:
    """Sum the tiles' partial outputs in the digital accumulator's format; "exact": their exact sum, rounded
    once to float64 (math.fsum per output; a float64 sum in order would lose 1 in 2^53 + 1 - 2^53)."""
    if accumulator == "exact":
        if len(parts) == 1:
            return parts[0]
        stack = np.stack(parts)
        if not np.isfinite(stack).all():  # inf or NaN: the float range itself (the caller says so)
            return np.sum(stack, axis=0)
        flat = stack.reshape(len(parts), -1)
        # math.fsum on Python floats per output (lists: 25 % faster than iterating array rows)
        return np.fromiter(map(math.fsum, flat.T.tolist()), np.float64, flat.shape[1]).reshape(stack.shape[1:])
    dt = np.float32 if accumulator == "fp32" else np.float16
    acc = parts[0].astype(dt)
    for p in parts[1:]:
        acc = (acc + p.astype(dt)).astype(dt)
    return acc.astype(np.float64)


def _check_accumulated(parts: list, out: np.ndarray, accumulator: str, tile: "Crossbar | None" = None) -> None:
    """ValueError when finite partial outputs overflow the accumulator's format, or all underflow to 0; the message
    names `tile`'s fixed converter ranges (dac_range, adc_range), whose scale the outputs carry, where it has them."""
    if not all(np.isfinite(p).all() for p in parts):
        return  # the float range itself: the caller's message
    dt = np.float32 if accumulator == "fp32" else np.float16
    info = np.finfo(dt)
    fixed = [f"{f} {getattr(tile, f)!r}" for f in ("dac_range", "adc_range")
             if tile is not None and isinstance(getattr(tile, f), int | float)]
    ranges = f"; check the tile's fixed {' and '.join(fixed)}, whose scale the outputs carry" if fixed else ""
    if not np.isfinite(out).all():
        raise ValueError(f"the tiles' partial outputs overflow the {accumulator} accumulator (largest finite "
                         f"{float(info.max):.4g}): scale the inputs or weights down, or use "
                         f"accumulator='exact'{ranges}")
    nonzero = [p for p in parts if np.any(p != 0)]
    if nonzero and all(not np.any(p.astype(dt) != 0) for p in nonzero):  # every part lost, not a cancellation
        raise ValueError(f"the tiles' partial outputs all underflow to 0 in the {accumulator} accumulator (smallest "
                         f"{float(info.smallest_subnormal):.4g}): scale the inputs or weights up, or use "
                         f"accumulator='exact'{ranges}")


class ProgrammedMatrix:
    """A weight matrix w (n_out, n_in) programmed onto ceil(n_in / weight_rows()) x ceil(n_out /
    weight_cols()) tiles."""

    def __init__(self, w, tile: Crossbar, seed=0):
        if not isinstance(tile, Crossbar):
            raise TypeError(f"tile must be a Crossbar, got {type(tile).__name__}")
        seed = check_seed("seed", seed, generator=True, sequence=True)
        w = real_array("w", w)
        if w.ndim != 2 or 0 in w.shape:
            raise ValueError(f"w must be a non-empty 2-D (n_out, n_in) weight matrix, got shape {w.shape}")
        self.tile, self.shape = tile, w.shape
        self.rng = np.random.default_rng(seed)
        n_out, n_in = w.shape
        wr = tile.weight_rows()
        self.row_splits = [(i, min(i + wr, n_in)) for i in range(0, n_in, wr)]
        wc = tile.weight_cols()
        self.col_splits = [(j, min(j + wc, n_out)) for j in range(0, n_out, wc)]
        self.tiles = {}
        for ri, (i0, i1) in enumerate(self.row_splits):
            for ci, (j0, j1) in enumerate(self.col_splits):
                t = _Tile(tile, w[j0:j1, i0:i1].T, self.rng)
                g0 = t.conductances(0.0, self.rng, at_programming=True)
                t.calibrate(t.effective_weights(g0), t.group_weights(g0))
                self.tiles[ri, ci] = t
        self.compensation_reference = {}

    def weights_at(self, t_inference_s: float) -> dict:
        """Effective normalised weights of every tile `t_inference_s` after programming (one draw of the
        read noise, as aihwkit's drift_analog_weights(t))."""
        return {k: w for k, (w, _) in self._states_at(t_inference_s).items()}

    def _states_at(self, t_inference_s: float) -> dict:
        """(effective weights, conversion groups' weights or None) of every tile, from one read draw."""
        t_s = _check_t(t_inference_s)
        out = {}
        for k, t in self.tiles.items():
            gs = t.conductances(t_s, self.rng)
            out[k] = t.effective_weights(gs), t.group_weights(gs)
        return out

    def _readout(self, key, w_eff, mode):
        """aihwkit's drift readout: mean |output| for one-hot inputs (all of them, or per column). The
        read is taken before the ADC (a high-resolution calibration read): one-hot outputs sit far below
        one LSB of a full-scale column range."""
        t = self.tiles[key]
        y = np.abs(w_eff)
        if t.xbar.out_noise > 0:
            y = np.abs(w_eff + t.xbar.out_noise * self.rng.standard_normal(w_eff.shape))
        return max(float(y.mean()), 1e-4) if mode == "global" else np.maximum(y.mean(axis=0), 1e-4)

    def matmul(self, x: np.ndarray, t_inference_s: float = 0.0, compensation=None) -> np.ndarray:
        """y (batch, n_out) for x (batch, n_in), at one time point; ValueError when the outputs overflow."""
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked, and reported, at the end
            return self._matmul(x, t_inference_s, compensation)

    def _scaled_inputs(self, xs: np.ndarray) -> tuple:
        """One row split's inputs for its tiles: (normalised inputs in [-1, 1], their scale), on the DAC's levels
        when it has them (dac_codes; the tile's rint(xn L) then gives the same level)."""
        q, s_x = dac_codes(xs, self.tile)
        return (q if self.tile.dac_bits is None else q / _signed_levels(self.tile.dac_bits)), s_x

    def _matmul(self, x: np.ndarray, t_inference_s: float, compensation) -> np.ndarray:
        check_compensation("compensation", compensation)
        check_no_drift(self.tile.device, _check_t(t_inference_s))
        check_no_compensation(self.tile.device, compensation)
        n_out, n_in = self.shape
        x = real_array("x", x)
        if x.ndim != 2 or x.shape[1] != n_in:
            raise ValueError(f"x must have {n_in} rows (inputs), got shape {x.shape[::-1]}")
        states = self._states_at(t_inference_s)
        weights = {k: w for k, (w, _) in states.items()}
        if compensation is not None:
            for key, t in self.tiles.items():
                if (key, compensation) not in self.compensation_reference:
                    w0 = t.effective_weights(t.conductances(0.0, self.rng, at_programming=True))
                    self.compensation_reference[key, compensation] = self._readout(key, w0, compensation)
        out = np.zeros((x.shape[0], n_out))
        inputs = [self._scaled_inputs(x[:, i0:i1]) for i0, i1 in self.row_splits]  # the same for every column
        for ci, (j0, j1) in enumerate(self.col_splits):
            parts = []
            for ri in range(len(self.row_splits)):
                t = self.tiles[ri, ci]
                xn, s_x = inputs[ri]
                y = t.forward_normalised(xn, weights[ri, ci], self.rng, states[ri, ci][1]) * s_x * t.w_scale + 0.0
                if compensation is not None:
                    y = y * (self.compensation_reference[(ri, ci), compensation]
                             / self._readout((ri, ci), weights[ri, ci], compensation))
                parts.append(y)
            acc = self.tile.accumulator
            out[:, j0:j1] = _accumulate(parts, acc)
            if acc != "exact":  # the digital accumulator's own range: say so rather than return inf or zeros
                _check_accumulated(parts, out[:, j0:j1], acc, self.tile)
        if not np.isfinite(out).all():  # fields at the edge of the float range (g_max_us=1e308, out_noise=1e300)
            raise ValueError(f"the analog outputs overflow the float range ({np.count_nonzero(~np.isfinite(out))} "
                             f"non-finite): check the tile's g_max_us, out_noise, adc_range and the inputs' scale")
        return out


def analog_matmul(w, x, tile: Crossbar | None = None, t_seconds: float = 0.0, compensation=None,
                  seed=0) -> np.ndarray:
    """w @ x computed on analog crossbar tiles `t_seconds` after programming.

    Args:
        w: (n_out, n_in) weights. x: (n_in,) or (n_in, batch) inputs.
        tile: the Crossbar (default: a 256 x 256 PCM tile with ideal converters).
        t_seconds: time since programming, as aihwkit's t_inference (device time t_seconds + t0).
        compensation: None, "global" or "column" drift compensation (aihwkit's GlobalDriftCompensation /
            PerColumnDriftCompensation: outputs rescaled by the one-hot readout at programming over the
            readout now).
        seed: programming, drift, read-noise and fault draws are reproducible with it.
    Returns: (n_out,) or (n_out, batch) float64.
    """
    tile = Crossbar() if tile is None else tile
    if not isinstance(tile, Crossbar):
        raise TypeError(f"tile must be a Crossbar or None, got {type(tile).__name__}")
    x = real_array("x", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"x must be (n_in,) or (n_in, batch), got shape {x.shape}")
    vec = x.ndim == 1
    xb = x.reshape(1, -1) if vec else x.T
    y = ProgrammedMatrix(w, tile, seed).matmul(xb, t_seconds, compensation)
    return y[0] if vec else y.T
