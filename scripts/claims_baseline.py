"""The citation check as it was before verdicts, measured on a claims file for comparison.

Until commit 0a591b1 a sentence was "supported" when 0.5 x lexical overlap + 0.5 x the best
sentence cosine reached 0.55, with two vetoes (docs/citations.md has the method that replaced
it). This script loads that `SupportScorer` from git, runs it on the same cases as
`meditron-rag eval --claims`, and saves its result beside the new checker's, so that
docs/evaluation.md shows both: `python -m scripts.claims_baseline FILE.jsonl --out docs`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import report
from ingest import load_embedder
from meditron_rag.config import load_config
from rag.citations import SUPPORTED, UNSUPPORTED, Source
from rag.evaluation import claims
from rag.records import SentenceSupport

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "0a591b1"


def _module_at(path: str, name: str, moves: dict[str, str]) -> types.ModuleType:
    """The module at `path` as it was at BEFORE, its imports in `moves` rewritten."""
    source = subprocess.run(["git", "show", f"{BEFORE}:{path}"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for was, now in moves.items():
        source = source.replace(was, now)
    module = types.ModuleType(name)
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{BEFORE}:{path}", "exec"), module.__dict__)
    return module


def old_scorer(embed: Callable[[Sequence[str]], np.ndarray]) -> Any:
    """The support scorer of rag/citations.py as it was at BEFORE (an instance of its class),
    with the sentence splitter of that time; its stop words have moved since, unchanged."""
    _module_at("rag/packing.py", "old_packing", {})
    module = _module_at("rag/citations.py", "old_citations", {
        "from ingest.bm25 import STOPWORDS": "from meditron_rag.text import STOPWORDS",
        "from rag.packing import sentence_spans": "from old_packing import sentence_spans"})
    return module.SupportScorer(embed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = load_config(ROOT / "config.yaml")
    scorer = old_scorer(load_embedder(config, answering=True).encode)

    def check(answer: str, passages: dict[int, Source], question: str) -> list[SentenceSupport]:
        found = scorer.check(answer, {n: p.text for n, p in passages.items()}, question)
        for s in found:
            s.verdict = SUPPORTED if s.supported else UNSUPPORTED
        return found

    result = claims.run(args.file, check, f"similarity-{BEFORE}")
    result["command"] = "python -m scripts.claims_baseline " + " ".join(sys.argv[1:])
    if args.out:
        report.save_evaluation(result, args.out)
    print(claims.summary(result))


if __name__ == "__main__":
    main()
