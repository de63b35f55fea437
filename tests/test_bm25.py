"""BM25 arithmetic on hand-made cases: the figures are worked out by hand from the formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ingest import bm25


def _postings(docs: list[dict[int, int]], vocabulary: int) -> bm25.Postings:
    pairs = np.array([(t, c) for d in docs for t, c in d.items()], dtype=np.int32).reshape(-1, 2)
    return bm25.build(np.arange(100, 100 + len(docs)), np.array([len(d) for d in docs]), pairs,
                      vocabulary)


def _score(postings: bm25.Postings, term_ids: list[int]) -> np.ndarray:
    return bm25.score([postings], [np.ones(len(postings), dtype=bool)], term_ids)


def test_idf_is_lucenes_and_never_negative() -> None:
    got = bm25.idf(np.array([1, 2, 3]), 3)
    want = [math.log(1 + (3 - df + 0.5) / (df + 0.5)) for df in (1, 2, 3)]
    assert got == pytest.approx(want, rel=1e-6)
    assert (got > 0).all()


def test_scores_match_the_formula_by_hand() -> None:
    # doc 0: term 0 twice, term 1 once (length 3); doc 1: term 1 once (length 1)
    postings = _postings([{0: 2, 1: 1}, {1: 1}], vocabulary=3)
    avg = 2.0
    idf0 = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    idf1 = math.log(1 + (2 - 2 + 0.5) / (2 + 0.5))

    def w(tf: int, length: int, idf: float) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * length / avg))

    assert _score(postings, [0]) == pytest.approx([w(2, 3, idf0), 0.0], rel=1e-5)
    both = _score(postings, [0, 1])
    assert both == pytest.approx([w(2, 3, idf0) + w(1, 3, idf1), w(1, 1, idf1)], rel=1e-5)
    assert _score(postings, [2]).tolist() == [0.0, 0.0]  # known term, in no document
    assert _score(postings, [99]).tolist() == [0.0, 0.0]  # unknown id


def test_top_k_orders_best_first_and_skips_non_matches() -> None:
    scores = np.array([0.0, 2.0, 0.5, 3.0, 0.0], dtype=np.float32)
    rows, values = bm25.top_k(scores, 2)
    assert rows.tolist() == [3, 1] and values.tolist() == [3.0, 2.0]
    rows, _ = bm25.top_k(scores, 10)
    assert rows.tolist() == [3, 1, 2]
    assert bm25.top_k(np.zeros(3, dtype=np.float32), 5)[0].tolist() == []


def test_query_terms_count_each_term_once() -> None:
    assert bm25.query_terms("Vaccination, vaccines and vaccinated") == ["vaccin"]
    assert bm25.query_terms("") == []


def test_empty_collection_scores_nothing() -> None:
    postings = _postings([], vocabulary=1)
    assert _score(postings, [0]).tolist() == []
    assert bm25.top_k(_score(postings, [0]), 3)[0].tolist() == []


def test_counts_round_trip_through_the_stored_blob() -> None:
    blob = bm25.encode_counts([4, 7], [2, 1])
    assert np.frombuffer(blob, dtype=np.int32).reshape(-1, 2).tolist() == [[4, 2], [7, 1]]
    assert bm25.encode_counts([], []) == b""


def test_dead_rows_score_as_if_never_there() -> None:
    docs = [{0: 2, 1: 1}, {1: 3}, {1: 1, 2: 1}]
    gone = _postings(docs, vocabulary=3)
    alive = np.array([True, False, True])
    got = bm25.score([gone], [alive], [0, 1, 2])
    want = _score(_postings([docs[0], docs[2]], vocabulary=3), [0, 1, 2])
    assert got[1] == 0.0 and got[[0, 2]].tolist() == want.tolist()


def test_merge_and_compact_give_what_build_gives() -> None:
    docs = [{0: 2, 1: 1}, {1: 3}, {1: 1, 4: 1}, {2: 5}]
    first, second = _postings(docs[:2], vocabulary=2), _postings(docs[2:], vocabulary=5)
    merged = bm25.merge(bm25.compact(first, np.array([True, False])), second)
    want = _postings([docs[0]] + docs[2:], vocabulary=5)
    for field in ("lengths", "ptr", "rows", "tf"):
        assert getattr(merged, field).tolist() == getattr(want, field).tolist(), field
