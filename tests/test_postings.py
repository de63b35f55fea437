"""Postings kept up to date from what changed score every query exactly as postings built
afresh from the same chunks do, after any sequence of adds, replaces and removes; and a reader
after a writer's commit reads only the chunks that commit wrote, on both backends."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.bm25 import query_terms
from ingest.document import Chunk, DocumentMetadata
from ingest.store import Identity, Store
from ingest.store.postings import MERGE_FRACTION, LivePostings

VOCABULARY = 30


class Chunks:
    """A store's chunks in memory, ids from a counter that never goes back, as both backends
    allot them; read as a refresh reads a store."""

    def __init__(self) -> None:
        self.terms: dict[int, dict[int, int]] = {}
        self.documents: dict[int, list[int]] = {}
        self.next_id = 1

    def put(self, doc: int, chunks: list[dict[int, int]]) -> None:
        self.remove(doc)
        ids = list(range(self.next_id, self.next_id + len(chunks)))
        self.next_id += len(chunks)
        self.terms.update(zip(ids, chunks))
        self.documents[doc] = ids

    def remove(self, doc: int) -> None:
        for chunk_id in self.documents.pop(doc, []):
            del self.terms[chunk_id]

    def summary(self, last: int) -> tuple[int, int]:
        ids = [i for i in self.terms if i <= last]
        return len(ids), sum(ids)

    def ids(self, last: int) -> np.ndarray:
        return np.array(sorted(i for i in self.terms if i <= last), dtype=np.int64)

    def after(self, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = sorted(i for i in self.terms if i > last)
        pairs = [(t, n) for i in ids for t, n in self.terms[i].items()]
        return (np.array(ids, dtype=np.int64),
                np.array([len(self.terms[i]) for i in ids], dtype=np.int64),
                np.array(pairs, dtype=np.int32).reshape(-1, 2))


chunk = st.dictionaries(st.integers(0, VOCABULARY - 1), st.integers(1, 5), min_size=1,
                        max_size=8)
document = st.lists(chunk, min_size=0, max_size=6)
operation = st.tuples(st.integers(0, 12), st.one_of(st.none(), document))
query = st.lists(st.integers(0, VOCABULARY + 2), min_size=1, max_size=5, unique=True)


def fresh(chunks: Chunks, merge_fraction: float = MERGE_FRACTION) -> LivePostings:
    postings = LivePostings(merge_fraction)
    postings.refresh(chunks, 0)
    return postings


# Merging after every write, at the default fraction, and never: each way the postings hold
# their rows (all in the main postings, some in the delta, some dead) scores the same.
@pytest.mark.parametrize("merge_fraction", [0.0, MERGE_FRACTION, 1e9])
@settings(max_examples=100, deadline=None)
@given(st.lists(document, min_size=1, max_size=8), st.lists(operation, max_size=25),
       st.lists(query, min_size=1, max_size=4))
def test_refreshed_postings_score_as_built_afresh(merge_fraction: float,
                                                  start: list[list[dict[int, int]]],
                                                  operations: list[tuple[int, object]],
                                                  queries: list[list[int]]) -> None:
    chunks = Chunks()
    for doc, document_chunks in enumerate(start):
        chunks.put(doc, document_chunks)
    live = fresh(chunks, merge_fraction)
    for generation, (doc, change) in enumerate(operations, start=1):
        if change is None:
            chunks.remove(doc)
        else:
            assert isinstance(change, list)
            chunks.put(doc, change)
        live.refresh(chunks, generation)
        rebuilt = fresh(chunks)
        for terms in queries:
            assert live.search(terms, 50) == rebuilt.search(terms, 50)


def test_a_chunk_written_out_of_id_order_builds_afresh() -> None:
    chunks = Chunks()
    chunks.put(0, [{1: 1}, {2: 1}])
    chunks.put(1, [{1: 2}])
    late = chunks.terms.pop(2)  # id 2 committed after id 3: a reader holding 3 missed it
    live = fresh(chunks)
    chunks.terms[2] = late
    live.refresh(chunks, 1)
    assert live.search([1, 2], 10) == fresh(chunks).search([1, 2], 10)
    assert {chunk_id for chunk_id, _ in live.search([1, 2], 10)} == {1, 2, 3}


def put(store: Store, doc_id: str, texts: list[str]) -> None:
    chunks = [Chunk(ordinal=i, text=t, section="", start=0, end=1, page_start=1, page_end=1,
                    char_start=0, char_end=1) for i, t in enumerate(texts)]
    vectors = np.eye(len(texts), 8, dtype=np.float32)
    with store.writing():
        store.put_document(doc_id, path=f"/{doc_id}.md", kind="markdown", sha256=doc_id,
                           size_bytes=1, pages=1, paginated=False,
                           metadata=DocumentMetadata(title=doc_id), warnings=[], chunks=chunks,
                           vectors=vectors)


WORDS = ("fever cough insulin asthma vaccine dose adults children pressure kidney "
         "statin aspirin").split()


def texts(seed: int, n: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=12)) for _ in range(n)]


@pytest.mark.parametrize("question", ["fever in children", "insulin dose kidney"])
def test_a_reader_reads_only_what_a_commit_wrote(store_factory, question: str) -> None:
    identity = Identity("synthetic", 8)
    writer, reader = store_factory(identity), store_factory(identity)
    for doc in range(8):
        put(writer, f"d{doc}", texts(doc, 5))
    terms = query_terms(question)
    reader.lexical_search(terms, 10)
    postings = reader._lexical  # type: ignore[attr-defined]
    assert isinstance(postings, LivePostings) and postings.rows_read == 40
    steps = [("put", "d8", 3), ("put", "d2", 4), ("remove", "d5", 0), ("put", "d9", 1)]
    for kind, doc_id, n in steps:
        read = postings.rows_read
        if kind == "put":
            put(writer, doc_id, texts(n + 100, n))
        else:
            with writer.writing():
                writer.remove_document(doc_id)
        got = reader.lexical_search(terms, 10)
        assert postings.rows_read - read == n
        assert got == store_factory(identity).lexical_search(terms, 10)
