"""Where the app's answers and library come from: this process's own Engine, or a running
`meditron-rag serve` (`ui.api_url`, ui/api_client.py). Both answer a question as the same
steps, the search query first: a follow-up ("and for men?") is searched with the subject of
the conversation's earlier questions (rag/followup.py), and the app shows the query it used.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Protocol

from ingest import DocumentRecord
from ingest.page_words import PageWords
from rag import Answer, Engine, Filters
from rag.followup import search_query
from ui.api_client import Step


class Source(Protocol):
    """What the Ask and Library tabs need of whoever holds the index and the model."""

    def documents(self) -> list[DocumentRecord]: ...

    def page_words(self, doc_id: str, page: int) -> PageWords | None: ...

    def ask(self, question: str, earlier: Sequence[str], top_k: int, filters: Filters,
            max_tokens: int) -> Generator[Step, None, None]:
        """The answer's steps; closing the generator ends the answer (the app's Stop)."""
        ...


class Local:
    """The app alone: its own Engine, shared by the sessions of this process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def documents(self) -> list[DocumentRecord]:
        return self.engine.store.documents()

    def page_words(self, doc_id: str, page: int) -> PageWords | None:
        return self.engine.store.page_words(doc_id, page)

    def ask(self, question: str, earlier: Sequence[str], top_k: int, filters: Filters,
            max_tokens: int) -> Generator[Step, None, None]:
        query = search_query([*earlier, question])
        yield Step("search", query)
        for event in self.engine.stream(query, top_k, filters or None, max_tokens):
            if isinstance(event.data, list):
                yield Step("sources", event.data)
            elif isinstance(event.data, Answer):
                yield Step("answer", event.data)
            else:
                yield Step("token", event.data)
