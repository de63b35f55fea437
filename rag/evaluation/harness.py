"""The evaluation harness: a question set through our real retrieval, answering and citation
checks, on a temporary index so that the user's own index is never touched.

Retrieval: the corpus (a folder, or the documents a data set generates, written as text files)
is ingested with the real pipeline into a temporary store, once per chunk size; every question
goes through `rag.Retriever.search` for each method (dense, bm25, hybrid) with the retrieval
settings of the config, and the ranked passages' document ids are scored by
`rag.evaluation.metrics`. Questions without an expected document (unanswerable) are counted, not
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
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest import Embedder, Store, ingest, load_embedder
from ingest.store import SQLiteStore, open_store
from meditron_rag.config import Config, load_config
from meditron_rag.errors import ConfigError
from meditron_rag.models import resolve
from rag import Engine, Passage, Retriever
from rag.evaluation.answering import citation_quality, evidence_survival
from rag.evaluation.choice import choice_accuracy
from rag.evaluation.metrics import average, percentile, retrieval_scores, sign_test
from rag.evaluation.questions import EvalSet, Question
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
                 embedder: Embedder | None = None, cleanup: ExitStack | None = None) -> None:
        self.config = config
        self.workdir = workdir
        self.log = log
        self._embedder = embedder
        self._engine: Engine | None = None
        self._cleanup = cleanup or ExitStack()

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

    def _store(self, name: str, main: bool) -> Store:
        """The configured backend's store: the harness's own index (`main`, which the engine
        answers from) or another temporary one (a folder, or a scratch database)."""
        if main:
            store = open_store(self.config, self.embedder)
        elif self.config.store.backend == "postgres":
            from ingest.store.postgres import PostgresStore
            from ingest.store.postgres_schema import scratch_database

            settings = self._cleanup.enter_context(scratch_database(self.config.store))
            store = PostgresStore.open(settings, embedder=self.embedder)
        else:
            store = SQLiteStore.open(self.workdir / name, embedder=self.embedder)
        self._cleanup.callback(store.close)
        return store

    def build_index(self, evalset: EvalSet, chunk_tokens: int, overlap_tokens: int,
                    main: bool = False) -> Index:
        """The corpus ingested into a new store at one chunk size; `main` makes it the index
        the harness's engine answers from."""
        store = self._store(f"index-{evalset.name}-{chunk_tokens}", main)
        corpus = self.corpus_folder(evalset)
        self.log(f"Indexing {corpus} at {chunk_tokens} tokens per chunk ...")
        with store.writing(), store.filling():
            report = ingest([corpus], store, self.embedder, chunk_tokens, overlap_tokens,
                            pdf=self.config.pdf, window=self.config.embedding.ingest_window,
                            lookahead=self.config.embedding.ingest_lookahead)
        docs = store.documents()
        ids = {d.name: d.id for d in docs} | {Path(d.name).stem: d.id for d in docs}
        self.log(report.summary())
        return Index(store, chunk_tokens, overlap_tokens, len(docs), store.chunk_count(),
                     round(report.seconds, 2),
                     [f"{Path(f.path).name}: {f.reason}" for f in report.files
                      if f.status == "failed"], ids)

    def retriever(self, index: Index) -> Retriever:
        return Retriever(index.store, self.embedder, self.config.retrieval)

    @property
    def reranker(self) -> Reranker:
        """The configured cross-encoder, shared with the engine (one load per process)."""
        return load_reranker(self.config)

    @property
    def engine(self) -> Engine:
        """The real Engine on the harness's data directory (for answers and citations)."""
        if self._engine is None:
            self._engine = Engine(self.config, embedder=self.embedder)
        return self._engine


@contextmanager
def harness(config: Config | None = None, log: Log = _quiet, keep: Path | None = None,
            embedder: Embedder | None = None) -> Iterator[Harness]:
    """A Harness whose data directory is a temporary folder (or `keep`, left in place). On
    PostgreSQL (`store.backend`) its indexes are scratch databases on `store.url`'s server,
    dropped at the end: the user's own index is never written."""
    base = config or load_config()
    with tempfile.TemporaryDirectory(prefix="meditron-rag-eval-") as tmp, ExitStack() as cleanup:
        root = keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        data = {**base.model_dump(mode="json"), "data_dir": str(root / "data")}
        if base.retrieval.reranker:  # a pulled model lives in the user's data directory
            data["retrieval"]["reranker"] = str(resolve(base.retrieval.reranker, "reranker", base))
        if base.store.backend == "postgres":
            from ingest.store.postgres_schema import scratch_database

            data["store"] = cleanup.enter_context(scratch_database(base.store)).model_dump()
        config = type(base).model_validate(data)
        yield Harness(config, root, log, embedder, cleanup)


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


# --- one whole run ------------------------------------------------------------------------------

def run(
    evalset: EvalSet, config: Config | None = None,
    methods: Sequence[str] = ("dense", "bm25", "hybrid"),
    chunk_sizes: Sequence[int] = (), answers: bool = False, citations: int = 0,
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
        sizes = list(chunk_sizes) or [c.chunk_tokens]
        out: dict[str, object] = {
            "dataset": evalset.name,
            "questions": len(evalset.questions),
            "scored_questions": sum(1 for q in evalset.questions if q.expected_documents),
            "unanswerable": sum(1 for q in evalset.questions if not q.expected_documents),
            "settings": {
                "store": h.config.store.backend,
                "embedding": h.config.embedding.model, "llm": h.config.llm.model,
                "chunk_tokens": sizes, "overlap_tokens": c.overlap_tokens,
                "candidates": h.config.retrieval.candidates, "rrf_k": h.config.retrieval.rrf_k,
                "reranker": base.retrieval.reranker,
                "rerank_candidates": h.config.retrieval.rerank_candidates,
                "ks": list(ks),
            },
        }
        by_size: dict[str, dict[str, object]] = {}
        first: Index | None = None
        for size in sizes:
            index = h.build_index(evalset, size, min(c.overlap_tokens, size // 4),
                                  main=size == sizes[0])
            first = first or index
            by_size[str(size)] = {
                "corpus": {"documents": index.documents, "chunks": index.chunks,
                           "ingest_s": index.ingest_s, "failed": index.failed},
                **evaluate_retrieval(h, index, evalset.questions, methods, ks),
            }
        out.update(by_size[str(sizes[0])])
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
