"""HTML pages: readable text with blank lines between blocks, h1-h6 headings, and metadata
from <title>, citation/Dublin Core/Open Graph meta tags and rel links."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from ingest.document import DocumentMetadata, Heading, LoadedDocument
from ingest.text import iso_date
from meditron_rag.errors import LoadError

_SKIP_TAGS = {"script", "style", "nav", "noscript", "template", "svg", "iframe", "select"}
_BLOCK_TAGS = {"p", "div", "section", "article", "main", "header", "footer", "aside", "ul",
               "ol", "dl", "dt", "dd", "table", "blockquote", "pre", "figure", "figcaption",
               "form", "fieldset", "address", "hr", "caption", "details", "summary", "body"}
_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _HtmlText(HTMLParser):
    """Collects readable text (blank lines between blocks), headings, <title> and meta tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.breaks = 0
        self.skip = 0
        self.pre = 0
        self.in_title = False
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.headings: list[Heading] = []
        self.heading: tuple[int, int, list[str]] | None = None  # (level, offset, words)
        self.cells = 0

    def _break(self, count: int) -> None:
        if self.length:
            self.breaks = max(self.breaks, count)

    def _emit(self, text: str) -> None:
        if not self.pre and (self.breaks or not self.parts or self.parts[-1].endswith(
                ("\n", " "))):
            text = text.lstrip(" ")
        if not text:
            return
        if self.breaks:
            if self.parts:
                kept = self.parts[-1].rstrip(" ")
                self.length -= len(self.parts[-1]) - len(kept)
                self.parts[-1] = kept
            self.parts.append("\n" * self.breaks)
            self.length += self.breaks
            self.breaks = 0
        if self.heading is not None and self.heading[1] < 0:
            self.heading = (self.heading[0], self.length, self.heading[2])
        self.parts.append(text)
        self.length += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "meta":
            name = (values.get("name") or values.get("property") or "").strip().lower()
            if name and values.get("content") and name not in self.meta:
                self.meta[name] = values["content"].strip()
        elif tag == "link":
            for rel in values.get("rel", "").lower().split():
                self.links.setdefault(rel, values.get("href", ""))
        elif tag == "title":
            self.in_title = True
        elif tag in _HEADING_TAGS:
            self._break(2)
            self.heading = (_HEADING_TAGS[tag], -1, [])
        elif tag == "br":
            self._break(1)
        elif tag == "li":
            self._break(1)
            self._emit("- ")
        elif tag == "tr":
            self._break(1)
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self._emit(" | ")
            self.cells += 1
        elif tag in _BLOCK_TAGS:
            self._break(2)
            self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif self.skip:
            return
        elif tag == "title":
            self.in_title = False
        elif tag in _HEADING_TAGS and self.heading is not None:
            level, offset, words = self.heading
            title = re.sub(r"\s+", " ", "".join(words)).strip()
            if title and offset >= 0:
                self.headings.append(Heading(offset, level, title))
            self.heading = None
            self._break(2)
        elif tag in ("ul", "ol", "table", "dl"):
            self._break(2)
        elif tag in _BLOCK_TAGS:
            self._break(2)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.skip:
            return
        text = data if self.pre else re.sub(r"\s+", " ", data)
        if self.heading is not None:
            self.heading[2].append(text)
        self._emit(text)

    def text(self) -> str:
        """The collected text; it never starts with whitespace, so offsets hold."""
        return "".join(self.parts).rstrip() + "\n"


def _first_meta(meta: dict[str, str], *names: str) -> str:
    return next((meta[name] for name in names if meta.get(name)), "")


def load_html(path: Path, text: str) -> LoadedDocument:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    body = parser.text()
    headings = parser.headings
    meta_tags = parser.meta
    first_h1 = next((h.title for h in headings if h.level == 1), "")
    title = (_first_meta(meta_tags, "citation_title", "dc.title", "og:title")
             or re.sub(r"\s+", " ", parser.title).strip() or first_h1 or path.stem)
    meta = DocumentMetadata(
        title=title,
        organisation=_first_meta(meta_tags, "citation_publisher", "dc.publisher",
                                 "publisher", "og:site_name", "author"),
        date=iso_date(_first_meta(meta_tags, "citation_publication_date", "citation_date",
                                   "dc.date", "dc.date.issued", "article:published_time",
                                   "date")),
        url=_first_meta(meta_tags, "citation_public_url", "og:url") or parser.links.get(
            "canonical", ""),
        licence=_first_meta(meta_tags, "dc.rights", "license", "licence")
        or parser.links.get("license", ""),
    )
    for key in ("description", "keywords", "citation_doi", "topic"):
        if meta_tags.get(key):
            meta.extra[key] = meta_tags[key]
    if not body.strip():
        raise LoadError(path, "empty file: the HTML page has no visible text")
    return LoadedDocument(path, "html", body, [0], headings, meta)

