"""simulate(design, workload) -> Report: timing, action counts, energy (counts x the energy table) and
accuracy, as three separate pure steps."""

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .accuracy import AccuracyCache, chain_accuracy, chain_key, gemm_accuracy, quantized_matmul, worst_gemm
from .analog import Crossbar, run
from .analog.cost import buffer_traffic, check_resident
from .analog.macros import macro_area_mm2
from .design import Design
from .memory_model import design_area_mm2, leakage_w_per_mm2, level_pj_per_byte, memories_area_mm2
from .network import Network
from .timing import gemm_timing
from .workloads import Gemm, mma_formats


@dataclass(frozen=True)
class Report:
    """What one design point does with one workload."""

    design: str
    workload: dict
    cycles: float
    seconds: float
    compute_cycles: int
    energy_j: float
    energy_breakdown_j: dict
    ops: int
    ops_per_s: float
    ops_per_j: float
    bound: str
    utilisation: float
    counts: dict = field(repr=False)
    accuracy: dict | None = None
    per_op: list | None = field(default=None, repr=False)  # a Layer's ops (accel.transformer)
    area_mm2: float | None = None
    area_breakdown_mm2: dict | None = None
    leakage_j: float | None = None      # static energy over the run (in energy_j; accel.memory_model)
    tops_per_mm2: float | None = None   # ops_per_s / 1e12 / area_mm2
    accumulator: str | None = None      # the digital unit's accumulator preset for the workload's MMA format

    @property
    def energy_per_inference_j(self) -> float | None:
        """energy_j over the workload's inferences (a Network's; None for a single GEMM or layer)."""
        n = self.workload.get("inferences")
        return None if n is None else self.energy_j / n

    def to_dict(self) -> dict:
        """A flat JSON-ready dict: workload fields, timing, energy per component (energy_<name>_j) and
        accuracy metrics."""
        d = {"design": self.design, **self.workload, "cycles": self.cycles, "seconds": self.seconds,
             "compute_cycles": self.compute_cycles, "energy_j": self.energy_j, "ops": self.ops,
             "ops_per_s": self.ops_per_s, "ops_per_j": self.ops_per_j, "bound": self.bound,
             "utilisation": self.utilisation}
        d.update({f"energy_{k}_j": v for k, v in self.energy_breakdown_j.items()})
        if "inferences" in self.workload:
            d["energy_per_inference_j"] = self.energy_per_inference_j
        if self.accuracy is not None:
            d.update({k: _json_float(v) for k, v in self.accuracy.items()})
        if self.area_mm2 is not None:
            d["area_mm2"] = self.area_mm2
            d.update({f"area_{k}_mm2": v for k, v in self.area_breakdown_mm2.items()})
        if self.leakage_j is not None:
            d["leakage_j"] = self.leakage_j
        if self.tops_per_mm2 is not None:
            d["tops_per_mm2"] = self.tops_per_mm2
        if self.accumulator is not None:
            d["accumulator"] = self.accumulator
        return d


def _json_float(v):
    if isinstance(v, float | np.floating):
        v = float(v)
        return v if math.isfinite(v) else str(v)
    return v


def energy_pj(design: Design, counts: dict) -> dict:
    """Energy per component in pJ: counts x the design's table."""
    out: dict = {}
    mem = {m.name: level_pj_per_byte(m, design.node_nm) for m in design.memories}
    for (comp, action), n in counts.items():
        if comp == "mma":  # instruction counts are reported, their energy is in the MACs
            continue
        if comp == "vector":  # element-wise ops: one fp32 multiply-add per flop (the block-scale entry)
            out["vector"] = out.get("vector", 0.0) + n * design.energy_table["block_scale"]
            continue
        if design.interconnect is not None and comp == design.interconnect.name:
            out[comp] = out.get(comp, 0.0) + n * design.interconnect.energy_pj_per_byte
            continue
        if comp == "mac":
            pj = design.energy_table[action]
            key = "mac"
        elif comp == "scale":
            pj, key = design.energy_table["block_scale"], "scale"
        else:
            pj, key = mem[comp], comp
        out[key] = out.get(key, 0.0) + n * pj
    return out


def _check_totals(design: Design, seconds: float, energy: float, area: dict | None = None) -> None:
    """Field values at the edges of the float range (a clock of 1e-300 Hz, an MVM of 1e300 s, a cell of 1e308 um^2)
    can push the totals (seconds, the cycles they make at the clock, energy, area) to inf or 0; say so rather than
    report them."""
    cycles = seconds * design.clock_hz
    mm2 = sum(area.values()) if area else 0.0
    if not (math.isfinite(seconds) and seconds > 0 and math.isfinite(cycles) and math.isfinite(energy)
            and energy >= 0 and math.isfinite(mm2)):
        raise ValueError(f"design {design.name!r}: the model's totals leave the float range (seconds {seconds!r}, "
                         f"cycles {cycles!r}, energy {energy!r} J, area {mm2!r} mm2); check the design's fields "
                         f"(clock_hz, bandwidths, t_mvm_s, energies, a periphery's times and areas)")


def _accumulator(unit, g) -> str:
    """The unit's accumulator for the format A enters the MMA in (workloads.mma_formats: a dequantised
    operand takes the other's format)."""
    return unit.accumulator_for(mma_formats(g.a_format, g.b_fmt)[0])


def _accumulator_name(unit, gemms) -> str | None:
    """The accumulator preset every GEMM of the workload runs on, or None if they differ (a network whose
    layers enter the MMA in different formats)."""
    names = {_accumulator(unit, g) for g in gemms}
    return names.pop() if len(names) == 1 else None


def _network_accuracy(design: Design, net: Network, cache) -> dict:
    unit = design.unit
    run = gemm_accuracy if cache is None else cache.gemm_accuracy
    if not net.is_chain:
        return worst_gemm(net.gemms(), lambda g: run(g, _accumulator(unit, g)))
    acc = unit.accumulator_for(mma_formats(net.a_format, net.b_fmt)[0])
    key = None if cache is None else chain_key(net, acc)
    hit = None if cache is None else cache.get(key)
    if hit is not None:
        cache.hits += 1
        return hit
    res = chain_accuracy(net, lambda i, x, w: quantized_matmul(x, w, net.a_format, net.b_fmt, acc, net.scaling,
                                                              net.sparsity, exact=True))
    if cache is not None:
        cache.misses += 1
        cache.put(key, res)
    return res


def _check_crossbar_workload(design: Design, gemms: list, stacklevel: int = 4) -> None:
    """A crossbar holds every weight of the workload in its cells at once (each of a GEMM's `count`
    matrices and each layer on tiles of its own; reprogramming is not modelled) and reads them all on
    every MVM: no sparse mode, and its numerics do not prune, so a sparse workload would be timed and
    measured as a dense one."""
    for g in gemms:
        if g.sparsity is not None:
            raise ValueError(f"{design.name} is a crossbar: every weight sits in its cells and is read on every MVM "
                             f"(no sparse mode, no pruning), so workload sparsity {g.sparsity!r} would be ignored; "
                             f"use sparsity None")
    check_resident(design.unit, [(g.name, g.count, g.k, g.n) for g in gemms], design.name)
    moving = [g.name for g in gemms if not g.b_weight]
    if moving:  # priced as if B sat in the cells: the array would be rewritten for every input, which is not modelled
        names = ", ".join(repr(n) for n in moving[:4]) + (", ..." if len(moving) > 4 else "")
        warnings.warn(f"{design.name} is a crossbar: GEMM {names} ha{'s' if len(moving) == 1 else 've'} a B that is "
                      f"not the model's weights (b_weight=False: activations computed at run time, as attention's K "
                      f"and V), which its cells cannot hold; priced as if B were resident weights (rewriting the "
                      f"array per input is not modelled): run such GEMMs on a digital unit, or for a weight on the "
                      f"left (W @ x) import the transposed product (x^T W^T)", UserWarning, stacklevel=stacklevel)


def described_on(design: Design, workload) -> dict:
    """workload.describe() as a report on `design` shows it: a crossbar's converters quantise (unit.dac_bits,
    adc_bits), so the workload's operand formats did not apply there and show as None."""
    d = workload.describe()
    return {**d, "a_format": None, "b_format": None} if isinstance(design.unit, Crossbar) else d


def _simulate_crossbar(design: Design, workload, accuracy: bool) -> Report:
    xbar = design.unit
    # a Dense chain's own inputs and activations set the pulse activity (a forward pass only this path needs)
    gemms = workload.gemms(operands=True) if isinstance(workload, Network) else workload.gemms()
    _check_crossbar_workload(design, gemms)
    node = xbar.node_in_use()
    mems = design.memories
    pj_per_byte = [level_pj_per_byte(mem, node) for mem in mems]
    seconds = compute = 0.0
    energy_pj, counts, bound_time = {}, {}, {}
    for g in gemms:
        c = run.gemm_cost(xbar, g)
        t, bound = c["seconds"], "compute"
        compute += c["seconds"]
        for key, v in c["energy_pj"].items():
            energy_pj[key] = energy_pj.get(key, 0.0) + v
        for key, v in c["counts"].items():
            counts[key] = counts.get(key, 0) + v
        traffic = buffer_traffic(xbar, g.m, g.n, g.k, g.count, len(mems)) if mems else ()
        for mem, nbytes, pj in zip(mems, traffic, pj_per_byte):
            energy_pj[mem.name] = energy_pj.get(mem.name, 0.0) + nbytes * pj
            counts[(mem.name, "byte")] = counts.get((mem.name, "byte"), 0) + nbytes
            level_s = nbytes / mem.sustained_bandwidth_bytes_per_s
            if level_s > t:  # a roofline per GEMM, as a digital design's: the slowest level or the arrays
                t, bound = level_s, mem.name
        seconds += t
        bound_time[bound] = bound_time.get(bound, 0.0) + t
    e = {k: v * 1e-12 for k, v in energy_pj.items()}
    area = None
    leakage = None
    if type(xbar.periphery) is not str:  # component macros carry an area model; the "walden" cost has none
        area = macro_area_mm2(xbar)
        buffers = memories_area_mm2(mems, node) if mems else None
        if buffers:  # the buffers' static power over the run (the macros' own is inside their measured energies)
            if area is not None:  # a periphery without area constants has no area, so neither has the design
                area.update(buffers)
            e["leakage"] = leakage = leakage_w_per_mm2(node) * sum(buffers.values()) * seconds
    energy = sum(e.values())
    ops = 2 * sum(g.macs for g in gemms)
    _check_totals(design, seconds, energy, area)
    acc = None
    if accuracy:
        acc = run.network_accuracy(xbar, workload)  # Network.draws device draws, or one
    peak = design.peak_ops_per_s()
    return Report(design=design.name, workload=described_on(design, workload), cycles=seconds * design.clock_hz,
                  seconds=seconds, compute_cycles=int(round(compute * design.clock_hz)), energy_j=energy,
                  energy_breakdown_j=e, ops=ops, ops_per_s=ops / seconds,
                  ops_per_j=ops / energy if energy else math.inf, bound=max(bound_time, key=bound_time.get),
                  utilisation=ops / seconds / peak, counts=counts, accuracy=acc,
                  area_mm2=None if area is None else sum(area.values()), area_breakdown_mm2=area, leakage_j=leakage,
                  tops_per_mm2=None if area is None else ops / seconds / 1e12 / sum(area.values()))


def simulate(design: Design, workload, accuracy: bool = True, accuracy_cache: AccuracyCache | None = None) -> Report:
    """Timing, energy and (with accuracy=True) the accuracy of `workload` (a Gemm, Network or
    accel.transformer.Layer) on `design`.

    Accuracy is measured on a bounded sample of every GEMM: at most 128 x 128 outputs and a contiguous
    slice of at most accuracy.MAX_K (16384) terms of K (digital units; accel.accuracy), or at most
    analog.run's weight budget on crossbars; r.accuracy["outputs_computed"] and ["k_sampled"] say what
    was computed, and the metrics are an estimate whenever k_sampled < K. `accuracy_cache`: an
    accuracy.AccuracyCache that serves a digital Gemm's or Network's metrics when the same formats,
    accumulator, scaling, sparsity, shape and seed (or operands) were measured before (a sweep over array
    sizes or memories measures each once)."""
    if not isinstance(design, Design):
        raise TypeError(f"design must be a Design, got {type(design).__name__}")
    if not isinstance(accuracy, bool | np.bool_):
        raise TypeError(f"accuracy must be True or False, got {accuracy!r}")
    if accuracy_cache is not None and not isinstance(accuracy_cache, AccuracyCache):
        raise TypeError(f"accuracy_cache must be None or an accel.accuracy.AccuracyCache, got "
                        f"{type(accuracy_cache).__name__}")
    accuracy = bool(accuracy)
    from .transformer import Layer, simulate_layer
    if isinstance(workload, Layer):
        return simulate_layer(design, workload, accuracy)
    if not isinstance(workload, Gemm | Network):
        raise TypeError(f"workload must be a Gemm, Network or transformer Layer, got {type(workload).__name__}")
    if isinstance(design.unit, Crossbar):
        return _simulate_crossbar(design, workload, accuracy)
    gemms = workload.gemms()
    counts: dict = {}
    seconds = cycles = 0.0
    comp = 0
    bound_time: dict = {}
    for g in gemms:
        t = gemm_timing(design, g)
        seconds += t.seconds
        cycles += t.cycles
        comp += t.compute_cycles
        bound_time[t.bound] = bound_time.get(t.bound, 0.0) + t.seconds
        for key, v in t.counts.items():
            counts[key] = counts.get(key, 0) + v
    bound = max(bound_time, key=bound_time.get)
    e = {k: v * 1e-12 for k, v in energy_pj(design, counts).items()}
    area = design_area_mm2(design)
    area_mm2 = sum(area.values())
    # static power over the whole run: at low utilisation it is what the energy is made of
    e["leakage"] = leakage = leakage_w_per_mm2(design.node_nm) * area_mm2 * seconds
    energy = sum(e.values())
    ops = 2 * sum(g.macs for g in gemms)
    ideal = sum(g.macs / min(design.unit.macs_per_clock(f, g.sparsity is not None)
                             for f in mma_formats(g.a_format, g.b_fmt)[:2])
                for g in gemms)
    util = ideal / cycles if cycles else 0.0
    _check_totals(design, seconds, energy, area)
    acc = None
    if accuracy:
        if isinstance(workload, Network):
            acc = _network_accuracy(design, workload, accuracy_cache)
        else:
            run = gemm_accuracy if accuracy_cache is None else accuracy_cache.gemm_accuracy
            acc = run(workload, _accumulator(design.unit, workload))
    return Report(design=design.name, workload=workload.describe(), cycles=cycles, seconds=seconds,
                  compute_cycles=comp, energy_j=energy, energy_breakdown_j=e, ops=ops, ops_per_s=ops / seconds,
                  ops_per_j=ops / energy if energy else math.inf, bound=bound, utilisation=util, counts=counts,
                  accuracy=acc, area_mm2=area_mm2, area_breakdown_mm2=area, leakage_j=leakage,
                  tops_per_mm2=ops / seconds / 1e12 / area_mm2, accumulator=_accumulator_name(design.unit, gemms))

