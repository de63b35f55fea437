"""meditron-rag's retrieval as a LangChain retriever, to drop into other people's chains.

    from meditron_rag import load_config
    from rag import Engine
    from rag.langchain import GuidelineRetriever

    retriever = GuidelineRetriever(engine=Engine(load_config()), k=5)
    docs = retriever.invoke("Who should get a single dose of RSV vaccine?")

Each Document's `page_content` is the passage text; its metadata holds everything needed to
cite it: document id, title, organisation, date, url, section, pages, character offsets,
scores (with `rerank` and `rerank_rank` when a reranker is configured) and, where a newer
guideline replaced it, `superseded_by`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.engine import Engine
from rag.records import Passage
from rag.retrieval import Filters


def to_document(passage: Passage) -> Document:
    meta = passage.to_dict()
    text = meta.pop("text")
    meta.pop("highlights", None)
    return Document(page_content=str(text), metadata=meta)


class GuidelineRetriever(BaseRetriever):
    """Hybrid retrieval over the meditron-rag index (dense + BM25, supersession-aware), then
    the engine's cross-encoder when retrieval.reranker is set; `rerank=False` skips it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine
    k: int | None = None  # None: the engine's retrieval.top_k
    filters: Filters | None = None
    mode: str | None = None
    rerank: bool = True

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        passages = self.engine.retrieve(query, self.k, self.filters, self.mode, self.rerank)
        return [to_document(p) for p in passages]
