"""The tables of docs/compression.md: every method's relative MSE and stored bits per weight on i.i.d.
N(0, 1) weights and on a real MiniLM matrix (no Hessian: the proxy is plain MSE).

    python scripts/compression_table.py
"""

import time

import numpy as np

import numerics as nx
from numerics.compress.io import minilm

CASES = [("rtn", 2, {}), ("gptq", 2, {}), ("lwc", 2, {}), ("slim", 2, {}), ("hadamard", 2, {}), ("e8p", 2, {}),
         ("quip#", 2, {}), ("qtip", 2, {"code": "1mad"}), ("qtip", 2, {"code": "3inst"}), ("qtip", 2, {"code": "hyb"}),
         ("aqlm", 2, {}), ("rtn", 3, {}), ("quip#", 3, {}), ("qtip", 3, {}), ("rtn", 4, {}), ("quip#", 4, {}),
         ("billm", None, {}), ("pbllm", None, {}), ("sparse24", None, {"criterion": "magnitude"}),
         ("sparse24", 4, {"criterion": "magnitude"})]


def run(w, label):
    print(f"\n| {label} | bits | stored bits/weight | rel. MSE | bound 2^-2R | s |")
    print("|---|---|---|---|---|---|")
    for method, bits, opts in CASES:
        t = time.perf_counter()
        cw = nx.compress(w, method, bits=bits, **opts)
        dt = time.perf_counter() - t
        e = cw.error(w)["rel_mse"]
        name = method + (f" ({opts['code']})" if "code" in opts else "") + (f" ({opts['criterion']})" if "criterion"
                                                                           in opts else "")
        print(f"| {name} | {bits if bits else '-'} | {cw.bits_per_weight:.3f} | {e:.4f} | "
              f"{2 ** (-2 * cw.bits_per_weight):.4f} | {dt:.1f} |")


if __name__ == "__main__":
    run(np.random.default_rng(0).standard_normal((256, 512)), "N(0,1) 256 x 512")
    run(minilm("layer5_attention_query").astype(np.float64), "MiniLM layer 5 query 384 x 384")
