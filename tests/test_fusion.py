"""Fusion arithmetic, checked by hand: the product's (rag.fusion) and the variants the retrieval
experiment compares beside it (bench.fusion)."""

from __future__ import annotations

import pytest

from bench.fusion import best_per_group, z_scores
from rag.fusion import min_max, reciprocal_rank_fusion, score_fusion


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion({"dense": ["a", "b"], "bm25": ["b", "c"]}, k=10))
    assert fused["a"] == pytest.approx(1 / 11)
    assert fused["b"] == pytest.approx(1 / 12 + 1 / 11)
    assert fused["c"] == pytest.approx(1 / 12)


def test_rrf_weights_and_order() -> None:
    fused = reciprocal_rank_fusion(
        {"dense": ["a", "b"], "bm25": ["b", "a"]}, k=1, weights={"dense": 2.0, "bm25": 1.0}
    )
    # a: 2/2 + 1/3 = 1.333; b: 2/3 + 1/2 = 1.167
    assert [item for item, _ in fused] == ["a", "b"]
    assert fused[0][1] == pytest.approx(4 / 3)
    assert fused[1][1] == pytest.approx(7 / 6)


def test_rrf_ties_keep_first_appearance() -> None:
    fused = reciprocal_rank_fusion({"dense": ["x", "y"], "bm25": ["y", "x"]}, k=60)
    assert [item for item, _ in fused] == ["x", "y"]


def test_min_max_and_z_scores() -> None:
    assert min_max({"a": 0.2, "b": 0.6, "c": 1.0}) == pytest.approx({"a": 0.0, "b": 0.5, "c": 1.0})
    assert min_max({"a": 3.0, "b": 3.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}
    # mean 2, population sd sqrt(2/3)
    z = z_scores({"a": 1.0, "b": 2.0, "c": 3.0})
    assert z["b"] == 0.0
    assert z["c"] == pytest.approx(1 / (2 / 3) ** 0.5)
    assert z_scores({"a": 5.0}) == {"a": 0.0}


def test_convex_combination_of_min_max_scores() -> None:
    dense = {"a": 0.9, "b": 0.7, "c": 0.5}  # normalised 1, 0.5, 0
    bm25 = {"c": 12.0, "b": 8.0, "d": 4.0}  # normalised 1, 0.5, 0
    fused = dict(score_fusion({"dense": dense, "bm25": bm25}, {"dense": 0.7, "bm25": 0.3}))
    assert fused["a"] == pytest.approx(0.7 * 1.0 + 0.3 * 0.0)  # missing from bm25: its floor
    assert fused["b"] == pytest.approx(0.7 * 0.5 + 0.3 * 0.5)
    assert fused["c"] == pytest.approx(0.7 * 0.0 + 0.3 * 1.0)
    assert fused["d"] == pytest.approx(0.0)  # missing from dense, bottom of bm25
    order = [item for item, _ in score_fusion({"dense": dense, "bm25": bm25},
                                              {"dense": 0.7, "bm25": 0.3})]
    assert order == ["a", "b", "c", "d"]


def test_z_score_fusion_floor_is_the_lowest_z() -> None:
    fused = dict(score_fusion({"dense": {"a": 1.0, "b": 3.0}, "bm25": {"b": 2.0}},
                              normalise=z_scores))
    # dense z: a -1, b 1; bm25 z: b 0 (a missing gets the floor 0)
    assert fused == pytest.approx({"a": -1.0, "b": 1.0})


def test_best_per_group_keeps_each_documents_first_chunk() -> None:
    ranked = [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.6)]
    doc = {1: "x", 2: "x", 3: "y", 4: "x"}
    assert best_per_group(ranked, doc.__getitem__) == [(1, 0.9), (3, 0.7)]
