"""The evaluation harness end to end on a tiny set, with the real embedder and model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rag.evaluation import questions
from tests.conftest import run_cli

DOCS = {
    "hand-hygiene.md": "# Hand hygiene\n\nRub hands with an alcohol-based handrub for 20 to 30 "
                       "seconds. Wash with soap and water when hands are visibly soiled.\n",
    "mammography.md": "# Breast cancer screening\n\nBiennial screening mammography is "
                      "recommended for women aged 40 to 74 years.\n",
    "pneumococcal.md": "# Pneumococcal vaccination\n\nAdults aged 50 years or older should "
                       "receive a pneumococcal conjugate vaccine such as PCV20 or PCV21.\n",
}
QUESTIONS = [
    {"id": "q1", "question": "How long should an alcohol handrub take?",
     "expected_documents": ["hand-hygiene.md"], "expected_section": "Hand hygiene"},
    {"id": "q2", "question": "At what age should women start mammography screening?",
     "expected_documents": ["mammography.md"], "answer": "40"},
    {"id": "q3", "question": "Which pneumococcal vaccine should adults over 50 get?",
     "expected_documents": ["pneumococcal"], "options": ["PCV20", "Influenza"],
     "answer": "PCV20"},
    {"id": "q4", "question": "What is the INR target for warfarin?", "expected_documents": []},
]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text)
    questions = corpus / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    return questions


def test_loaders_read_our_format_and_multiple_choice(tiny: Path, tmp_path: Path):
    evalset = questions.load_questions(tiny)
    assert [q.id for q in evalset.questions] == ["q1", "q2", "q3", "q4"]
    assert evalset.corpus_dir == tiny.parent
    assert evalset.questions[2].options == {"A": "PCV20", "B": "Influenza"}
    assert evalset.questions[2].label == "A"
    medqa = tmp_path / "medqa.jsonl"
    medqa.write_text(json.dumps({"question": "Q?", "options": {"A": "x", "B": "y"},
                                 "answer_idx": "B"}) + "\n")
    medmcqa = tmp_path / "medmcqa.jsonl"
    medmcqa.write_text(json.dumps({"question": "Q?", "opa": "x", "opb": "y", "opc": "z",
                                   "opd": "w", "cop": 3}) + "\n")
    assert questions.load_multiple_choice(medqa).questions[0].label == "B"
    mc = questions.load_multiple_choice(medmcqa).questions[0]
    assert (mc.label, mc.answer, list(mc.options)) == ("C", "z", ["A", "B", "C", "D"])


@pytest.mark.slow
def test_harness_end_to_end_with_answers_and_report(tiny: Path, tmp_path: Path):
    from bench import report
    from meditron_rag.config import load_config
    from rag.evaluation import harness

    evalset = questions.load_questions(tiny)
    for q in evalset.questions[:2]:  # yes/no labels so constrained choice has work to do
        q.options, q.label = {"yes": "yes", "no": "no", "maybe": "maybe"}, "yes"
    result = harness.run(evalset, load_config(), chunk_sizes=[64, 128], answers=True)
    assert result["scored_questions"] == 3 and result["unanswerable"] == 1
    assert result["corpus"]["documents"] == 3
    for method in ("dense", "bm25", "hybrid"):
        scores = result["methods"][method]
        assert scores["recall@3"] == 1.0, (method, scores)  # three documents: all in the top 3
        assert 0 < scores["mrr"] <= 1 and scores["section@5"] == 1.0
    assert result["methods"]["dense"]["recall@1"] == 1.0
    assert set(result["by_chunk_tokens"]) == {"64", "128"}
    tie = {"wins": 0, "losses": 0, "p_value": 1.0}  # every method finds all three in the top 5
    assert result["paired"] == {"dense vs bm25": tie, "dense vs hybrid": tie,
                                "bm25 vs hybrid": tie}
    answers = result["answers"]
    assert answers["questions"] == 3
    for condition in ("closed_book", "rag"):
        assert 0.0 <= answers[condition]["accuracy"] <= 1.0
        assert sum(answers[condition]["predicted_distribution"].values()) == 3
    saved = report.save_evaluation(result, tmp_path / "docs")
    page = (tmp_path / "docs" / "evaluation.md").read_text()
    assert saved.exists() and "| dense |" in page and "recall@5" in page
    assert "dense ahead of hybrid on 0, behind on 0 (p = 1)" in page


@pytest.mark.slow
def test_choice_scores_are_log_probabilities_and_reuse_the_cache():
    from meditron_rag.config import LLMConfig, load_config
    from meditron_rag.models import resolve
    from rag.evaluation.choice import ChoiceScorer
    from rag.generator import LocalGenerator

    config = load_config()
    gen = LocalGenerator(resolve("smollm2", "llm", config), "smollm2",
                         LLMConfig(n_ctx=512, n_threads=2))
    scorer = ChoiceScorer(gen.llm)
    prompt = "Is the sky blue on a clear day? Answer with yes or no.\nAnswer:"
    first = scorer.scores(prompt, [" yes", " no", " maybe so"])
    assert all(v < 0 for v in first)
    assert sum(math.exp(v) for v in first[:2]) <= 1.0 + 1e-6
    again = scorer.scores(prompt, [" yes", " no", " maybe so"])  # from the cached prefix
    assert again == pytest.approx(first, abs=1e-3)


@pytest.mark.slow
def test_eval_cli_prints_metrics_json(tiny: Path, tmp_path: Path):
    out = tmp_path / "out"
    done = run_cli("eval", "--questions", str(tiny), "--methods", "bm25,hybrid", "--evidence",
                   "--json", "--out", str(out), timeout=240)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # --out saves the result as JSON; the pages in docs/ are the benchmark kit's to write.
    saved = json.loads((out / "results" / "eval-corpus.json").read_text())
    assert saved["methods"] == data["methods"] and saved["machine"]["python"]
    assert saved["command"].startswith("meditron-rag eval --questions")
    assert sorted(p.name for p in out.iterdir()) == ["results"]
    assert set(data["methods"]) == {"bm25", "hybrid"}
    assert data["methods"]["hybrid"]["recall@5"] == 1.0
    evidence = data["evidence"]
    assert evidence["questions"] == 3 and evidence["questions_with_supporting_sentence"] == 2
    for variant in ("whole", "condensed"):  # one-sentence documents: nothing to condense away
        assert evidence[variant]["passage_in_prompt"] == 1.0
        assert evidence[variant]["supporting_sentence_in_prompt"] == 1.0


def test_the_supporting_sentence_is_the_one_sharing_most_words_with_the_answer():
    from rag.evaluation.answering import _supporting_sentence
    from rag.records import Passage

    text = ("Screening reduces deaths. Biennial mammography is advised from age 40 to 74. "
            "Harms include overdiagnosis.")
    passage = Passage(chunk_id=1, document_id="d", title="t", organisation="", date="", url="",
                      path="", section="", page_start=1, page_end=1, paginated=False,
                      char_start=0, char_end=len(text), text=text)
    assert _supporting_sentence("from age 40, every two years", [passage]) == (
        "Biennial mammography is advised from age 40 to 74.")
    assert _supporting_sentence("colonoscopy", [passage]) == ""


@pytest.mark.slow
def test_eval_on_postgres_scores_as_the_embedded_store_and_leaves_no_database(
        postgres_url: str, embedder):
    """The same corpus, questions and settings retrieve the same documents from both backends;
    the PostgreSQL run indexes into scratch databases, drops them, and never writes the
    configured database."""
    import psycopg

    from meditron_rag.config import load_config
    from rag.evaluation import harness
    from tests.conftest import ROOT, STARTER

    evalset = questions.load_questions(STARTER / "questions.jsonl", STARTER)
    base = load_config(ROOT / "config.yaml", environ={})
    postgres = base.model_copy(update={"store": base.store.model_copy(
        update={"backend": "postgres", "url": postgres_url})})
    with psycopg.connect(postgres_url) as conn:
        before = conn.execute("SELECT count(*) FROM pg_database").fetchone()
    results, chunks = {}, {}
    for name, config in (("sqlite", base), ("postgres", postgres)):
        with harness.harness(config, embedder=embedder) as h:
            index = h.build_index(evalset, 200, 32, main=True)
            results[name] = harness.evaluate_retrieval(h, index, evalset.questions)["methods"]
            chunks[name] = index.chunks
            assert not index.failed
    assert chunks["postgres"] == chunks["sqlite"] > 100
    for method in ("dense", "bm25", "hybrid"):  # HNSW may differ from exact by one question
        for metric in ("recall@1", "recall@5", "recall@10", "mrr"):
            assert results["postgres"][method][metric] == pytest.approx(
                results["sqlite"][method][metric], abs=0.015), (method, metric)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database").fetchone() == before
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone() == (0,)
