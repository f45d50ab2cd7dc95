"""Record aihwkit's HermesNoiseModel statistics as reference values for lowbit's HermesPCM
(tests/data/hermes_noise_aihwkit.json; tests/test_analog.py checks lowbit's draws against them).

aihwkit does not install here (it builds a C++ extension), so this runs its own module file,
src/aihwkit/inference/noise/hermes.py from an unpacked aihwkit source tree, with its three aihwkit imports
stubbed (a base class with a g_converter attribute, and a converter that only holds g_max): every
number comes from aihwkit's code, with torch's randn_like replaced by zeros or ones to read the
deterministic parts off it:
- programming sigma: g_prog - g_target with randn = 1;
- drift exponent: |mu| with randn = 0 and |mu + s| with randn = 1;
- read noise Q_s: (g_final / g_prog - 1) / sqrt(ln((t + t_read) / (2 t_read))) with randn = 1, nu = 0;
- whole draws: a tile g_max of 0.7 of the characterised one, noise scales 0.7 / 1.3 / 0.8, and three fixed vectors of
  signed normal draws: the programmed conductance, the drift exponents and the read conductance at each time.

    python scripts/hermes_noise_reference.py /path/to/aihwkit-1.2.0 > tests/data/hermes_noise_aihwkit.json
"""

import hashlib
import importlib.util
import json
import math
import sys
import types
from pathlib import Path

import torch

G_REL = [0.0, 1e-4, 0.01, 0.05, 0.0945, 0.1, 0.15, 0.16, 0.1591, 0.2, 0.3, 0.3039, 0.3055, 0.31, 0.5, 0.75, 1.0]
T_INF = [1.0, 3600.0, 86400.0]
# three fixed vectors of signed standard-normal draws, one per call of aihwkit's randn_like (programming, drift
# exponent, read noise), from numpy's default_rng(2026): lowbit's HermesPCM takes them in the same order
DRAWS = [[round(float(v), 6) for v in row] for row in
         __import__("numpy").random.default_rng(2026).standard_normal((3, len(G_REL)))]
for _k in (3, 9, 14):  # draws far enough below the mean that mu + s N < 0: the drift exponent's abs shows
    DRAWS[1][_k] = -10.0


def _load(src: Path):
    class BaseNoiseModel:
        def __init__(self, g_converter):
            self.g_converter = g_converter

    class SinglePairConductanceConverter:
        def __init__(self, g_max=None):
            self.g_max = g_max

    mods = {"aihwkit": None, "aihwkit.inference": None, "aihwkit.inference.converter": None,
            "aihwkit.inference.noise": None}
    for name in mods:
        sys.modules[name] = types.ModuleType(name)
    base = types.ModuleType("aihwkit.inference.converter.base")
    base.BaseConductanceConverter = object
    conv = types.ModuleType("aihwkit.inference.converter.conductance")
    conv.SinglePairConductanceConverter = SinglePairConductanceConverter
    nb = types.ModuleType("aihwkit.inference.noise.base")
    nb.BaseNoiseModel = BaseNoiseModel
    sys.modules.update({base.__name__: base, conv.__name__: conv, nb.__name__: nb})
    path = src / "src" / "aihwkit" / "inference" / "noise" / "hermes.py"
    spec = importlib.util.spec_from_file_location("hermes", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, hashlib.sha256(path.read_bytes()).hexdigest()


def _with_randn(mod, value):
    mod.randn_like = lambda x: torch.full_like(x, float(value))


def main(src: str) -> None:
    mod, digest = _load(Path(src))
    out = {"provenance": {"package": "aihwkit 1.2.0 (PyPI sdist)", "file": "src/aihwkit/inference/noise/hermes.py",
                          "file_sha256": digest, "made_by": "scripts/hermes_noise_reference.py"},
           "g_rel": G_REL, "normal_draws": DRAWS, "models": {}, "draws": {}}
    for n in (1, 2):
        m = mod.HermesNoiseModel(num_devices=n)
        g_max = m.g_max
        g = torch.tensor(G_REL, dtype=torch.float64) * g_max
        _with_randn(mod, 1.0)
        sigma = (m.apply_programming_noise_to_conductance(g.clone()) - g).tolist()
        _with_randn(mod, 0.0)
        mu = m.generate_drift_coefficients(g).tolist()
        _with_randn(mod, 1.0)
        mu_plus_s = m.generate_drift_coefficients(g).tolist()
        q = {}
        g_pos = g.clone()
        g_pos[0] = 1e-12 * g_max  # Q_s at g = 0 would multiply a g_drift of 0: read it just above
        for t in T_INF:
            final = m.apply_drift_noise_to_conductance(g_pos, torch.zeros_like(g_pos), t)
            tt = t + m.t_0
            root = math.sqrt(math.log((tt + m.t_read) / (2 * m.t_read)))
            q[str(t)] = ((final / g_pos - 1) / root).tolist()
        out["models"][str(n)] = {"g_max_us": g_max, "t0_s": m.t_0, "t_read_s": m.t_read, "prog_sigma_us": sigma,
                                 "nu_mu": mu, "nu_mu_plus_s": mu_plus_s, "q_s_by_t": q}
        # whole draws: a tile's g_max below the characterised one, scales other than 1, signed draws (fixed
        # below), drift at three times
        g_tile = 0.7 * g_max
        scales = {"prog_noise_scale": 0.7, "read_noise_scale": 1.3, "drift_scale": 0.8}
        m = mod.HermesNoiseModel(num_devices=n, g_max=g_tile, **scales)
        g = torch.tensor(G_REL, dtype=torch.float64) * g_tile
        draws = [torch.tensor(d, dtype=torch.float64) for d in DRAWS]
        queue = list(draws)
        mod.randn_like = lambda x, queue=queue: queue.pop(0)  # noqa: ARG005 - aihwkit passes the tensor
        g_prog = m.apply_programming_noise_to_conductance(g.clone())
        nu = m.generate_drift_coefficients(g)
        finals = {}
        for t in T_INF:
            queue[:] = [draws[2]]
            finals[str(t)] = m.apply_drift_noise_to_conductance(g_prog, nu, t).tolist()
        out["draws"][str(n)] = {"g_max_tile_us": g_tile, "scales": scales, "g_prog": g_prog.tolist(),
                                "nu": nu.tolist(), "g_by_t": finals}
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
