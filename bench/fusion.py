"""Fusion variants that scripts/retrieval_experiment.py compares beside the product's own
(rag.fusion): z-score normalisation, and a document ranked by its best chunk.

Pure functions, in the shapes of rag.fusion's: scores in, (item, score) pairs out, best first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

from rag.fusion import K, Normaliser, min_max


def z_scores(scores: Mapping[K, float]) -> dict[K, float]:
    """Scores as standard deviations from their mean; all equal: all 0."""
    if not scores:
        return {}
    mean = sum(scores.values()) / len(scores)
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores.values()) / len(scores))
    return {item: (s - mean) / sd if sd else 0.0 for item, s in scores.items()}


NORMALISERS: dict[str, Normaliser[Any]] = {"minmax": min_max, "zscore": z_scores}


def best_per_group(
    ranked: Iterable[tuple[K, float]], group: Callable[[K], Hashable]
) -> list[tuple[K, float]]:
    """The first (best) item of each group, in order: a document's rank is its best chunk's."""
    seen: set[Hashable] = set()
    out = []
    for item, score in ranked:
        key = group(item)
        if key not in seen:
            seen.add(key)
            out.append((item, score))
    return out
