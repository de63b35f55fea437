"""The records that flow through ingestion: a loaded document and its chunks.

Offsets are what make sources checkable: a document's text is the concatenation of its pages,
`page_starts[i]` is where page i+1 begins in it, and every chunk knows its page range and its
character offsets inside those pages' own text.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ingest.page_words import PageWords


@dataclass
class DocumentMetadata:
    """What a reader needs to judge a source. `date` is ISO: YYYY, YYYY-MM or YYYY-MM-DD."""

    title: str = ""
    organisation: str = ""
    date: str = ""
    url: str = ""
    licence: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Heading:
    """A heading at `offset` in the document text; level 1 is the top."""

    offset: int
    level: int
    title: str


@dataclass
class LoadedDocument:
    """A parsed file. Non-paginated formats (Markdown, HTML, text) have one page. A PDF's
    OCR'd pages keep their words, boxes and confidences in `page_words` (by page number)."""

    path: Path
    kind: str  # "pdf", "html", "markdown" or "text"
    text: str
    page_starts: list[int]
    headings: list[Heading]
    metadata: DocumentMetadata
    paginated: bool = False
    warnings: list[str] = field(default_factory=list)
    page_words: dict[int, PageWords] = field(default_factory=dict)

    @property
    def page_count(self) -> int:
        return len(self.page_starts)

    def page_of(self, offset: int) -> int:
        """1-based page number of a character offset."""
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def page_text(self, page: int) -> str:
        start = self.page_starts[page - 1]
        end = self.page_starts[page] if page < len(self.page_starts) else len(self.text)
        return self.text[start:end]


@dataclass(kw_only=True)
class Excerpt:
    """Text of a document and where it lies: what a chunk, a stored chunk and a retrieved
    passage share. `page_start`/`char_start` and `page_end`/`char_end` are its first and last
    positions as (page, offset inside that page's text); `section` is its heading path.
    `ocr_confidence` is None for text from a text layer; for text read by OCR (wholly or in
    part), the engine's mean confidence over its OCR'd words, 0 to 1.
    """

    text: str
    section: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    ocr_confidence: float | None = None

    # Keys that `to_dict` puts first: a subclass keeps the order its JSON has always had,
    # though a dataclass lists inherited fields before its own.
    _leading: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        return {**{key: data[key] for key in self._leading}, **data}


@dataclass(kw_only=True)
class Chunk(Excerpt):
    """A passage to embed and cite: the `ordinal`-th of its document, from offset `start` to
    `end` in the document text."""

    ordinal: int
    start: int
    end: int
