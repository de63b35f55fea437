"""Grounded answers: retrieval, prompt packing, generation and citation checks.

Public surface: `Engine` (everything loaded once), `Filters`, and the records `Passage`,
`Answer`, `SentenceSupport`.
"""

from rag.engine import Engine, Event
from rag.records import Answer, Passage, SentenceSupport
from rag.retrieval import Filters, Retriever

__all__ = ["Answer", "Engine", "Event", "Filters", "Passage", "Retriever", "SentenceSupport"]
