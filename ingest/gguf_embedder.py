"""The sentence-transformers model run by llama.cpp: the same vectors without PyTorch.

Answering a question embeds it, and the sentences that evidence selection and citation checks
compare; ingesting embeds whole documents. PyTorch and the libraries sentence-transformers
imports add a large share of resident memory to a process that already holds llama.cpp for the
answer, so with `embedding.runtime: llama.cpp` the answering process runs the embedding model
in llama.cpp instead. `convert()` writes the model's own weights, unchanged (F32), into a GGUF
once; llama.cpp's BERT graph with mean pooling then gives the same vectors as
sentence-transformers (the tests compare them on the starter corpus). Only BERT-family models
with mean pooling convert (all-MiniLM, bge, e5 and the like); any other model stays on
sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from meditron_rag.errors import ModelLoadError
from meditron_rag.llama import load_llama

SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
WEIGHTS = "model.safetensors"


class NotConvertible(ModelLoadError):
    """The model is not one llama.cpp's BERT graph runs the way sentence-transformers does."""


def convertible(folder: Path) -> str:
    """Why `folder` cannot run in llama.cpp, or "" when it can."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"no readable config.json and modules.json ({exc})"
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if config.get("model_type") != "bert":
        return f"model_type is {config.get('model_type')!r}, not 'bert'"
    if kinds[:1] != ["Transformer"] or "Pooling" not in kinds or set(kinds) - {
            "Transformer", "Pooling", "Normalize"}:
        return f"modules {kinds} are not Transformer, Pooling[, Normalize]"
    pooling = next(m.get("path", "") for m in modules if m.get("type", "").endswith("Pooling"))
    try:
        mode = json.loads((folder / pooling / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"no readable pooling config ({exc})"
    if not mode.get("pooling_mode_mean_tokens") or sum(bool(v) for v in mode.values()
                                                       if isinstance(v, bool)) != 1:
        return "pooling is not mean pooling alone"
    if not (folder / WEIGHTS).exists() or not (folder / "vocab.txt").exists():
        return f"no {WEIGHTS} and vocab.txt"
    return ""


def wordpiece_vocabulary(lines: Sequence[str]) -> tuple[list[str], list[int]]:
    """BERT's vocab.txt as llama.cpp's WPM tokenizer reads it: a word-initial piece starts
    with "▁", a continuation ("##ing") loses its marker; special tokens are control tokens."""
    tokens: list[str] = []
    types: list[int] = []
    for piece in lines:
        if piece in SPECIAL:
            tokens.append(piece)
            types.append(3)
        elif piece.startswith("##"):
            tokens.append(piece[2:])
            types.append(1)
        elif piece.startswith("[unused"):
            tokens.append(piece)
            types.append(1)
        else:
            tokens.append("\u2581" + piece)
            types.append(1)
    return tokens, types


def convert(folder: Path, target: Path) -> Path:
    """Write the model in `folder` (sentence-transformers layout, BERT) as an F32 GGUF."""
    if why := convertible(folder):
        raise NotConvertible(f"{folder} cannot run in llama.cpp: {why}.")
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    tensors = load_file(str(folder / WEIGHTS))
    layers = int(config["num_hidden_layers"])
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, layers)
    part = target.with_name(f"{target.name}.{os.getpid()}.part")  # processes may race here
    target.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(part), "bert")
    writer.add_name(folder.name)
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(layers)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config.get("layer_norm_eps", 1e-12)))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    lines = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    tokens, types = wordpiece_vocabulary(lines)
    position = {piece: i for i, piece in enumerate(lines)}
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_type_count(int(config.get("type_vocab_size", 2)))
    writer.add_bos_token_id(position["[CLS]"])
    writer.add_eos_token_id(position["[SEP]"])
    writer.add_sep_token_id(position["[SEP]"])
    writer.add_unk_token_id(position["[UNK]"])
    writer.add_pad_token_id(position["[PAD]"])
    writer.add_mask_token_id(position["[MASK]"])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(True)
    for source, array in tensors.items():
        if source.endswith("position_ids") or source.startswith("pooler."):
            continue  # a buffer, and the [CLS] head that mean pooling never reads
        name = names.get_name(source, try_suffixes=(".weight", ".bias"))
        if name is None:
            part.unlink(missing_ok=True)
            raise NotConvertible(f"{folder}: no llama.cpp name for tensor {source}.")
        writer.add_tensor(name, np.ascontiguousarray(array, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(part, target)
    return target


def cache_dir() -> Path:
    """Where converted models are kept: a derived copy, so the user's cache, not the data."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "meditron-rag" / "gguf"


def converted_path(folder: Path, name: str, cache: Path | None = None) -> Path:
    """Where the GGUF of `folder` is kept: named for the weights it was made from."""
    weights = folder / WEIGHTS
    stat = weights.stat()
    key = hashlib.sha256(f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return (cache or cache_dir()) / f"{Path(name).name}-{key.hexdigest()[:12]}.f32.gguf"


class GGUFEmbedder:
    """The embedder's interface (name, dim, max_tokens, count_tokens, token_spans, encode,
    encode_query)
    over llama.cpp; one lock, because one llama.cpp context serves every thread."""

    def __init__(self, gguf_path: Path, name: str, max_tokens: int, *,
                 threads: int | None, batch_tokens: int = 0) -> None:
        """`threads` as embedding.threads: None is one per core. `batch_tokens`: tokens in one
        pass, at least the longest input; 0 is exactly that."""
        from llama_cpp import LLAMA_POOLING_TYPE_MEAN

        # A batch holds whole inputs, so it fits the longest one ([CLS], pieces, [SEP]); by
        # default no larger, since llama.cpp's working memory grows with it.
        batch = max(batch_tokens, max_tokens + 2)
        try:
            self.llm = load_llama(gguf_path, embedding=True, n_ctx=batch, n_batch=batch,
                                  n_ubatch=batch, n_seq_max=64,
                                  pooling_type=LLAMA_POOLING_TYPE_MEAN,
                                  n_threads=threads or max(1, os.cpu_count() or 1), verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {gguf_path}: {exc}") from None
        self.name = name
        self._dim = int(self.llm.n_embd())
        self._max_tokens = max_tokens
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def token_spans(self, text: str) -> None:
        """llama.cpp's tokenizer gives no character offsets."""
        return None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self.llm.embed([self._fit(t) for t in texts], normalize=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def _fit(self, text: str) -> str:
        """Text cut to the model's window, as sentence-transformers cuts it (in tokens)."""
        tokens = self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if len(tokens) <= self.max_tokens:
            return text
        return self.llm.detokenize(tokens[:self.max_tokens]).decode("utf-8", "ignore")
