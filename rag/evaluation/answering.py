"""Answers by the real Engine: the citations it gives, and whether condensing passages keeps
what answers the question (the method is in `rag.evaluation.harness`'s docstring)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.evaluation.metrics import percentile
from rag.evaluation.questions import Question
from rag.records import Passage

if TYPE_CHECKING:
    from rag.evaluation.harness import Harness, Index


def citation_quality(h: Harness, index: Index, questions: Sequence[Question],
                     limit: int | None = None) -> dict[str, object]:
    """Answer the first `limit` answerable questions and every unanswerable one with the real
    Engine (over `index`), in its configured answer mode, and read the verdicts: what the
    answers show must be supported, each citation must support its sentence on its own, and
    an unanswerable question must get the not-covered answer."""
    from rag.answers import sources

    engine = h.engine  # its store is the harness's first index, in config.index_dir
    checker = engine.checker
    answerable = [q for q in questions if q.expected_documents][:limit]
    unanswerable = [q for q in questions if not q.expected_documents]
    verdicts: Counter[str] = Counter()  # every sentence the model or the quotes wrote
    shown = shown_unsupported = citations = supporting = on_target = 0
    statuses: Counter[str] = Counter()
    declined = 0
    seconds = []
    for n, q in enumerate([*answerable, *unanswerable], start=1):
        answer = engine.ask(q.question)
        statuses[answer.status] += 1
        seconds.append(answer.timings.get("total_s", 0.0))
        if not q.expected_documents:
            declined += answer.status in ("not_covered", "no_evidence")
            continue
        verdicts.update(s.verdict for s in [*answer.sentences, *answer.rejected])
        given = sources(answer.passages)
        gold = index.resolve(q.expected_documents)
        by_number = {p.number: p for p in answer.passages}
        for s in answer.sentences:
            shown += 1
            shown_unsupported += s.verdict != "supported"
            for number in s.citations:
                if number in given:
                    citations += 1
                    alone = checker.sentence(s.text, {number: given[number]}, q.question)
                    supporting += alone.supported
                    on_target += by_number[number].document_id in gold
        h.log(f"  answered {n}/{len(answerable) + len(unanswerable)} ({answer.status})")
    return {
        "model": engine.config.llm.model, "mode": engine.answer_mode,
        "questions": len(answerable), "unanswerable": len(unanswerable),
        "verdicts": dict(verdicts), "shown_sentences": shown,
        "shown_not_supported": shown_unsupported,
        "citations": citations,
        "citation_precision": round(supporting / citations, 4) if citations else 0.0,
        "citations_on_expected_document": round(on_target / citations, 4) if citations else 0.0,
        "unanswerable_not_covered": round(declined / len(unanswerable), 4)
        if unanswerable else None,
        "statuses": dict(statuses),
        "seconds_per_question_p50": round(percentile(seconds, 50), 2),
    }


# --- evidence condensing ------------------------------------------------------------------------

def _supporting_sentence(answer: str, passages: Sequence[Passage]) -> str:
    """The sentence of `passages` sharing the most content words with the expected answer
    ("" when none shares any): what must reach the model for it to answer."""
    from meditron_rag.text import claim_spans, content_words

    want = content_words(answer)
    best, best_overlap = "", 0
    for p in passages:
        for start, end in claim_spans(p.text):
            sentence = p.text[start:end].strip()
            overlap = len(want & content_words(sentence))
            if overlap > best_overlap:
                best, best_overlap = sentence, overlap
    return best


def evidence_survival(h: Harness, index: Index, questions: Sequence[Question],
                      limit: int | None = None) -> dict[str, object]:
    """Whether condensing passages to their best sentences loses what answers the question.

    For each question with expected documents, the top_k passages are retrieved once and
    packed twice by the engine's own prompt builder: whole passages, and condensed to
    generation.evidence_sentences sentences each. Counted: questions whose prompt holds a
    passage of an expected document, and (for short expected answers) whose prompt holds the
    supporting sentence, the sentence of the expected documents' retrieved passages sharing
    the most content words with the answer. Also the prompt's mean length in tokens.
    """
    engine = h.engine
    retriever = h.retriever(index)
    k = h.config.retrieval.top_k
    max_tokens = h.config.generation.max_tokens
    per_passage = h.config.generation.evidence_sentences or 3
    variants = {"whole": 0, "condensed": per_passage}
    counts: dict[str, Counter[str]] = {v: Counter() for v in variants}
    asked = [q for q in questions if q.expected_documents][:limit]
    with_sentence = 0
    for q in asked:
        passages = retriever.search(q.question, k)
        for number, passage in enumerate(passages, start=1):
            passage.number = number
        gold = index.resolve(q.expected_documents)
        support = ""
        if q.answer and len(q.answer) <= 200:
            support = _supporting_sentence(q.answer, [p for p in passages
                                                      if p.document_id in gold])
        with_sentence += bool(support)
        for variant, sentences in variants.items():
            packed, _ = engine.prompt(q.question, passages, max_tokens,
                                      evidence_sentences=sentences)
            c = counts[variant]
            c["passage"] += any(passages[i].document_id in gold for i in packed.texts)
            # A heading that answers is in the passage's header line, without its # marks.
            c["sentence"] += bool(support) and support.lstrip("# ") in packed.prompt
            c["tokens"] += packed.prompt_tokens
    n = max(1, len(asked))
    return {
        "model": engine.generator.name, "questions": len(asked),
        "questions_with_supporting_sentence": with_sentence, "top_k": k,
        "evidence_sentences": per_passage,
        **{variant: {
            "passage_in_prompt": round(c["passage"] / n, 4),
            "supporting_sentence_in_prompt": round(c["sentence"] / max(1, with_sentence), 4),
            "prompt_tokens_mean": round(c["tokens"] / n, 1),
        } for variant, c in counts.items()},
    }
