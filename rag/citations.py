"""Checking an answer's citations against the passages it was given.

Method (offline, documented in docs/citations.md):
1. Split the answer into sentences; read each sentence's markers ([1], [1, 2], [1-3]).
2. Drop markers that point at no passage and record them.
3. Score each sentence against each passage it cites (or, uncited, against all passages):
   support = 0.5 * lexical overlap + 0.5 * semantic similarity, where lexical overlap is the
   share of the sentence's content words (crudely stemmed) found in the passage, and semantic
   similarity is the best cosine between the sentence and any sentence of the passage under
   the embedding model. Any number in the sentence (an age, a dose, an interval) that the
   passage's closest sentence (or its first line, usually its heading) does not contain
   makes the sentence unsupported: numbers are where small models invent most and where a
   wrong one does most harm. So does a word the sentence shares with
   the question that no passage contains (the question's subject, which the passages then
   do not cover: "gout" asked, "gout" answered, no passage about gout).
4. A sentence is supported when its score reaches the threshold (0.55 by default).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ingest.bm25 import STOPWORDS
from rag.records import SentenceSupport

_MARKER = re.compile(r"\[(\d+(?:\s*[-–,]\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[a-z0-9]+")

SUPPORT_THRESHOLD = 0.55


def parse_markers(text: str) -> list[int]:
    """Passage numbers cited in `text`, in order of appearance, without repeats."""
    found: dict[int, None] = {}
    for group in _MARKER.findall(text):
        for part in re.split(r"\s*,\s*", group):
            if re.search(r"[-–]", part):
                a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
                for n in range(min(a, b), min(max(a, b), min(a, b) + 20) + 1):
                    found.setdefault(n, None)
            else:
                found.setdefault(int(part), None)
    return list(found)


_BOUNDARY = re.compile(r"[.!?](?:\s*\[[\d,\s\-–]+\])*(?=\s+[A-Z0-9\"'(\[])")


def split_sentences(text: str) -> list[str]:
    """Answer sentences, each keeping the citation markers that follow it."""
    parts: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+[.)])\s)", text.strip()):
        start = 0
        for match in _BOUNDARY.finditer(block):
            parts.append(block[start:match.end()].strip())
            start = match.end()
        parts.append(block[start:].strip())
    return [p for p in parts if p]


def remove_markers(text: str, keep: set[int]) -> tuple[str, list[int]]:
    """Drop citation markers whose numbers are not in `keep`; returns text and dropped numbers."""
    dropped: list[int] = []

    def fix(match: re.Match[str]) -> str:
        numbers = parse_markers(match.group(0))
        good = [n for n in numbers if n in keep]
        dropped.extend(n for n in numbers if n not in keep)
        return f"[{', '.join(str(n) for n in good)}]" if good else ""

    cleaned = _MARKER.sub(fix, text)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", cleaned)
    return re.sub(r"[ \t]{2,}", " ", cleaned), list(dict.fromkeys(dropped))


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    plain = _MARKER.sub(" ", text.lower())
    return {_stem(w) for w in _WORD.findall(plain) if w not in STOPWORDS and len(w) > 1}


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(_MARKER.sub(" ", text))}


def lexical_overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's content words that occur in the passage (0..1)."""
    words = content_words(sentence)
    if not words:
        return 0.0
    return len(words & content_words(passage)) / len(words)


def unsupported_numbers(sentence: str, passage: str) -> set[str]:
    return numbers(sentence) - numbers(passage)


@dataclass
class SupportScorer:
    """Scores sentences against passages; `embed` maps texts to unit vectors."""

    embed: Callable[[Sequence[str]], np.ndarray]
    threshold: float = SUPPORT_THRESHOLD

    def score(self, sentence: str, passage: str) -> float:
        from rag.packing import sentence_spans

        units = [passage[a:b] for a, b in sentence_spans(passage, clauses=False)] or [passage]
        vectors = self.embed([_MARKER.sub("", sentence), *units])
        similarities = vectors[1:] @ vectors[0]
        semantic = float(np.max(similarities))
        score = 0.5 * lexical_overlap(sentence, passage) + 0.5 * max(semantic, 0.0)
        # Numbers must come from the passage sentence the claim rests on (the closest one,
        # with the first line, usually the heading), not from anywhere in the passage:
        # "colonoscopy every 5 years" is not supported by "colonoscopy: every 10 years ...
        # CT colonography: every 5 years".
        basis = units[0] + " " + units[int(np.argmax(similarities))]
        return 0.0 if unsupported_numbers(sentence, basis) else round(score, 4)

    def check(
        self, answer: str, passages: dict[int, str], question: str = ""
    ) -> list[SentenceSupport]:
        """Support of every answer sentence by the passages it cites (all, if it cites none)."""
        covered = set().union(*(content_words(t) for t in passages.values())) if passages else set()
        asked = content_words(question)
        results = []
        for sentence in split_sentences(answer):
            cited = [n for n in parse_markers(sentence) if n in passages]
            pool = cited or list(passages)
            scores = {n: self.score(sentence, passages[n]) for n in pool}
            best = max(scores, key=lambda n: scores[n]) if scores else None
            value = scores[best] if best is not None else 0.0
            if (asked & content_words(sentence)) - covered:
                value = 0.0
            results.append(SentenceSupport(
                text=sentence, citations=cited, support=value,
                supported=value >= self.threshold, best_passage=best,
            ))
        return results
