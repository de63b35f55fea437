from pathlib import Path

from meditron_rag.config import load_config
from rag import Engine
from rag.langchain import GuidelineRetriever
from rag.retrieval import Filters

ROOT = Path(__file__).resolve().parents[1]


def test_retriever_returns_citable_documents(starter_data, embedder):
    engine = Engine(load_config(ROOT / "config.yaml"), embedder)
    retriever = GuidelineRetriever(engine=engine, k=3)
    docs = retriever.invoke("Who should get a single dose of RSV vaccine?")
    assert len(docs) == 3
    top = docs[0].metadata
    assert top["document_id"] == "cdc-acip-rsv-vaccination-older-adults-2024"
    assert top["organisation"] and top["date"] == "2024-06" and top["number"] == 1
    assert docs[0].page_content and "text" not in top


def test_retriever_filters(starter_data, embedder):
    engine = Engine(load_config(ROOT / "config.yaml"), embedder)
    only = Filters(documents=["who-hand-hygiene-2009"])
    docs = GuidelineRetriever(engine=engine, k=2, filters=only).invoke("RSV vaccine")
    assert {d.metadata["document_id"] for d in docs} == {"who-hand-hygiene-2009"}
