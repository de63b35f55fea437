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

from ingest import Embedder, Store, load_embedder, open_store
from meditron_rag import NOT_FOR_CLINICAL_USE
from meditron_rag.config import Config
from meditron_rag.errors import QuestionError
from meditron_rag.models import resolve
from rag.citations import SupportScorer, remove_markers
from rag.evidence import Evidence, condense, rank_sentences, select
from rag.generator import Generation, LocalGenerator, ServerGenerator
from rag.packing import Packed, pack
from rag.prompts import NO_ANSWER, neutralise, passage_block
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
_IMITATION = re.compile(r"(^|\n)\s*(\[\d+\] [A-Z][^\n]*\(|#{2,} |Passages:|Question:)")
SUPERSEDED_PENALTY = 0.1  # evidence from a replaced guideline yields to the current one
QUOTE_INTRO = "From the sources (the model's own answer could not be verified): "
NO_EVIDENCE = (
    "The retrieved passages do not support an answer to this question, so none is given. "
    "Read the sources below, or add a guideline that covers it."
)


@dataclass
class Event:
    """One step of a streamed answer: `passages` (list), `token` (str) or `answer` (Answer)."""

    kind: str
    data: object


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
        self._scorer: SupportScorer | None = None
        self._reranker: Reranker | None = None

    # --- lazily loaded parts -----------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.config, answering=True)
            return self._embedder

    @property
    def store(self) -> Store:
        embedder = self.embedder
        with self._lock:
            if self._store is None:
                self._store = open_store(self.config, embedder)
            return self._store

    @property
    def retriever(self) -> Retriever:
        store = self.store
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever.from_settings(store, self.embedder,
                                                          self.config.retrieval)
            return self._retriever

    @property
    def reranker(self) -> Reranker | None:
        """The configured cross-encoder, or None when retrieval.reranker is off (nothing loads)."""
        if not self.config.retrieval.reranker:
            return None
        with self._lock:
            if self._reranker is None:
                self._reranker = load_reranker(self.config)
            return self._reranker

    @property
    def generator(self) -> LocalGenerator | ServerGenerator:
        with self._lock:
            if self._generator is None:
                llm = self.config.llm
                if llm.server_url:
                    self._generator = ServerGenerator(
                        llm.server_url, "" if llm.model in ("smollm2",) else llm.model,
                        llm.n_ctx, llm.server_timeout_s,
                    )
                else:
                    local = LocalGenerator(
                        resolve(llm.model, "llm", self.config), llm.model, llm.n_ctx,
                        llm.n_threads, llm.n_batch, llm.use_mmap, llm.prompt_format,
                        llm.repack_weights, llm.flash_attn, llm.cache_type_k, llm.cache_type_v,
                    )
                    if llm.prefix_cache:
                        local.warm_prefix(local.format.prefix(), self.config.data_dir / "cache")
                    self._generator = local
            return self._generator

    @property
    def scorer(self) -> SupportScorer:
        if self._scorer is None:
            self._scorer = SupportScorer(self.embedder.encode)
        return self._scorer

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
    ) -> tuple[Packed, list[Evidence]]:
        """The prompt for `passages`: each condensed to its `evidence_sentences` best sentences
        (generation.evidence_sentences; 0: whole), neutralised, packed into the window with
        room for `max_tokens`. Also the passages' sentences ranked for the question."""
        warnings = [] if warnings is None else warnings
        gen = self.generator
        ranked = rank_sentences(
            question,
            {p.number: (p.section.rsplit(" > ", 1)[-1], p.text) for p in passages},
            self.embedder.encode,
        )
        superseded = {p.number for p in passages if p.superseded_by}
        ranked.sort(key=lambda e: -(e.score - SUPERSEDED_PENALTY * (e.number in superseded)))
        per_passage = (self.config.generation.evidence_sentences if evidence_sentences is None
                       else evidence_sentences)
        chosen = select(ranked, per_passage or 3)
        blocks, first_of = [], {}
        for p in passages:
            p.highlights = sorted((e.start, e.end) for e in chosen.get(p.number, []))
            text = condense(p.text, chosen.get(p.number, [])) if per_passage else p.text
            text, flagged = neutralise(text)
            if flagged:
                warnings.append(
                    f"Source [{p.number}] contains text that reads like instructions; it was "
                    "treated as data and removed from the prompt."
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

        gen = self.generator
        max_tokens = max_tokens or self.config.generation.max_tokens
        packed, ranked = self.prompt(question, passages, max_tokens, warnings)
        used = [passages[i] for i in packed.texts]
        state = Generation()
        draft = ""
        stream = gen.stream(
            packed.prompt, max_tokens, self.config.generation.temperature,
            self.config.generation.repeat_penalty, gen.format.stops, state=state,
        )
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

    def _finish(
        self, question: str, raw: str, passages: list[Passage], used: list[Passage],
        ranked: list[Evidence], warnings: list[str], state: Generation,
    ) -> Answer:
        """Check the draft's citations; keep it, quote the sources instead, or decline."""
        text, removed = remove_markers(raw.strip(), {p.number for p in used})
        if removed:
            warnings.append(
                "Removed citations to passages that were not given: "
                + ", ".join(f"[{n}]" for n in removed)
            )
        declined = NO_ANSWER.lower().rstrip(".") in text.lower()
        given = {p.number: p.text for p in used}
        sentences = self.scorer.check(text, given, question) if text and not declined else []
        grounded = bool(sentences) and all(s.supported for s in sentences)
        status = "complete"
        if state.finish in ("length", "loop", "timeout"):
            status = "truncated"
            warnings.append(f"The answer was cut off ({state.finish}).")
        if declined or not ranked:
            status, text, sentences = "no_evidence", NO_EVIDENCE, []
        elif not grounded and not any(s.supported for s in sentences):
            if text:
                warnings.append("The model's own answer was not supported by the sources, so "
                                "the most relevant sentences of the sources are quoted instead. "
                                "Its draft: " + text[:300])
            status = "extractive"
            quoted = [e for e in ranked if e.number in given][:2]
            text = QUOTE_INTRO + " ".join(f"“{e.quote()}” [{e.number}]" for e in quoted)
            sentences = [SentenceSupport(f"“{e.quote()}” [{e.number}]", [e.number], 1.0, True,
                                         e.number) for e in quoted]
        return Answer(
            question=question, text=text, sentences=sentences, passages=passages,
            evidence=[{"passage": e.number, "text": e.quote(), "score": e.score}
                      for e in ranked[:3]],
            notice=NOT_FOR_CLINICAL_USE, model=self.generator.name,
            grounded=status in ("complete", "truncated", "extractive"),
            status=status, warnings=warnings, removed_citations=removed,
        )

    def ask(self, question: str, on_token: Callable[[str], None] | None = None,
            **kwargs: object) -> Answer:
        for event in self.stream(question, **kwargs):  # type: ignore[arg-type]
            if event.kind == "token" and on_token:
                on_token(str(event.data))
            elif event.kind == "answer":
                assert isinstance(event.data, Answer)
                return event.data
        raise RuntimeError("the stream ended without an answer")  # pragma: no cover
