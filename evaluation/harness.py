"""The evaluation harness: a question set through our real retrieval, answering and citation
checks, on a temporary index so that the user's own index is never touched.

Retrieval: the corpus (a folder, or the documents a data set generates, written as text files)
is ingested with the real pipeline into a temporary store, once per chunk size; every question
goes through `rag.Retriever.search` for each method (dense, bm25, hybrid) with the retrieval
settings of the config, and the ranked passages' document ids are scored by
`evaluation.metrics`. Questions without an expected document (unanswerable) are counted, not
scored. Models load once for the whole run.

Reranking: a method named with `+rerank` (`hybrid+rerank`) takes that method's best
`retrieval.rerank_candidates` passages and reorders them with the cross-encoder named by
`retrieval.reranker` (or `eval --reranker MODEL`) before they are scored, as the app does
(`rag.rerank.reranked_search`); its latency includes the cross-encoder. Without a reranker such
a method is refused before anything is indexed.

Answers (`choice_accuracy`): yes/no/maybe or multiple-choice accuracy by constrained choice,
closed-book and with retrieved passages. Method: the prompt ends in "Answer:"; each option key
(" yes", " no", " maybe"; " A", " B", ...) is scored by the sum of the log-probabilities of its
tokens after the prompt, read from llama.cpp's logits (the prompt is evaluated once; each
option's tokens are evaluated one at a time on top of it, the KV cache cut back between
options); the highest-scoring option is the prediction. Nothing is sampled and no free text is
parsed, so a model that rambles is not penalised for the form of its answer, and the options are
single tokens or single words, so no length normalisation is needed. The majority-class rate is
reported beside it, since a small model often picks one option every time.

Citations (`citation_quality`): each question is answered by the real `Engine`, in its
configured answer mode. Every sentence it wrote (shown or set apart) is counted by verdict
(rag.citations); the sentences shown as the answer must all be supported; each of their
citations is checked on its own (does that passage alone support the sentence?) and against
the expected documents; every unanswerable question must get the not-covered answer.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.datasets import EvalSet, Question
from evaluation.metrics import average, percentile, retrieval_scores, sign_test
from ingest import Embedder, Store, ingest, load_embedder
from ingest.store import SQLiteStore
from meditron_rag.config import Config, load_config
from meditron_rag.errors import ConfigError
from meditron_rag.models import resolve
from rag import Passage, Retriever
from rag.rerank import Reranker, load_reranker, reranked_search
from rag.retrieval import MODES

KS = (1, 3, 5, 10)
Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def parse_method(name: str) -> tuple[str, bool]:
    """A method name as (retriever mode, whether to rerank): "hybrid+rerank" -> ("hybrid", True)."""
    mode, plus, extra = name.partition("+")
    if mode not in MODES or (plus and extra != "rerank"):
        raise ConfigError(
            f"Unknown retrieval method '{name}': use {', '.join(MODES)}, each optionally with "
            "+rerank (hybrid+rerank)."
        )
    return mode, bool(plus)


@dataclass
class Index:
    """One temporary store built from the corpus at one chunk size."""

    store: Store
    chunk_tokens: int
    overlap_tokens: int
    documents: int
    chunks: int
    ingest_s: float
    failed: list[str]
    ids_by_name: dict[str, str]

    def resolve(self, expected: Sequence[str]) -> set[str]:
        """Document ids for expected file names or ids."""
        return {self.ids_by_name.get(e, self.ids_by_name.get(Path(e).stem, e)) for e in expected}


class Harness:
    """Models and temporary indexes for one evaluation run."""

    def __init__(self, config: Config, workdir: Path, log: Log = _quiet,
                 embedder: Embedder | None = None) -> None:
        self.config = config
        self.workdir = workdir
        self.log = log
        self._embedder = embedder
        self._engine = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.config)
        return self._embedder

    def corpus_folder(self, evalset: EvalSet) -> Path:
        """The folder to ingest: the set's own, or its generated documents written out once."""
        if evalset.corpus_dir is not None:
            return evalset.corpus_dir
        folder = self.workdir / f"corpus-{evalset.name}"
        if len({d.id for d in evalset.documents}) != len(evalset.documents):
            raise ValueError(f"{evalset.name}: two generated documents share an id")
        if not folder.exists():
            folder.mkdir(parents=True)
            for doc in evalset.documents:
                head = f"{doc.title}\n\n" if doc.title else ""
                (folder / f"{doc.id}.txt").write_text(head + doc.text, encoding="utf-8")
        return folder

    def build_index(self, evalset: EvalSet, chunk_tokens: int, overlap_tokens: int,
                    folder: Path | None = None) -> Index:
        folder = folder or self.workdir / f"index-{evalset.name}-{chunk_tokens}"
        store = SQLiteStore.open(folder, embedder=self.embedder)
        corpus = self.corpus_folder(evalset)
        self.log(f"Indexing {corpus} at {chunk_tokens} tokens per chunk ...")
        with store.writing():
            report = ingest([corpus], store, self.embedder, chunk_tokens, overlap_tokens)
        docs = store.documents()
        ids = {d.name: d.id for d in docs} | {Path(d.name).stem: d.id for d in docs}
        self.log(report.summary())
        return Index(store, chunk_tokens, overlap_tokens, len(docs), store.chunk_count(),
                     round(report.seconds, 2),
                     [f"{Path(f.path).name}: {f.reason}" for f in report.files
                      if f.status == "failed"], ids)

    def retriever(self, index: Index) -> Retriever:
        return Retriever.from_settings(index.store, self.embedder, self.config.retrieval)

    @property
    def reranker(self) -> Reranker:
        """The configured cross-encoder, shared with the engine (one load per process)."""
        return load_reranker(self.config)

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        """The real Engine on the harness's data directory (for answers and citations)."""
        if self._engine is None:
            from rag import Engine

            self._engine = Engine(self.config, embedder=self.embedder)
        return self._engine


@contextmanager
def harness(config: Config | None = None, log: Log = _quiet, keep: Path | None = None,
            embedder: Embedder | None = None) -> Iterator[Harness]:
    """A Harness whose data directory is a temporary folder (or `keep`, left in place)."""
    base = config or load_config()
    with tempfile.TemporaryDirectory(prefix="meditron-rag-eval-") as tmp:
        root = keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        data = {**base.model_dump(mode="json"), "data_dir": str(root / "data")}
        if base.retrieval.reranker:  # a pulled model lives in the user's data directory
            data["retrieval"]["reranker"] = str(resolve(base.retrieval.reranker, "reranker", base))
        config = type(base).model_validate(data)
        yield Harness(config, root, log, embedder)


# --- retrieval ----------------------------------------------------------------------------------

def evaluate_retrieval(
    h: Harness, index: Index, questions: Sequence[Question],
    methods: Sequence[str] = ("dense", "bm25", "hybrid"), ks: Sequence[int] = KS,
) -> dict[str, object]:
    """Per-method mean metrics and query latency over the questions that have gold documents
    (`methods`), and each method's recall@5 against every other's, question by question
    (`paired`: a sign test, so that "A beats B" is a claim with a p-value)."""
    retriever = h.retriever(index)
    depth = max(ks)
    scored = [q for q in questions if q.expected_documents]
    results: dict[str, object] = {}
    recall5: dict[str, list[float]] = {}
    for method in methods:
        mode, rerank = parse_method(method)
        reranker = h.reranker if rerank else None
        rows, latencies, section_hits = [], [], []
        for q in scored:
            started = time.perf_counter()
            if reranker is None:
                passages = retriever.search(q.question, depth, None, mode)
            else:
                passages = reranked_search(retriever, reranker, q.question, depth,
                                           h.config.retrieval.rerank_candidates, None, mode)
            latencies.append((time.perf_counter() - started) * 1000)
            gold = index.resolve(q.expected_documents)
            rows.append(retrieval_scores([p.document_id for p in passages], gold, ks))
            if q.expected_section:
                section_hits.append(_section_hit(passages, gold, q.expected_section, 5))
        summary = average(rows)
        recall5[method] = [row.get("recall@5", 0.0) for row in rows]
        if section_hits:
            summary["section@5"] = round(sum(section_hits) / len(section_hits), 4)
        summary["latency_ms_p50"] = round(percentile(latencies, 50), 2)
        summary["latency_ms_p95"] = round(percentile(latencies, 95), 2)
        results[method] = summary
        h.log(f"  {method:<13} recall@5={summary['recall@5']:.3f} mrr={summary['mrr']:.3f}")
    names = list(recall5) if 5 in ks else []
    paired = {f"{a} vs {b}": sign_test(recall5[a], recall5[b])
              for i, a in enumerate(names) for b in names[i + 1:]}
    return {"methods": results, "paired": paired}


def _section_hit(passages: Sequence[Passage], gold: set[str], section: str, k: int) -> float:
    want = section.lower()
    return float(any(
        p.document_id in gold and want in p.section.lower() for p in passages[:k]
    ))


# --- answers by constrained choice --------------------------------------------------------------

def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


class ChoiceScorer:
    """Log-probabilities of fixed continuations after a prompt, from a llama-cpp `Llama`.

    Works with `logits_all=False`: after each `eval`, llama.cpp holds the logits of the last
    token evaluated, which is all the next token's probability needs.
    """

    def __init__(self, llm) -> None:  # type: ignore[no-untyped-def]
        self.llm = llm
        self.n_vocab = llm.n_vocab()

    def _last_logits(self) -> np.ndarray:
        pointer = self.llm._ctx.get_logits()  # noqa: SLF001 - llama-cpp-python's context
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).astype(np.float64)

    def _eval_from(self, tokens: list[int], keep: int) -> np.ndarray:
        """Evaluate `tokens[keep:]` on top of the cached first `keep` tokens."""
        self.llm.n_tokens = keep
        self.llm.eval(tokens[keep:])
        return self._last_logits()

    def scores(self, prompt: str, options: Sequence[str]) -> list[float]:
        tokenize = self.llm.tokenize
        prompt_tokens = tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(prompt_tokens) + 8 > self.llm.n_ctx():
            raise ValueError("the prompt does not fit the model's window")
        cached = list(self.llm.input_ids[: self.llm.n_tokens])
        keep = 0
        for a, b in zip(cached, prompt_tokens[:-1]):
            if a != b:
                break
            keep += 1
        base = _log_softmax(self._eval_from(prompt_tokens, keep))
        out = []
        for option in options:
            full = tokenize((prompt + option).encode("utf-8"), add_bos=True, special=True)
            if full[: len(prompt_tokens)] == prompt_tokens:
                extra = full[len(prompt_tokens):]
            else:  # the option merged with the prompt's last token: score it on its own
                extra = tokenize(option.encode("utf-8"), add_bos=False, special=False)
            total = float(base[extra[0]])
            for i in range(1, len(extra)):
                logits = _log_softmax(self._eval_from(prompt_tokens + extra[:i],
                                                      len(prompt_tokens) + i - 1))
                total += float(logits[extra[i]])
            out.append(total)
        self.llm.n_tokens = len(prompt_tokens)
        return out


def choice_prompt(question: Question, passages: Sequence[str] = ()) -> str:
    keys = list(question.options)
    if keys == [k for k in question.options.values()]:  # yes/no/maybe: the keys are the words
        instruction = f"Answer the question with one word: {', '.join(keys[:-1])} or {keys[-1]}."
        body = f"Question: {question.question}"
    else:
        instruction = f"Answer with the letter of the correct option ({', '.join(keys)})."
        lines = "\n".join(f"{k}. {v}" for k, v in question.options.items())
        body = f"Question: {question.question}\n{lines}"
    context = ""
    if passages:
        context = "Context:\n" + "\n\n".join(passages) + "\n\n"
        instruction += " Use the context."
    return f"{context}{instruction}\n\n{body}\nAnswer:"


def choice_accuracy(
    h: Harness, index: Index | None, questions: Sequence[Question], k: int = 3,
    mode: str = "hybrid",
) -> dict[str, object]:
    """Accuracy closed-book and with the top-k retrieved passages (`index` given)."""
    from rag.packing import pack

    gen = h.engine.generator
    if not hasattr(gen, "llm"):
        raise ValueError("constrained choice needs the in-process model, not a server")
    scorer = ChoiceScorer(gen.llm)
    retriever = h.retriever(index) if index is not None else None
    labelled = [q for q in questions if q.label]
    conditions = ["closed_book"] + (["rag"] if retriever else [])
    predictions: dict[str, list[str]] = {c: [] for c in conditions}
    seconds: dict[str, float] = dict.fromkeys(conditions, 0.0)
    for n, q in enumerate(labelled, start=1):
        keys = list(q.options)
        for condition in conditions:
            started = time.perf_counter()
            passages: list[str] = []
            if condition == "rag":
                assert retriever is not None
                found = retriever.search(q.question, k, None, mode)
                packed = pack(lambda texts, q=q: choice_prompt(q, texts),
                              [p.text for p in found], gen.count_tokens, gen.n_ctx, 16)
                passages = list(packed.texts.values())
            values = scorer.scores(choice_prompt(q, passages), [f" {key}" for key in keys])
            predictions[condition].append(keys[int(np.argmax(values))])
            seconds[condition] += time.perf_counter() - started
        if n % 50 == 0:
            h.log(f"  answered {n}/{len(labelled)}")
    gold = [q.label for q in labelled]
    majority = Counter(gold).most_common(1)[0] if gold else ("", 0)
    out: dict[str, object] = {
        "model": gen.name, "questions": len(labelled), "k": k, "mode": mode,
        "gold_distribution": dict(Counter(gold)),
        "majority_class": majority[0],
        "majority_rate": round(majority[1] / len(gold), 4) if gold else 0.0,
        "method": "constrained choice: sum of option-token log-probabilities after the prompt",
    }
    for condition in conditions:
        preds = predictions[condition]
        correct = sum(p == g for p, g in zip(preds, gold))
        out[condition] = {
            "accuracy": round(correct / len(gold), 4) if gold else 0.0,
            "predicted_distribution": dict(Counter(preds)),
            "seconds_per_question": round(seconds[condition] / max(1, len(gold)), 3),
        }
    return out


# --- citations ----------------------------------------------------------------------------------

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
    from rag.citations import content_words
    from rag.packing import sentence_spans

    want = content_words(answer)
    best, best_overlap = "", 0
    for p in passages:
        for start, end in sentence_spans(p.text, clauses=False):
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
    counts = {v: Counter() for v in variants}
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


# --- one whole run ------------------------------------------------------------------------------

def run(
    evalset: EvalSet, config: Config | None = None,
    methods: Sequence[str] = ("dense", "bm25", "hybrid"),
    chunk_tokens: Sequence[int] = (), answers: bool = False, citations: int = 0,
    ks: Sequence[int] = KS, log: Log = _quiet, evidence: bool = False,
) -> dict[str, object]:
    """Everything asked for on one question set; the result is plain JSON-ready data."""
    started = time.perf_counter()
    base = config or load_config()
    reranking = [parse_method(m)[1] for m in methods]  # every name checked before indexing
    if any(reranking) and not base.retrieval.reranker:
        raise ConfigError(
            "A +rerank method needs a cross-encoder: pass --reranker MODEL to eval or set "
            "retrieval.reranker (ms-marco-minilm-l6-v2, after `meditron-rag models pull "
            "ms-marco-minilm-l6-v2`, or a CrossEncoder folder)."
        )
    with harness(base, log) as h:
        c = h.config.chunking
        sizes = list(chunk_tokens) or [c.chunk_tokens]
        out: dict[str, object] = {
            "dataset": evalset.name,
            "questions": len(evalset.questions),
            "scored_questions": sum(1 for q in evalset.questions if q.expected_documents),
            "unanswerable": sum(1 for q in evalset.questions if not q.expected_documents),
            "settings": {
                "embedding": h.config.embedding.model, "llm": h.config.llm.model,
                "chunk_tokens": sizes, "overlap_tokens": c.overlap_tokens,
                "candidates": h.config.retrieval.candidates, "rrf_k": h.config.retrieval.rrf_k,
                "reranker": base.retrieval.reranker,
                "rerank_candidates": h.config.retrieval.rerank_candidates,
                "ks": list(ks),
            },
        }
        by_size: dict[str, object] = {}
        first: Index | None = None
        for size in sizes:
            index = h.build_index(evalset, size, min(c.overlap_tokens, size // 4),
                                  h.config.index_dir if size == sizes[0] else None)
            first = first or index
            by_size[str(size)] = {
                "corpus": {"documents": index.documents, "chunks": index.chunks,
                           "ingest_s": index.ingest_s, "failed": index.failed},
                **evaluate_retrieval(h, index, evalset.questions, methods, ks),
            }
        out.update(by_size[str(sizes[0])])  # type: ignore[arg-type]
        if len(sizes) > 1:
            out["by_chunk_tokens"] = by_size
        assert first is not None
        if answers:
            log("Answering by constrained choice (closed-book and with retrieval) ...")
            out["answers"] = choice_accuracy(h, first, evalset.questions)
        if evidence:
            log("Packing prompts with whole and condensed passages ...")
            out["evidence"] = evidence_survival(h, first, evalset.questions)
        if citations:
            log("Answering with citations ...")
            out["citations"] = citation_quality(h, first, evalset.questions, citations)
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out
