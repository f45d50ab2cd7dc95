"""Time 2:4-sparse against dense GEMMs on an H200 (PyTorch semi-structured sparsity, cuSPARSELt or CUTLASS):
the measurements behind the h200-like 2:4 rows of docs/validation.md.

Run on the GPU machine: PYTHONPATH=. python scripts/h200_sparse.py OUTDIR  (writes OUTDIR/h200_sparse.json)
A (M x K) is the 2:4-sparse operand (two of every four along K kept), B (K x N) dense; torch.mm(A, B).
"""

import json
import sys

from h200_record import timed  # scripts/ is on sys.path when this script runs

SHAPES = ((3072, 3072, 10240), (4096, 4096, 4096), (8192, 8192, 8192), (12288, 4096, 12288),
          (12288, 16384, 12288), (49152, 8192, 12288))


def _main(out: str) -> None:  # pragma: no cover - runs on a GPU machine
    import torch
    from torch.sparse import SparseSemiStructuredTensor, to_sparse_semi_structured
    dev = torch.device("cuda")
    rows = []
    for backend in ("cusparselt", "cutlass"):
        SparseSemiStructuredTensor._FORCE_CUTLASS = backend == "cutlass"
        for dtype in (torch.float16, torch.float8_e4m3fn):
            for m, n, k in SHAPES:
                try:
                    mask = torch.tensor([1, 1, 0, 0], device=dev, dtype=torch.bool).tile(m, k // 4)
                    a = (torch.randn(m, k, device=dev, dtype=torch.float16) * mask).to(dtype)
                    b = torch.randn(k, n, device=dev, dtype=torch.float16).to(dtype)
                    if dtype == torch.float16:
                        dense = timed(lambda a=a, b=b: a @ b)
                        sa = to_sparse_semi_structured(a)
                        sparse = timed(lambda sa=sa, b=b: torch.mm(sa, b))
                        ok = bool(torch.allclose(torch.mm(sa, b).float(), (a @ b).float(), rtol=1e-2, atol=1e-1))
                    else:
                        one = torch.ones((), device=dev)
                        bt = b.t().contiguous().t()  # column-major for _scaled_mm
                        dense = timed(lambda a=a, bt=bt, one=one: torch._scaled_mm(a, bt, scale_a=one, scale_b=one,
                                                                                    out_dtype=torch.bfloat16))
                        sa = to_sparse_semi_structured(a)
                        sparse = timed(lambda sa=sa, b=b: torch.mm(sa, b))
                        ok = None
                    rows.append({"backend": backend, "dtype": str(dtype).split(".")[-1], "m": m, "n": n, "k": k,
                                 "dense": dense, "sparse": sparse, "sparse_matches_dense": ok})
                    print(rows[-1], flush=True)
                except Exception as e:  # noqa: BLE001 - record what the stack does not support
                    rows.append({"backend": backend, "dtype": str(dtype).split(".")[-1], "m": m, "n": n, "k": k,
                                 "error": repr(e)[:300]})
                    print(rows[-1], flush=True)
    json.dump({"torch": torch.__version__, "rows": rows}, open(f"{out}/h200_sparse.json", "w"), indent=1)


if __name__ == "__main__":
    _main(sys.argv[1])
