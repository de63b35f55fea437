"""The question-answering engine: retrieve, pack, generate, check citations.

One `Engine` per process holds the store, the embedder, the generator and the optional reranker,
each loaded on first use and shared; `stream()` yields the sources first, then the answer's text
as it is generated, then the checked `Answer`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ingest import Embedder, Store, load_embedder, open_store
from meditron_rag import NOT_FOR_CLINICAL_USE
from meditron_rag.config import Config
from meditron_rag.errors import QuestionError
from meditron_rag.models import resolve
from rag.answers import (
    not_covered,
    not_covered_text,
    pick,
    uncovered_population,
    verify,
    verify_quotes,
)
from rag.citations import SUPPORTED, CitationChecker, remove_markers
from rag.evidence import Evidence, condense, rank_sentences, select
from rag.generator import Generation, LocalGenerator, ServerGenerator
from rag.packing import Packed, pack
from rag.prompts import NO_ANSWER, neutralise, passage_block, source_flagged
from rag.records import Answer, Passage, SentenceSupport
from rag.rerank import Reranker, load_reranker, reranked_search
from rag.retrieval import Filters, Retriever

_CAUTION_WORDS = re.compile(
    r"\b(dose|doses|dosing|dosage|mg|mcg|micrograms?|milligrams?|how much|how many (mg|units)|"
    r"my (patient|mother|father|child|son|daughter|wife|husband)|i (have|am|take|was)|"
    r"should i (take|give|stop|start))\b",
    re.IGNORECASE,
)
DOSING_CAUTION = (
    "This looks like a question about a dose or an individual patient: read the dose in the "
    "cited source itself and decide with a clinician; this tool does not give medical advice."
)
_IMITATION = re.compile(
    r"(^|\n)\s*(\[\d+\] [A-Z][^\n]*\(|\[\d+\] Same source as|#{2,} |Passages:|Question:)")
SUPERSEDED_PENALTY = 0.1  # evidence from a replaced guideline yields to the current one
QUOTE_INTRO = "From the sources (the model's own answer could not be verified): "
# A GGUF smaller than this is too small a model to write an answer that passes the check.
SMALL_MODEL_BYTES = 1_000_000_000
NO_EVIDENCE = (
    "The retrieved passages do not support an answer to this question, so none is given. "
    "Read the sources below, or add a guideline that covers it."
)


@dataclass
class Event:
    """One step of a streamed answer: `passages` (list), `token` (str) or `answer` (Answer)."""

    kind: str
    data: list[Passage] | str | Answer


def check_question(question: str, max_chars: int) -> str:
    text = (question or "").strip()
    if not text:
        raise QuestionError("The question is empty: type a question about the guidelines.")
    if len(text) > max_chars:
        raise QuestionError(
            f"The question is {len(text)} characters long; the limit is {max_chars} "
            "(generation.max_question_chars): ask it in fewer words."
        )
    return text


def language_warning(question: str) -> str:
    letters = [c for c in question if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) / len(letters) < 0.6:
        return ("The question does not look like English: the starter corpus and models are "
                "English, so retrieval and answers may be poor.")
    return ""


class Engine:
    """Everything one process needs to answer questions, loaded once and shared."""

    def __init__(self, config: Config, embedder: Embedder | None = None) -> None:
        """`embedder` lets a caller that already holds the configured model share it."""
        self.config = config
        self._lock = threading.RLock()
        self._embedder: Embedder | None = embedder
        self._store: Store | None = None
        self._retriever: Retriever | None = None
        self._generator: LocalGenerator | ServerGenerator | None = None
        self._checker: CitationChecker | None = None
        self._reranker: Reranker | None = None

    # --- lazily loaded parts -----------------------------------------------------------------

    def _once(self, name: str, make: Callable[[], Any]) -> Any:
        """The part held in attribute `name`, made on first use, once even across threads."""
        with self._lock:
            if getattr(self, name) is None:
                setattr(self, name, make())
            return getattr(self, name)

    @property
    def embedder(self) -> Embedder:
        return self._once("_embedder", lambda: load_embedder(self.config, answering=True))

    @property
    def store(self) -> Store:
        return self._once("_store", lambda: open_store(self.config, self.embedder))

    @property
    def retriever(self) -> Retriever:
        return self._once("_retriever", lambda: Retriever(self.store, self.embedder,
                                                          self.config.retrieval))

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, or None when retrieval.reranker is off (nothing loads)."""
        if not self.config.retrieval.reranker:
            return None
        return self._once("_reranker", lambda: load_reranker(self.config))

    @property
    def generator(self) -> LocalGenerator | ServerGenerator:
        return self._once("_generator", self._load_generator)

    def _load_generator(self) -> LocalGenerator | ServerGenerator:
        llm = self.config.llm
        if llm.server_url:
            return ServerGenerator(llm.server_url, "" if llm.model == "smollm2" else llm.model, llm)
        local = LocalGenerator(resolve(llm.model, "llm", self.config), llm.model, llm)
        if llm.prefix_cache:
            local.warm_prefix(local.format.prefix(), self.config.data_dir / "cache")
        return local

    @property
    def checker(self) -> CitationChecker:
        return self._once("_checker", lambda: CitationChecker(self.embedder.encode))

    # --- questions ---------------------------------------------------------------------------

    def retrieve(
        self, question: str, k: int | None = None, filters: Filters | None = None,
        mode: str | None = None, rerank: bool = True,
    ) -> list[Passage]:
        """The best `k` passages, reranked when a reranker is configured and `rerank` is true."""
        question = check_question(question, self.config.generation.max_question_chars)
        k = k or self.config.retrieval.top_k
        reranker = self.reranker if rerank else None
        if reranker is None:
            passages = self.retriever.search(question, k, filters, mode)
        else:
            passages = reranked_search(
                self.retriever, reranker, question, k, self.config.retrieval.rerank_candidates,
                filters, mode,
            )
        for number, passage in enumerate(passages, start=1):
            passage.number = number
        return passages

    def prompt(
        self, question: str, passages: list[Passage], max_tokens: int,
        warnings: list[str] | None = None, evidence_sentences: int | None = None,
        ranked: list[Evidence] | None = None,
    ) -> tuple[Packed, list[Evidence]]:
        """The prompt for `passages`: each condensed to its `evidence_sentences` best sentences
        (generation.evidence_sentences; 0: whole), neutralised, packed into the window with
        room for `max_tokens`. Also the passages' sentences ranked for the question (`ranked`
        when the caller has them already)."""
        warnings = [] if warnings is None else warnings
        gen = self.generator
        ranked = self.rank(question, passages) if ranked is None else ranked
        per_passage = (self.config.generation.evidence_sentences if evidence_sentences is None
                       else evidence_sentences)
        chosen = select(ranked, per_passage or 3)
        blocks: list[str] = []
        first_of: dict[str, int] = {}
        for p in passages:
            p.highlights = sorted((e.start, e.end) for e in chosen.get(p.number, []))
            text = condense(p.text, chosen.get(p.number, [])) if per_passage else p.text
            text, flagged = neutralise(text)
            if flagged or source_flagged(p):
                warnings.append(
                    f"Source [{p.number}] contains text that reads like instructions to the model "
                    "or imitates the prompt's role markers (in its text, title or headings); that "
                    "text was removed from the prompt, and the rest was given as quoted source."
                )
            same = first_of.setdefault(p.document_id, p.number)
            blocks.append(passage_block(p, text, None if same == p.number else same))
        if gen.count_tokens(question) > gen.n_ctx // 2:
            raise QuestionError("The question is too long for the model's window: shorten it.")
        packed = pack(
            lambda texts: gen.format.render("\n\n".join(texts), question),
            blocks, gen.count_tokens, gen.n_ctx, max_tokens,
        )
        if packed.left_out:
            warnings.append(
                "Left out of the prompt for lack of room: "
                + ", ".join(f"[{passages[i].number}]" for i in packed.left_out)
            )
        return packed, ranked

    def rank(self, question: str, passages: list[Passage]) -> list[Evidence]:
        """Every sentence of the passages, best evidence for the question first; sentences
        of a superseded guideline yield to the current one's."""
        ranked = rank_sentences(
            question,
            {p.number: (p.section.rsplit(" > ", 1)[-1], p.text) for p in passages},
            self.embedder.encode,
        )
        superseded = {p.number for p in passages if p.superseded_by}
        ranked.sort(key=lambda e: -(e.score - SUPERSEDED_PENALTY * (e.number in superseded)))
        return ranked

    @property
    def answer_mode(self) -> str:
        """generation.answer_mode, with "auto" made extractive for a model too small to
        write a checked answer (a GGUF under 1 GB) and generative otherwise."""
        mode = self.config.generation.answer_mode
        if mode != "auto":
            return mode
        llm = self.config.llm
        if llm.server_url:
            return "generative"
        size = resolve(llm.model, "llm", self.config).stat().st_size
        return "extractive" if size < SMALL_MODEL_BYTES else "generative"

    def stream(
        self, question: str, k: int | None = None, filters: Filters | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[Event]:
        """Sources first, then text pieces, then the checked Answer."""
        started = time.perf_counter()
        question = check_question(question, self.config.generation.max_question_chars)
        warnings = [w for w in (language_warning(question),) if w]
        if _CAUTION_WORDS.search(question):
            warnings.append(DOSING_CAUTION)
        passages = self.retrieve(question, k, filters)
        retrieved_s = time.perf_counter() - started
        yield Event("passages", passages)

        mode = self.answer_mode
        ranked = self.rank(question, passages)  # once: every later step reads it
        early = self._uncovered(question, passages, ranked, warnings, mode)
        if early is None and mode == "extractive":
            early = self._extractive(question, passages, ranked, warnings)
        if early is not None:
            early.timings = {"retrieval_s": round(retrieved_s, 4),
                             "total_s": round(time.perf_counter() - started, 4)}
            yield Event("answer", early)
            return

        gen = self.generator
        max_tokens = max_tokens or self.config.generation.max_tokens
        packed, ranked = self.prompt(question, passages, max_tokens, warnings, ranked=ranked)
        used = [passages[i] for i in packed.texts]
        state = Generation()
        draft = ""
        stream = gen.stream(packed.prompt, self.config.generation, max_tokens=max_tokens,
                            stops=gen.format.stops, state=state)
        for piece in stream:
            draft += piece
            if imitation := _IMITATION.search(draft):
                # The model has started to write passages of its own: the answer is over.
                draft = draft[: imitation.start()]
                state.finish = "stop"
                stream.close()
                break
            yield Event("token", piece)
        answer = self._finish(question, draft, passages, used, ranked, warnings, state)
        answer.left_out = [passages[i].number for i in packed.left_out]
        answer.tokens = {"prompt": packed.prompt_tokens, "completion": state.completion_tokens}
        answer.timings = {
            "retrieval_s": round(retrieved_s, 4),
            "first_token_s": round(retrieved_s + state.first_token_s, 4),
            "generation_s": round(state.seconds, 4),
            "total_s": round(time.perf_counter() - started, 4),
        }
        yield Event("answer", answer)

    def _answer(self, question: str, text: str, passages: list[Passage],
                ranked: list[Evidence], warnings: list[str], status: str, mode: str,
                sentences: list[SentenceSupport] | None = None,
                rejected: list[SentenceSupport] | None = None) -> Answer:
        return Answer(
            question=question, text=text, sentences=sentences or [], passages=passages,
            evidence=[{"passage": e.number, "text": e.quote(), "score": e.score}
                      for e in ranked[:3]],
            notice=NOT_FOR_CLINICAL_USE,
            model="extractive" if mode == "extractive" else (
                self._generator.name if self._generator else self.config.llm.model),
            grounded=status in ("complete", "truncated", "extractive"),
            status=status, mode=mode, warnings=warnings, rejected=rejected or [],
        )

    def _uncovered(self, question: str, passages: list[Passage], ranked: list[Evidence],
                   warnings: list[str], mode: str) -> Answer | None:
        """The answer for a question about a subject, age or sex that the passages do not
        cover: said plainly, with what they do cover; None when they cover it."""
        if not passages:
            return self._answer(question, NO_EVIDENCE, passages, [], warnings, "no_evidence",
                                mode)
        gen = self.config.generation
        if why := not_covered(question, passages, ranked, gen.not_covered_below,
                              gen.not_covered_missing_below):
            text = (f"{why}, so they do not answer this question. Read the sources below, or "
                    "add a guideline that covers it.")
            return self._answer(question, text, passages, ranked, warnings, "not_covered",
                                mode)
        if who := uncovered_population(question, passages):
            return self._answer(question, not_covered_text(who, ranked, passages), passages,
                                ranked, warnings, "not_covered", mode)
        return None

    def _extractive(self, question: str, passages: list[Passage], ranked: list[Evidence],
                    warnings: list[str], rejected: list[SentenceSupport] | None = None,
                    intro: str = "", mode: str = "extractive") -> Answer:
        """The passages' own best sentences for the question, quoted, cited and checked."""
        chosen = pick(question, ranked, passages, self.config.generation.extractive_sentences)
        sentences = [s for s in verify_quotes(self.checker, chosen, passages, question)
                     if s.supported]
        if not sentences:
            return self._answer(question, NO_EVIDENCE, passages, ranked, warnings,
                                "no_evidence", mode, rejected=rejected)
        text = intro + " ".join(s.text for s in sentences)
        return self._answer(question, text, passages, ranked, warnings, "extractive", mode,
                            sentences, rejected)

    def _finish(
        self, question: str, raw: str, passages: list[Passage], used: list[Passage],
        ranked: list[Evidence], warnings: list[str], state: Generation,
    ) -> Answer:
        """Check the draft sentence by sentence: show what the passages support, set the rest
        apart with the reason, or quote the sources when nothing in it holds."""
        text, removed = remove_markers(raw.strip(), {p.number for p in used})
        if removed:
            warnings.append(
                "Removed citations to passages that were not given: "
                + ", ".join(f"[{n}]" for n in removed)
            )
        if state.finish in ("length", "loop", "timeout"):
            warnings.append(f"The answer was cut off ({state.finish}).")
        declined = NO_ANSWER.lower().rstrip(".") in text.lower()
        checked = verify(self.checker, text, used, question) if text and not declined else []
        shown = [s for s in checked if s.verdict == SUPPORTED]
        rejected = [s for s in checked if s.verdict != SUPPORTED]
        if declined or not ranked:
            answer = self._answer(question, NO_EVIDENCE, passages, ranked, warnings,
                                  "no_evidence", "generative")
        elif not shown:
            if text:
                warnings.append("No sentence of the model's answer is supported by the sources "
                                "(each is set apart with the reason), so the sources' own "
                                "sentences are quoted instead.")
            answer = self._extractive(question, passages, ranked, warnings, rejected,
                                      QUOTE_INTRO, "generative")
        else:
            status = "truncated" if state.finish in ("length", "loop", "timeout") else "complete"
            answer = self._answer(question, " ".join(s.text for s in shown), passages, ranked,
                                  warnings, status, "generative", shown, rejected)
        answer.removed_citations = removed
        return answer

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None,
            max_tokens: int | None = None) -> Answer:
        """The checked Answer of `stream`, without its sources and text pieces on the way."""
        for event in self.stream(question, k, filters, max_tokens):
            if event.kind == "answer":
                assert isinstance(event.data, Answer)
                return event.data
        raise RuntimeError("the stream ended without an answer")  # pragma: no cover
