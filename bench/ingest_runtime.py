"""Which runtime should embed at ingest: PyTorch (sentence-transformers) or llama.cpp (the same
weights converted to GGUF, `ingest.gguf_embedder`)?

`python -m bench.ingest_runtime [PDF_DIR] [OUT.json] [LIMIT]` chunks the PDFs as ingest does,
then embeds the first LIMIT chunk texts (all by default) with each runtime in alternating rounds
(so all share the machine's load), and reports each one's chunks/s and the lowest cosine
between its vectors and PyTorch's (the equality test in tests/test_gguf_embedder.py asks for
more than 0.9999). llama.cpp runs with the batch the question path uses (one input's tokens)
and with a larger one, which puts several inputs in one pass.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import ROOT
from ingest import Embedder, GGUFEmbedder, load_embedder
from ingest.chunking import chunk_document
from ingest.gguf_embedder import convert, converted_path
from ingest.loaders import load_document
from ingest.parsing import embedding_text
from meditron_rag.config import Config, load_config
from meditron_rag.models import resolve
from rag.evaluation.results import machine


def chunk_texts(paths: list[Path], count_tokens: Callable[[str], int], config: Config
                ) -> list[str]:
    """The texts ingest would embed for these files."""
    texts = []
    for path in paths:
        doc = load_document(path)
        for chunk in chunk_document(doc, count_tokens, chunk_tokens=config.chunking.chunk_tokens,
                                    overlap_tokens=config.chunking.overlap_tokens):
            texts.append(embedding_text(doc.metadata.title, chunk.section, chunk.text))
    return texts


def compare(config: Config, pdf_dir: Path, rounds: int = 2, batches: tuple[int, ...] = (
            256, 1024), limit: int = 0) -> dict[str, object]:
    """Chunks/s of each runtime on the chunks of `pdf_dir`'s PDFs (the first `limit`, when
    given), and the lowest cosine of its vectors to PyTorch's; each round is logged to stderr."""
    import torch

    reference = load_embedder(config)
    texts = chunk_texts(sorted(pdf_dir.glob("*.pdf")), reference.count_tokens, config)
    texts = texts[:limit] if limit else texts
    folder = resolve(config.embedding.model, "embedding", config)
    target = converted_path(folder, config.embedding.model)
    if not target.exists():
        convert(folder, target)
    threads = config.embedding.threads or os.cpu_count() or 1
    runtimes: dict[str, Embedder] = {"pytorch": reference}
    for batch in batches:
        runtimes[f"llama.cpp, batch {batch} tokens"] = GGUFEmbedder(
            target, config.embedding.model, reference.max_tokens, threads=threads,
            batch_tokens=batch)
    seconds = {name: 0.0 for name in runtimes}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for name, runtime in runtimes.items():
            started = time.perf_counter()
            vectors[name] = runtime.encode(texts)
            took = time.perf_counter() - started
            seconds[name] += took
            print(f"{name}: {len(texts) / took:.2f} chunks/s", file=sys.stderr, flush=True)
    base = vectors["pytorch"]
    return {
        "chunks": len(texts), "rounds": rounds, "threads": threads,
        "torch_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "runtimes": {name: {"chunks_per_s": round(len(texts) * rounds / s, 2),
                            "min_cosine_to_pytorch": round(float(
                                (vectors[name] * base).sum(axis=1).min()), 6)}
                     for name, s in seconds.items()},
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    pdf_dir = Path(args[0]) if args else ROOT.parent / "shared" / "data" / "pdfs"
    result = {"command": " ".join(["python -m bench.ingest_runtime", *args]),
              "machine": machine(),
              **compare(load_config(), pdf_dir, limit=int(args[2]) if len(args) > 2 else 0)}
    text = json.dumps(result, indent=2)
    if len(args) > 1:
        Path(args[1]).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
