"""Cross-encoder reranking with a real, tiny CrossEncoder built offline in the test.

No reranker ships in a wheel, so the model is all-MiniLM-L6-v2 (the embedded embedder) under a
fresh one-label classification head, seeded: its scores mean nothing about relevance, which is
why every check compares against the cross-encoder's own scores, never against gold answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from meditron_rag.config import load_config
from rag import Engine
from rag.langchain import GuidelineRetriever
from rag.records import Passage
from rag.rerank import load_reranker, passage_input, rerank_order
from rag.retrieval import prefer_current
from tests.conftest import ROOT, run_cli
from ui.state import with_reranker

QUESTION = "Who should get a single dose of RSV vaccine?"


@pytest.fixture(scope="session")
def tiny_reranker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CrossEncoder folder: the embedded MiniLM with a seeded, untrained one-label head."""
    import torch
    from sentence_transformers import CrossEncoder

    from meditron_rag.models import resolve

    base = resolve("all-minilm-l6-v2", "embedding", load_config(ROOT / "config.yaml", environ={}))
    torch.manual_seed(0)
    model = CrossEncoder(str(base), num_labels=1, local_files_only=True, device="cpu")
    folder = tmp_path_factory.mktemp("rerank") / "tiny-cross-encoder"
    model.save(str(folder))
    return folder


@pytest.fixture(scope="session")
def reference(tiny_reranker: Path):
    """The same model loaded straight through sentence-transformers, to score independently."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(tiny_reranker), local_files_only=True, device="cpu")


def raw_scores(reference, question: str, passages: list[Passage]) -> list[float]:
    import torch

    pairs = [(question, passage_input(p)) for p in passages]
    return [float(v) for v in reference.predict(pairs, activation_fn=torch.nn.Identity())]


def passage(chunk_id: int, text: str, section: str = "") -> Passage:
    return Passage(chunk_id=chunk_id, document_id=f"doc-{chunk_id}", title=f"Guideline {chunk_id}",
                   organisation="Org", date="2024", url="", path="", section=section,
                   page_start=1, page_end=1, paginated=False, char_start=0, char_end=len(text),
                   text=text, score=1.0 / chunk_id, scores={"dense": 0.5, "dense_rank": chunk_id})


PASSAGES = [
    (1, "Adults aged 75 and older should receive a single dose of RSV vaccine.", "Adults"),
    (2, "Rub hands with an alcohol-based handrub for 20 to 30 seconds.", "Hand hygiene"),
    (3, "Biennial screening mammography is recommended from age 40.", ""),
    (4, "Pneumococcal conjugate vaccine is recommended for adults aged 50 and older.", "PCV"),
    (5, "Sleep under insecticide-treated bed nets in malaria areas.", "Bite avoidance"),
]


def test_order_is_by_score_and_ties_keep_the_incoming_order():
    assert rerank_order([0.1, 0.5, 0.5, -1.0]) == [1, 2, 0, 3]
    assert rerank_order([]) == []


def test_the_cross_encoder_reads_title_and_section_before_the_text():
    p = passage(1, "Wash for fifteen minutes.", "Rabies > Wound care")
    assert passage_input(p) == "Guideline 1 > Rabies > Wound care\nWash for fifteen minutes."


def test_command_flags_change_a_copy_of_the_config():
    config = load_config(ROOT / "config.yaml")
    assert with_reranker(config, None) is config
    chosen = with_reranker(config, "/models/ce")
    assert chosen.retrieval.reranker == "/models/ce" and config.retrieval.reranker is None
    assert with_reranker(chosen, None, off=True).retrieval.reranker is None
    with pytest.raises(click.UsageError):
        with_reranker(config, "/models/ce", off=True)


@pytest.mark.slow
def test_passages_come_out_in_the_cross_encoders_own_order(tiny_reranker, reference):
    config = load_config(ROOT / "config.yaml", {"retrieval": {"reranker": str(tiny_reranker)}})
    reranker = load_reranker(config)
    assert load_reranker(config) is reranker  # loaded once per process
    passages = [passage(*row) for row in PASSAGES]
    expected = raw_scores(reference, QUESTION, passages)
    best_first = sorted(range(len(passages)), key=lambda i: -expected[i])

    kept = reranker.rerank(QUESTION, passages, 3)

    assert [p.chunk_id for p in kept] == [passages[i].chunk_id for i in best_first[:3]]
    for rank, (p, i) in enumerate(zip(kept, best_first), start=1):
        assert p.scores["rerank"] == pytest.approx(expected[i], abs=1e-3)
        assert p.scores["rerank_rank"] == rank
        assert p.scores["dense_rank"] == p.chunk_id  # the retriever's scores stay
    # predict's default sigmoid is monotonic: it ranks the same way as the raw logits.
    probabilities = reference.predict([(QUESTION, passage_input(p)) for p in passages])
    assert sorted(range(5), key=lambda i: -probabilities[i]) == best_first
    assert len(reranker.rerank(QUESTION, passages, 10)) == 5
    assert reranker.rerank(QUESTION, [], 3) == []


@pytest.mark.slow
def test_engine_reranks_only_when_a_reranker_is_configured(starter_data, embedder,
                                                           tiny_reranker, reference):
    plain = Engine(load_config(ROOT / "config.yaml"), embedder)
    assert plain.reranker is None  # the default: nothing to load
    untouched = plain.retrieve(QUESTION, 4)
    assert [p.chunk_id for p in untouched] == [
        p.chunk_id for p in plain.retriever.search(QUESTION, 4)]
    assert not any("rerank" in p.scores for p in untouched)

    config = load_config(ROOT / "config.yaml", {
        "retrieval": {"reranker": str(tiny_reranker), "rerank_candidates": 10}})
    engine = Engine(config, embedder)
    reranked = engine.retrieve(QUESTION, 4)

    candidates = engine.retriever.search(QUESTION, 10)
    scores = dict(zip((p.chunk_id for p in candidates),
                      raw_scores(reference, QUESTION, candidates)))
    by_score = sorted(candidates, key=lambda p: -scores[p.chunk_id])
    assert [p.chunk_id for p in reranked] == [p.chunk_id for p in prefer_current(by_score)[:4]]
    assert [p.number for p in reranked] == [1, 2, 3, 4]
    assert all(p.scores["rerank"] == pytest.approx(scores[p.chunk_id], abs=1e-3)
               for p in reranked)
    skipped = engine.retrieve(QUESTION, 4, rerank=False)
    assert [p.chunk_id for p in skipped] == [p.chunk_id for p in untouched]

    docs = GuidelineRetriever(engine=engine, k=3).invoke(QUESTION)
    assert [d.metadata["chunk_id"] for d in docs] == [p.chunk_id for p in reranked[:3]]
    assert all("rerank" in d.metadata["scores"] for d in docs)
    off = GuidelineRetriever(engine=engine, k=3, rerank=False).invoke(QUESTION)
    assert not any("rerank" in d.metadata["scores"] for d in off)


@pytest.mark.slow
def test_search_command_reranks_with_a_given_folder(starter_data, tiny_reranker):
    done = run_cli("search", "--json", "-k", "3", "--reranker", str(tiny_reranker), QUESTION)
    assert done.returncode == 0, done.stderr
    passages = json.loads(done.stdout)
    assert [p["scores"]["rerank_rank"] for p in passages] == [1, 2, 3]


@pytest.mark.slow
def test_a_configured_reranker_that_is_not_there_is_one_clear_sentence(starter_data):
    done = run_cli("search", QUESTION, env={"MEDITRON_RAG_RETRIEVAL_RERANKER":
                                            "ms-marco-minilm-l6-v2"})
    assert done.returncode == 3
    assert "meditron-rag models pull ms-marco-minilm-l6-v2" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("Error: ")


@pytest.fixture
def tiny_set(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "rsv.md").write_text("# RSV vaccination\n\nAdults aged 75 and older should "
                                   "receive a single dose of RSV vaccine.\n")
    (corpus / "hands.md").write_text("# Hand hygiene\n\nRub hands with an alcohol-based "
                                     "handrub for 20 to 30 seconds.\n")
    questions = corpus / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": QUESTION, "expected_documents": ["rsv.md"]}) + "\n"
        + json.dumps({"id": "q2", "question": "How long should a handrub take?",
                      "expected_documents": ["hands.md"]}) + "\n"
    )
    return questions


@pytest.mark.slow
def test_eval_compares_with_and_without_reranking(tiny_set, tiny_reranker):
    refused = run_cli("eval", "--questions", str(tiny_set), "--methods", "hybrid+rerank")
    assert refused.returncode == 2 and "--reranker MODEL" in refused.stderr

    done = run_cli("eval", "--questions", str(tiny_set), "--methods", "hybrid,hybrid+rerank",
                   "--reranker", str(tiny_reranker), "--json", timeout=240)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert list(result["methods"]) == ["hybrid", "hybrid+rerank"]
    assert result["settings"]["reranker"] == str(tiny_reranker)
    # Two documents, every chunk among the candidates: reranking reorders, it drops nothing.
    assert result["methods"]["hybrid+rerank"]["recall@10"] == 1.0
    assert 0.5 <= result["methods"]["hybrid+rerank"]["mrr"] <= 1.0
