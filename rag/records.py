"""Typed results of the rag layer. JSON output is these records serialised by `to_dict`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import ClassVar

from ingest.document import Excerpt
from ingest.page_words import ocr_note


@dataclass(kw_only=True)
class Passage(Excerpt):
    """A retrieved chunk with everything a reader needs to find it in the original.

    `number` is its citation marker in the prompt ([1], [2], ...); `page_start`..`page_end` and
    `char_start`/`char_end` locate the text inside those pages (see `Excerpt`); `scores` holds
    each retriever's score and rank, `score` the fused one. `to_dict` gives flat keys.
    """

    chunk_id: int
    document_id: str
    title: str
    organisation: str
    date: str
    url: str
    path: str
    paginated: bool
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    number: int = 0
    superseded_by: str = ""
    superseded_by_id: str = ""
    highlights: list[tuple[int, int]] = field(default_factory=list)  # offsets in `text`

    _leading: ClassVar[tuple[str, ...]] = (
        "chunk_id", "document_id", "title", "organisation", "date", "url", "path", "section",
        "page_start", "page_end", "paginated", "char_start", "char_end", "text")

    @property
    def location(self) -> str:
        """"p. 5", "pp. 5-6" or the section, for a one-line source."""
        if not self.paginated:
            return self.section or "whole document"
        pages = (f"p. {self.page_start}" if self.page_start == self.page_end
                 else f"pp. {self.page_start}-{self.page_end}")
        return f"{pages}, {self.section}" if self.section else pages

    def source_line(self) -> str:
        who = ", ".join(x for x in (self.organisation, self.date) if x)
        return (f"[{self.number}] {self.title}" + (f" ({who})" if who else "")
                + f", {self.location}" + (f" ({ocr_note(self.ocr_confidence)})"
                                          if self.ocr_confidence is not None else ""))


@dataclass
class SentenceSupport:
    """One sentence of the answer, the passages it cites, and what they say of it.

    `verdict` is supported, contradicted, unsupported, not_applicable or not_a_claim (see
    rag.citations); `reason` says why in words and `evidence` is the passage text it rests on
    (from passage `best_passage`). `support` is the share of the sentence's words found in
    that text; `supported` is true for the verdict supported alone.
    """

    text: str
    citations: list[int]
    support: float
    supported: bool
    best_passage: int | None = None
    verdict: str = "supported"
    reason: str = ""
    evidence: str = ""


@dataclass
class Answer:
    """The whole result of one question."""

    question: str
    text: str
    sentences: list[SentenceSupport]
    passages: list[Passage]
    notice: str
    model: str
    grounded: bool
    # "complete": generated, and what is shown is supported; "truncated": the same, cut off;
    # "extractive": the answer quotes the sources (the extractive mode, or a draft of which no
    # sentence held); "not_covered": the passages do not cover the question's subject or
    # population; "no_evidence": nothing found, or the model declined.
    status: str = "complete"
    # "extractive" (the passages' sentences, no model) or "generative" (the model's, checked).
    mode: str = "generative"
    # The model's sentences not shown as the answer: contradicted, unsupported, not
    # applicable or not a claim, each with its reason.
    rejected: list[SentenceSupport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    removed_citations: list[int] = field(default_factory=list)
    # The sentences of the passages that bear most on the question, quoted: {"passage": n,
    # "text": ..., "score": ...}. Shown with every answer, whatever the model wrote.
    evidence: list[dict[str, object]] = field(default_factory=list)

    def cited_passages(self) -> list[Passage]:
        cited = {n for s in self.sentences for n in s.citations}
        return [p for p in self.passages if p.number in cited]

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "passages": [p.to_dict() for p in self.passages]}
