"""Choosing the sentences of a passage that bear on the question.

Used three ways: to shrink the prompt to what answers the question (a 2,048-token window
and a CPU that reads ~20-35 prompt tokens a second make every sentence count), to highlight
the passage in the app, and to quote the sources when the model's own answer fails the
citation check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from meditron_rag.text import claim_spans, content_words


@dataclass(frozen=True)
class Evidence:
    """A sentence of passage `number` at [start, end) of its text, with its score.

    `context` is the innermost heading of the passage's section: a recommendation often
    states its population only in the heading ("Women aged 40 to 74 years"), so the sentence
    is scored, and quoted, together with it.
    """

    number: int
    start: int
    end: int
    text: str
    score: float
    context: str = ""

    def quote(self) -> str:
        """The sentence as shown to a reader, led by its heading where that adds to it."""
        if self.context and self.context.lower() not in self.text.lower():
            return f"{self.context}: {self.text}"
        return self.text


def sentence_scores(question_vec: np.ndarray, sentence_vecs: np.ndarray,
                    question: str, sentences: Sequence[str]) -> list[float]:
    """0.7 * cosine(question, sentence) + 0.3 * share of question words in the sentence."""
    words = content_words(question)
    scores = []
    for vec, sentence in zip(sentence_vecs, sentences):
        overlap = len(words & content_words(sentence)) / len(words) if words else 0.0
        scores.append(0.7 * float(vec @ question_vec) + 0.3 * overlap)
    return scores


def rank_sentences(
    question: str,
    passages: dict[int, tuple[str, str]],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> list[Evidence]:
    """Every sentence of every passage ({number: (heading, text)}), best first, embedded in
    one batch. Heading lines themselves are not candidates: they are the context."""
    units: list[tuple[int, int, int, str, str]] = []
    for number, (context, text) in passages.items():
        for start, end in claim_spans(text):
            piece = text[start:end].strip()
            if len(piece.split()) >= 3 and not piece.startswith("#"):
                units.append((number, start, end, piece, context))
    if not units:
        return []
    scored_texts = [f"{c}: {t}" if c else t for _, _, _, t, c in units]
    vectors = embed([question, *scored_texts])
    scores = sentence_scores(vectors[0], vectors[1:], question, scored_texts)
    ranked = [
        Evidence(n, s, e, t, round(sc, 4), c)
        for (n, s, e, t, c), sc in zip(units, scores)
    ]
    return sorted(ranked, key=lambda ev: -ev.score)


def condense(text: str, keep: Sequence[Evidence], first_line: bool = True) -> str:
    """The passage reduced to the kept sentences, in their original order, with "…" where
    text was skipped. The first line (usually its heading) stays so the passage keeps its
    context."""
    spans = sorted({(e.start, e.end) for e in keep})
    all_spans = claim_spans(text)
    if first_line and all_spans and all_spans[0] not in spans:
        spans = sorted([all_spans[0], *spans])
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        if start > last and text[last:start].strip():
            out.append("…")
        out.append(text[start:end].strip())
        last = end
    if text[last:].strip():
        out.append("…")
    return " ".join(out)


def select(ranked: Sequence[Evidence], per_passage: int) -> dict[int, list[Evidence]]:
    """The best `per_passage` sentences of each passage."""
    chosen: dict[int, list[Evidence]] = {}
    for ev in ranked:
        bucket = chosen.setdefault(ev.number, [])
        if len(bucket) < per_passage:
            bucket.append(ev)
    return chosen
