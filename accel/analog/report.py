"""One report of a compute-in-memory macro: peak throughput and efficiency at full utilisation, area and
energy breakdowns, and, when asked, accuracy at chosen times after programming."""

import numbers

import numpy as np

from ..workloads import Gemm


def macro_report(design, times=None, workload=None, draws: int | None = None, seed: int | None = None,
                 compensation: str | None = "global") -> dict:
    """TOPS, TOPS/W and area of `design` (a Crossbar design) at full utilisation and, on a component macro, at the
    periphery's reference data ("reference_activity": x_act_ref and w_act_ref, the paper's headline conditions:
    other data spend more or less), its energy breakdown (shares of one MVM at that data) and area (none where
    the periphery gives no area constants), and with `times` (seconds after programming) the relative Frobenius
    error of `workload` (a Gemm or a Network; default: one full array of Gaussian operands, 64 input vectors)
    at each time, with drift `compensation` (None, "global" or "column") at every t > 0 (at t = 0 none; the
    workload's own compensation must be None or the same and its t_seconds 0; the report's "compensation" says
    which was applied, None when no t > 0 was asked; on RRAM, "accuracy_basis" says for each time whether its
    spread is a fit of Wan et al.'s or interpolated between two). `workload`, `draws` and `seed` need `times`.
    Devices raise for times they cannot model (SRAM: any t > 0; RRAM: times before its first fit or after its
    last, or without a fit of their own under between_fits="refuse"). With `draws` > 1 each time maps
    to the summary of that many seeded device draws (mean rel_fro_err with its std and Student-t 95 % interval,
    accel.analog.run.summarise_draws) instead of one number: a drift curve with error bars. `seed` seeds the
    device draws. None, the default of both: a Network workload's own draws and seed, else 1 and 0; a value
    given that differs from a Network's own (where that is not 1 or 0) raises."""
    from ..checks import check_int, check_real, check_seed
    from ..design import Design
    from ..network import Network
    from ..simulate import simulate
    from .crossbar import Crossbar, check_compensation
    from .devices import check_no_compensation, check_read_time
    from .macros import macro_area_mm2, reference_cost
    if not isinstance(design, Design):
        raise TypeError(f"macro_report.design must be a Design with a Crossbar unit (for example "
                        f"accel.get_design('hermes-like')), got {design!r}")
    if not (workload is None or isinstance(workload, Gemm | Network)):
        raise TypeError(f"macro_report.workload must be None (one full array of Gaussian operands), a Gemm or a "
                        f"Network, got {workload!r}")
    draws = None if draws is None else check_int("macro_report", "draws", draws, hi=10_000)
    seed = None if seed is None else check_seed("macro_report.seed", seed)
    check_compensation("macro_report.compensation", compensation)
    u = design.unit
    if not isinstance(u, Crossbar):
        raise TypeError(f"macro_report needs a Crossbar design, got a {type(u).__name__} unit")
    out = {"design": design.name, "tops": design.peak_ops_per_s() / 1e12, "tops_per_w": design.peak_ops_per_j() / 1e12}
    if u.periphery != "walden":  # the peak is at full utilisation and the paper's headline data, which it names
        out["reference_activity"] = {"x_act": u.periphery.x_act_ref, "w_act": u.periphery.w_act_ref}
        e = reference_cost(u)["energy_pj"]
        total = sum(e.values())  # 0 only where the reference data drive nothing (x_act_ref or w_act_ref 0)
        out["energy_share"] = {k: v / total for k, v in e.items()} if total else None
        area = macro_area_mm2(u)
        if area is not None:  # a periphery without area constants has no area to report
            out["area_mm2"] = sum(area.values())
            out["area_breakdown_mm2"] = area
            out["tops_per_mm2"] = out["tops"] / out["area_mm2"]
    if times is None:
        given = [f for f, v, default in (("workload", workload, None), ("draws", draws, None), ("seed", seed, None),
                                         ("compensation", compensation, "global")) if v != default]
        if given:
            raise ValueError(f"macro_report.{given[0]} sets the accuracy run, which only runs with times (seconds "
                             f"after programming, e.g. times=[1.0, 3600.0, 86400.0]); pass times or leave "
                             f"{', '.join(given)} out")
    else:
        if isinstance(times, np.ndarray) and times.ndim == 0:
            times = times.item()
        seq = list(times) if isinstance(times, list | tuple | np.ndarray) and np.ndim(times) == 1 else \
            [times] if isinstance(times, numbers.Real) and not isinstance(times, bool) else None
        if seq is None:
            raise TypeError(f"macro_report.times must be a number or a list of numbers of seconds after "
                            f"programming, got {times!r}")
        if not seq:  # an empty list asks for nothing: most likely a mistake, and it would report no accuracy
            raise ValueError("macro_report.times is empty: give the seconds after programming to measure at (e.g. "
                             "[1.0, 3600.0, 86400.0]), or leave times None for cost and area alone")
        times = [check_real("macro_report", "times", t, lo=0, lo_open=False) + 0.0 for t in seq]  # -0.0 keyed 0.0
        seen = set()
        for t in times:  # the report is keyed by time: a repeated one (1 and 1.0, 0.0 and -0.0) would merge silently
            if t in seen:
                raise ValueError(f"macro_report.times holds {t!r} twice (the report has one entry per time); give each "
                                 f"time once, got {list(seq)!r}")
            seen.add(t)
        if compensation not in (None, "global"):  # "global", the default, is what a device without drift ignores
            try:
                check_no_compensation(u.device, compensation)
            except ValueError as err:
                raise ValueError(str(err).replace("compensation must", "macro_report.compensation must")) from None
        for t in times:  # every time the device cannot be read at raises before any is simulated
            try:
                check_read_time(u.device, t)
            except ValueError as err:  # named as the caller passed it
                raise ValueError(str(err).replace("t_seconds", "macro_report.times")) from None
        g = workload if workload is not None else Gemm(64, u.weight_cols(), u.weight_rows(), seed=0)
        if g.t_seconds != 0:
            raise ValueError(f"macro_report: the workload's t_seconds {g.t_seconds!r} would be replaced by "
                             f"macro_report.times; leave it 0 and pass times=[{g.t_seconds!r}]")
        if g.compensation not in (None, compensation):
            raise ValueError(f"macro_report: the workload's compensation {g.compensation!r} differs from "
                             f"macro_report.compensation {compensation!r}; pass compensation={g.compensation!r}")
        if isinstance(g, Network):  # a network's own draws and seed, unless macro_report sets others
            for f, mine, default in (("draws", draws, 1), ("seed", seed, 0)):  # Network's defaults
                own = getattr(g, f)
                if own != default and mine is not None and own != mine:
                    raise ValueError(f"macro_report: the workload's {f} {own!r} differs from macro_report.{f} "
                                     f"{mine!r}; pass {f}={own!r}, or leave macro_report.{f} out (None) or the "
                                     f"workload's at {default!r}")
            draws = draws if draws is not None else g.draws
            seed = seed if seed is not None else g.seed
        draws = 1 if draws is None else draws
        seed = 0 if seed is None else seed

        def at(t):
            comp = None if t == 0 else compensation
            if isinstance(g, Network):  # its own draws and seed
                acc = simulate(design, g.replace(t_seconds=t, compensation=comp, draws=draws, seed=seed)).accuracy
            elif draws == 1 and seed == 0:
                return simulate(design, g.replace(t_seconds=t, compensation=comp)).accuracy["rel_fro_err"]
            else:  # a Gemm's draws and seed are a one-layer network's
                net = Network(g.name, (g.replace(t_seconds=0.0, compensation=None),), a_format=g.a_format,
                              b_format=g.b_format, sparsity=g.sparsity, scaling=g.scaling, t_seconds=t,
                              compensation=comp, draws=draws, seed=seed)
                acc = simulate(design, net).accuracy
            if draws == 1:
                return acc["rel_fro_err"]
            return {k: v for k, v in acc.items() if k.startswith("rel_fro_err") or k == "draws"}
        out["accuracy"] = {t: at(t) for t in times}
        if hasattr(u.device, "time_basis"):  # RRAM: which times are its fits and which lie between them
            out["accuracy_basis"] = {t: u.device.time_basis(t) for t in times}
        out["compensation"] = compensation if any(t > 0 for t in times) else None  # t = 0 runs without one
    return out
