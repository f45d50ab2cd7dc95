"""Sample an H200's SM clock, power and throttle reasons while it runs back-to-back FP16 and FP8 GEMMs
(8192^3) for a few seconds each: what explains the gap between the datasheet peak and sustained rate.

Run on the GPU machine: PYTHONPATH=. python scripts/h200_clocks.py OUTDIR  (writes OUTDIR/h200_clocks.json)
"""

import json
import subprocess
import sys
import time


def _main(out: str) -> None:  # pragma: no cover - runs on a GPU machine
    import torch
    dev = torch.device("cuda")
    n = 8192
    a = torch.randn(n, n, device=dev, dtype=torch.float16)
    b = torch.randn(n, n, device=dev, dtype=torch.float16)
    a8, b8 = a.to(torch.float8_e4m3fn), b.t().contiguous().to(torch.float8_e4m3fn)
    one = torch.ones((), device=dev)
    ops = {"fp16": lambda: a @ b,
           "e4m3": lambda: torch._scaled_mm(a8, b8.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16,
                                            use_fast_accum=True)}
    q = "timestamp,clocks.sm,clocks.mem,power.draw,power.limit,temperature.gpu,clocks_throttle_reasons.active"
    result = {}
    for name, fn in ops.items():
        for _ in range(5):
            fn()
        torch.cuda.synchronize()
        mon = subprocess.Popen(["nvidia-smi", f"--query-gpu={q}", "--format=csv,noheader,nounits", "-lms", "100"],
                               stdout=subprocess.PIPE, text=True)
        t0, calls = time.perf_counter(), 0
        while time.perf_counter() - t0 < 6.0:
            for _ in range(10):
                fn()
            torch.cuda.synchronize()
            calls += 10
        dt = time.perf_counter() - t0
        mon.terminate()
        samples = [line.split(", ") for line in mon.communicate()[0].strip().splitlines()]
        result[name] = {"flops_per_s": 2 * n**3 * calls / dt, "seconds": dt, "calls": calls, "query": q,
                        "samples": samples}
        print(name, result[name]["flops_per_s"] / 1e12, "TFLOP/s;", samples[len(samples) // 2], flush=True)
        time.sleep(2)
    json.dump(result, open(f"{out}/h200_clocks.json", "w"), indent=1)


if __name__ == "__main__":
    _main(sys.argv[1])
