"""`meditron-rag eval --claims`: the citation check measured on a file of labelled cases.

One case per line: `{"id", "kind", "expected", "question", "answer", "passages": [{"number",
"title", "section", "text"}]}`, `expected` one of supported, contradicted, unsupported,
not_applicable. An answer of several sentences takes the worst verdict among them
(contradicted, then not_applicable, then unsupported), as a reader would.

What matters most is the precision of `supported`: of the answers the check calls supported,
the share that truly are. Each other class is reported as caught (the exact verdict) and
flagged (anything but supported: the reader is at least warned).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from meditron_rag.errors import MeditronRagError
from rag.citations import (
    CONTRADICTED,
    NOT_A_CLAIM,
    NOT_APPLICABLE,
    SUPPORTED,
    UNSUPPORTED,
    Source,
)
from rag.records import SentenceSupport

LABELS = (SUPPORTED, CONTRADICTED, UNSUPPORTED, NOT_APPLICABLE)
Check = Callable[[str, dict[int, Source], str], list[SentenceSupport]]


def load_cases(path: Path) -> list[dict]:
    """The cases of a JSONL file, each checked for the fields the evaluation reads."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise MeditronRagError(f"Cannot read the claims file {path}: {exc}") from exc
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            if case["expected"] not in LABELS:
                raise ValueError(f"expected must be one of {', '.join(LABELS)}")
            case["passages"] = {int(p["number"]): Source(str(p["text"]), str(p.get("title", "")),
                                                         str(p.get("section", "")))
                                for p in case["passages"]}
            case.setdefault("kind", case["expected"])
            case.setdefault("id", f"line-{number}")
            case.setdefault("question", "")
            str(case["answer"])
        except (ValueError, KeyError, TypeError) as exc:
            raise MeditronRagError(f"{path}, line {number}: not a claim case ({exc}).") from exc
        cases.append(case)
    if not cases:
        raise MeditronRagError(f"{path} holds no claim cases.")
    return cases


def answer_verdict(sentences: Iterable[SentenceSupport]) -> str:
    """The verdict of a whole answer: its worst sentence's."""
    verdicts = {s.verdict for s in sentences if s.verdict != NOT_A_CLAIM}
    for verdict in (CONTRADICTED, NOT_APPLICABLE, UNSUPPORTED):
        if verdict in verdicts:
            return verdict
    return SUPPORTED if verdicts else UNSUPPORTED


def score(cases: list[dict], verdicts: list[str]) -> dict:
    """Precision and recall of `supported`, and each class and kind caught and flagged."""
    called = [v == SUPPORTED for v in verdicts]
    truly = [c["expected"] == SUPPORTED for c in cases]
    true_pos = sum(a and b for a, b in zip(called, truly))
    result: dict[str, object] = {
        "cases": len(cases),
        "accuracy": _share(sum(v == c["expected"] for c, v in zip(cases, verdicts)), len(cases)),
        "precision_supported": _share(true_pos, sum(called)),
        "recall_supported": _share(true_pos, sum(truly)),
        "confusion": {e: dict(Counter(v for c, v in zip(cases, verdicts) if c["expected"] == e))
                      for e in LABELS if any(c["expected"] == e for c in cases)},
    }
    result["classes"] = _groups(cases, verdicts, lambda c: c["expected"])
    result["kinds"] = _groups(cases, verdicts, lambda c: c["kind"])
    return result


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _groups(cases: list[dict], verdicts: list[str], key: Callable[[dict], str]) -> dict:
    groups: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    for case, verdict in zip(cases, verdicts):
        groups[key(case)].append((case, verdict))
    table = {}
    for name, members in sorted(groups.items()):
        expected = Counter(c["expected"] for c, _ in members).most_common(1)[0][0]
        table[name] = {
            "cases": len(members), "expected": expected,
            "caught": _share(sum(v == c["expected"] for c, v in members), len(members)),
            "flagged": _share(sum(v != SUPPORTED for _, v in members), len(members)),
            "called_supported": _share(sum(v == SUPPORTED for _, v in members), len(members)),
        }
    return table


def run(path: Path, check: Check, checker_name: str,
        log: Callable[[str], None] = lambda _: None) -> dict:
    """Check every case of `path` and score the verdicts; the misses are kept (up to 40)."""
    cases = load_cases(path)
    started = time.perf_counter()
    verdicts: list[str] = []
    misses: list[dict[str, str]] = []
    for n, case in enumerate(cases, start=1):
        sentences = check(case["answer"], case["passages"], case["question"])
        verdict = answer_verdict(sentences)
        verdicts.append(verdict)
        if verdict != case["expected"] and len(misses) < 40:
            reasons = "; ".join(s.reason for s in sentences if s.reason)
            misses.append({"id": case["id"], "kind": case["kind"], "expected": case["expected"],
                           "verdict": verdict, "reason": reasons})
        if n % 200 == 0:
            log(f"  {n}/{len(cases)} cases checked")
    seconds = time.perf_counter() - started
    result = score(cases, verdicts)
    result.update({
        "dataset": f"claims: {path.name}", "file": str(path), "checker": checker_name,
        "seconds": round(seconds, 2), "ms_per_case": round(1000 * seconds / len(cases), 2),
        "misses": misses,
    })
    return result


def summary(result: dict) -> str:
    """The headline figures and the per-kind table, as Markdown."""
    lines = [
        f"{result['cases']} cases, checker {result['checker']}: precision of supported "
        f"{format_share(result['precision_supported'])}, recall of supported "
        f"{format_share(result['recall_supported'])}, exact verdict "
        f"{format_share(result['accuracy'])} "
        f"({result['ms_per_case']} ms a case).",
        "",
        kinds_table(result),
    ]
    return "\n".join(lines)


def kinds_table(result: dict) -> str:
    lines = ["| kind | cases | expected | caught (exact verdict) | flagged (not supported) |",
             "| --- | ---: | --- | ---: | ---: |"]
    for name, row in result["kinds"].items():
        lines.append(f"| {name} | {row['cases']} | {row['expected']} | "
                     f"{format_share(row['caught'])} | {format_share(row['flagged'])} |")
    return "\n".join(lines)


def format_share(value: float | None) -> str:
    """A share to three places, or a dash where there was nothing to share."""
    return "–" if value is None else f"{value:.3f}"
