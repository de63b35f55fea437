"""Follow-up questions: recall@k of a conversation's second question searched alone, and
searched as `rag.followup` rewrites it after the first (corpora/starter/followups.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag import Engine
from rag.followup import search_query


def _hit(engine: Engine, query: str, expected: set[str], k: int) -> bool:
    return any(Path(p.path).name in expected for p in engine.retrieve(query, k))


def measure(engine: Engine, path: Path, k: int) -> dict[str, Any]:
    """Per conversation: the rewritten query and whether the expected document is in the top
    `k` for the second question alone, rewritten, and for the first question (the ceiling)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        first, second = case["turns"]
        expected = set(case["expected_documents"])
        query = search_query([first, second])
        rows.append({"id": case["id"], "turns": case["turns"], "search_query": query,
                     "alone": _hit(engine, second, expected, k),
                     "rewritten": _hit(engine, query, expected, k)})
    n = len(rows)
    return {
        "k": k, "conversations": n,
        f"recall@{k}_alone": round(sum(r["alone"] for r in rows) / n, 3),
        f"recall@{k}_rewritten": round(sum(r["rewritten"] for r in rows) / n, 3),
        "cases": rows,
    }
