"""Resistive devices as data: their programming noise, drift and read noise, each with its source.

All conductances are in microsiemens. `program(g_target, g_max_us, rng)` returns the device state right
after programming; `read(state, g_max_us, t_inference_s, rng)` the conductances seen `t_inference_s`
after programming, counted as aihwkit counts `t_inference` (drift measured from t0 after programming).
"""

import math
from dataclasses import dataclass, field

import numpy as np

from ..checks import check_int, check_real

_ZERO_CLIP = 1e-7  # aihwkit's floor on g / g_max inside the drift-coefficient logarithm


def _poly(coeffs, x):
    out = np.zeros_like(x) + coeffs[0]
    p = np.ones_like(x)
    for c in coeffs[1:]:
        p = p * x
        out = out + c * p
    return out


# The longest time after programming the PCM statistics are used for: Joshi et al. (Nat. Commun. 11, 2473, 2020)
# measured drift and read noise from about 25 s to one day (Sec. II D, Fig. 4: reads at 27 s ... 100,748 s) and
# extrapolated with this model to one year (Sec. II E: "for one year when extrapolating the results using the PCM
# model"); no source validates the drift law past that (aihwkit sets no limit), so later times are refused.
PCM_MAX_TIME_S = 365.25 * 86400.0


def check_pcm_time(t_seconds, stats: str) -> None:
    """ValueError when a PCM is asked for a time past PCM_MAX_TIME_S after programming; `stats` names its statistics."""
    if not t_seconds <= PCM_MAX_TIME_S:  # NaN too
        raise ValueError(f"PCM drift statistics ({stats}) are extrapolated by their sources to one year at most: "
                         f"t_seconds must be at most {PCM_MAX_TIME_S:.6g} s (365.25 days), got {t_seconds!r}")


@dataclass(frozen=True)
class PCM:
    """Phase-change memory with IBM aihwkit's PCMLikeNoiseModel statistics (aihwkit
    src/aihwkit/inference/noise/pcm.py; Nandakumar et al., ICECS 2019; Joshi et al., Nat. Commun. 11,
    2473, 2020), reproduced formula for formula:

    - programming: g_prog = g_T + sigma N(0,1), sigma = (0.26348 + 1.9650 g - 1.1731 g^2) g_max / 25 uS,
      g = g_T / g_max; clipped at 0;
    - drift exponent nu = |mu + s N(0,1)|, mu = clip(-0.0155 ln g + 0.0244, 0.049, 0.1),
      s = clip(-0.0125 ln g - 0.0059, 0.008, 0.045), g = max(|g_T| / g_max, 1e-7);
    - at t = t_inference + t0: g_drift = g_prog (t / t0)^-nu (t0 = 20 s);
    - accumulated 1/f read noise: g = g_drift + |g_drift| sigma_r N(0,1), sigma_r = Q_s sqrt(ln((t +
      t_read) / (2 t_read))), Q_s = min(0.2, 0.0088 / max((|g_prog| / g_max)^0.65, 1e-3)), t_read =
      250 ns; clipped at 0."""

    # the highest read voltage, with its source (a class constant, not a field): IBM's 14 nm PCM chip reads its
    # devices at 100-400 mV (Le Gallo et al., Nat. Electron. 6, 680, 2023, Extended Data Table 1; its verify reads at
    # 0.2 V), Joshi et al. 2020's 90 nm chip, whose reads these statistics come from, at 0.3 V: no source measures
    # the devices read harder
    V_READ_MAX = (0.4, "the top of IBM's 14 nm PCM chip's read-voltage range, 100-400 mV: Le Gallo et al. 2023, "
                       "Extended Data Table 1")
    _STATS = "aihwkit's PCMLikeNoiseModel; Joshi et al. 2020, measured from 25 s to one day"  # for check_pcm_time

    prog_coeff: tuple = (0.26348, 1.9650, -1.1731)
    prog_coeff_g_max_reference_us: float = 25.0
    t0_s: float = 20.0
    t_read_s: float = 250e-9
    prog_noise_scale: float = 1.0
    read_noise_scale: float = 1.0
    drift_scale: float = 1.0

    def __post_init__(self) -> None:
        own = "PCM"
        if not isinstance(self.prog_coeff, tuple | list) or not self.prog_coeff:
            raise TypeError(f"PCM.prog_coeff must be a non-empty tuple of numbers, got {self.prog_coeff!r}")
        object.__setattr__(self, "prog_coeff", tuple(check_real(own, f"prog_coeff[{i}]", c)
                                                     for i, c in enumerate(self.prog_coeff)))
        tiny = float(np.finfo(np.float64).tiny)  # a subnormal reference would scale the noise past the float range
        object.__setattr__(self, "prog_coeff_g_max_reference_us", check_real(
            own, "prog_coeff_g_max_reference_us", self.prog_coeff_g_max_reference_us, lo=tiny, lo_open=False,
            desc=f"a positive number of microsiemens, at least {tiny:.4g} (float64's smallest normal number)"))
        for f in ("t0_s", "t_read_s"):
            object.__setattr__(self, f, check_real(own, f, getattr(self, f), lo=0))
        # the 1/f read noise grows as sqrt(ln((t + t_read) / (2 t_read))) from t = t0: below t_read it is undefined
        if self.t_read_s > self.t0_s:
            raise ValueError(f"PCM.t_read_s {self.t_read_s!r} must be at most t0_s {self.t0_s!r}: the read noise "
                             f"sqrt(ln((t + t_read) / (2 t_read))) at t = t0 (the first read) needs t0 >= t_read "
                             f"(aihwkit: t_read 250 ns, t0 20 s)")
        for f in ("prog_noise_scale", "read_noise_scale", "drift_scale"):
            object.__setattr__(self, f, check_real(own, f, getattr(self, f), lo=0, lo_open=False))

    def prog_sigma(self, g_target, g_max_us):
        return _poly(self.prog_coeff, g_target / g_max_us) * g_max_us / self.prog_coeff_g_max_reference_us

    def drift_mu_sigma(self, g_target, g_max_us):
        g = np.maximum(np.abs(g_target / g_max_us), _ZERO_CLIP)
        mu = np.clip(-0.0155 * np.log(g) + 0.0244, 0.049, 0.1)
        sig = np.clip(-0.0125 * np.log(g) - 0.0059, 0.008, 0.045)
        return mu, sig

    def read_sigma(self, g_prog, g_max_us, t_inference_s):
        t = t_inference_s + self.t0_s
        q_s = np.minimum(0.0088 / np.maximum((np.abs(g_prog) / g_max_us) ** 0.65, 1e-3), 0.2)
        return q_s * np.sqrt(np.log((t + self.t_read_s) / (2 * self.t_read_s)))

    def program(self, g_target, g_max_us, rng):
        g_prog = np.maximum(g_target + self.prog_noise_scale * self.prog_sigma(g_target, g_max_us)
                            * rng.standard_normal(g_target.shape), 0.0)
        mu, sig = self.drift_mu_sigma(g_target, g_max_us)
        nu = np.abs(mu + sig * rng.standard_normal(g_target.shape)) * self.drift_scale
        return g_prog, nu

    def check_time(self, t_s) -> None:
        check_pcm_time(t_s, self._STATS)

    def read(self, state, g_max_us, t_inference_s, rng):
        self.check_time(t_inference_s)
        g_prog, nu = state
        t = t_inference_s + self.t0_s
        g_drift = g_prog * (t / self.t0_s) ** (-nu) if t > self.t0_s else g_prog
        sig = self.read_sigma(g_prog, g_max_us, t_inference_s)
        g = g_drift + np.abs(g_drift) * self.read_noise_scale * sig * rng.standard_normal(g_prog.shape)
        return np.maximum(g, 0.0)


# IBM HERMES's own PCM unit cells as aihwkit fits them (HermesNoiseModel, src/aihwkit/inference/noise/hermes.py,
# aihwkit 1.2.0; fitted on the chip of Le Gallo et al., Nat. Electron. 6, 680, 2023 and Khaddam-Aljameh et al., IEEE
# JSSC 57(4), 2022): per number of devices per polarity (1: one-device programming, ODP; 2: two-device, TDP), the
# characterised g_max (uS), the drift fit's first read t0 (s), the programming-noise polynomial (ascending powers of
# g_T / g_max, uS at that g_max), and the branch fits of the drift exponent's std and of the 1/f read noise's Q_s:
# (threshold on g / g_max, (a, b, lo, hi) of clip(a ln g + b, lo, hi) below it, polynomial above it, ascending).
_HERMES = {
    1: {"g_max_us": 10.35, "t0_s": 200.0, "prog": (0.15781817, 2.32443916, -2.16310839, 0.68841818),
        "nu_sig": (0.3039, (-0.0120, -0.0023, 0.0124, 0.04), (0.0104, 0.0116, -0.0165)),
        "q_s": (0.1591, (-0.0078, 0.0038, 0.0179, 0.04), (0.0088, 0.0768, -0.1352, 0.0664))},
    2: {"g_max_us": 20.7, "t0_s": 300.0, "prog": (0.16603222, 4.71806468, -8.48101252, 4.68961419),
        "nu_sig": (0.3055, (-0.0117, -0.0057, 0.0091, 0.04), (0.0073, 0.0093, -0.0118)),
        "q_s": (0.16, (-0.0117, -0.0069, 0.015, 0.04), (0.0123, 0.0211, -0.0280, 0.0069))},
}
# the drift exponent's mean, the same for one or two devices (aihwkit models both devices at the same state)
_HERMES_NU_MU = (0.0945, (-0.0387, -0.0182, 0.0720, 0.13), (0.0736, -0.0126, -0.0436))


def _branch(g, fit):
    """clip(a ln g + b, lo, hi) below the fit's threshold, its polynomial (ascending powers) at and above it."""
    threshold, (a, b, lo, hi), poly = fit
    with np.errstate(divide="ignore"):  # g = 0 gives ln g = -inf, clipped like aihwkit's
        low = np.clip(a * np.log(g) + b, lo, hi)
    return np.where(g < threshold, low, _poly(poly, g))


@dataclass(frozen=True)
class HermesPCM:
    """The PCM unit cells of IBM's HERMES chip with aihwkit's HermesNoiseModel statistics, fitted on that chip
    (aihwkit 1.2.0 src/aihwkit/inference/noise/hermes.py; Le Gallo et al., Nat. Electron. 6, 680, 2023), formula for
    formula. `num_devices` is the devices per polarity that hold a weight: 2 (the default, aihwkit's too) is the
    paper's two-device programming (TDP: past one device's SET conductance one device is SET and the other tuned;
    Sec. IV and Extended Data Fig. 5) with a characterised g_max of 20.7 uS; 1 is one-device programming (ODP),
    10.35 uS. aihwkit models the pair as one device of their summed conductance with its own fits, and applies the
    drift as if both devices held the same conductance (its docstring: worse drift than measured with TDP's dynamic
    mapping). The tile's g_max_us may not exceed the characterised one.

    - programming: g_prog = g_T + sigma N(0,1), sigma = poly(g_T / g_max) g_max / g_max_characterised; clipped at 0;
    - drift exponent nu = |mu + s N(0,1)|, mu and s branch fits of g = max(|g_T| / g_max, 1e-7) (_HERMES);
    - at t = t_inference + t0: g_drift = g_prog (t / t0)^-nu (t0 = 300 s for two devices, 200 s for one);
    - 1/f read noise: g = g_drift + |g_drift| Q_s sqrt(ln((t + t_read) / (2 t_read))) N(0,1), Q_s a branch fit of
      |g_prog| / g_max, t_read = 512 ns; clipped at 0."""

    num_devices: int = 2
    prog_noise_scale: float = 1.0
    read_noise_scale: float = 1.0
    drift_scale: float = 1.0

    t_read_s = 512e-9  # the 1/f fit's read time (class constants, part of the fit, not fields)
    V_READ_MAX = PCM.V_READ_MAX
    _STATS = "aihwkit's HermesNoiseModel, fitted on the HERMES chip, whose Fig. 2d spans about 10^3-10^4 s"

    def __post_init__(self) -> None:
        own = "HermesPCM"
        object.__setattr__(self, "num_devices", check_int(own, "num_devices", self.num_devices, lo=1, hi=2))
        for f in ("prog_noise_scale", "read_noise_scale", "drift_scale"):
            object.__setattr__(self, f, check_real(own, f, getattr(self, f), lo=0, lo_open=False))

    @property
    def g_max_us(self) -> float:
        """The largest unit-cell conductance the fits characterise (uS)."""
        return _HERMES[self.num_devices]["g_max_us"]

    @property
    def t0_s(self) -> float:
        return _HERMES[self.num_devices]["t0_s"]

    def check_time(self, t_s) -> None:
        check_pcm_time(t_s, self._STATS)

    def program(self, g_target, g_max_us, rng):
        fit = _HERMES[self.num_devices]
        sigma = _poly(fit["prog"], g_target / g_max_us) * g_max_us / fit["g_max_us"]
        g_prog = np.maximum(g_target + self.prog_noise_scale * sigma * rng.standard_normal(g_target.shape), 0.0)
        g = np.maximum(np.abs(g_target / g_max_us), _ZERO_CLIP)
        mu, sig = _branch(g, _HERMES_NU_MU), _branch(g, fit["nu_sig"])
        nu = np.abs(mu + sig * rng.standard_normal(g_target.shape)) * self.drift_scale
        return g_prog, nu

    def read(self, state, g_max_us, t_inference_s, rng):
        self.check_time(t_inference_s)
        g_prog, nu = state
        t0 = self.t0_s
        t = t_inference_s + t0
        g_drift = g_prog * (t / t0) ** (-nu) if t > t0 else g_prog
        q_s = _branch(np.abs(g_prog) / g_max_us, _HERMES[self.num_devices]["q_s"])
        sig = q_s * math.sqrt(math.log((t + self.t_read_s) / (2 * self.t_read_s)))
        g = g_drift + np.abs(g_drift) * self.read_noise_scale * sig * rng.standard_normal(g_prog.shape)
        return np.maximum(g, 0.0)


# Wan et al., "A compute-in-memory chip based on resistive random-access memory", Nature 608, 504 (2022),
# as fitted in aihwkit's ReRamWan2022NoiseModel (src/aihwkit/inference/noise/reram.py): the standard
# deviation of the conductance about its target, in uS for g_max = 40 uS, is a 4th-order polynomial in
# g_T / g_max, fitted at 1 s, 1 day and 2 days after programming (coefficients in ascending powers).
_WAN2022 = {
    1.0: (0.348, 16.030, -43.853, 45.393, -16.815),
    86400.0: (0.701, 22.086, -50.773, 47.095, -16.458),
    172800.0: (0.782, 20.274, -43.507, 37.062, -11.934),
}


BETWEEN_FITS = ("log_time", "refuse")  # RRAM.between_fits


_DEFAULT_RRAM_COEFFS = tuple(sorted(_WAN2022.items()))


@dataclass(frozen=True)
class RRAM:
    """Resistive RAM with the Wan et al. (Nature 2022) statistics as aihwkit's ReRamWan2022NoiseModel
    fits them: the conductance at time t is the target plus Gaussian noise of the polynomial standard
    deviation fitted at that time (no drift in the PCM sense), clipped at 0.

    The fits exist at 1 s, 1 day and 2 days. `between_fits` says what a time between two fits reads:
    "log_time" (the default) interpolates the standard deviation linearly in ln t between the two fits
    around it: the form of aihwkit's ReRamCMONoiseModel, whose relaxation spread, fitted on measured CMO/HfOx
    RRAM, is a ln t + b. From the 1 s and 2-day fits it predicts the held-out 1-day fit to within 8.0 % (2.2-4.0 %
    low from g/g_max 0.1 up; docs/validation.md); "refuse" raises, as aihwkit does. Times before the first fit
    (other than 0, the programmed state) or after the last raise either way: nothing measured brackets them."""

    # the highest read voltage, with its source (a class constant, not a field): NeuRRAM reads its RRAM for MVMs at
    # 0.5 V (Wan et al. 2022, Methods: "read-voltage scaling (0.5 V -> 0.25 V)"); its set pulses start at 1.2 V
    # (Methods, write-verify), which a read must stay well below; no source measures the devices read harder
    V_READ_MAX = (0.5, "NeuRRAM's MVM read voltage, Wan et al. 2022, Methods; its set pulses start at 1.2 V")

    coeffs: tuple = _DEFAULT_RRAM_COEFFS
    coeff_g_max_reference_us: float = 40.0
    noise_scale: float = 1.0
    between_fits: str = field(default="log_time", metadata={"since": "2026-11-30"})  # sweep hashes: sweep.py

    def __post_init__(self) -> None:
        own = "RRAM"
        if not isinstance(self.coeffs, tuple | list) or not self.coeffs:
            raise TypeError(f"RRAM.coeffs must be a non-empty tuple of (t_seconds, polynomial) pairs, got "
                            f"{self.coeffs!r}")
        table = []
        for i, pair in enumerate(self.coeffs):
            if not isinstance(pair, tuple | list) or len(pair) != 2 or not isinstance(pair[1], tuple | list) \
                    or not pair[1]:
                raise TypeError(f"RRAM.coeffs[{i}] must be a (t_seconds, (c0, c1, ...)) pair, got {pair!r}")
            t = check_real(own, f"coeffs[{i}][0]", pair[0], lo=0, lo_open=False)
            table.append((t, tuple(check_real(own, f"coeffs[{i}][1][{j}]", c) for j, c in enumerate(pair[1]))))
        if len({t for t, _ in table}) != len(table):
            raise ValueError(f"RRAM.coeffs has repeated times: {[t for t, _ in table]}")
        object.__setattr__(self, "coeffs", tuple(sorted(table)))
        object.__setattr__(self, "coeff_g_max_reference_us",
                           check_real(own, "coeff_g_max_reference_us", self.coeff_g_max_reference_us, lo=0))
        object.__setattr__(self, "noise_scale", check_real(own, "noise_scale", self.noise_scale, lo=0, lo_open=False))
        if not isinstance(self.between_fits, str) or self.between_fits not in BETWEEN_FITS:
            raise (ValueError if isinstance(self.between_fits, str) else TypeError)(
                f"RRAM.between_fits must be one of {BETWEEN_FITS} (interpolate the spread in ln t between two fits, "
                f"or refuse times without a fit), got {self.between_fits!r}")
        object.__setattr__(self, "between_fits", str(self.between_fits))

    def _bracket(self, t_s):
        """(t1, c1, t2, c2): the fits around t_s, equal when t_s is a fitted time; ValueError when none
        brackets it (or between_fits is "refuse" and t_s has no fit of its own)."""
        times = [t for t, _ in self.coeffs]
        table = dict(self.coeffs)
        if t_s in table:
            return t_s, table[t_s], t_s, table[t_s]
        lo = [t for t in times if 0 < t < t_s]
        hi = [t for t in times if t > t_s]
        if self.between_fits == "log_time" and lo and hi:
            t1, t2 = max(lo), min(hi)
            return t1, table[t1], t2, table[t2]
        positive = [t for t in times if t > 0]
        if self.between_fits == "refuse":
            how = "between_fits='refuse': times without a fit raise; 'log_time' interpolates between two fits"
        elif len(positive) < 2:
            how = "between_fits='log_time' interpolates between two fits after 0; these coefficients have fewer"
        else:
            how = f"between_fits='log_time' interpolates between two fits, from {min(positive)} s to {max(times)} s, " \
                  f"and extrapolates nowhere"
        zero = "" if 0 in table else ", or 0 (as programmed)"
        src = "Wan et al. 2022's fits" if self.coeffs == _DEFAULT_RRAM_COEFFS else "the device's own fits (coeffs)"
        raise ValueError(f"t_seconds must be a time the RRAM's fits cover ({src} at {times} s{zero}), got {t_s!r} "
                         f"({how})")

    def check_time(self, t_s) -> None:
        """ValueError unless the device can be read t_s after programming: at a fitted time, at 0 (the
        programmed state) or, with between_fits "log_time", between two fits."""
        if t_s != 0:
            self._bracket(t_s)

    def time_basis(self, t_s) -> str:
        """Where the spread at t_s comes from: its own fit, the programmed state, or the two fits around it."""
        self.check_time(t_s)
        if t_s == 0:
            return "as programmed"
        t1, _, t2, _ = self._bracket(t_s)
        if t1 == t2:
            own = "Wan et al. 2022" if self.coeffs == _DEFAULT_RRAM_COEFFS else "the device's own"
            return f"{own} fit at {t1:g} s"
        return f"interpolated in ln t between the fits at {t1:g} s and {t2:g} s"

    def _sigma(self, g_target, g_max_us, t_s):  # t_s > 0 (read at t = 0 returns the programmed state)
        t1, c1, t2, c2 = self._bracket(t_s)
        x = g_target / g_max_us
        s = _poly(c1, x)
        if t2 != t1:  # linear in ln t between the fits around t_s
            f = math.log(t_s / t1) / math.log(t2 / t1)
            s = (1 - f) * s + f * _poly(c2, x)
        return s * g_max_us / self.coeff_g_max_reference_us

    def program(self, g_target, g_max_us, rng):
        first = min(dict(self.coeffs))
        g = g_target + self.noise_scale * self._sigma(g_target, g_max_us, first) * rng.standard_normal(g_target.shape)
        return np.maximum(g, 0.0), g_target

    def read(self, state, g_max_us, t_inference_s, rng):
        _, g_target = state
        if t_inference_s == 0:
            return state[0]
        s = self._sigma(g_target, g_max_us, float(t_inference_s))
        return np.maximum(g_target + self.noise_scale * s * rng.standard_normal(g_target.shape), 0.0)


@dataclass(frozen=True)
class IdealDevice:
    """A device that holds its target conductance exactly, forever."""

    def program(self, g_target, g_max_us, rng):
        return g_target.copy(), None

    def read(self, state, g_max_us, t_inference_s, rng):
        return state[0]


@dataclass(frozen=True)
class SRAM:
    """SRAM compute-in-memory cells: each holds one weight bit exactly (a static latch) and computes on a
    capacitor or transistor; nothing drifts, so the stored weights read back exactly at t = 0 and a
    request to read them later (t_seconds > 0, drift) raises: there is no drift to model."""

    def program(self, g_target, g_max_us, rng):
        return g_target.copy(), None

    def read(self, state, g_max_us, t_inference_s, rng):
        check_no_drift(self, t_inference_s)
        return state[0]


def check_read_time(device, t_seconds) -> None:
    """ValueError, before anything is simulated, when the device cannot be read `t_seconds` after
    programming: an SRAM device at any t > 0 (check_no_drift), an RRAM at a time no fit brackets (RRAM.check_time),
    a PCM past one year (PCM_MAX_TIME_S)."""
    check_no_drift(device, t_seconds)
    if hasattr(device, "check_time"):  # the devices whose statistics cover a span of times (PCM, HermesPCM, RRAM)
        device.check_time(t_seconds)


def check_tile(device, g_max_us: float, v_read: float) -> None:
    """ValueError when a tile maps its weights past the conductance the device's fits characterise (a HermesPCM's
    g_max_us) or reads it above the highest voltage its sources read it at (V_READ_MAX)."""
    limit = getattr(device, "g_max_us", None)
    if limit is not None and g_max_us > limit:
        raise ValueError(f"Crossbar.g_max_us {g_max_us} is above the {limit} uS that HERMES's {device.num_devices}-"
                         f"device unit cells are characterised to (aihwkit HermesNoiseModel): use g_max_us <= {limit}")
    v_max = getattr(device, "V_READ_MAX", None)
    if v_max is not None and v_read > v_max[0]:
        raise ValueError(f"Crossbar.v_read {v_read} V is above what a {device_label(device)!r} device is read at: at "
                         f"most {v_max[0]} V ({v_max[1]})")


_RESISTIVE = "'pcm', 'hermes_pcm', 'rram'"  # the devices that drift, for messages


def check_no_drift(device, t_seconds) -> None:
    """ValueError when an SRAM device is asked for a time after programming (it does not drift)."""
    if isinstance(device, SRAM) and t_seconds != 0:
        raise ValueError(f"an SRAM device holds digital bits and does not drift: t_seconds must be 0, got "
                         f"{t_seconds!r} (drift and its compensation apply to resistive devices: {_RESISTIVE})")


def check_no_compensation(device, compensation) -> None:
    """ValueError when an SRAM device is asked for drift compensation (it has no drift to compensate, and
    the reference read the compensation costs would be charged for nothing)."""
    if isinstance(device, SRAM) and compensation is not None:
        raise ValueError(f"an SRAM device holds digital bits and does not drift: compensation must be None, got "
                         f"{compensation!r} (drift and its compensation apply to resistive devices: {_RESISTIVE})")


DEVICES = {"pcm": PCM(), "rram": RRAM(), "ideal": IdealDevice(), "hermes_pcm": HermesPCM()}
CHARGE_DEVICES = {"sram": SRAM()}
# the devices whose statistics a user can change, by the name a design file's [unit.device] table gives as its kind
OWN_STATISTICS = {"pcm": PCM, "rram": RRAM, "hermes_pcm": HermesPCM}


DEVICE_TYPES = (PCM, HermesPCM, RRAM, IdealDevice, SRAM)


def get_device(device):
    """A device object from a name ('pcm', 'hermes_pcm', 'rram', 'ideal', 'sram') or the object itself."""
    if isinstance(device, DEVICE_TYPES):
        return device
    if isinstance(device, str) and device in DEVICES:
        return DEVICES[device]
    if isinstance(device, str) and device in CHARGE_DEVICES:
        return CHARGE_DEVICES[device]
    err = ValueError if isinstance(device, str) else TypeError
    raise err(f"device must be one of {sorted(DEVICES)} (resistive) or 'sram' (SRAM compute-in-memory), or a "
              f"PCM/HermesPCM/RRAM/IdealDevice/SRAM, got {device!r}")


def device_label(device) -> str:
    """The registered name of a device, or its class name for custom statistics (for messages)."""
    try:
        return device_name(device)
    except ValueError:
        return type(device).__name__


def device_name(device) -> str:
    """The registered name of a device (for TOML); custom statistics have none (a design file holds a PCM, HermesPCM
    or RRAM of its own whole, as a [unit.device] table: Design.to_toml)."""
    for name, d in {**DEVICES, **CHARGE_DEVICES}.items():
        if d == device:
            return name
    raise ValueError(f"{device!r} is not a registered device; TOML names only {sorted(DEVICES) + ['sram']}")
