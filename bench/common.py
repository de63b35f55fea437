"""What the benchmarks share: where the checkout's corpora are, the model file a benchmark
names, and an index filled with synthetic chunks made of real starter sentences.

Synthetic chunks let a benchmark reach 100K chunks without embedding each one: their text is
six real sentences of the starter corpus, shuffled, and their vectors are real embeddings of a
small pool of such texts plus noise, unit-normalised.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ingest import Store
from meditron_rag.config import Config
from meditron_rag.text import sentence_spans

Log = Callable[[str], None]
ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "corpora" / "starter"
CHUNKS_PER_DOC = 100
SHAPED = ("meditron-shaped", "meditron-shaped-7b")  # random weights in Meditron's shape


def log_stderr(line: str) -> None:
    """The default log: progress on stderr, so that stdout carries only results."""
    print(line, file=sys.stderr)


def model_file(config: Config, model: str) -> tuple[Path, str]:
    """The GGUF of `model` and its label; a Meditron-shaped model is built on first use."""
    from meditron_rag.models import resolve

    if model in SHAPED:
        from bench import meditron_shape

        return meditron_shape.build(log=log_stderr), "meditron-shaped-7b Q4_K_M (random weights)"
    return resolve(model, "llm", config), model


def starter_sentences() -> list[str]:
    """Real sentences of the starter corpus (Markdown files), for synthetic chunks."""
    out: list[str] = []
    for path in sorted(STARTER.glob("*.md")):
        body = re.sub(r"\s+", " ", path.read_text(encoding="utf-8").split("---", 2)[-1])
        for start, end in sentence_spans(body):
            if 40 <= end - start <= 400 and not body.startswith("#", start):
                out.append(body[start:end])
    return out


def synthetic_texts(n: int = 5000) -> list[str]:
    """`n` chunk texts of about 150 tokens: six real starter sentences each, shuffled."""
    sentences = starter_sentences()
    return [" ".join(random.Random(i).sample(sentences, 6)) for i in range(n)]


def fill(store: Store, target: int, texts: list[str], pool: np.ndarray,
         rng: np.random.Generator, log: Log) -> None:
    """Add synthetic documents of CHUNKS_PER_DOC chunks to `store` until it holds `target`
    chunks: texts in turn from `texts`, vectors near random rows of `pool` (embeddings)."""
    from ingest.document import Chunk, DocumentMetadata

    have = store.chunk_count()
    n_doc = have // CHUNKS_PER_DOC
    with store.writing():
        while have < target:
            count = min(CHUNKS_PER_DOC, target - have)
            chunks, offset = [], 0
            for i in range(count):
                text = texts[(have + i) % len(texts)]
                chunks.append(Chunk(ordinal=i, text=text, section=f"Section {i % 7 + 1}",
                                    start=offset, end=offset + len(text), page_start=1,
                                    page_end=1, char_start=offset, char_end=offset + len(text)))
                offset += len(text) + 1
            base = pool[rng.integers(0, len(pool), count)]
            vectors = base + rng.normal(0, 0.35 / np.sqrt(pool.shape[1]), base.shape)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            meta = DocumentMetadata(title=f"Synthetic guideline {n_doc}", organisation="Bench",
                                    date=f"{2000 + n_doc % 25}")
            store.put_document(f"synthetic-{n_doc}", path=f"/synthetic/{n_doc}.md",
                               kind="markdown", sha256=f"{n_doc:064x}", size_bytes=offset,
                               pages=1, paginated=False, metadata=meta, warnings=[],
                               chunks=chunks, vectors=vectors.astype(np.float32))
            have += count
            n_doc += 1
            if n_doc % 200 == 0:
                log(f"  {have} chunks")
