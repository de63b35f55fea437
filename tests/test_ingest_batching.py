"""Ingest's batches across files, its progress inside a file, and what a failure mid-batch
leaves, on each store backend: the encoder is the real model, wrapped to count its calls or to
fail where a test needs it to."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ingest import ingest
from ingest.pipeline import ChunkProgress
from tests.conftest import run_cli
from tests.test_ingest import SENTENCES


class Watched:
    """The real embedder, with each batch it is given recorded; `fail_on` makes a batch that
    holds that text raise `error`, as a crash or a bad input would."""

    def __init__(self, real, fail_on: str = "",  # type: ignore[no-untyped-def]
                 error: BaseException | None = None) -> None:
        self.real = real
        self.name, self.dim, self.max_tokens = real.name, real.dim, real.max_tokens
        self.count_tokens, self.token_spans = real.count_tokens, real.token_spans
        self.batches: list[int] = []
        self.lengths: list[list[int]] = []  # each batch's text lengths, in the order given
        self.fail_on = fail_on
        self.error = error

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise self.error or ValueError("a text the encoder cannot read")
        self.batches.append(len(texts))
        self.lengths.append([len(t) for t in texts])
        return self.real.encode(texts)

    def encode_query(self, text: str) -> np.ndarray:
        return self.real.encode_query(text)


def write_corpus(folder: Path, small: int = 6, long_sentences: int = 60) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(small):
        (folder / f"note-{i}.md").write_text(f"# Note {i}\n\n{SENTENCES[i % 6]}\n")
    (folder / "long.md").write_text(
        "# Long guideline\n\n" + "\n\n".join(" ".join(SENTENCES[j % 6] for j in range(i, i + 4))
                                            for i in range(long_sentences // 4)))


def assert_whole(store) -> None:  # type: ignore[no-untyped-def]
    for doc in store.documents():
        assert len(store.document_chunks(doc.id)) == doc.chunk_count > 0


def test_batches_are_full_across_files_and_progress_counts_each_files_chunks(
        store_factory, embedder, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder)
    watched = Watched(embedder)
    steps: list[ChunkProgress] = []
    files: list[str] = []
    store = store_factory(embedder)
    with store.writing():
        report = ingest([folder], store, watched, 40, 8, window=4, lookahead=16,
                        progress=lambda r, n, total: files.append(Path(r.path).name),
                        chunk_progress=steps.append)
    assert report.count("failed") == 0 and report.ingested == 7
    # Every batch but the last is full, though most files hold one chunk, and holds chunks of
    # like length (pooled across files and sorted), not chunks in file order.
    assert watched.batches[:-1] == [4] * (len(watched.batches) - 1)
    assert all(lengths == sorted(lengths, reverse=True) for lengths in watched.lengths)
    assert sum(watched.batches) == report.chunks
    assert files == sorted(files)  # reported in file order
    long = next(f for f in report.files if f.path.endswith("long.md"))
    seen = [s for s in steps if s.path == long.path]
    assert long.chunks > 4 and len(seen) >= long.chunks // 4
    assert [s.embedded for s in seen] == sorted(s.embedded for s in seen)
    assert seen[-1].embedded == seen[-1].found == long.chunks
    assert all(s.chunks_per_s > 0 for s in steps)
    assert_whole(store)


def test_a_batch_that_fails_costs_only_the_document_that_broke_it(
        store_factory, embedder, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder)
    (folder / "note-3.md").write_text("# Note 3\n\nPOISON the encoder cannot read this.\n")
    store = store_factory(embedder)
    with store.writing():
        report = ingest([folder], store, Watched(embedder, fail_on="POISON"), 40, 8,
                        window=4)
    failed = {Path(f.path).name: f.reason for f in report.files if f.status == "failed"}
    # Its batch fails; each document of that batch is then embedded alone, so only the one
    # the encoder cannot read fails, with the reason, and the others are in.
    assert list(failed) == ["note-3.md"]
    assert failed["note-3.md"].startswith("could not be embedded (ValueError")
    assert report.ingested == 6
    assert_whole(store)


def test_a_crash_mid_batch_leaves_whole_documents_and_the_next_run_does_the_rest(
        store_factory, embedder, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, small=12)
    store = store_factory(embedder)
    crash = Watched(embedder, fail_on="Note 9", error=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt), store.writing():
        ingest([folder], store, crash, 40, 8, window=4)
    assert sum(crash.batches) > 0
    assert 0 < len(store.documents()) < 13
    assert_whole(store)
    with store.writing():
        report = ingest([folder], store, embedder, 40, 8, window=4)
    assert report.count("failed") == 0
    assert report.count("unchanged") == len(store.documents()) - report.ingested
    assert len(store.documents()) == 13
    assert_whole(store)


def test_cli_shows_progress_inside_a_large_file(isolated: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write_corpus(folder, small=1, long_sentences=400)
    result = run_cli("ingest", str(folder), env={"MEDITRON_RAG_EMBEDDING_INGEST_WINDOW": "32"})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "chunks embedded" in line]
    assert lines and "long.md: 32/" in lines[0] and "chunks/s]" in lines[0]
