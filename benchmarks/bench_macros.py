"""Compute-in-memory macro speed: configurations of the five macro presets evaluated per second on one core
(timing, energy per component and area), as a numpy grid (accel.analog.mvm_cost_grid) and one at a time
(dataclasses.replace of the Crossbar, then mvm_cost), the latter against a reference measured in the same
run: the same calls with the Crossbar's check memo emptied before each (every field re-checked) and the
cost through the numpy grid path (what one setting cost before the scalar path); and one macro_report with
accuracy at t = 1 s / 1 h / 1 day on hermes-like.

Usage: python benchmarks/bench_macros.py
Target (issue #16): >= 1e4 configurations per second per core (CiMLoop: 83 mappings/s per core; NeuroSim:
0.07/s).
"""

import dataclasses
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _timing import best  # noqa: E402

import accel  # noqa: E402
from accel.analog import crossbar, mvm_cost, mvm_cost_grid, run  # noqa: E402
from accel.analog.macros import macro_area_mm2  # noqa: E402

MACROS = ["hermes-like", "neurram-like", "jia-sram-like", "sinangil-sram-like", "wang-c2c-like"]


def _grid(u):
    p = u.periphery
    dac = np.arange(2, 10)
    adc = np.arange(3, min(10, {"flash": 8}.get(p.adc_kind, 10)) + 1)
    ph = [1, 2] if p.dac_kind == "pwm" else [1]
    vdd = np.linspace(0.8, 1.3, 26) * p.vdd_ref_v
    d, a, f, v = np.meshgrid(dac, adc, ph, vdd, indexing="ij")
    ok = f <= np.maximum(d - 1, 1)  # a split needs at least one bit per slice
    return d[ok], a[ok], f[ok], v[ok]


def _cpu(fn, repeat: int = 3) -> float:
    """Best process CPU time of `repeat` calls of fn(): every thread of this process, without the waits for a
    core that wall time counts on a shared machine (docs/benchmarks.md)."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main():
    total_n, total_t = 0, 0.0
    for name in MACROS:
        u = accel.get_design(name).unit
        d, a, f, v = _grid(u)
        t = best(lambda u=u, d=d, a=a, f=f, v=v: (mvm_cost_grid(u, 0.5, 0.5, d, a, f, v)), repeat=5)
        total_n, total_t = total_n + d.size, total_t + t
        print(f"{name:20s} grid of {d.size:5d} configurations: {d.size / t:12,.0f} configurations/s")
    print(f"{'all':20s} grid: {total_n / total_t:,.0f} configurations/s (timing, energy, area)")
    # one at a time: every preset, dac_bits x adc_bits x three supplies, one replace and one cost each
    cases = []
    for name in MACROS:
        u = accel.get_design(name).unit
        hi = min(10, {"flash": 8}.get(u.periphery.adc_kind, 10))
        cases += [(u, d, a, v * u.periphery.vdd_ref_v) for d in range(2, 9) for a in range(3, hi + 1)
                  for v in (0.9, 1.0, 1.1)]

    def one_at_a_time():
        for u, d, a, v in cases:
            mvm_cost(dataclasses.replace(u, dac_bits=d, adc_bits=a, vdd_v=v), 0.5, 0.5)

    def reference():
        for u, d, a, v in cases:
            crossbar._LAST[0] = ()
            crossbar._SEEN.clear()
            mvm_cost_grid(dataclasses.replace(u, dac_bits=d, adc_bits=a, vdd_v=v), 0.5, 0.5)
    t_new, t_ref = best(one_at_a_time, repeat=3), best(reference, repeat=3)
    c_new, c_ref = _cpu(one_at_a_time), _cpu(reference)
    print(f"one at a time ({len(cases)} settings, replace + checks + mvm_cost): {len(cases) / t_new:,.0f} "
          f"configurations/s wall, {len(cases) / c_new:,.0f} per CPU-second; reference (every field re-checked, "
          f"numpy path): {len(cases) / t_ref:,.0f}/s wall, {len(cases) / c_ref:,.0f} per CPU-second; ratio "
          f"{t_ref / t_new:.1f}x wall, {c_ref / c_new:.1f}x CPU")
    # the design-level route a notebook takes: a changed Design, its two peaks and its area, against a
    # reconstruction of the route before the tile kept its reference cost (reference_cost): the same replaces
    # and the reference MVM priced once per metric, on today's checks
    designs = [(accel.get_design(name), u.periphery.vdd_ref_v, d, a) for name in MACROS
               for u in [accel.get_design(name).unit] for d in range(2, 9)
               for a in range(3, min(10, {"flash": 8}.get(u.periphery.adc_kind, 10)) + 1)]

    def design_route():
        for base, vref, d, a in designs:
            e = dataclasses.replace(base, unit=dataclasses.replace(base.unit, dac_bits=d, adc_bits=a, vdd_v=vref))
            e.peak_ops_per_s(), e.peak_ops_per_j(), macro_area_mm2(e.unit)

    def design_reference():
        for base, vref, d, a in designs:
            u = dataclasses.replace(base.unit, dac_bits=d, adc_bits=a, vdd_v=vref)
            dataclasses.replace(base, unit=u)
            for _ in range(3):
                mvm_cost(u, u.periphery.x_act_ref, u.periphery.w_act_ref)
    c_new, c_ref = _cpu(design_route), _cpu(design_reference)
    print(f"design route (replace the unit and Design, peak_ops_per_s, peak_ops_per_j, area; {len(designs)} "
          f"settings): {len(designs) / c_new:,.0f} per CPU-second; reference (reconstructed: the reference MVM "
          f"priced per metric): {len(designs) / c_ref:,.0f}; ratio {c_ref / c_new:.1f}x")
    d, g = accel.get_design("neurram-like"), accel.Gemm(64, 256, 128)
    points = [accel.set_field(d, "unit.adc_bits", b) for b in range(3, 11)]

    def simulate_route():
        for p in points:
            accel.simulate(p, g, accuracy=False)

    def simulate_reference():
        for p in points:
            run._FRACTIONS.clear()
            accel.simulate(p, g, accuracy=False)
    c_new, c_ref = _cpu(simulate_route, repeat=5), _cpu(simulate_reference, repeat=5)
    print(f"accel.simulate (operand statistics + cost + report), accuracy=False: {len(points) / c_new:,.0f} points "
          f"per CPU-second; reference (the workload's operands drawn every call): {len(points) / c_ref:,.0f}; ratio "
          f"{c_ref / c_new:.1f}x")
    h = accel.get_design("hermes-like")
    t = best(lambda: accel.macro_report(h, times=[1.0, 3600.0, 86400.0]), repeat=1)
    print(f"macro_report(hermes-like) with accuracy at 1 s / 1 h / 1 day: {t:.2f} s")


if __name__ == "__main__":
    main()
