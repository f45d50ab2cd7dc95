import os

# Under pytest-xdist each test process is one of several sharing the machine's cores. numba's parallel kernels
# would start a thread per core in every process (and in the CLI runs and notebook kernels they start), and
# the processes' spinning workers fight over the cores: on the 2-core VM the full suite took 7 min 36 s with
# warm caches, 5 min 28 s with one numba thread per process (notebook 08's re-execution 101 s -> 26 s). So one
# thread per test process unless NUMBA_NUM_THREADS is set; tests/test_threads.py runs the parallel kernels on
# two threads in a process of its own. Set here, before any test module imports numba.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

# numba compiles on first call: no deadlines. The "ci" profile runs more examples, derandomised.
settings.register_profile("default", deadline=None, max_examples=100,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=300, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))


# The longest files first: pytest-xdist (--dist loadfile --no-loadscope-reorder, pyproject.toml) hands whole
# files to the test processes in collection order, so a long file collected last runs alone at the end while
# the other process idles (in a clean clone on 2 cores, the last 2 % of tests took 3 of 10 minutes; without
# --no-loadscope-reorder xdist orders files by their number of tests instead, and the 8 notebook tests, 135 s,
# started at minute 6.5 of 9). Longest first, from
# `pytest --durations=0` summed per file in a clean clone (2-core AMD EPYC, numba's cache cold; refreshed
# 2026-11-30 at d4d790e: test_small_calls, test_badinput_blocks and test_stochastic, 20-42 s each, were not
# listed and came late in collection order):
LONGEST_FIRST = ("test_docs", "test_notebooks", "test_float_formats", "test_badinput_numerics", "test_posits",
                 "test_fast_refs", "test_crosscheck_mmasim", "test_badinput_compress", "test_small_calls", "test_ops",
                 "test_fake_quant", "test_blocks", "test_qtip_fast", "test_compress", "test_badinput_blocks",
                 "test_stochastic", "test_sparse_and_blockdot", "test_drift_study", "test_rbits_f16",
                 "test_accumulate")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: the rest keep their order
