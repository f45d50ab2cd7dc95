"""Bad input to the accelerator model and the analog tiles (issue #14): every dataclass field, TOML file,
workload and random-number argument either gives the exact correct result or raises ValueError/TypeError
(OSError for files) naming the field and its valid range. Huge GEMMs run in bounded memory (subprocess
with a 4 GiB address-space limit) and say what they sampled."""

import dataclasses
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import accel
from accel.analog import PCM, RRAM, Crossbar, analog_matmul
from accel.systolic import Dataflow, folds

NAN, INF = float("nan"), float("inf")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tc(**kw):
    return accel.TensorCore(**{"name": "x", "sm_count": 1, "macs_per_cycle": {"fp16": 1}, **kw})


def _stc(**kw):
    return accel.SparseTensorCore(**{"name": "x", "sm_count": 1, "macs_per_cycle": {"fp16": 1}, **kw})


def _sa(**kw):
    return accel.SystolicArray(**{"name": "x", "rows": 4, "cols": 4, **kw})


def _mem(**kw):
    return accel.MemoryLevel(**{"name": "m", "size_bytes": 1024, "bandwidth_bytes_per_s": 1e9,
                                "energy_pj_per_byte": 1.0, **kw})


def _design(**kw):
    return accel.Design(**{"name": "d", "clock_hz": 1e9, "unit": _sa(), **kw})


W2, X2 = np.ones((2, 2)), np.ones(2)


def _tiny_energy_jia():
    d = accel.get_design("jia-sram-like")
    p = dataclasses.replace(d.unit.periphery, adc_step_pj=0.0, cell_pj=0.0, digital_pj=0.0, dac_step_pj=1e-320)
    return d.replace(unit=dataclasses.replace(d.unit, periphery=p))


def _am(w=W2, x=X2, **kw):
    return analog_matmul(w, x, **kw)


def _net_gemm(**kw):
    return accel.Network(**{"name": "n", "layers": (accel.Gemm(2, 2, 2, name="g"),), **kw})


def _net_chain(**kw):
    layer = accel.Dense(np.ones((3, 2)), np.zeros(2))
    return accel.Network(**{"name": "n", "layers": (layer,), "inputs": np.ones((4, 3)), **kw})


_A100 = accel.get_design("a100-like")

# (id, thunk, exception, message fragment)
RAISES = [
    # --- digital units ---
    ("tc-sm-bool", lambda: _tc(sm_count=True), TypeError, r"TensorCore.sm_count must be a positive int, got True"),
    ("tc-sm-float", lambda: _tc(sm_count=2.0), TypeError, r"TensorCore.sm_count must be a positive int, got 2.0"),
    ("tc-sm-str", lambda: _tc(sm_count="4"), TypeError, r"TensorCore.sm_count must be a positive int, got '4'"),
    ("tc-sm-neg", lambda: _tc(sm_count=-1), ValueError, r"TensorCore.sm_count must be a positive int, got -1"),
    ("tc-eff-nan", lambda: _tc(kernel_efficiency=NAN), ValueError,
     r"TensorCore.kernel_efficiency must be a number in \(0, 1\], got nan"),
    ("tc-eff-str", lambda: _tc(kernel_efficiency="0.5"), TypeError, r"kernel_efficiency must be a number in"),
    ("tc-inst-len", lambda: _tc(instruction=(16, 8)), ValueError, r"TensorCore.instruction must be \(m, n, k\)"),
    ("tc-inst-bool", lambda: _tc(instruction=(16, 8, True)), TypeError, r"TensorCore.instruction\[2\] must be"),
    ("tc-rates-empty", lambda: _tc(macs_per_cycle={}), ValueError, r"macs_per_cycle must be a non-empty"),
    ("tc-rates-list", lambda: _tc(macs_per_cycle=[("fp16", 1)]), TypeError, r"macs_per_cycle must be a non-empty"),
    ("tc-rate-float", lambda: _tc(macs_per_cycle={"fp16": 1.5}), TypeError,
     r"TensorCore.macs_per_cycle\['fp16'\] must be a positive int"),
    ("tc-rate-zero", lambda: _tc(macs_per_cycle={"fp16": 0}), ValueError, r"macs_per_cycle\['fp16'\] must be"),
    ("tc-rate-key", lambda: _tc(macs_per_cycle={5: 1}), TypeError, r"macs_per_cycle: format name must be a str"),
    ("tc-acc-int", lambda: _tc(accumulator=5), TypeError, r"TensorCore.accumulator must be a preset name"),
    ("tc-acc-unknown", lambda: _tc(accumulator={"fp16": "nope"}), ValueError,
     r"accumulator\['fp16'\]: unknown accumulator 'nope'"),
    ("tc-name-empty", lambda: _tc(name=""), ValueError, r"TensorCore.name must be a non-empty str"),
    ("tc-name-none", lambda: _tc(name=None), TypeError, r"TensorCore.name must be a str"),
    ("stc-n-ge-m", lambda: _stc(sparse_n=2, sparse_m=2), ValueError, r"sparse_n < sparse_m"),
    ("stc-meta-inf", lambda: _stc(metadata_bits=INF), TypeError, r"SparseTensorCore.metadata_bits must be a positive"),
    ("stc-eff-inf", lambda: _stc(sparse_kernel_efficiency=INF), ValueError, r"sparse_kernel_efficiency must be a"),
    ("sa-rows-zero", lambda: _sa(rows=0), ValueError, r"SystolicArray.rows must be a positive int"),
    ("sa-dataflow-str", lambda: _sa(dataflow="ws"), TypeError, r"dataflow must be a Dataflow \(one of"),
    ("sa-rate-bool", lambda: _sa(formats_per_pe={"int8": True}), TypeError, r"formats_per_pe\['int8'\] must be"),
    # --- memory levels ---
    ("mem-size-float", lambda: _mem(size_bytes=1.5), TypeError, r"MemoryLevel.size_bytes must be a positive int"),
    ("mem-size-inf", lambda: _mem(size_bytes=INF), TypeError, r"MemoryLevel.size_bytes must be a positive int"),
    ("mem-bw-nan", lambda: _mem(bandwidth_bytes_per_s=NAN), ValueError,
     r"MemoryLevel.bandwidth_bytes_per_s must be a positive number \(or inf\), got nan"),
    ("mem-bw-neg", lambda: _mem(bandwidth_bytes_per_s=-1.0), ValueError, r"bandwidth_bytes_per_s must be a positive"),
    ("mem-e-inf", lambda: _mem(energy_pj_per_byte=INF), ValueError,
     r"MemoryLevel.energy_pj_per_byte must be a positive number, got inf"),
    ("mem-e-str", lambda: _mem(energy_pj_per_byte="1"), TypeError, r"energy_pj_per_byte must be a positive number"),
    ("mem-inst-zero", lambda: _mem(instances=0), ValueError, r"MemoryLevel.instances must be a positive int"),
    ("mem-name-int", lambda: _mem(name=3), TypeError, r"MemoryLevel.name must be a str"),
    # --- designs ---
    ("design-clock-inf", lambda: _design(clock_hz=INF), ValueError,
     r"Design.clock_hz must be a positive number, got inf"),
    ("design-clock-nan", lambda: _design(clock_hz=NAN), ValueError, r"Design.clock_hz must be a positive number"),
    ("design-clock-bool", lambda: _design(clock_hz=True), TypeError, r"Design.clock_hz must be a positive number"),
    ("design-node-str", lambda: _design(node_nm="7"), TypeError, r"Design.node_nm must be a positive number"),
    ("design-vdd-zero", lambda: _design(vdd_v=0), ValueError, r"Design.vdd_v must be a positive number"),
    ("design-unit-str", lambda: _design(unit="tc"), TypeError, r"Design.unit must be a TensorCore"),
    ("design-mem-int", lambda: _design(memories=(1,)), TypeError, r"Design.memories must be a tuple of MemoryLevel"),
    ("design-mem-dup", lambda: _design(memories=(_mem(), _mem())), ValueError, r"names must be unique"),
    ("design-macpj-key", lambda: _design(mac_pj={"fp8": 1.0}), ValueError,
     r"Design.mac_pj has unknown key 'fp8'; valid keys .*\['int8', 'block_scale'\]"),
    ("design-macpj-nan", lambda: _design(mac_pj={"int8": NAN}), ValueError, r"mac_pj\['int8'\] must be a positive"),
    ("design-macpj-inf", lambda: _design(mac_pj={"int8": INF}), ValueError, r"mac_pj\['int8'\] must be a positive"),
    ("design-macpj-list", lambda: _design(mac_pj=[1.0]), TypeError, r"Design.mac_pj must be a \{format: pJ\} table"),
    ("design-peak-nofmt", lambda: _A100.peak_ops_per_s(), TypeError, r"peak_ops_per_s needs fmt"),
    ("get-design-close", lambda: accel.get_design("a100"), ValueError,
     r"unknown design 'a100'; close matches: a100-like"),
    ("get-design-far", lambda: accel.get_design("xyz"), ValueError, r"unknown design 'xyz'; the presets are a100-like"),
    ("get-design-int", lambda: accel.get_design(5), TypeError, r"design name must be a str"),
    # --- crossbars and devices ---
    ("xb-rows-zero", lambda: Crossbar(rows=0), ValueError, r"Crossbar.rows must be an int in 1..1048576, got 0"),
    ("xb-rows-neg", lambda: Crossbar(rows=-3), ValueError, r"Crossbar.rows must be an int in 1..1048576, got -3"),
    # the model's range: counts stay exact in int64 (read_phases near 2^56 wrapped the grid's conversions; audit s34)
    ("xb-rows-huge", lambda: Crossbar(rows=10 ** 400), ValueError, r"Crossbar.rows must be an int in 1..1048576, got "
                                                                   r"about 1e400"),
    ("xb-cores-huge", lambda: Crossbar(cores=2 ** 20 + 1), ValueError, r"Crossbar.cores must be an int in 1..1048576"),
    ("xb-read-phases-huge", lambda: Crossbar(read_phases=2 ** 56 - 1), ValueError,
     r"Crossbar.read_phases must be an int in 1..64"),
    ("xb-cols-float", lambda: Crossbar(cols=2.0), TypeError, r"Crossbar.cols must be an int in 1..1048576"),
    ("xb-gmax-inf", lambda: Crossbar(g_max_us=INF), ValueError,
     r"Crossbar.g_max_us must be a positive number of microsiemens, at least 2.225e-308 .*, got inf"),
    ("xb-gmax-subnormal", lambda: Crossbar(g_max_us=1e-320), ValueError,  # audit s34: lost the conductances' digits
     r"Crossbar.g_max_us must be a positive number of microsiemens, at least 2.225e-308 \(float64's smallest normal "
     r"number\), got 1e-320"),
    ("xb-gmax-nan", lambda: Crossbar(g_max_us=NAN), ValueError, r"Crossbar.g_max_us must be a positive number"),
    ("xb-tmvm-zero", lambda: Crossbar(t_mvm_s=0.0), ValueError, r"Crossbar.t_mvm_s must be a positive number"),
    ("xb-dac-1", lambda: Crossbar(dac_bits=1), ValueError, r"dac_bits must be None .* 2..24, got 1 \(signed"),
    ("xb-dac-25", lambda: Crossbar(dac_bits=25), ValueError, r"dac_bits must be None \(ideal\) or an int in 2..24"),
    ("xb-adc-bool", lambda: Crossbar(adc_bits=True), TypeError, r"adc_bits must be None \(ideal\) or an int in 2..24"),
    ("xb-adc-float", lambda: Crossbar(adc_bits=8.0), TypeError, r"Crossbar.adc_bits must be None \(ideal\) or an int"),
    ("xb-device-name", lambda: Crossbar(device="mram"), ValueError,
     r"device must be one of \['hermes_pcm', 'ideal', 'pcm', 'rram'\]"),
    ("xb-device-int", lambda: Crossbar(device=3), TypeError,
     r"device must be one of \['hermes_pcm', 'ideal', 'pcm', 'rram'\]"),
    ("xb-noise-neg", lambda: Crossbar(out_noise=-0.1), ValueError, r"Crossbar.out_noise must be a finite number >= 0"),
    ("xb-noise-inf", lambda: Crossbar(out_noise=INF), ValueError, r"Crossbar.out_noise must be a finite number >= 0"),
    ("xb-stuck-big", lambda: Crossbar(stuck_rate=1.5), ValueError, r"Crossbar.stuck_rate must be a number in \[0, 1\]"),
    ("xb-stuck-nan", lambda: Crossbar(stuck_rate=NAN), ValueError, r"Crossbar.stuck_rate must be a number in"),
    ("xb-adcrange-str", lambda: Crossbar(adc_range="columns"), ValueError,
     r"Crossbar.adc_range must be 'column', 'global' or a positive number"),
    ("xb-adcrange-inf", lambda: Crossbar(adc_range=INF), ValueError, r"adc_range must be 'column', 'global' or a"),
    ("xb-dacrange-zero", lambda: Crossbar(dac_range=0), ValueError, r"Crossbar.dac_range must be None or a positive"),
    ("xb-mode", lambda: Crossbar(input_mode="serial"), ValueError,
     r"Crossbar.input_mode must be one of \['pwm', 'bit_serial'\]"),
    ("xb-mapping", lambda: Crossbar(mapping=None), ValueError, r"Crossbar.mapping must be one of \['differential'"),
    ("xb-acc", lambda: Crossbar(accumulator="bf16"), ValueError, r"Crossbar.accumulator must be one of \['fp32'"),
    ("xb-vread-str", lambda: Crossbar(v_read="0.2"), TypeError, r"Crossbar.v_read must be a positive number"),
    # read voltages above what the devices' sources read them at (no sourced bound before; s33)
    # the design-level supply and node of a crossbar set by name: the default is refused like any other value that
    # is not the unit's (audit s33 F4: set_field(hermes-like, "vdd_v", 0.9) gave 0.8 V figures silently)
    ("xb-design-vdd-default-by-name", lambda: accel.set_field(accel.get_design("hermes-like"), "vdd_v", 0.9),
     ValueError, r"Design.vdd_v 0.9 of a Crossbar design is not used: the supply is the unit's 0.8 V; set "
                 r"unit.vdd_v to change it"),
    ("xb-design-node-default-by-name", lambda: accel.set_field(accel.get_design("neurram-like"), "node_nm", 45.0),
     ValueError, r"Design.node_nm 45.0 of a Crossbar design is not used: .*\(130.0 nm, its periphery's\); set "
                 r"Design.node_nm to 130.0"),
    # a periphery's finite constants whose reference MVM leaves the float range: peak_ops_per_j gave 0.0 and
    # macro_report nan shares (audit s33 F11); simulate already refused
    ("xb-periphery-energy-inf", lambda: accel.set_field(accel.get_design("neurram-like"), "unit.periphery.adc_step_pj",
                                                        1e308).peak_ops_per_j(), ValueError,
     r"mvm_cost: the MVM's energy \(adc\) on periphery 'neurram' leaves the float range"),
    # finite constants whose peaks overflowed: inf TOPS or TOPS/W, or a ZeroDivisionError (audit s34 H2, M1)
    ("xb-periphery-time-tiny", lambda: accel.set_field(accel.set_field(accel.get_design(
        "jia-sram-like"), "unit.periphery.adc_step_s", 0.0), "unit.periphery.dac_step_s", 1e-320).peak_ops_per_s(),
     ValueError, r"the reference MVM's throughput on periphery 'jia' leaves the float range"),
    ("xb-periphery-energy-tiny", lambda: _tiny_energy_jia().peak_ops_per_j(), ValueError,
     r"the reference MVM's efficiency on periphery 'jia' leaves the float range"),
    ("mvm-cost-nan-at-zero-activity", lambda: accel.analog.mvm_cost(accel.set_field(
        accel.get_design("jia-sram-like"), "unit.periphery.cell_pj", 1e305).unit, 0.0, 0.0), ValueError,
     r"mvm_cost: the MVM's energy \(array\) on periphery 'jia' leaves the float range"),
    ("xb-vread-pcm", lambda: Crossbar(device="pcm", v_read=0.41), ValueError,
     r"Crossbar.v_read 0.41 V is above what a 'pcm' device is read at: at most 0.4 V \(the top of IBM's 14 nm PCM "
     r"chip's read-voltage range, 100-400 mV: Le Gallo et al. 2023, Extended Data Table 1\)"),
    ("xb-vread-rram", lambda: Crossbar(device="rram", v_read=0.6), ValueError,
     r"Crossbar.v_read 0.6 V is above what a 'rram' device is read at: at most 0.5 V \(NeuRRAM's MVM read voltage"),
    ("xb-vread-hermes", lambda: accel.set_field(accel.get_design("hermes-like"), "unit.v_read", 1.0), ValueError,
     r"at most 0.4 V"),
    ("pcm-t0-zero", lambda: PCM(t0_s=0), ValueError, r"PCM.t0_s must be a positive number"),
    # a read time past t0 made the read noise sqrt(ln(<1)): NaN outputs blamed on g_max_us and out_noise, or with
    # t0 1e-300 an error of 5.8 under global compensation (audit s34 MED-1)
    ("pcm-tread-past-t0", lambda: PCM(t_read_s=30.0), ValueError, r"PCM.t_read_s 30.0 must be at most t0_s 20.0"),
    ("pcm-t0-below-tread", lambda: PCM(t0_s=1e-300), ValueError, r"PCM.t_read_s 2.5e-07 must be at most t0_s 1e-300"),
    ("pcm-gref-subnormal", lambda: PCM(prog_coeff_g_max_reference_us=1e-320), ValueError,
     r"PCM.prog_coeff_g_max_reference_us must be a positive number of microsiemens, at least 2.225e-308"),
    # conductances past the float range read as NaN, which the converters took for columns without weights: every
    # output 0 and an error of exactly 1.0 (audit s34 HIGH-2); refused when the tile is read
    ("am-wire-overflow", lambda: _am(tile=Crossbar(rows=16, cols=8, dac_bits=8, adc_bits=8, r_wire_ohm=1e308),
                                     t_seconds=1.0), ValueError,
     r"the tile's conductances at programming leave the float range \(\d+ non-finite\): check the device's fields "
     r"\(pcm: PCM\(.*\)\) and the tile's g_max_us 25.0 and r_wire_ohm 1e\+308"),
    ("macro-report-prog-noise-overflow", lambda: accel.macro_report(
        accel.get_design("hermes-like").replace(unit=dataclasses.replace(
            accel.get_design("hermes-like").unit, device=PCM(prog_coeff=(1e308,)))), times=[0.0, 1.0],
        compensation=None), ValueError, r"the tile's conductances at programming leave the float range"),
    ("pcm-drift-nan", lambda: PCM(drift_scale=NAN), ValueError, r"PCM.drift_scale must be a finite number >= 0"),
    ("pcm-coeff-empty", lambda: PCM(prog_coeff=()), TypeError, r"PCM.prog_coeff must be a non-empty tuple"),
    ("rram-scale-neg", lambda: RRAM(noise_scale=-1), ValueError, r"RRAM.noise_scale must be a finite number >= 0"),
    ("rram-coeff-nan", lambda: RRAM(coeffs=((1.0, (NAN,)),)), ValueError,
     r"RRAM.coeffs\[0\]\[1\]\[0\] must be a finite number"),
    # --- analog_matmul ---
    ("am-w-nan", lambda: _am(w=np.array([[1.0, NAN], [0, 1]])), ValueError, r"w must be finite"),
    ("am-x-inf", lambda: _am(x=np.array([1.0, INF])), ValueError, r"x must be finite"),
    ("am-w-complex", lambda: _am(w=W2 + 1j), TypeError, r"w must be an array of real numbers"),
    ("am-w-str", lambda: _am(w=[["a", "b"]]), TypeError, r"w must be an array of real numbers"),
    ("am-w-ragged", lambda: _am(w=[[1.0], [1.0, 2.0]]), ValueError, r"w must be an array of real numbers"),
    ("am-w-1d", lambda: _am(w=np.ones(2)), ValueError, r"w must be a non-empty 2-D"),
    ("am-w-empty", lambda: _am(w=np.ones((0, 2))), ValueError, r"w must be a non-empty 2-D"),
    ("am-x-shape", lambda: _am(w=np.ones((2, 3)), x=np.ones((4, 1))), ValueError, r"x must have 3 rows"),
    ("am-x-3d", lambda: _am(x=np.ones((2, 1, 1))), ValueError, r"x must be \(n_in,\) or \(n_in, batch\)"),
    ("am-t-neg", lambda: _am(t_seconds=-1.0), ValueError, r"t_seconds must be a finite number >= 0, got -1.0"),
    ("am-t-nan", lambda: _am(t_seconds=NAN), ValueError, r"t_seconds must be a finite number >= 0"),
    ("am-t-inf", lambda: _am(t_seconds=INF), ValueError, r"t_seconds must be a finite number >= 0"),
    ("am-t-str", lambda: _am(t_seconds="1"), TypeError, r"t_seconds must be a finite number >= 0"),
    ("am-comp", lambda: _am(compensation="local"), ValueError,
     r"compensation must be one of \(None, 'global', 'column'\), got 'local'"),
    ("am-comp-list", lambda: _am(compensation=[]), TypeError, r"compensation must be one of"),
    ("am-comp-bool", lambda: _am(compensation=True), TypeError, r"compensation must be one of"),  # audit s34
    ("gemm-comp-int", lambda: accel.Gemm(4, 4, 4, compensation=1), TypeError, r"Gemm.compensation must be None"),
    ("macro-report-comp-bool", lambda: accel.macro_report(accel.get_design("hermes-like"), times=[1.0],
                                                          compensation=True), TypeError,
     r"macro_report.compensation must be one of"),
    # an int past float64's range raised a bare OverflowError naming nothing (audit s34)
    ("macro-report-time-huge-int", lambda: accel.macro_report(accel.get_design("hermes-like"), times=[10 ** 400]),
     ValueError, r"macro_report.times must be a finite number >= 0, got a number beyond float64's range \(about "
                 r"1e400\)"),
    ("gemm-t-huge-int", lambda: accel.Gemm(4, 4, 4, t_seconds=10 ** 400), ValueError,
     r"Gemm.t_seconds must be a finite number >= 0, got a number beyond float64's range"),
    ("am-seed-neg", lambda: _am(seed=-1), ValueError, r"seed must be an int >= 0"),
    ("am-seed-float", lambda: _am(seed=1.5), TypeError, r"seed must be an int >= 0.*got 1.5 \(float\)"),
    ("am-seed-bool", lambda: _am(seed=True), TypeError, r"seed must be an int >= 0.*\(bool\)"),
    ("am-seed-str", lambda: _am(seed="0"), TypeError, r"seed must be an int >= 0.*\(str\)"),
    ("am-tile-str", lambda: _am(tile="pcm"), TypeError, r"tile must be a Crossbar or None, got str"),
    ("am-rram-time", lambda: _am(tile=Crossbar(device="rram"), t_seconds=5e5), ValueError,
     r"t_seconds must be a time the RRAM's fits cover"),
    ("am-rram-time-early", lambda: _am(tile=Crossbar(device="rram"), t_seconds=0.5), ValueError,
     r"t_seconds must be a time the RRAM's fits cover \(Wan et al. 2022's fits at \[1.0, 86400.0, 172800.0\] s, or 0 "
     r"\(as programmed\)\), got 0.5"),
    ("am-rram-refuse", lambda: _am(tile=Crossbar(device=RRAM(between_fits="refuse")), t_seconds=5.0), ValueError,
     r"got 5.0 \(between_fits='refuse': times without a fit raise"),
    ("rram-one-fit-at-0", lambda: _am(tile=Crossbar(device=RRAM(coeffs=((0.0, (1.0,)),))), t_seconds=5.0),
     ValueError, r"the device's own fits \(coeffs\) at \[0.0\] s\), got 5.0 \(between_fits='log_time' interpolates "
                 r"between two fits "
                 r"after 0; these coefficients have fewer\)"),
    ("rram-between-bad", lambda: RRAM(between_fits="linear"), ValueError,
     r"RRAM.between_fits must be one of \('log_time', 'refuse'\)"),
    ("rram-between-type", lambda: RRAM(between_fits=None), TypeError, r"RRAM.between_fits must be one of"),
    # --- workloads ---
    ("gemm-m-zero", lambda: accel.Gemm(0, 1, 1), ValueError, r"Gemm.m must be a positive int, got 0"),
    ("gemm-n-neg", lambda: accel.Gemm(1, -1, 1), ValueError, r"Gemm.n must be a positive int, got -1"),
    ("gemm-k-bool", lambda: accel.Gemm(1, 1, True), TypeError, r"Gemm.k must be a positive int, got True"),
    ("gemm-m-float", lambda: accel.Gemm(2.0, 1, 1), TypeError, r"Gemm.m must be a positive int, got 2.0"),
    ("gemm-m-1e18", lambda: accel.Gemm(1e18, 1, 1), TypeError, r"Gemm.m must be a positive int, got 1e\+18"),
    ("gemm-m-huge", lambda: accel.Gemm(2**53 + 1, 1, 1), ValueError, r"Gemm.m must be a positive int at most 2\*\*53"),
    ("gemm-count-zero", lambda: accel.Gemm(1, 1, 1, count=0), ValueError, r"Gemm.count must be a positive int"),
    ("gemm-afmt-none", lambda: accel.Gemm(2, 2, 2, a_format=None), TypeError, r"Gemm.a_format: format name must be"),
    ("gemm-bfmt-bad", lambda: accel.Gemm(2, 2, 2, b_format="fp9"), ValueError, r"Gemm.b_format: unknown format 'fp9'"),
    ("gemm-mixed-block", lambda: accel.Gemm(2, 2, 2, a_format="nvfp4", b_format="mxfp8_e4m3"), ValueError,
     r"Gemm: a_format 'nvfp4' \(blocks of 16\) and b_format 'mxfp8_e4m3' \(blocks of 32\): block formats"),
    ("gemm-seed-neg", lambda: accel.Gemm(2, 2, 2, seed=-1), ValueError, r"Gemm.seed must be an int >= 0, got -1"),
    ("gemm-seed-float", lambda: accel.Gemm(2, 2, 2, seed=0.5), TypeError, r"Gemm.seed must be an int >= 0"),
    ("gemm-seed-gen", lambda: accel.Gemm(2, 2, 2, seed=np.random.default_rng(0)), TypeError,
     r"Gemm.seed must be an int >= 0, got Generator"),
    ("gemm-scaling", lambda: accel.Gemm(2, 2, 2, scaling="row"), ValueError,
     r"Gemm.scaling must be one of \['auto', 'tensor', 'channel', 'none'\]"),
    ("gemm-sparsity-int", lambda: accel.Gemm(2, 2, 2, sparsity=2), TypeError, r"Gemm.sparsity must be None or 'n:m'"),
    ("gemm-sparsity-order", lambda: accel.Gemm(2, 2, 2, sparsity="4:2"), ValueError, r"needs 0 < n < m"),
    ("gemm-t-nan", lambda: accel.Gemm(2, 2, 2, t_seconds=NAN), ValueError, r"Gemm.t_seconds must be a finite number"),
    ("gemm-t-str", lambda: accel.Gemm(2, 2, 2, t_seconds="1"), TypeError, r"Gemm.t_seconds must be a finite number"),
    ("gemm-a-nan", lambda: accel.Gemm(2, 2, 2, a=np.full((2, 2), NAN)), ValueError, r"Gemm.a must be a finite"),
    ("gemm-b-complex", lambda: accel.Gemm(2, 2, 2, b=np.ones((2, 2)) * 1j), TypeError,
     r"Gemm.b must be an array of real numbers"),
    ("gemm-name-empty", lambda: accel.Gemm(2, 2, 2, name=""), ValueError, r"Gemm.name must be a non-empty str"),
    ("net-dense-misspelt", lambda: _net_gemm(dense_layers=("h",)), ValueError,
     r"Network.dense_layers names \['h'\], which are not layers; the GEMMs are \['g'\]"),
    ("net-scaling", lambda: _net_gemm(scaling="rows"), ValueError, r"Network.scaling must be one of"),
    # a network applies its own formats, sparsity, scaling, time and compensation to every Gemm layer: a
    # layer's own value would be silently replaced
    ("net-layer-time", lambda: accel.Network("n", (accel.Gemm(4, 4, 4, name="g", t_seconds=60.0),)), ValueError,
     r"Network 'n': layer 'g' has t_seconds=60.0, but the network applies its own t_seconds \(0.0\) to every "
     r"layer; leave t_seconds at its default \(0.0\) on the layers and set it on the Network"),
    ("net-layer-sparsity", lambda: accel.Network("n", (accel.Gemm(4, 4, 4, name="g", sparsity="2:4"),)), ValueError,
     r"layer 'g' has sparsity='2:4', .* set it on the Network \(dense_layers keeps named layers dense\)"),
    ("net-layer-format", lambda: accel.Network("n", (accel.Gemm(4, 4, 4, name="g", a_format="int8"),),
                                               a_format="e4m3"), ValueError,
     r"layer 'g' has a_format='int8', but the network applies its own a_format \('e4m3'\)"),
    ("net-layer-compensation", lambda: accel.Network("n", (accel.Gemm(4, 4, 4, name="g", compensation="global"),)),
     ValueError, r"layer 'g' has compensation='global'"),
    ("net-inputs-ignored", lambda: _net_gemm(inputs=np.ones((2, 2))), ValueError, r"inputs and labels belong to a"),
    ("net-inputs-nan", lambda: _net_chain(inputs=np.full((4, 3), NAN)), ValueError, r"Network.inputs must be finite"),
    ("net-labels-float", lambda: _net_chain(labels=np.zeros(4)), ValueError, r"Network.labels must be an int array"),
    ("dense-act", lambda: accel.Dense(np.ones((2, 2)), np.zeros(2), "gelu"), ValueError,
     r"Dense.activation must be None or 'relu'"),
    ("dense-weight-str", lambda: accel.Dense(np.array([["a"]]), np.zeros(1)), TypeError,
     r"Dense.weight must be an array of real numbers"),
    ("tblock-seed", lambda: accel.transformer_block(seed=-1), ValueError, r"transformer_block.seed must be an int"),
    ("tblock-heads", lambda: accel.transformer_block(heads=0), ValueError, r"transformer_block.heads must be a"),
    # --- simulate and its pure steps ---
    ("sim-design-str", lambda: accel.simulate("a100-like", accel.Gemm(2, 2, 2)), TypeError,
     r"design must be a Design, got str"),
    ("sim-workload-none", lambda: accel.simulate(_A100, None), TypeError,
     r"workload must be a Gemm, Network or transformer Layer"),
    ("sim-accuracy-str", lambda: accel.simulate(_A100, accel.Gemm(2, 2, 2), accuracy="no"), TypeError,
     r"accuracy must be True or False"),
    ("timing-crossbar", lambda: accel.gemm_timing(accel.get_design("hermes-like"), accel.Gemm(2, 2, 2)), TypeError,
     r"gemm_timing models digital units"),
    ("timing-workload", lambda: accel.gemm_timing(_A100, "gemm"), TypeError, r"w must be a Gemm"),
    ("qmm-shapes", lambda: accel.quantized_matmul(np.ones((2, 3)), np.ones((2, 2)), "fp16", "fp16", "fp32"),
     ValueError, r"must share k"),
    ("qmm-scaling", lambda: accel.quantized_matmul(np.ones((2, 2)), np.ones((2, 2)), "fp16", "fp16", "fp32",
                                                  scaling="rows"), ValueError, r"scaling must be one of"),
    ("metrics-shapes", lambda: accel.error_metrics(np.ones(2), np.ones(3)), ValueError, r"same shape"),
    ("metrics-ref-nan", lambda: accel.error_metrics(np.ones(2), np.array([1.0, NAN])), ValueError,
     r"ref must be finite"),
    ("design-replace-unknown", lambda: _A100.replace(clock=1.0), ValueError,
     r"Design has no field 'clock'; it has \['name', 'clock_hz'"),
    ("gemm-replace-unknown", lambda: accel.Gemm(2, 2, 2).replace(mm=3), ValueError, r"Gemm has no field 'mm'"),
    ("am-overflow", lambda: _am(w=np.array([[1e200]]), x=np.array([1e200])), ValueError,
     r"analog outputs overflow the float range"),
    # finite partial outputs beyond the fp32 accumulator's range, or all below it: said, not inf or zeros
    ("analog-acc-overflow", lambda: accel.analog.analog_matmul(np.ones((2, 300)), np.full(300, 1e37),
                                                               tile=accel.get_design("hermes-like").unit),
     ValueError, r"partial outputs overflow the fp32 accumulator \(largest finite 3.403e\+38\).*accumulator='exact'"),
    ("analog-acc-underflow", lambda: accel.analog.analog_matmul(np.ones((2, 8)), np.full(8, 1e-100),
                                                                tile=accel.get_design("hermes-like").unit),
     ValueError, r"partial outputs all underflow to 0 in the fp32 accumulator"),
    ("sim-clock-tiny", lambda: accel.simulate(_design(clock_hz=1e-320), accel.Gemm(2, 2, 2, a_format="int8"),
                                              accuracy=False), ValueError, r"the model's totals leave the float range"),
    ("sim-crossbar-sparse", lambda: accel.simulate(accel.get_design("neurram-like"),
                                                   accel.Gemm(16, 256, 128, sparsity="2:4")), ValueError,
     r"neurram-like is a crossbar: every weight sits in its cells .* so workload sparsity '2:4' would be ignored"),
    ("sim-crossbar-sparse-net", lambda: accel.simulate(accel.get_design("hermes-like"),
                                                       accel.digits_mlp().replace(sparsity="2:4")), ValueError,
     r"hermes-like is a crossbar: .* sparsity '2:4' would be ignored; use sparsity None"),
    ("sim-crossbar-count", lambda: accel.simulate(accel.get_design("neurram-like"),
                                                  accel.Gemm(8, 256, 128, count=49), accuracy=False), ValueError,
     r"the workload needs 49 tiles of 128 x 256 weights \(gemm 49: .*\), but neurram-like has 48 cores: a "
     r"crossbar holds every weight resident"),
    ("sim-crossbar-layers", lambda: accel.simulate(
        accel.get_design("neurram-like"),
        accel.Network("two", (accel.Gemm(8, 256, 128 * 24, name="a"), accel.Gemm(8, 256, 128 * 25, name="b"))),
        accuracy=False), ValueError, r"needs 49 tiles of 128 x 256 weights \(a 24, b 25: .*\), but neurram-like "
                                     r"has 48 cores"),
    ("sim-ref-overflow", lambda: accel.simulate(_A100, accel.Gemm(1, 1, 2, a=np.full((1, 2), 1e200),
                                                                  b=np.full((2, 1), 1e200))), ValueError,
     r"the float64 reference A @ B overflows"),
    # operands whose products underflow float64 made a reference of 0, and outputs of 0 scored as exact (audit s33 F2)
    ("sim-ref-underflow", lambda: accel.simulate(_A100, accel.Gemm(1, 1, 2, a=np.full((1, 2), 1e-300),
                                                                   b=np.full((2, 1), 1e-300))), ValueError,
     r"workload 'gemm': the float64 reference A @ B underflows \(\|a\| up to 1e-300, \|b\| up to 1e-300: .*scale "
     r"the operands up"),
    # a product of zeros scored 0.0 (exact) or inf, silently, on every design (audit s34 HIGH-1): refused before the
    # hardware runs, digital, analog, with draws and on a chain whose output is all zero
    ("sim-ref-zero", lambda: accel.simulate(_A100, accel.Gemm(4, 8, 64, a=np.zeros((4, 64)), b=np.ones((64, 8)))),
     ValueError, r"workload 'gemm': the float64 reference is zero at every output computed .* a relative error "
                 r"against it is undefined"),
    ("sim-analog-ref-zero", lambda: accel.simulate(accel.get_design("hermes-like"),
                                                   accel.Gemm(4, 8, 64, a=np.ones((4, 64)), b=np.zeros((64, 8)))),
     ValueError, r"workload 'gemm': the float64 reference is zero"),
    ("macro-report-ref-zero", lambda: accel.macro_report(
        accel.get_design("hermes-like"), times=[0.0, 86400.0], draws=2,
        workload=accel.Gemm(1, 1, 1, a=np.ones((1, 1)), b=np.zeros((1, 1)), name="w0")), ValueError,
     r"workload 'w0': the float64 reference is zero"),
    ("sim-chain-output-zero", lambda: accel.simulate(_A100, accel.Network(
        "dead", (accel.Dense(np.ones((4, 3)), np.zeros(3)), accel.Dense(np.ones((3, 2)), np.zeros(2), None)),
        inputs=-np.ones((5, 4)))), ValueError, r"workload 'dead' \(the chain's float64 output\): the float64 "
                                               r"reference is zero"),
    ("metrics-ref-zero", lambda: accel.error_metrics(np.ones(3), np.zeros(3)), ValueError,
     r"error_metrics: the float64 reference is zero"),
    ("metrics-empty", lambda: accel.error_metrics(np.ones(0), np.ones(0)), ValueError,
     r"error_metrics: no outputs to compare \(empty arrays\)"),
    ("sim-analog-ref-underflow", lambda: accel.simulate(
        accel.get_design("hermes-like"), accel.Gemm(8, 256, 256, a=np.full((8, 256), 1e-300),
                                                   b=np.full((256, 256), 1e-300))), ValueError,
     r"the float64 reference A @ B underflows"),
    # the PCM drift law measured to one day and extrapolated by its sources to one year: later times are refused
    # up front (1e300 s returned an error of 12.25; 1e308 overflowed after the earlier times ran; audit s33 F3)
    ("macro-report-pcm-past-a-year", lambda: accel.macro_report(accel.get_design("hermes-like"),
                                                                times=[1.0, 1e300]), ValueError,
     r"PCM drift statistics .* one year at most: macro_report.times must be at most 3.15576e\+07 s \(365.25 days\), "
     r"got 1e\+300"),
    ("sim-pcm-past-a-year", lambda: accel.simulate(accel.get_design("hermes-like"),
                                                   accel.Gemm(8, 256, 256, t_seconds=3.2e7)), ValueError,
     r"t_seconds must be at most 3.15576e\+07 s"),
    ("analog-matmul-pcm-past-a-year", lambda: accel.analog.analog_matmul(np.ones((4, 8)), np.ones(8),
                                                                         t_seconds=1e308), ValueError,
     r"PCM drift statistics .* got 1e\+308"),
    ("macro-report-sram-column", lambda: accel.macro_report(accel.get_design("jia-sram-like"), times=[0],
                                                            compensation="column"), ValueError,
     r"SRAM device .* macro_report.compensation must be None, got 'column'"),
    ("macro-report-compensation-no-times", lambda: accel.macro_report(accel.get_design("hermes-like"),
                                                                      compensation="column"), ValueError,
     r"macro_report.compensation sets the accuracy run, which only runs with times"),
    ("design-peak-sparse-str", lambda: _A100.peak_ops_per_s("fp16", sparse="yes"), TypeError,
     r"sparse must be True or False"),
    ("train-mlp-seed", lambda: __import__("accel.digits").digits.train_mlp(seed=1.5), TypeError,
     r"train_mlp.seed must be an int >= 0"),
    ("folds-float", lambda: folds(1.5, 1, 1, 1, 1, Dataflow.OS), TypeError, r"m must be a positive int"),
    ("folds-zero", lambda: folds(1, 1, 1, 0, 1, Dataflow.OS), ValueError, r"rows must be a positive int"),
    ("analog-cost-tiles", lambda: accel.simulate(accel.get_design("hermes-like"), accel.Gemm(8, 10**6, 10**6),
                                                 accuracy=False),
     ValueError, r"needs 15264649 tiles of 256 x 256; the design has 64"),
]


@pytest.mark.parametrize("thunk,exc,match", [pytest.param(t, e, m, id=i) for i, t, e, m in RAISES])
def test_bad_input_raises(thunk, exc, match):
    with pytest.raises(exc, match=match):
        thunk()


# values that are accepted and normalised: (id, thunk, check of the result)
ACCEPTS = [
    ("tc-sm-numpy", lambda: _tc(sm_count=np.int64(4)).sm_count, lambda v: v == 4 and type(v) is int),
    ("sa-rows-numpy", lambda: _sa(rows=np.int32(8)).rows, lambda v: v == 8 and type(v) is int),
    ("mem-bw-inf", lambda: _mem(bandwidth_bytes_per_s=INF).bandwidth_bytes_per_s, lambda v: v == INF),
    ("design-clock-numpy", lambda: _design(clock_hz=np.float32(1e9)).clock_hz, lambda v: v == 1e9 and type(v) is float),
    ("design-mem-list", lambda: _design(memories=[_mem()]).memories, lambda v: v == (_mem(),)),
    ("xb-gmax-int", lambda: Crossbar(g_max_us=np.int64(25)).g_max_us, lambda v: v == 25.0 and type(v) is float),
    ("gemm-numpy-dims", lambda: accel.Gemm(np.int64(3), np.uint8(4), 5),
     lambda g: (g.m, g.n, type(g.m)) == (3, 4, int)),
    ("gemm-int-operand", lambda: accel.Gemm(2, 2, 2, a=np.ones((2, 2), np.int32)).a,
     lambda a: a.dtype == np.float64 and (a == 1).all()),
    ("am-seed-generator", lambda: _am(tile=Crossbar(device="ideal"), seed=np.random.default_rng(0)),
     lambda y: np.allclose(y, [2.0, 2.0])),
    ("am-empty-batch", lambda: _am(x=np.ones((2, 0))), lambda y: y.shape == (2, 0)),
    ("sim-accuracy-npbool", lambda: accel.simulate(_A100, accel.Gemm(2, 2, 2), accuracy=np.bool_(False)).accuracy,
     lambda a: a is None),
    # -0.0 keyed the report apart from 0.0 (audit s34)
    ("macro-report-minus-zero", lambda: accel.macro_report(accel.get_design("sinangil-sram-like"), times=-0.0),
     lambda r: list(r["accuracy"]) == [0.0] and math.copysign(1.0, next(iter(r["accuracy"]))) == 1.0),
    ("gemm-t-minus-zero", lambda: accel.Gemm(2, 2, 2, t_seconds=-0.0).t_seconds,
     lambda t: t == 0.0 and math.copysign(1.0, t) == 1.0),
    ("metrics-nonfinite-d", lambda: accel.error_metrics(np.array([1.0, INF]), np.ones(2)),
     lambda r: r == {"rel_fro_err": INF, "sqnr_db": -INF, "max_abs_err": INF, "nonfinite_outputs": 1}),
]


@pytest.mark.parametrize("thunk,check", [pytest.param(t, c, id=i) for i, t, c in ACCEPTS])
def test_accepted_and_normalised(thunk, check):
    assert check(thunk())


# --- TOML --------------------------------------------------------------------------------------------
_GOOD_TOML = """[design]
name = "t"
clock_hz = 1e9
mac_pj = { int8 = 1.0 }

[unit]
kind = "systolic_array"
name = "sa"
rows = 4
cols = 4
dataflow = "ws"

[[memories]]
name = "buf"
size_bytes = 1024
bandwidth_bytes_per_s = 1e9
energy_pj_per_byte = 1.0
"""

TOML_CASES = [
    ("misspelt-memories", ("[[memories]]", "[[memory]]"), ValueError,
     r"d.toml: unknown key \['memory'\] in top-level tables \(did you mean 'memories'\?\); valid keys: "
     r"\['design', 'unit', 'memories', 'elementwise', 'interconnect', 'formats', 'block_formats', 'accumulators'\]"),
    ("unit-unknown-key", ("rows = 4", "rowz = 4"), ValueError,
     r"d.toml: unknown key \['rowz'\] in \[unit\] \(did you mean 'rows'\?\); valid keys: \['kind', 'name', 'rows'"),
    ("design-unknown-key", ("clock_hz = 1e9", "clock = 1e9"), ValueError,
     r"d.toml: unknown key \['clock'\] in \[design\] \(did you mean 'clock_hz'\?\)"),
    ("memories-unknown-key", ("energy_pj_per_byte = 1.0", "energy_pj_per_byte = 1.0\nbandwidth = 2"), ValueError,
     r"d.toml: unknown key \['bandwidth'\] in \[\[memories\]\] #1"),
    ("mac-pj-unknown-key", ("int8 = 1.0", "fp8 = 1.0"), ValueError,
     r"d.toml: Design.mac_pj has unknown key 'fp8'; valid keys .*\['int8', 'block_scale'\]"),
    ("unit-no-kind", ('kind = "systolic_array"\n', ""), ValueError, r"d.toml: \[unit\] lacks kind \(one of"),
    # (units registered earlier in the process, docs/extending.md's "boosted_core", may join the list)
    ("unit-bad-kind", ('"systolic_array"', '"gpu"'), ValueError,
     r"d.toml: unit.kind must be one of \[.*'crossbar', .*'systolic_array', .*'tensor_core'.*\], got 'gpu'"),
    ("unit-missing-field", ("rows = 4\n", ""), ValueError, r"d.toml: \[unit\] lacks \['rows'\]"),
    ("bad-dataflow", ('"ws"', '"xs"'), ValueError, r"d.toml: unit.dataflow must be one of \['os', 'ws', 'is'\]"),
    ("clock-nan", ("clock_hz = 1e9", "clock_hz = nan"), ValueError, r"d.toml: Design.clock_hz must be a positive"),
    ("clock-str", ("clock_hz = 1e9", 'clock_hz = "fast"'), TypeError, r"d.toml: Design.clock_hz must be a positive"),
    ("rows-float", ("rows = 4", "rows = 4.0"), TypeError, r"d.toml: SystolicArray.rows must be a positive int"),
    ("memories-table", ("[[memories]]", "[memories]"), ValueError, r"d.toml: 'memories' must be \[\[memories\]\]"),
    ("no-parse", ("[design]", "[design"), ValueError, r"d.toml does not parse as TOML"),
    ("no-design", ("[design]", "[desing]"), ValueError, r"d.toml: unknown key \['desing'\].*did you mean 'design'"),
]


@pytest.mark.parametrize("edit,exc,match", [pytest.param(e, x, m, id=i) for i, e, x, m in TOML_CASES])
def test_toml_rejects(tmp_path, edit, exc, match):
    assert accel.load_design(_write(tmp_path, _GOOD_TOML)).unit.rows == 4  # the unedited file loads
    text = _GOOD_TOML.replace(*edit)
    assert text != _GOOD_TOML
    with pytest.raises(exc, match=match):
        accel.load_design(_write(tmp_path, text))


def _write(tmp_path, text: str) -> str:
    p = tmp_path / "d.toml"
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_toml_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot read design file: No such file .*nope.toml"):
        accel.load_design(str(tmp_path / "nope.toml"))
    with pytest.raises(IsADirectoryError, match=r"cannot read design file: Is a directory"):
        accel.load_design(str(tmp_path))
    (tmp_path / "bin.toml").write_bytes(b"[design]\nname = \"\xff\"\n")
    with pytest.raises(ValueError, match=r"bin.toml is not UTF-8 text"):
        accel.load_design(str(tmp_path / "bin.toml"))
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike"):
        accel.load_design(5)
    # odd names survive the round trip (quotes, backslashes, control characters, non-ASCII)
    d = _design(name='a "q" \\ \t\x7f é', memories=(_mem(),), mac_pj={"int8": 0.5})
    p = tmp_path / "odd.toml"
    p.write_text(d.to_toml(), encoding="utf-8")
    assert accel.load_design(p) == d


@pytest.mark.parametrize("name", accel.design_names())
def test_presets_round_trip(tmp_path, name):
    d = accel.get_design(name)
    assert accel.load_design(_write(tmp_path, d.to_toml())) == d


def test_device_statistics_round_trip(tmp_path):
    """A PCM or RRAM with statistics of its own is written whole as [unit.device] (kind and every field) and read
    back equal; a registered one by name. A bad [unit.device] table is refused naming the file and the table."""
    from accel.analog.devices import PCM
    base = accel.get_design("neurram-like")
    fits = dict(RRAM().coeffs)
    held_out = ((1.0, fits[1.0]), (172800.0, fits[172800.0]))
    for dev in (RRAM(between_fits="refuse"), RRAM(coeffs=held_out, noise_scale=2.0),
                PCM(drift_scale=0.5, prog_coeff=(0.1, 0.2)), RRAM()):
        d = accel.set_field(base, "unit.device", dev)
        text = d.to_toml()
        assert ("[unit.device]" in text) == (dev != RRAM())
        back = accel.load_design(_write(tmp_path, text))
        assert back == d and back.unit.device == dev
    text = accel.set_field(base, "unit.device", RRAM(noise_scale=2.0)).to_toml()
    for old, new, match in [
            ('kind = "rram"', 'kind = "ideal"', r"\[unit.device\] kind must be one of \['pcm', 'rram', 'hermes_pcm'\]"),
            ("noise_scale = 2.0", "noise_scale = -2.0", r"RRAM.noise_scale must be a finite number >= 0"),
            ("noise_scale = 2.0", "noise_sclae = 2.0", r"unknown key \['noise_sclae'\] in \[unit.device\]"),
            ('between_fits = "log_time"', 'between_fits = "linear"', r"RRAM.between_fits must be one of")]:
        bad = text.replace(old, new)
        with pytest.raises(ValueError, match=r"d.toml.*" + match):
            accel.load_design(_write(tmp_path, bad))

    class MyRRAM(RRAM):  # a subclass: statistics of a kind no design file names
        pass
    with pytest.raises(ValueError, match=r"Design.to_toml: unit.device is a MyRRAM, which a design file cannot hold"):
        accel.set_field(base, "unit.device", MyRRAM()).to_toml()


# --- bounded work on huge shapes (subprocess, 4 GiB address space) --------------------------------------
def _run_limited(code: str, timeout: float = 240):
    prog = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        import accel
    """) + textwrap.dedent(code)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)


@pytest.mark.slow  # ~12 s: a fresh interpreter imports numba and runs the sampled accuracy
def test_huge_gemm_accuracy_samples_k():
    r = _run_limited("""
        r = accel.simulate(accel.get_design("h100-like"), accel.Gemm(10**6, 10**6, 10**6, seed=3))
        print(r.accuracy["k_sampled"], r.accuracy["outputs_computed"], r.accuracy["rel_fro_err"], r.seconds)
    """)
    assert r.returncode == 0, r.stderr
    ks, outs, rel, secs = r.stdout.split()
    assert (int(ks), int(outs)) == (16384, 128 * 128)
    assert 0 < float(rel) < 1e-3 and math.isfinite(float(secs)) and float(secs) > 0


def test_huge_analog_cost_refuses_before_drawing():
    r = _run_limited("""
        accel.simulate(accel.get_design("hermes-like"), accel.Gemm(10**6, 10**6, 10**6), accuracy=False)
    """)
    want = "ValueError: GEMM 'gemm' on hermes-like: a 1000000 x 1000000 weight matrix needs 15264649 tiles"
    assert r.returncode == 1 and want in r.stderr


@pytest.mark.slow  # ~12 s: a fresh interpreter imports numba and runs the sampled accuracy
def test_huge_analog_accuracy_is_sampled():
    r = _run_limited("""
        d = accel.get_design("hermes-like")
        import dataclasses
        d = d.replace(unit=dataclasses.replace(d.unit, rows=4096, cols=4096, cores=10**6))
        r = accel.simulate(d, accel.Gemm(10**6, 10**6, 10**6))
        print(r.accuracy["k_sampled"], r.accuracy["outputs_computed"], r.accuracy["rel_fro_err"])
    """)
    assert r.returncode == 0, r.stderr
    ks, outs, rel = r.stdout.split()
    assert (int(ks), int(outs)) == (16384, 128 * 256) and 0 < float(rel) < 1


# --- K sampling semantics ----------------------------------------------------------------------------------
def test_k_sample_is_a_block_aligned_slice_of_the_real_operands():
    from accel.accuracy import gemm_accuracy, k_slice
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 200)), rng.standard_normal((200, 3))
    g = accel.Gemm(4, 3, 200, a_format="mxfp8_e4m3", a=a, b=b, seed=5)
    k0, ks = k_slice(g, max_k=70)
    assert ks == 64 and k0 % 32 == 0 and k0 + ks <= 200  # whole 32-element scale blocks
    full = gemm_accuracy(g.replace(a=a[:, k0:k0 + ks], b=b[k0:k0 + ks], k=ks), "fp32")
    assert gemm_accuracy(g, "fp32", max_k=70) == {**full, "k_sampled": 64}
    assert gemm_accuracy(g, "fp32")["k_sampled"] == 200  # K below the cap: all of it
    assert k_slice(accel.Gemm(2, 2, 100, sparsity="2:4"), max_k=10)[1] == 8  # whole 2:4 groups


# --- fuzzing ------------------------------------------------------------------------------------------------
_GOOD_FORMATS = ["fp16", "bf16", "e4m3", "e5m2", "int8", "int4", "mxfp4", "mxfp8_e4m3", "nvfp4"]
_FORMATS = st.one_of(st.sampled_from(_GOOD_FORMATS), st.sampled_from(["fp32", "fp9", None, 3]))
_PRESETS = accel.design_names()


def _sane(r, accuracy: bool) -> None:
    assert math.isfinite(r.seconds) and r.seconds > 0
    assert math.isfinite(r.energy_j) and r.energy_j > 0
    if accuracy:
        acc = r.accuracy
        assert math.isfinite(acc["rel_fro_err"]) and math.isfinite(acc["max_abs_err"])
        assert math.isfinite(acc["sqnr_db"]) or (acc["sqnr_db"] == INF and acc["rel_fro_err"] == 0)
        assert acc["outputs_computed"] >= 1 and "nonfinite_outputs" not in acc
    else:
        assert r.accuracy is None


_DIM = st.one_of(st.integers(1, 24), st.integers(1, 24), st.sampled_from([0, -1, True, 2.0]))


@settings(max_examples=40)
@given(m=_DIM, n=_DIM, k=_DIM, a_format=_FORMATS, b_format=st.one_of(st.none(), _FORMATS),
       sparsity=st.sampled_from([None, None, "2:4", "1:4", "2:2", "x"]), preset=st.sampled_from(_PRESETS),
       accuracy=st.booleans(), seed=st.one_of(st.integers(0, 3), st.sampled_from([-1, 1.5, "0"])))
def test_fuzz_gemm_on_presets(m, n, k, a_format, b_format, sparsity, preset, accuracy, seed):
    try:
        g = accel.Gemm(m, n, k, a_format=a_format, b_format=b_format, sparsity=sparsity, seed=seed)
        r = accel.simulate(accel.get_design(preset), g, accuracy=accuracy)
    except (ValueError, TypeError):
        return
    _sane(r, accuracy)


_BAD = st.one_of(st.integers(-2, 300), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                 st.sampled_from(["pcm", "column", "bit_serial", "offset", "fp16", "x"]))
_OPT_INT = st.one_of(st.none(), st.integers(2, 10))
_VALID = {"rows": st.integers(1, 64), "cols": st.integers(1, 64), "device": st.sampled_from(["pcm", "rram", "ideal"]),
          "g_max_us": st.floats(0.1, 100), "dac_bits": _OPT_INT, "dac_range": st.one_of(st.none(), st.floats(0.1, 10)),
          "adc_bits": _OPT_INT, "out_noise": st.floats(0, 0.1), "input_mode": st.sampled_from(["pwm", "bit_serial"]),
          "adc_range": st.one_of(st.sampled_from(["column", "global"]), st.floats(0.1, 100)),
          "adc_share": st.integers(1, 8), "mapping": st.sampled_from(["differential", "offset"]),
          "weight_bits": _OPT_INT, "bits_per_cell": st.one_of(st.none(), st.integers(1, 4)),
          "stuck_rate": st.floats(0, 0.1), "stuck_on_fraction": st.floats(0, 1), "r_wire_ohm": st.floats(0, 10),
          "accumulator": st.sampled_from(["fp32", "fp16", "exact"]), "cores": st.integers(1, 64),
          "read_phases": st.integers(1, 4), "t_mvm_s": st.floats(1e-9, 1e-6), "v_read": st.floats(0.05, 1.0),
          "adc_fom_fj": st.floats(1, 100), "node_nm": st.floats(3, 90)}
_FIELD = st.sampled_from(sorted(_VALID)).flatmap(lambda f: st.tuples(st.just(f), st.one_of(_VALID[f], _VALID[f], _BAD)))


@settings(max_examples=60)
@given(fields=st.lists(_FIELD, max_size=4).map(dict), t=st.sampled_from([0.0, 0.5, 1.0, 3600.0]),
       comp=st.sampled_from([None, "global", "column"]))
def test_fuzz_crossbar_fields(fields, t, comp):
    try:
        tile = Crossbar(**fields)
    except (ValueError, TypeError):
        return
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    try:
        y = analog_matmul(w, x, tile=tile, t_seconds=t, compensation=comp, seed=1)
    except ValueError as err:  # RRAM reads only from its first fit (1 s) to its last; fields at the float range's edge,
        # or outputs past the digital accumulator's range (r_wire_ohm=1e50: every output underflows)
        assert any(s in str(err) for s in ("fits cover", "overflow the float range", "leave the float range",
                                           "accumulator")), err
        return
    assert y.shape == (5, 3) and np.isfinite(y).all()
    try:
        r = accel.simulate(accel.Design(name="x", clock_hz=1e9, unit=tile), accel.Gemm(3, 5, 7), accuracy=False)
    except ValueError as err:
        assert "tiles of" in str(err) or "float range" in str(err)
        return
    assert math.isfinite(r.seconds) and r.seconds > 0 and math.isfinite(r.energy_j) and r.energy_j >= 0


_DTYPES = st.sampled_from([np.float64, np.float32, np.int16, np.bool_, np.complex128])
_SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)


_ELEMENTS = {"allow_subnormal": False}


@st.composite
def _operand_pair(draw):
    """(w, x): mostly of matching shapes (n_out, n_in) and (n_in,) or (n_in, batch), sometimes any shapes."""
    if draw(st.integers(0, 3)) == 0:
        return (draw(hnp.arrays(_DTYPES, _SHAPES, elements=_ELEMENTS)),
                draw(hnp.arrays(_DTYPES, _SHAPES, elements=_ELEMENTS)))
    n_out, n_in, batch = draw(st.integers(0, 5)), draw(st.integers(1, 5)), draw(st.integers(0, 4))
    dt = draw(st.one_of(st.just(np.float64), _DTYPES))
    w = draw(hnp.arrays(dt, (n_out, n_in), elements=_ELEMENTS))
    x = draw(hnp.arrays(dt, (n_in,) if batch == 0 else (n_in, batch), elements=_ELEMENTS))
    return w, x


@settings(max_examples=60)
@given(pair=_operand_pair(),
       seed=st.one_of(st.integers(0, 2**64), st.sampled_from([-1, 0.5, True, "1", None, [1, 2]])))
def test_fuzz_analog_matmul_arrays(pair, seed):
    """On an ideal tile with an exact accumulator the result is w @ x (to rounding), or the call raises."""
    w, x = pair
    tile = Crossbar(device="ideal", accumulator="exact")
    try:
        y = analog_matmul(w, x, tile=tile, seed=seed)
    except (ValueError, TypeError):
        return
    ref = w.astype(np.float64) @ x.astype(np.float64)
    assert y.shape == ref.shape
    scale = np.abs(w.astype(np.float64)).max() * np.abs(x.astype(np.float64)).sum(axis=0).max() if x.size else 0.0
    assert np.allclose(y, ref, rtol=0, atol=1e-12 * max(scale, 1e-300) + 1e-300)
