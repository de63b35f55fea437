"""What a store returns: documents and chunks as stored, and the embedding model behind them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

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
    chunking: str = ""  # how its chunks were made (ingest.parsing.Chunker.recipe); "" unknown

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(kw_only=True)
class ChunkRecord(Chunk):
    """A stored chunk: its id (never reused) and its document's beside the chunk itself."""

    id: int
    document_id: str

    _leading: ClassVar[tuple[str, ...]] = (
        "id", "document_id", "ordinal", "text", "section", "start", "end")


DOCUMENT_FIELDS = tuple(f.name for f in fields(DocumentRecord))
CHUNK_FIELDS = ("id", "document_id", "ordinal", "text", "section", "start", "end",
                "page_start", "page_end", "char_start", "char_end", "ocr_confidence")
# The same as SQL select lists (both backends name their columns alike; "end" is a keyword).
DOCUMENT_COLUMNS = ", ".join(DOCUMENT_FIELDS)
CHUNK_COLUMNS = ", ".join(f'"{name}"' for name in CHUNK_FIELDS)


def document_from_row(row: Sequence[Any]) -> DocumentRecord:
    """A document from its columns in DOCUMENT_FIELDS order (extra and warnings as JSON)."""
    values: dict[str, Any] = dict(zip(DOCUMENT_FIELDS, row))
    values["paginated"] = bool(values["paginated"])
    values["extra"] = json.loads(str(values["extra"]))
    values["warnings"] = json.loads(str(values["warnings"]))
    return DocumentRecord(**values)


def chunk_from_row(row: Sequence[Any]) -> ChunkRecord:
    """A stored chunk from its columns in CHUNK_FIELDS order."""
    return ChunkRecord(**dict(zip(CHUNK_FIELDS, row)))


def page_confidences(extra: dict[str, str]) -> dict[int, float]:
    """Each OCR'd page's mean confidence from a document's record ("1:0.91 2:0.96")."""
    found: dict[int, float] = {}
    for part in extra.get("ocr_page_confidence", "").split():
        page, _, value = part.partition(":")
        try:
            found[int(page)] = float(value)
        except ValueError:
            continue
    return found
