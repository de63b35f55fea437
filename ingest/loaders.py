"""Turn a file on disk into a `LoadedDocument`: its text, page offsets, headings and metadata.

The kind is read from the content first and the name second, so a PDF saved as `.txt` is still
read as a PDF. Every file that cannot be read raises `LoadError` with one sentence saying why
and what to do. A `<file>.meta.yaml` beside a document overrides its metadata.

PDF text comes from pypdf's default ("plain") extraction, which follows the content stream: on
the real guideline PDFs it keeps the two columns of a page apart, where "layout" mode
interleaves their lines. Running headers, footers and page numbers are dropped, words
hyphenated across line ends are joined, and headings come from the outline, else from font
sizes, else from numbered lines.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import logging
import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import yaml
from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ingest.document import DocumentMetadata, Heading, LoadedDocument
from meditron_rag.errors import LoadError

SUPPORTED_SUFFIXES = (".pdf", ".md", ".markdown", ".html", ".htm", ".txt", ".text")
SIDECAR_SUFFIX = ".meta.yaml"

_MB = 1024 * 1024
_SNIFF_BYTES = 8192
_MIN_CHARS_PER_PAGE = 10  # below this on average, a PDF has no real text layer
_EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers/footers
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st", "\u00ad": None,
                            "\u00a0": " ", "\ufffc": None, "\x00": None})
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NUMBERED_HEADING = re.compile(
    r"^[ \t]*(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?[ \t]+(?P<title>[A-Z][^\n]{1,100}?)[ \t]*$"
)
_FIELDS = {"title": "title", "organisation": "organisation", "organization": "organisation",
           "date": "date", "url": "url", "licence": "licence", "license": "licence"}

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf reports harmless repairs as warnings


def load_document(path: Path, max_bytes: int = 200 * _MB) -> LoadedDocument:
    """Read one document; raise `LoadError` with a one-sentence reason when it cannot be read."""
    path = Path(path)
    data = _read_bytes(path, max_bytes)
    kind = _kind_of(path, data[:_SNIFF_BYTES])
    if kind == "pdf":
        doc = _load_pdf(path, data)
    else:
        text, warnings = _decode(data)
        if not text.strip():
            raise LoadError(path, "empty file: it has no text to index")
        loader = {"markdown": _load_markdown, "html": _load_html, "text": _load_text}[kind]
        doc = loader(path, text)
        doc.warnings[:0] = warnings
    _apply_sidecar(doc)
    return doc


def sniff_kind(path: Path) -> str:
    """"pdf", "html", "markdown" or "text", from the first bytes and the name of the file.

    Raises `LoadError` for a file that cannot be opened or holds binary data of another kind.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as exc:
        raise LoadError(path, _os_reason(exc)) from exc
    return _kind_of(path, head)


# ---------------------------------------------------------------------------------------------
# Reading, sniffing and decoding


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise LoadError(path, "is a folder, not a document")
        if size > max_bytes:
            raise LoadError(
                path, f"file too large ({size / _MB:.1f} MB > {max_bytes / _MB:.1f} MB limit): "
                      "split it or raise the limit"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, _os_reason(exc)) from exc
    if not data.strip():
        raise LoadError(path, "empty file: it has no text to index")
    return data


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found: check the path"
    if isinstance(exc, PermissionError):
        return "permission denied: make the file readable"
    return f"cannot read the file ({exc.strerror or exc})"


def _kind_of(path: Path, head: bytes) -> str:
    """By content first: `%PDF-` magic, then HTML tags, then a Markdown name or front matter."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if not _looks_like_text(head):
        raise LoadError(path, "not a supported document: binary data that is not PDF, "
                              "HTML, Markdown or text")
    start = _decode(head, quiet=True)[0].lstrip().lower()[:2048]
    suffix = path.suffix.lower()
    if start.startswith(("<!doctype html", "<html")) or "<html" in start[:1024]:
        return "html"
    if suffix in (".html", ".htm") and start.startswith("<"):
        return "html"
    if suffix in (".md", ".markdown") or start.startswith("---\n"):
        return "markdown"
    return "text"


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    sample = head.decode("latin-1")
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return control <= max(2, len(sample) // 100)


def _decode(data: bytes, quiet: bool = False) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else Windows-1252 / Latin-1 with a warning."""
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if quiet and exc.start >= len(data) - 3:  # a character cut by the sniffing window
                text = data[: exc.start].decode("utf-8")
            else:
                try:
                    text = data.decode("cp1252")
                    warnings.append("not valid UTF-8: read as Windows-1252 (cp1252)")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
                    warnings.append("not valid UTF-8: read as Latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text, warnings


# ---------------------------------------------------------------------------------------------
# Metadata: dates, front matter, sidecars


def _iso_date(value: object) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD from a date, a PDF date ("D:20161117...") or common strings."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    text = str(value or "").strip()
    if text.startswith("D:"):
        digits = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", text)
        if not digits:
            return ""
        return "-".join(part for part in digits.groups() if part)
    match = re.match(r"^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?(?:$|[T\s])", text)
    if match:
        year, month, day = match.groups()
        parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
        return "-".join(parts)
    for fmt in ("%d %B %Y", "%B %d, %Y", "%B %Y", "%d %b %Y", "%b %Y"):
        try:
            parsed = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.strftime("%Y-%m" if "%d" not in fmt else "%Y-%m-%d")
    return ""


def _merge_metadata(meta: DocumentMetadata, values: dict[object, object],
                    warnings: list[str]) -> None:
    """Front-matter / sidecar keys onto `meta`; unknown keys go to `extra` as strings."""
    for raw_key, value in values.items():
        key = str(raw_key).strip().lower()
        if value is None:
            continue
        field_name = _FIELDS.get(key)
        if field_name == "date":
            iso = _iso_date(value)
            if iso:
                meta.date = iso
            else:
                warnings.append(f"date {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD: ignored")
        elif field_name:
            setattr(meta, field_name, str(value).strip())
        elif isinstance(value, (list, tuple)):
            meta.extra[key] = ", ".join(str(item) for item in value)
        else:
            meta.extra[key] = _iso_date(value) if isinstance(value, dt.date) else str(value)


def _apply_sidecar(doc: LoadedDocument) -> None:
    sidecar = doc.path.with_name(doc.path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return
    try:
        values = yaml.safe_load(sidecar.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LoadError(doc.path, f"its metadata file {sidecar.name} is not valid YAML: "
                                  "fix or remove it") from exc
    if values is None:
        return
    if not isinstance(values, dict):
        raise LoadError(doc.path, f"its metadata file {sidecar.name} is not a mapping of "
                                  "keys to values: fix or remove it")
    _merge_metadata(doc.metadata, values, doc.warnings)


def _split_front_matter(text: str) -> tuple[dict[object, object], str, list[str]]:
    """(front matter, body, warnings); the body is the text after the closing `---`."""
    match = re.match(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", text, re.S)
    if not match:
        return {}, text, []
    try:
        values = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError:
        return {}, text, ["front matter is not valid YAML: kept as text"]
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return {}, text, ["front matter is not a mapping of keys to values: kept as text"]
    return values, text[match.end():].lstrip("\n"), []


# ---------------------------------------------------------------------------------------------
# Markdown, text, HTML


def _load_markdown(path: Path, text: str) -> LoadedDocument:
    values, body, warnings = _split_front_matter(text)
    meta = DocumentMetadata()
    _merge_metadata(meta, values, warnings)
    headings = _markdown_headings(body)
    if not meta.title:
        top = [h for h in headings if h.level == 1]
        meta.title = top[0].title if top else path.stem
    return LoadedDocument(path, "markdown", body, [0], headings, meta, False, warnings)


def _markdown_headings(text: str) -> list[Heading]:
    """ATX (`## Title`) and setext (underlined) headings, outside fenced code blocks."""
    headings: list[Heading] = []
    fence = ""
    offset = 0
    lines = text.split("\n")
    starts = []
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    for i, line in enumerate(lines):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        atx = re.match(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", line)
        if atx:
            headings.append(Heading(starts[i], len(atx.group(1)), atx.group(2).strip()))
            continue
        under = re.match(r"^ {0,3}(=+|-+)[ \t]*$", line)
        previous = lines[i - 1].strip() if i else ""
        before = lines[i - 2].strip() if i >= 2 else ""
        if (under and previous and not before and not previous.startswith(("-", "*", "|", "#"))
                and len(under.group(1)) >= 2):
            level = 1 if under.group(1)[0] == "=" else 2
            headings.append(Heading(starts[i - 1], level, previous))
    return headings


def _load_text(path: Path, text: str) -> LoadedDocument:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    title = first if len(first) <= 100 and not first.endswith(".") else path.stem
    headings = _numbered_headings(text)
    return LoadedDocument(path, "text", text, [0], headings, DocumentMetadata(title=title))


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


def _load_html(path: Path, text: str) -> LoadedDocument:
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
        date=_iso_date(_first_meta(meta_tags, "citation_publication_date", "citation_date",
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


# ---------------------------------------------------------------------------------------------
# PDF


@dataclass
class _Run:
    """A piece of text as pypdf drew it, with its rendered font size in points."""

    text: str
    size: float
    family: str = ""
    y: float = 0.0  # height of the baseline on the page, from the bottom


def _load_pdf(path: Path, data: bytes) -> LoadedDocument:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except DependencyError as exc:
                raise LoadError(path, "encrypted PDF that needs the 'cryptography' package: "
                                      "pip install cryptography, or remove the password") from exc
            except Exception as exc:  # an encryption scheme pypdf cannot open
                raise LoadError(path, "encrypted PDF: remove the password and add it "
                                      "again") from exc
            if not decrypted:
                raise LoadError(path, "encrypted PDF: remove the password and add it again")
        page_count = len(reader.pages)
    except LoadError:
        raise
    except FileNotDecryptedError as exc:
        raise LoadError(path, "encrypted PDF: remove the password and add it again") from exc
    except Exception as exc:  # pypdf raises many types on a damaged file
        raise LoadError(path, "corrupt or truncated PDF: re-download or re-export it") from exc
    if page_count == 0:
        raise LoadError(path, "corrupt or truncated PDF with no pages: re-download or "
                              "re-export it")

    warnings: list[str] = []
    raw_pages, runs, failed = _extract_pages(reader)
    if len(failed) == page_count:
        raise LoadError(path, "corrupt or truncated PDF: no page could be read; re-download "
                              "or re-export it")
    if failed:
        warnings.append(f"pages {_page_list(failed)} could not be read and are left empty")
    chars = sum(len(re.sub(r"\s", "", "\n".join(page))) for page in raw_pages)
    if chars < _MIN_CHARS_PER_PAGE * page_count:
        raise LoadError(path, "scanned PDF with no text layer: run OCR (e.g. ocrmypdf) first")
    blank = [i + 1 for i, page in enumerate(raw_pages)
             if not "".join(page).strip() and i + 1 not in failed]
    if blank and len(blank) < page_count:
        warnings.append(f"pages {_page_list(blank)} have no text (blank or scanned)")

    pages = _clean_pages(raw_pages)
    outline = _outline(reader)
    placed = _place_headings(pages, outline, runs)
    text, page_starts, headings = _assemble(pages, placed)
    if outline:
        headings = _merge_numbered(headings, _numbered_headings(text))
    elif not headings:
        headings = _numbered_headings(text)
    meta = _pdf_metadata(reader, path, runs[0] if runs else [], headings)
    return LoadedDocument(path, "pdf", text, page_starts, headings, meta, True, warnings)


def _page_list(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:10])
    return shown + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")


def _extract_pages(reader: PdfReader) -> tuple[list[list[str]], list[list[_Run]], list[int]]:
    """Each page's lines (plain extraction), its text runs with font sizes, and failed pages."""
    pages: list[list[str]] = []
    runs: list[list[_Run]] = []
    failed: list[int] = []
    for number in range(1, len(reader.pages) + 1):
        page_runs: list[_Run] = []

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: float,
                  page_runs: list[_Run] = page_runs) -> None:
            if text.strip():
                scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
                name = str((font or {}).get("/BaseFont", "")) if isinstance(font, dict) else ""
                family = re.split(r"[-,]", name.lstrip("/").split("+")[-1])[0]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                page_runs.append(_Run(text, round(float(size) * scale, 1), family, float(y)))

        try:
            raw = reader.pages[number - 1].extract_text(visitor_text=visit)
        except Exception:  # pypdf raises many types on a damaged page
            failed.append(number)
            raw, page_runs = "", []
        raw = _CONTROL.sub("", (raw or "").translate(_LIGATURES))
        pages.append([line.rstrip() for line in raw.split("\n")])
        runs.append(page_runs)
    return pages, runs, failed


def _edge_key(line: str) -> str:
    """A line as a running header sees it: no spaces, every number the same."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


def _boilerplate(pages: list[list[str]]) -> set[str]:
    """Edge-line keys that are running headers/footers or page numbers.

    A key is boilerplate when it sits among the first or last lines of most pages (more than
    half, at least 2), or when it is an all-capitals running section title on 3 or more pages in
    a row. Digits count as one and spaces are ignored, so "Page 3 of 9" matches "Page 4 of 9".
    """
    seen: dict[str, list[int]] = defaultdict(list)
    for index, lines in enumerate(pages):
        filled = [line for line in lines if line.strip()]
        for key in {_edge_key(line) for line in filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]}:
            seen[key].append(index)
    threshold = max(2, len(pages) // 2 + 1)
    keys = set()
    for key, where in seen.items():
        letters = re.sub(r"[^A-Za-z]", "", key)
        running_title = len(letters) >= 4 and letters.isupper() and _longest_run(where) >= 3
        if len(where) >= threshold or running_title:
            keys.add(key)
    return keys


def _longest_run(indexes: list[int]) -> int:
    best = current = 1
    for a, b in zip(indexes, indexes[1:], strict=False):
        current = current + 1 if b == a + 1 else 1
        best = max(best, current)
    return best


def _strip_edges(lines: list[str], keys: set[str]) -> list[str]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    drop = set()
    for order in (filled[:_EDGE_LINES], list(reversed(filled[-_EDGE_LINES:]))):
        for i in order:
            if _edge_key(lines[i]) not in keys:
                break
            drop.add(i)
    return [line for i, line in enumerate(lines) if i not in drop]


def _join_hyphenated(lines: list[str], vocabulary: set[str]) -> list[str]:
    """"recom-" + "mendation" -> "recommendation"; "hospital-" + "based" keeps its hyphen.

    The hyphen stays when the document spells the compound with one elsewhere, or when both
    halves are words of the document and the joined word is not.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        while i + 1 < len(lines):
            end = re.search(r"(?<![-/.])\b([A-Za-z]+)-$", line)
            nxt = re.match(r"[ \t]*([a-z]+)", lines[i + 1])
            if not end or not nxt:
                break
            left, right = end.group(1).lower(), nxt.group(1)
            keep = left + right not in vocabulary and (
                f"{left}-{right}" in vocabulary or (left in vocabulary and right in vocabulary))
            line = line[:-1] + ("-" if keep else "") + lines[i + 1].lstrip()
            i += 1
        out.append(line)
        i += 1
    return out


def _paragraph_breaks(lines: list[str]) -> list[str]:
    """A blank line after a short line that ends a sentence: the end of a paragraph."""
    lengths = [len(line) for line in lines if len(line.strip()) >= 20]
    if len(lengths) < 3:
        return lines
    typical = statistics.median(lengths)
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if (nxt.strip() and len(line) < 0.75 * typical
                and re.search(r"[.!?:][\"'”’)\]]?$", line.strip())):
            out.append("")
    return out


def _vocabulary(pages: list[list[str]]) -> set[str]:
    """Words of the document, lowercased, leaving out the halves of words split at line ends."""
    words: set[str] = set()
    for lines in pages:
        after_hyphen = False
        for line in lines:
            found = re.findall(r"(?<![A-Za-z-])[A-Za-z]+(?:-[A-Za-z]+)*(?![A-Za-z-])", line)
            ends_split = line.rstrip().endswith("-")
            words.update(word.lower() for word in found[int(after_hyphen):len(found)
                                                        - int(ends_split)])
            after_hyphen = ends_split
    words |= {part for word in list(words) for part in word.split("-")}
    return words


def _clean_pages(pages: list[list[str]]) -> list[list[str]]:
    keys = _boilerplate(pages)
    stripped = [_strip_edges(lines, keys) for lines in pages]
    vocabulary = _vocabulary(stripped)
    cleaned = []
    for lines in stripped:
        lines = _paragraph_breaks(_join_hyphenated(lines, vocabulary))
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        cleaned.append(text.split("\n") if text else [])
    return cleaned


# Headings in PDFs ----------------------------------------------------------------------------


@dataclass
class _Wanted:
    """A heading to find on a page (0-based) by its title."""

    page: int
    level: int
    title: str
    from_outline: bool


def _clean_title(title: str) -> str:
    return re.sub(r"\s+", " ", title.translate(_LIGATURES)).strip()


def _outline(reader: PdfReader) -> list[_Wanted]:
    """Bookmarks with their page and depth; Word's hidden `_GoBack` marks are skipped."""
    found: list[_Wanted] = []

    def walk(items: list[object], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            title = _clean_title(str(getattr(item, "title", "") or ""))
            if not title or title.startswith("_"):
                continue
            try:
                page = reader.get_destination_page_number(item)  # type: ignore[arg-type]
            except Exception:  # a broken bookmark is skipped, not fatal
                continue
            if page is not None and page >= 0:
                found.append(_Wanted(page, depth + 1, title, True))

    try:
        walk(reader.outline, 0)
    except Exception:  # a damaged outline means no outline
        return []
    return found


def _font_headings(runs: list[list[_Run]]) -> list[_Wanted]:
    """Short whole lines set apart from the body text by their font.

    Larger than the body (by 15 % or more): levels by size, sizes within 20 % of the next larger
    one sharing its level. Body-sized but in another font family (a sans-serif run-in title over
    serif text): one level below those.
    """
    weights: Counter[tuple[str, float]] = Counter()
    for page_runs in runs:
        for run in page_runs:
            weights[(run.family, run.size)] += len(run.text.strip())
    if not weights:
        return []
    body_family, body = weights.most_common(1)[0][0]
    groups: list[tuple[int, _Run, list[str]]] = []
    for page, page_runs in enumerate(runs):
        previous: _Run | None = None
        for run in page_runs:
            big = run.size >= body * 1.15
            emphasis = abs(run.size - body) <= body * 0.05 and run.family != body_family
            if not (big or emphasis):
                previous = None
                continue
            if previous is not None and (previous.size, previous.family) == (run.size,
                                                                             run.family):
                groups[-1][2].append(run.text)  # the next line of the same heading
            else:
                groups.append((page, run, [run.text]))
            previous = run
    sizes = sorted({run.size for _, run, _ in groups if run.size >= body * 1.15}, reverse=True)
    levels: dict[float, int] = {}
    for size in sizes:
        bigger = [s for s in levels if s > size]
        closest = min(bigger) if bigger else None
        levels[size] = 1 if closest is None else levels[closest] + (closest / size > 1.2)
    deepest = max(levels.values(), default=0) + 1
    wanted = []
    for page, run, texts in groups:
        lines = [line.strip() for text in texts for line in text.split("\n") if line.strip()]
        title = _clean_title(" ".join(lines))
        big = run.size in levels
        letters = len(re.sub(r"[^A-Za-z]", "", title))
        if (1 <= len(lines) <= (4 if big else 2) and len(title.split()) <= (20 if big else 12)
                and re.match(r"[A-Z0-9]", title) and letters >= 3
                and not title.endswith((".", ",", ";"))
                and not re.search(r"[a-z]{2}[.;]\s", title)):
            wanted.append(_Wanted(page, levels.get(run.size, deepest), title, False))
    return wanted


def _squash(text: str) -> tuple[str, list[int]]:
    """Letters and digits only, case-folded, with each one's index in `text`."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isalnum():
            for folded in ch.casefold():
                chars.append(folded)
                where.append(i)
    return "".join(chars), where


def _find(text: str, needle: str, start: int) -> tuple[int, int] | None:
    """Span of `needle` in `text` at or after `start`, ignoring case, spaces and punctuation.

    A match at the start of a line wins over an earlier one inside a sentence.
    """
    squashed, where = _squash(text)
    target = _squash(needle)[0]
    if not target:
        return None
    first = None
    pos = squashed.find(target)
    while pos >= 0:
        begin, end = where[pos], where[pos + len(target) - 1] + 1
        if begin >= start:
            if not text[text.rfind("\n", 0, begin) + 1:begin].strip():
                return begin, end
            first = first or (begin, end)
        pos = squashed.find(target, pos + 1)
    return first


def _place_headings(pages: list[list[str]], outline: list[_Wanted],
                    runs: list[list[_Run]]) -> list[list[tuple[int, _Wanted]]]:
    """For each page, (offset in the page text, heading), in page order.

    A heading that ends its page's text but is drawn above the text that starts the page is
    moved to the page's start: there only the file's content-stream order put it last.
    """
    wanted = outline or _font_headings(runs)
    by_page: dict[int, list[_Wanted]] = defaultdict(list)
    for item in wanted:
        if item.page < len(pages):
            by_page[item.page].append(item)
    placed: list[list[tuple[int, _Wanted]]] = []
    for index, lines in enumerate(pages):
        text = "\n".join(lines)
        found: list[tuple[int, _Wanted]] = []
        cursor = 0
        for item in by_page.get(index, []):
            span = _find(text, item.title, cursor)
            if span is None:
                if item.from_outline:
                    found.append((cursor, item))
                continue
            begin = text.rfind("\n", 0, span[0]) + 1
            line_end = text.find("\n", span[1])
            line_end = len(text) if line_end < 0 else line_end
            if not item.from_outline and not _whole_lines(text, begin, span, line_end):
                continue
            if (begin > 0 and not text[line_end:].strip()
                    and _drawn_above(runs[index], item.title, text)):
                text = text[begin:line_end] + "\n\n" + text[:begin].rstrip("\n")
                pages[index] = text.split("\n")
                found = [(0, item)] + [(o + line_end - begin + 2, w) for o, w in found]
                cursor = line_end - begin
                continue
            found.append((begin, item))
            cursor = span[1]
        placed.append(sorted(found, key=lambda pair: pair[0]))
    return placed


def _drawn_above(runs: list[_Run], title: str, text: str) -> bool:
    """Whether `title` is drawn higher on the page than the first words of `text`."""
    heading, first = _baseline(runs, title), _baseline(runs, text)
    return heading is not None and first is not None and heading > first


def _baseline(runs: list[_Run], text: str) -> float | None:
    """The height of the run that draws the start of `text`."""
    want = _squash(text)[0][:16]
    for run in runs:
        have = _squash(run.text)[0][:16]
        if len(have) >= 3 and len(want) >= 3 and (want.startswith(have) or have.startswith(want)):
            return run.y
    return None


def _whole_lines(text: str, begin: int, span: tuple[int, int], line_end: int) -> bool:
    """A heading found by its font fills its lines, and no lowercase continuation follows."""
    nxt = text[line_end:].lstrip()[:1]
    rest = text[begin:span[0]] + text[span[1]:line_end]
    return not any(ch.isalnum() for ch in rest) and not nxt.islower()


def _assemble(pages: list[list[str]], placed: list[list[tuple[int, _Wanted]]]
              ) -> tuple[str, list[int], list[Heading]]:
    """One text: every page followed by a blank line, so no two pages share a start offset."""
    parts: list[str] = []
    starts: list[int] = []
    headings: list[Heading] = []
    offset = 0
    for lines, found in zip(pages, placed, strict=True):
        starts.append(offset)
        headings.extend(Heading(offset + o, w.level, w.title) for o, w in found)
        page_text = "\n".join(lines) + "\n\n"
        parts.append(page_text)
        offset += len(page_text)
    return "".join(parts), starts, headings


def _numbered_headings(text: str) -> list[Heading]:
    """Lines such as "3.2 Hand hygiene", conservatively.

    A candidate is short, has no sentence inside, is not a contents entry (no trailing page
    number), is not followed by a lowercase continuation line, and its number comes after the
    previous heading's number.
    """
    headings: list[Heading] = []
    last: tuple[int, ...] = ()
    offset = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        start, offset = offset, offset + len(line) + 1
        match = _NUMBERED_HEADING.match(line)
        if not match:
            continue
        title = match.group("title")
        number = tuple(int(part) for part in match.group("num").split("."))
        nxt = next((later.strip() for later in lines[i + 1:i + 3] if later.strip()), "")
        if (len(title.split()) > 12 or title.endswith((".", ",", ";", ":", "-"))
                or re.search(r"[.;]\s", title) or re.search(r"(\s\d+|\.{3,})$", title)
                or nxt[:1].islower() or number <= last or number[0] == 0
                or len(re.findall(r"[A-Za-z]{3,}", title)) == 0):
            continue
        last = number
        indent = len(line) - len(line.lstrip())
        headings.append(Heading(start + indent, len(number),
                                f"{match.group('num')} {_clean_title(title)}"))
    return headings


def _merge_numbered(outline: list[Heading], numbered: list[Heading]) -> list[Heading]:
    """Numbered sub-headings ("4.5 ...") inside the outline section numbered "4"."""
    ordered = sorted(outline, key=lambda h: h.offset)
    taken = {h.offset for h in outline}
    merged = list(outline)
    for heading in numbered:
        number = heading.title.split(" ", 1)[0].split(".")
        before = [h for h in ordered if h.offset < heading.offset]
        if len(number) < 2 or heading.offset in taken or not before:
            continue
        parent = None
        for index in range(len(before) - 1, -1, -1):
            candidate = before[index]
            if candidate.title.split(" ", 1)[0] == number[0]:
                later = before[index + 1:]
                parent = candidate if all(h.level > candidate.level for h in later) else None
                break
        if parent is not None:
            merged.append(Heading(heading.offset, parent.level + len(number) - 1, heading.title))
    return sorted(merged, key=lambda h: h.offset)


def _pdf_metadata(reader: PdfReader, path: Path, first_page: list[_Run],
                  headings: list[Heading]) -> DocumentMetadata:
    """The info dictionary (/Title, /Author, dates, custom keys), else the cover's largest text."""
    try:
        info = dict(reader.metadata or {})
    except Exception:  # a damaged info dictionary: no metadata
        info = {}
    values = {str(key).lstrip("/"): _clean_title(str(value)) for key, value in info.items()
              if isinstance(value, str)}
    title = values.pop("Title", "")
    if re.search(r"^(microsoft word - |untitled)|\.(docx?|pdf|indd|tex|dvi|rtf)$", title, re.I):
        title = ""
    if not title and first_page:
        largest = max(run.size for run in first_page)
        cover = _clean_title(" ".join(r.text for r in first_page if r.size == largest))
        title = cover if 0 < len(cover.split()) <= 30 else ""
    if not title and headings:
        title = headings[0].title

    def take(*keys: str) -> str:
        found = [values.pop(key, "") for key in keys]
        return next((value for value in found if value), "")

    meta = DocumentMetadata(title=title or path.stem)
    meta.organisation = take("Organisation", "Organization", "Author")
    published, created = take("PublicationDate"), take("CreationDate")
    meta.date = _iso_date(published) or _iso_date(created)
    meta.url = take("SourceURL", "URL")
    meta.licence = take("Licence", "License")
    take("ModDate", "Creator", "Producer", "Trapped")
    meta.extra = {key.lower(): value for key, value in values.items() if value}
    return meta
