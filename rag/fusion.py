"""Rank and score fusion as pure functions.

Every function takes each retriever's results and returns (item, score) pairs, best first; ties
keep the order of first appearance, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)  # an item: a chunk id, a document id


def _ordered(scores: dict[K, float]) -> list[tuple[K, float]]:
    order = {item: i for i, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[K]],
    k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[tuple[K, float]]:
    """Fuse ranked lists: score(d) = sum over lists of weight / (k + rank), rank from 1.

    Cormack, Clarke and Buettcher (2009). A list missing from `weights` weighs 1.
    """
    scores: dict[K, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return _ordered(scores)


def min_max(scores: Mapping[K, float]) -> dict[K, float]:
    """Scores rescaled to 0..1 (best 1, worst 0); all equal: all 1."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return {item: 1.0 for item in scores}
    return {item: (s - low) / (high - low) for item, s in scores.items()}


Normaliser = Callable[[Mapping[K, float]], dict[K, float]]


def score_fusion(
    scores: Mapping[str, Mapping[K, float]],
    weights: Mapping[str, float] | None = None,
    normalise: Normaliser[K] = min_max,
) -> list[tuple[K, float]]:
    """Fuse scored lists: score(d) = sum over lists of weight * normalised score.

    Each list is normalised on its own candidates (`min_max` unless `normalise` says
    otherwise); an item a list did not return gets that list's lowest normalised score, as it
    ranked below all it returned. With weights summing to 1 this is the convex combination of
    Bruch et al. (2023).
    """
    normalised = {name: normalise(s) for name, s in scores.items()}
    items: dict[K, float] = {}
    for values in normalised.values():
        for item in values:
            items.setdefault(item, 0.0)
    for name, values in normalised.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        floor = min(values.values(), default=0.0)
        for item in items:
            items[item] += weight * values.get(item, floor)
    return _ordered(items)
