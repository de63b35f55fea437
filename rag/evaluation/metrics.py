"""Retrieval and answer metrics as pure functions.

A ranking is the sequence of document ids of the retrieved passages, best first; one document
may appear several times (several of its passages were retrieved). `relevant` is the set of
gold document ids. Every metric is computed per question and averaged by `mean`.

- recall@k: share of the relevant documents found among the first k passages.
- precision@k: share of the first k passages that come from a relevant document (divided by
  k, so a ranking shorter than k is penalised).
- reciprocal rank: 1 / the rank of the first passage from a relevant document (0 if none);
  its mean is MRR.
- nDCG@k: binary gains, log2 discount; a document's second and later passages gain nothing,
  so the ideal ranking puts each relevant document once at the top.
- accuracy: share of predictions equal to the gold labels.
- paired sign test: whether one method beats another on the same questions by more than
  chance; only the questions where their scores differ count (exact two-sided binomial test,
  McNemar's exact test when scores are hits and misses).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence


def recall_at_k(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        raise ValueError("recall is undefined without relevant documents")
    return len(set(ranking[:k]) & set(relevant)) / len(set(relevant))


def precision_at_k(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    if k <= 0:
        raise ValueError("k must be positive")
    gold = set(relevant)
    return sum(1 for doc in ranking[:k] if doc in gold) / k


def reciprocal_rank(ranking: Sequence[str], relevant: Collection[str]) -> float:
    gold = set(relevant)
    for rank, doc in enumerate(ranking, start=1):
        if doc in gold:
            return 1.0 / rank
    return 0.0


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains[:k], start=1))


def ndcg_at_k(ranking: Sequence[str], relevant: Collection[str], k: int) -> float:
    gold = set(relevant)
    if not gold:
        raise ValueError("nDCG is undefined without relevant documents")
    seen: set[str] = set()
    gains = []
    for doc in ranking[:k]:
        gains.append(1.0 if doc in gold and doc not in seen else 0.0)
        seen.add(doc)
    ideal = dcg_at_k([1.0] * min(len(gold), k), k)
    return dcg_at_k(gains, k) / ideal


def accuracy(predictions: Sequence[object], gold: Sequence[object]) -> float:
    if len(predictions) != len(gold):
        raise ValueError("one prediction per gold label")
    if not gold:
        return 0.0
    return sum(p == g for p, g in zip(predictions, gold)) / len(gold)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return 0.0
    items = sorted(values)
    position = (len(items) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return items[low] + (items[high] - items[low]) * (position - low)


def retrieval_scores(ranking: Sequence[str], relevant: Collection[str],
                     ks: Sequence[int] = (1, 3, 5, 10)) -> dict[str, float]:
    """Every retrieval metric of one question, keyed like `recall@5`, `mrr`, `ndcg@10`."""
    out = {f"recall@{k}": recall_at_k(ranking, relevant, k) for k in ks}
    out.update({f"precision@{k}": precision_at_k(ranking, relevant, k) for k in ks})
    out["mrr"] = reciprocal_rank(ranking, relevant)
    out.update({f"ndcg@{k}": ndcg_at_k(ranking, relevant, k) for k in ks if k > 1})
    return out


def average(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Key-wise mean of per-question score dicts, rounded to 4 places."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    return {k: round(mean(row[k] for row in rows if k in row), 4) for k in keys}


def sign_test(first: Sequence[float], second: Sequence[float]) -> dict[str, float]:
    """Questions `first` scores higher on, lower on, and the exact two-sided p-value of that
    split under "neither is better" (each differing question a fair coin)."""
    if len(first) != len(second):
        raise ValueError("one score per question for each method")
    wins = sum(a > b for a, b in zip(first, second))
    losses = sum(a < b for a, b in zip(first, second))
    n = wins + losses
    tail = sum(math.comb(n, i) for i in range(min(wins, losses) + 1))
    return {"wins": wins, "losses": losses, "p_value": min(1.0, 2 * tail / 2**n)}
