"""What a store returns: documents and chunks as stored, and the embedding model behind them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ingest.document import Chunk


@dataclass(frozen=True)
class Identity:
    """The embedding model an index's vectors come from, without the model itself. A store
    checks a model against it; any `ingest.Embedder` carries the same two attributes."""

    name: str
    dim: int


@dataclass(frozen=True)
class DocumentRecord:
    """A document as stored. `extra` holds front-matter keys such as topic and supersedes."""

    id: str
    path: str
    name: str
    kind: str
    sha256: str
    size_bytes: int
    pages: int
    paginated: bool
    title: str
    organisation: str
    date: str
    url: str
    licence: str
    extra: dict[str, str]
    warnings: list[str]
    chunk_count: int
    ingested_at: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(kw_only=True)
class ChunkRecord(Chunk):
    """A stored chunk: its id (never reused) and its document's beside the chunk itself."""

    id: int
    document_id: str

    _leading: ClassVar[tuple[str, ...]] = (
        "id", "document_id", "ordinal", "text", "section", "start", "end")
