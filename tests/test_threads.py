"""The parallel kernels on more than one thread. The test processes run numba on one thread each
(tests/conftest.py: under pytest-xdist they share the cores); here a process of its own runs the parallel
paths of the codecs, block formats and GEMMs on two threads, and its bits must equal this process's (one
thread) and the serial results. Sizes are past the kernels' small-call thresholds, so the parfors run."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# each line prints one digest of a parallel path's output bits
PROBE = """
import hashlib, numpy as np, numerics as nx, numba
rng = np.random.default_rng(0)
x = (rng.standard_normal(1 << 20) * 3).astype(np.float32)
a, b = rng.standard_normal((96, 512)), rng.standard_normal((512, 80))
def h(arr):
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]
print("threads", numba.get_num_threads())
for f in ("e4m3", "e2m1", "bf16", "posit8", "posit16", "int8"):
    print(f, h(nx.fake_quant(x, f)))
for f in ("mxfp4", "nvfp4", "mxfp8_e4m3"):
    print(f, h(nx.fake_quant(x, f)))
for f, acc in (("e4m3", "nv_hopper_fp8"), ("bf16", "fp32"), ("int8", "int32")):
    qa, qb = nx.fake_quant(a, f), nx.fake_quant(b, f)
    print(f, acc, h(nx.matmul(qa, qb, acc, a_format=f, b_format=f)))
"""


def _run(threads: int) -> list[str]:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                         check=True, timeout=600).stdout.splitlines()
    assert out[0] == f"threads {threads}", out[0]
    return out[1:]


def test_two_threads_give_the_bits_of_one():
    two, one = _run(2), _run(1)
    assert two == one and len(two) == 12
    assert len({line.split()[-1] for line in two}) == 12  # every path printed its own result
