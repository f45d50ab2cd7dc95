"""Custom parts in a design TOML (docs/extending.md): [[formats]] (float eXmY fields, posit, lookup levels,
int, log), [[block_formats]] (element, scale, block size, scale rule: the BlockFormat fields) and
[[accumulators]] (the Accumulator fields), registered before the unit is built and written back by to_toml,
so a file that defines and uses one loads in a fresh process."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import accel
import numerics as nx

ROOT = Path(__file__).resolve().parents[1]

PARTS = '''
[[formats]]
name = "{fmt}"
family = "float"
exp_bits = 3
man_bits = 3
bias = 3
inf = false
nan = "none"

[[accumulators]]
name = "{acc}"
method = "fused"
out_format = "fp32"
out_rounding = "TOWARD_ZERO"
block_bytes = 16
align_bits = 14
zero_exp_offset = 6
'''

DESIGN = '''
[design]
name = "custom"
clock_hz = 1e9

[unit]
kind = "tensor_core"
name = "tc"
sm_count = 4
macs_per_cycle = {{ fp16 = 256, {fmt} = 512 }}
accumulator = "{acc}"

[[memories]]
name = "sram"
size_bytes = 1048576
bandwidth_bytes_per_s = 1e12
energy_pj_per_byte = 1.5

[[memories]]
name = "dram"
size_bytes = 1073741824
bandwidth_bytes_per_s = 1e11
energy_pj_per_byte = 20.0
'''


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _run(*args):
    return subprocess.run([sys.executable, "-m", "accel.cli", *map(str, args)], capture_output=True, text=True,
                          env=_env(), cwd=ROOT, timeout=300)


@pytest.mark.slow  # a fresh Python process: seconds of imports
def test_custom_accumulator_and_format_load_in_a_fresh_process(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text(PARTS.format(fmt="e3m3x", acc="narrow_fused_t") + DESIGN.format(fmt="e3m3x", acc="narrow_fused_t"))
    gemm = ["--gemm", "32", "32", "512", "--a-format", "e3m3x", "--json"]
    first = _run("simulate", path, *gemm)
    assert first.returncode == 0, first.stderr
    d = json.loads(first.stdout)
    assert d["a_format"] == "e3m3x" and d["rel_fro_err"] > 0
    # the same design in this process gives the same numbers
    here = accel.simulate(accel.load_design(path), accel.Gemm(32, 32, 512, a_format="e3m3x"))
    assert json.loads(json.dumps(here.to_dict())) == d
    # show --toml writes the custom parts back: the round trip loads in yet another fresh process
    shown = _run("show", path, "--toml")
    assert shown.returncode == 0 and "[[accumulators]]" in shown.stdout and 'name = "e3m3x"' in shown.stdout
    again = tmp_path / "again.toml"
    again.write_text(shown.stdout)
    second = _run("simulate", again, *gemm)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == d


def test_the_accumulator_is_the_one_defined():
    """A narrower fused alignment (F = 14) loses more than the design with the fp32 accumulator."""
    text = PARTS.format(fmt="t19_e3m3a", acc="t19_narrow") + DESIGN.format(fmt="t19_e3m3a", acc="t19_narrow")
    d = accel.Design.from_toml(text)
    assert nx.get_accumulator("t19_narrow").align_bits == 14 and d.unit.accumulator_for("fp16") == "t19_narrow"
    g = accel.Gemm(16, 16, 4096, a_format="fp16")
    wide = d.replace(unit=d.unit.__class__(**{**{f: getattr(d.unit, f) for f in ("name", "sm_count")},
                                            "macs_per_cycle": d.unit.macs_per_cycle, "accumulator": "fp32"}))
    assert accel.simulate(d, g).accuracy["rel_fro_err"] > accel.simulate(wide, g).accuracy["rel_fro_err"]


def test_loading_the_same_definitions_twice_is_fine():
    text = PARTS.format(fmt="t19_e3m3b", acc="t19_acc_b") + DESIGN.format(fmt="t19_e3m3b", acc="t19_acc_b")
    assert accel.Design.from_toml(text) == accel.Design.from_toml(text)


@pytest.mark.parametrize("table, check", [
    ('name = "t19_posit10"\nfamily = "posit"\nbits = 10\nes = 1', lambda f: f == nx.PositFormat(bits=10, es=1)),
    ('name = "t19_lut"\nfamily = "lookup"\nlevels = [-1.0, -0.25, 0.0, 0.25, 1.0]',
     lambda f: f.levels == (-1.0, -0.25, 0.0, 0.25, 1.0)),
    ('name = "t19_int6"\nfamily = "int"\nbits = 6\nnarrow = true', lambda f: f == nx.IntFormat(bits=6, narrow=True)),
    ('name = "t19_lns6"\nfamily = "log"\nbits = 6\nfrac_bits = 2', lambda f: f == nx.LogFormat(bits=6, frac_bits=2)),
    ('name = "t19_e5m1"\nfamily = "float"\nexp_bits = 5\nman_bits = 1\nbias = 16\nnan = "fnuz"\ninf = false',
     lambda f: f.nan == nx.NanPolicy.FNUZ and f.bias == 16),
])
def test_each_format_family(table, check):
    text = f"[[formats]]\n{table}\n" + DESIGN.format(fmt="int8", acc="fp32")
    accel.Design.from_toml(text)
    name = table.split('"')[1]
    assert check(nx.get_format(name))


def test_a_systolic_array_computing_a_custom_format():
    text = ('[[formats]]\nname = "t19_int5"\nfamily = "int"\nbits = 5\n[design]\nname = "npu5"\nclock_hz = 1e9\n'
            '[unit]\nkind = "systolic_array"\nname = "sa"\nrows = 8\ncols = 8\nformats_per_pe = { t19_int5 = 1 }\n')
    d = accel.Design.from_toml(text)
    r = accel.simulate(d, accel.Gemm(16, 16, 16, a_format="t19_int5"))
    assert r.to_dict()["a_format"] == "t19_int5" and r.seconds > 0
    assert 'name = "t19_int5"' in d.to_toml() and accel.Design.from_toml(d.to_toml()) == d


def test_inline_out_format_round_trips():
    """An accumulator whose format has no name that gives it back is written inline."""
    odd = nx.FloatFormat(exp_bits=8, man_bits=13, bias=100)
    nx.register_accumulator("t19_odd", nx.Accumulator(method=nx.AccMethod.FMA, out_format=odd))
    d = accel.Design("d", 1e9, accel.TensorCore("tc", 2, {"fp16": 64}, accumulator="t19_odd"))
    text = d.to_toml()
    assert "out_format = { " in text and '"bias" = 100' in text
    assert accel.Design.from_toml(text) == d


BAD = [
    ('[[formats]]\nname = "fp16"\nfamily = "float"\nexp_bits = 5\nman_bits = 9\nbias = 15\n',
     r"defines 'fp16' as FloatFormat\(exp_bits=5, man_bits=9.*"
     r"but 'fp16' is already FloatFormat\(exp_bits=5, man_bits=10"),
    ('[[accumulators]]\nname = "fp32"\nmethod = "pairwise"\nout_format = "fp32"\n',
     "defines 'fp32' as Accumulator.*method=<AccMethod.PAIRWISE.*already Accumulator.*FMA"),
    ('[[formats]]\nname = "x1"\nfamily = "floaty"\n',
     r"family must be one of \['float', 'int', 'posit', 'log', 'lookup'\]"),
    ('[[formats]]\nname = "x2"\nfamily = "posit"\nbits = 8\nez = 1\n', r"unknown key 'ez' \(did you mean 'es'\?\)"),
    ('[[formats]]\nname = "x3"\nfamily = "float"\nexp_bits = 3\n', r"lacks \['man_bits', 'bias'\]"),
    ('[[formats]]\nname = "x4"\nfamily = "float"\nexp_bits = 3\nman_bits = 2\nbias = 3\nnan = "maybe"\n',
     r"nan must be one of \['ieee', 'fn', 'fnuz', 'none'\]"),
    ('[[formats]]\nfamily = "posit"\nbits = 8\nes = 1\n', "needs name = "),
    ('[[accumulators]]\nname = "x5"\nmethod = "magic"\n', r"method must be one of \['exact', 'fma'"),
    ('[[accumulators]]\nname = "x6"\nmethod = "fma"\nout_format = "fp33"\n', "unknown format 'fp33'"),
    ('[[accumulators]]\nname = "x7"\nmethod = "fused"\nout_rounding = "NEAREST"\n', "out_rounding must be one of"),
    ('formats = 3\n', "'formats' must be \\[\\[formats\\]\\] tables"),
    ('[[formats]]\nname = "x8"\nfamily = "posit"\nbits = 1\nes = 0\n', r"\[\[formats\]\] #1 'x8': "),
]


@pytest.mark.parametrize("parts, msg", BAD)
def test_bad_parts(parts, msg):
    with pytest.raises(ValueError, match=msg) as info:
        accel.Design.from_toml(parts + DESIGN.format(fmt="int8", acc="fp32"), source="mine.toml")
    assert str(info.value).startswith("mine.toml")


def test_an_unknown_accumulator_in_the_unit_still_names_the_file():
    with pytest.raises(ValueError, match="mine.toml: .*unknown accumulator 't19_nope'"):
        accel.Design.from_toml(DESIGN.format(fmt="int8", acc="t19_nope"), source="mine.toml")


@dataclasses.dataclass(frozen=True)
class BoostedCore(accel.TensorCore):
    """A tensor core whose math runs `boost` times per clock (a custom unit for the test)."""

    boost: int = 2

    def macs_per_clock(self, fmt: str, sparse: bool = False) -> int:
        return self.boost * super().macs_per_clock(fmt, sparse)


def test_custom_unit_kind_round_trips_through_toml():
    design_mod = sys.modules["accel.design"]
    design_mod.register_unit("t19_boosted", BoostedCore)
    design_mod.register_unit("t19_boosted", BoostedCore)  # the same class again: fine
    d = accel.Design("b", 1e9, BoostedCore("bc", 4, {"fp16": 256}, boost=4))
    text = d.to_toml()
    assert 'kind = "t19_boosted"' in text and "boost = 4" in text
    assert accel.Design.from_toml(text) == d
    plain = accel.Design("p", 1e9, accel.TensorCore("tc", 4, {"fp16": 256}))
    assert d.peak_ops_per_s("fp16") == 4 * plain.peak_ops_per_s("fp16")
    g = accel.Gemm(512, 512, 512)  # no memories: compute-bound, the timing model sees the boost
    assert accel.simulate(d, g, accuracy=False).seconds < accel.simulate(plain, g, accuracy=False).seconds


@pytest.mark.parametrize("kind, cls, exc, msg", [
    ("tensor_core", BoostedCore, ValueError, "kind 'tensor_core' is already TensorCore"),
    ("Bad Kind", BoostedCore, ValueError, "kind must be a lower-case identifier"),
    ("t19_dict", dict, TypeError, "must be a dataclass subclassing TensorCore or SystolicArray"),
])
def test_register_unit_bad_input(kind, cls, exc, msg):
    with pytest.raises(exc, match=msg):
        sys.modules["accel.design"].register_unit(kind, cls)


# -- block formats ---------------------------------------------------------------------------------------
BLOCKS = '''
[[formats]]
name = "{fmt}"
family = "float"
exp_bits = 3
man_bits = 3
bias = 3
inf = false
nan = "none"

[[block_formats]]
name = "{blk}"
element = "{fmt}"
scale = "e8m0"
block_size = 16
scale_rule = "rceil"
'''

BLOCK_DESIGN = '''
[design]
name = "blocky"
clock_hz = 1e9

[unit]
kind = "tensor_core"
name = "tc"
sm_count = 4
macs_per_cycle = {{ fp16 = 256, {blk} = 512 }}
accumulator = {{ default = "fp32", {blk} = "fp16" }}
'''


@pytest.mark.slow  # a fresh Python process: seconds of imports
def test_custom_block_format_loads_in_a_fresh_process(tmp_path):
    """A TOML that defines an element format and a block format on it, rates the block format and names an
    accumulator for it: simulate in a fresh process equals this process, and show --toml writes both parts
    back so the round trip loads in yet another process to the same numbers."""
    fmt, blk = "t19_e3m3k", "t19_mx6_b16"
    path = tmp_path / "blocks.toml"
    path.write_text(BLOCKS.format(fmt=fmt, blk=blk) + BLOCK_DESIGN.format(blk=blk))
    gemm = ["--gemm", "32", "32", "256", "--a-format", blk, "--json"]
    first = _run("simulate", path, *gemm)
    assert first.returncode == 0, first.stderr
    d = json.loads(first.stdout)
    assert d["a_format"] == blk and d["rel_fro_err"] > 0
    design = accel.load_design(path)
    here = accel.simulate(design, accel.Gemm(32, 32, 256, a_format=blk))
    assert json.loads(json.dumps(here.to_dict())) == d
    # the format is the one the table describes, field by field
    assert nx.get_block_format(blk) == nx.BlockFormat(element=nx.get_format(fmt), scale=nx.get_format("e8m0"),
                                                      block_size=16, scale_rule=nx.ScaleRule.RCEIL)
    # (rates are keyed by the element's canonical name: an equal format registered earlier keeps its first name)
    assert design.unit.macs_per_cycle[nx.get_format(fmt).name] == 512 and design.unit.accumulator_for(blk) == "fp16"
    shown = _run("show", path, "--toml")
    assert shown.returncode == 0, shown.stderr
    assert "[[block_formats]]" in shown.stdout and f'name = "{blk}"' in shown.stdout
    assert f'name = "{fmt}"' in shown.stdout
    again = tmp_path / "again.toml"
    again.write_text(shown.stdout)
    second = _run("simulate", again, *gemm)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == d


def test_the_block_format_defined_is_the_one_used():
    """Two designs that differ only in their TOML block size give different accuracy (E2M1 elements: smaller
    blocks, closer scales), each format equal to the BlockFormat built directly (no fallback to a preset)."""
    import numpy as np
    errs = {}
    for bs in (8, 64):
        blk = f"t19_fp4_b{bs}"
        text = (f'[[block_formats]]\nname = "{blk}"\nelement = "e2m1"\nscale = "e8m0"\nblock_size = {bs}\n'
                'scale_rule = "rceil"\n' + BLOCK_DESIGN.format(blk=blk))
        d = accel.Design.from_toml(text)
        x = np.random.default_rng(0).standard_normal((4, 256))
        direct = nx.BlockFormat(element=nx.get_format("e2m1"), scale=nx.get_format("e8m0"), block_size=bs,
                                scale_rule=nx.ScaleRule.RCEIL)
        assert np.array_equal(nx.get_block_format(blk).quantize(x), direct.quantize(x))
        errs[bs] = accel.simulate(d, accel.Gemm(16, 16, 512, a_format=blk)).accuracy["rel_fro_err"]
    assert errs[8] < errs[64]


@pytest.mark.parametrize("table, expect", [
    ('element = "e4m3"\nscale = "fp32"\nblock_size = [128, "axis"]\nscale_rule = "amax"',
     dict(element=nx.get_format("e4m3"), scale=nx.get_format("fp32"), block_size=(128, None),
          scale_rule=nx.ScaleRule.AMAX)),
    ('element = "int8"\nscale = "fp32"\nblock_size = "axis"\nscale_rule = "AMAX"',
     dict(element=nx.get_format("int8"), scale=nx.get_format("fp32"), block_size=None, scale_rule=nx.ScaleRule.AMAX)),
    ('element = "e2m1"\nscale = "ue4m3"\nblock_size = 16\nscale_rule = "amax"\ntensor_scale = true\n'
     'recipe = "torchao"',
     dict(element=nx.get_format("e2m1"), scale=nx.get_format("ue4m3"), block_size=16, scale_rule=nx.ScaleRule.AMAX,
          tensor_scale=True, recipe="torchao")),
    ('element = { family = "int", bits = 4, signed = false }\nscale = "fp16"\nblock_size = 64\n'
     'scale_rule = "amax"\nzero_point = true',
     dict(element=nx.IntFormat(bits=4, signed=False), scale=nx.get_format("fp16"), block_size=64,
          scale_rule=nx.ScaleRule.AMAX, zero_point=True)),
    ('element = "e2m1"\nscale = "e8m0"\nscale_rule = "ocp"',  # block_size defaults to 32
     dict(element=nx.get_format("e2m1"), scale=nx.get_format("e8m0"))),
])
def test_block_format_fields(table, expect):
    name = f"t19_blk_{abs(hash(table)) % 10 ** 8}"
    text = f'[[block_formats]]\nname = "{name}"\n{table}\n' + DESIGN.format(fmt="int8", acc="fp32")
    d = accel.Design.from_toml(text)
    bf = nx.get_block_format(name)
    assert bf == nx.BlockFormat(**expect)
    assert accel.Design.from_toml(text) == d  # the same definitions again: fine


def test_an_unrated_custom_block_format_is_not_written():
    """to_toml writes the custom block formats the unit can compute (its element is rated) or names in its
    accumulator table, not every one registered."""
    text = ('[[block_formats]]\nname = "t19_unrated"\nelement = "e5m2"\nscale = "e8m0"\n'
            + DESIGN.format(fmt="int8", acc="fp32"))
    d = accel.Design.from_toml(text)
    assert "t19_unrated" in nx.block_format_names() and "t19_unrated" not in d.to_toml()


BAD_BLOCKS = [
    ('name = "x9"\nelement = "e2m1"\nscale = "e8m0"\nblock = 16',
     r"unknown key 'block' \(did you mean 'block_size'\?\)"),
    ('name = "x10"\nelement = "e2m1"', r"lacks \['scale'\]"),
    ('name = "x11"\nelement = "e2m1"\nscale = "e8m0"\nscale_rule = "flor"',
     r"unknown scale_rule 'flor'; choose one of floor"),
    ('name = "x12"\nelement = "fp33"\nscale = "e8m0"', r"'x12': unknown format 'fp33'"),
    ('name = "x13"\nelement = "e2m1"\nscale = "e8m0"\nblock_size = 0', r"'x13': block_size must be positive"),
    ('name = "x14"\nelement = "e2m1"\nscale = "e8m0"\nblock_size = "all"',
     r"block_size must be a positive int, 'axis'"),
    ('name = "x15"\nelement = "e2m1"\nscale = "fp16"',
     r"'x15': .*power-of-two scales; the scale format must have no mantissa"),
    ('name = "x16"\nelement = 4\nscale = "e8m0"', r"element must be a format name or an inline table"),
    ('name = "mxfp4"\nelement = "e2m1"\nscale = "e8m0"\nblock_size = 16',
     r"defines 'mxfp4' as BlockFormat\(.*block_size=16.*but 'mxfp4' is already BlockFormat\(.*block_size=32"),
    ('name = "fp16"\nelement = "e2m1"\nscale = "e8m0"', r"named 'fp16', which is already a scalar format"),
    ('element = "e2m1"\nscale = "e8m0"', "needs name = "),
]


@pytest.mark.parametrize("table, msg", BAD_BLOCKS)
def test_bad_block_formats(table, msg):
    with pytest.raises((ValueError, TypeError), match=msg) as info:
        accel.Design.from_toml(f"[[block_formats]]\n{table}\n" + DESIGN.format(fmt="int8", acc="fp32"),
                               source="mine.toml")
    assert str(info.value).startswith("mine.toml")


def test_a_scalar_format_named_like_a_block_format_is_refused():
    with pytest.raises(ValueError, match="named 'nvfp4', which is already a block format"):
        accel.Design.from_toml('[[formats]]\nname = "nvfp4"\nfamily = "posit"\nbits = 4\nes = 0\n'
                               + DESIGN.format(fmt="int8", acc="fp32"), source="mine.toml")
    with pytest.raises(ValueError, match="'block_formats' must be \\[\\[block_formats\\]\\] tables"):
        accel.Design.from_toml("block_formats = 3\n" + DESIGN.format(fmt="int8", acc="fp32"), source="mine.toml")


@pytest.mark.slow  # a fresh Python process: seconds of imports
def test_sweep_workers_in_fresh_processes_know_the_custom_parts():
    """A spawned pool (as forkserver and Dask workers) starts with the built-in parts only: the sweep sends
    the parts registered here along, so every row equals the in-process result."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    text = PARTS.format(fmt="t19_e3m3s", acc="t19_narrow_s") + DESIGN.format(fmt="t19_e3m3s", acc="t19_narrow_s")
    d = accel.Design.from_toml(text)
    grid = {"workload.a_format": ["fp16", "t19_e3m3s"], "design.unit.sm_count": [2, 4]}
    w = [accel.Gemm(16, 16, 64, a_format="fp16")]
    here = accel.sweep(d, grid, w, accuracy=True, progress=False, workers=1)
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
        there = accel.sweep(d, grid, w, executor=ex, accuracy=True, progress=False)
    assert not any("error" in r for r in there), [r.get("error") for r in there]
    assert there == here
