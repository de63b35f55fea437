"""Every metric's arithmetic on cases small enough to check by hand."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.metrics import (
    accuracy,
    average,
    dcg_at_k,
    mean,
    ndcg_at_k,
    percentile,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    retrieval_scores,
)

RANKING = ["a", "b", "a", "c", "d"]  # passages' documents, best first


def test_recall_counts_each_relevant_document_once():
    assert recall_at_k(RANKING, {"a"}, 1) == 1.0
    assert recall_at_k(RANKING, {"c"}, 3) == 0.0
    assert recall_at_k(RANKING, {"c"}, 4) == 1.0
    assert recall_at_k(RANKING, {"a", "c"}, 3) == 0.5
    assert recall_at_k(RANKING, {"a", "z"}, 10) == 0.5
    with pytest.raises(ValueError):
        recall_at_k(RANKING, set(), 5)


def test_precision_divides_by_k():
    assert precision_at_k(RANKING, {"a"}, 3) == pytest.approx(2 / 3)
    assert precision_at_k(RANKING, {"a"}, 10) == pytest.approx(2 / 10)
    assert precision_at_k(RANKING, {"z"}, 5) == 0.0
    with pytest.raises(ValueError):
        precision_at_k(RANKING, {"a"}, 0)


def test_reciprocal_rank_of_first_hit():
    assert reciprocal_rank(RANKING, {"a"}) == 1.0
    assert reciprocal_rank(RANKING, {"c"}) == 0.25
    assert reciprocal_rank(RANKING, {"d", "c"}) == 0.25
    assert reciprocal_rank(RANKING, {"z"}) == 0.0


def test_dcg_and_ndcg_by_hand():
    assert dcg_at_k([1, 0, 1], 3) == pytest.approx(1 + 1 / 2)  # log2(2)=1, log2(4)=2
    # one relevant document at rank 2: (1/log2(3)) / 1
    assert ndcg_at_k(["x", "a"], {"a"}, 5) == pytest.approx(1 / math.log2(3))
    # a repeated relevant document gains once: gains 1,0,0,1(c) vs ideal 1,1
    expected = (1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKING, {"a", "c"}, 5) == pytest.approx(expected)
    assert ndcg_at_k(["a"], {"a"}, 5) == 1.0
    assert ndcg_at_k(["x", "y"], {"a"}, 2) == 0.0


def test_accuracy_and_mean():
    assert accuracy(["yes", "no", "maybe", "no"], ["yes", "yes", "maybe", "no"]) == 0.75
    assert accuracy([], []) == 0.0
    with pytest.raises(ValueError):
        accuracy(["yes"], [])
    assert mean([1, 2, 3, 4]) == 2.5
    assert mean([]) == 0.0


def test_percentile_interpolates():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(list(range(101)), 95) == 95.0
    assert percentile([], 50) == 0.0


def test_retrieval_scores_and_average():
    row = retrieval_scores(["x", "a"], {"a"}, ks=(1, 5))
    assert row == {
        "recall@1": 0.0, "recall@5": 1.0, "precision@1": 0.0, "precision@5": 0.2,
        "mrr": 0.5, "ndcg@5": pytest.approx(1 / math.log2(3)),
    }
    assert average([{"mrr": 1.0}, {"mrr": 0.5}, {"mrr": 0.0}]) == {"mrr": 0.5}


def test_sign_test_is_the_exact_binomial_on_differing_questions():
    from rag.evaluation.metrics import sign_test

    assert sign_test([1, 0, 1], [1, 0, 1]) == {"wins": 0, "losses": 0, "p_value": 1.0}
    # 5 wins, 0 losses: 2 * (1/2)^5
    assert sign_test([1] * 5 + [0], [0] * 5 + [0])["p_value"] == 2 / 32
    # 9 wins, 1 loss, ties ignored: 2 * (C(10,0) + C(10,1)) / 2^10
    result = sign_test([1] * 9 + [0] + [1] * 4, [0] * 9 + [1] + [1] * 4)
    assert (result["wins"], result["losses"]) == (9, 1)
    assert result["p_value"] == 2 * 11 / 1024
    assert sign_test([0.5, 1.0], [1.0, 0.5])["p_value"] == 1.0  # one each way: no evidence
    with pytest.raises(ValueError):
        sign_test([1], [1, 0])
