"""Retrieval over the real starter index with the real embedder: each method finds the right
guideline, filters restrict, near-duplicates collapse, superseded guidelines come second."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.store import SQLiteStore
from meditron_rag.config import RetrievalConfig
from meditron_rag.text import jaccard, word_set
from rag.records import Passage
from rag.retrieval import Filters, Retriever, collapse_duplicates, prefer_current

pytestmark = pytest.mark.slow

QUESTIONS = {
    "Which drug classes are first line for hypertension in the ACC/AHA 2017 guideline?":
        "acc-aha-high-blood-pressure-2017",
    "What dose of doxycycline is used for doxy PEP and when is it taken?":
        "cdc-doxycycline-pep-sti-2024",
    "Who qualifies for lung cancer screening with low-dose CT under the 2021 USPSTF "
    "recommendation?": "uspstf-lung-cancer-screening-2021",
    "Does the USPSTF recommend bone density screening in men?":
        "uspstf-osteoporosis-screening-2025",
    "How often is a FIT test repeated for colorectal cancer screening?":
        "uspstf-colorectal-cancer-screening-2021",
    "Is renal denervation an option in the European hypertension guideline?":
        "esc-hypertension-2024",
}


@pytest.fixture
def retriever(starter_data: Path, embedder) -> Iterator[Retriever]:
    store = SQLiteStore.open(starter_data / "index", embedder=embedder)
    yield Retriever(store, embedder, RetrievalConfig())
    store.close()


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_method_finds_the_right_guideline(retriever: Retriever, mode: str) -> None:
    for question, document in QUESTIONS.items():
        passages = retriever.search(question, k=3, mode=mode)
        assert document in [p.document_id for p in passages], (mode, question)
        assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


@pytest.mark.parametrize("fusion", ["convex", "rrf"])
def test_hybrid_records_each_retrievers_score_and_rank(starter_data: Path, embedder,
                                                       fusion: str) -> None:
    store = SQLiteStore.open(starter_data / "index", embedder=embedder)
    retriever = Retriever(store, embedder, RetrievalConfig(fusion=fusion))
    top = retriever.search("How do you calculate pack-years?", k=3)
    store.close()
    assert top[0].document_id == "uspstf-lung-cancer-screening-2021"
    assert top[0].scores.get("dense_rank") or top[0].scores.get("bm25_rank")
    assert {"dense", "bm25"} & set(top[0].scores)


def test_filters_restrict_documents_organisations_and_dates(retriever: Retriever) -> None:
    question = "Who should be screened and how often?"
    only = retriever.search(question, k=5, filters=Filters(documents=["esc-hypertension-2024"]))
    assert only and {p.document_id for p in only} == {"esc-hypertension-2024"}
    cdc = retriever.search(question, k=5, filters=Filters(organisations=["centers for disease"]))
    assert cdc and all("Centers for Disease" in p.organisation for p in cdc)
    old = retriever.search(question, k=5, filters=Filters(date_to="2019"))
    assert old and all(p.date[:4] <= "2019" for p in old)
    new = retriever.search(question, k=5, filters=Filters(date_from="2024"))
    assert new and all(p.date >= "2024" for p in new)


def test_the_current_breast_screening_guideline_ranks_first(retriever: Retriever) -> None:
    for mode in ("hybrid", "dense", "bm25"):
        passages = retriever.search("At what age should routine screening mammography start?",
                                    k=5, mode=mode)
        ids = [p.document_id for p in passages]
        assert "uspstf-breast-cancer-screening-2024" in ids, mode
        if "uspstf-breast-cancer-screening-2016" in ids:
            old = ids.index("uspstf-breast-cancer-screening-2016")
            assert ids.index("uspstf-breast-cancer-screening-2024") < old, mode
            assert passages[old].superseded_by_id == "uspstf-breast-cancer-screening-2024"


def _passage(chunk_id: int, document: str, text: str, superseded_by: str = "") -> Passage:
    return Passage(chunk_id=chunk_id, document_id=document, title=document, organisation="",
                   date="", url="", path="", section="", page_start=1, page_end=1,
                   paginated=False, char_start=0, char_end=len(text), text=text,
                   superseded_by_id=superseded_by)


def test_near_duplicates_collapse_to_the_best() -> None:
    text = "Screen women aged 40 to 74 every two years with mammography, grade B."
    passages = [
        _passage(1, "a", text),
        _passage(2, "b", text.replace("every two years", "every 2 years")),
        _passage(3, "c", "Offer doxycycline 200 mg within 72 hours of sex."),
    ]
    kept = collapse_duplicates(passages)
    assert [p.chunk_id for p in kept] == [1, 3]
    assert collapse_duplicates(passages, threshold=1.01) == passages


def test_near_duplicate_chunks_of_a_reingested_copy_collapse(starter_data: Path,
                                                              embedder) -> None:
    from ingest import ingest

    copy = starter_data / "copy"
    copy.mkdir()
    source = Path(__file__).resolve().parents[1] / "corpora" / "starter"
    text = (source / "cdc-doxycycline-pep-sti-2024.md").read_text(encoding="utf-8")
    (copy / "doxy-pep-copy.md").write_text(text.replace("2024", "2024 (copy)"), encoding="utf-8")
    store = SQLiteStore.open(starter_data / "index", embedder=embedder)
    with store.writing():
        ingest([copy], store, embedder, 200, 32)
    passages = Retriever(store, embedder, RetrievalConfig()).search(
        "What dose of doxycycline is used for doxy PEP and when is it taken?", k=5)
    store.close()
    docs = [p.document_id for p in passages]
    assert len(passages) == 5
    assert any(d.startswith("cdc-doxycycline") or d.startswith("doxy-pep-copy") for d in docs)
    texts = [p.text for p in passages]
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            assert jaccard(word_set(a), word_set(b)) < 0.8


def test_prefer_current_moves_a_superseded_passage_after_its_successor() -> None:
    old = _passage(1, "old", "old text", superseded_by="new")
    other = _passage(2, "other", "other text")
    new = _passage(3, "new", "new text")
    assert [p.document_id for p in prefer_current([old, other, new])] == ["other", "new", "old"]
    alone = prefer_current([old, other])
    assert [p.document_id for p in alone] == ["old", "other"]


def test_of_a_recommendation_carried_into_a_newer_version_the_newer_passage_is_kept() -> None:
    text = "Screen women aged 40 to 74 every two years with mammography, grade B."
    old = _passage(1, "old", text, superseded_by="new")
    new = _passage(2, "new", text.replace("two years", "2 years"))
    kept = collapse_duplicates(prefer_current([old, new]))
    assert [p.document_id for p in kept] == ["new"]


def test_collapsing_stops_at_the_limit() -> None:
    passages = [_passage(i, f"d{i}", f"distinct text number {i} " + "word " * i)
                for i in range(1, 8)]
    assert [p.chunk_id for p in collapse_duplicates(passages, limit=3)] == [1, 2, 3]
