"""Plain text and Markdown, and what every loader shares: decoding, dates, front matter,
numbered headings.

Text is decoded as UTF-8 (with or without BOM), UTF-16 by BOM or by its pattern of zero bytes,
else Windows-1252 / Latin-1 with a warning. Metadata keys from front matter or a sidecar map
onto `DocumentMetadata`; unknown keys go to `extra`.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from pathlib import Path

import yaml

from ingest.document import DocumentMetadata, Heading, LoadedDocument

LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st", "\u00ad": None,
                            "\u00a0": " ", "\ufffc": None, "\x00": None})
_NUMBERED_HEADING = re.compile(
    r"^[ \t]*(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?[ \t]+(?P<title>[A-Z][^\n]{1,100}?)[ \t]*$"
)
_FIELDS = {"title": "title", "organisation": "organisation", "organization": "organisation",
           "date": "date", "url": "url", "licence": "licence", "license": "licence"}


def looks_like_utf16(head: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" for UTF-16 text without a BOM, judged by its zero bytes.

    Text in a Latin script written as UTF-16 has a zero in every other byte; binary data has
    zeros scattered over both positions.
    """
    sample = head[: len(head) - len(head) % 2][:4096]
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even = sum(1 for b in sample[0::2] if b == 0)
    odd = sum(1 for b in sample[1::2] if b == 0)
    if odd >= 0.6 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if even >= 0.6 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def decode(data: bytes, quiet: bool = False) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), UTF-16 by BOM or zero bytes, else Windows-1252 / Latin-1
    with a warning."""
    warnings: list[str] = []
    utf16 = looks_like_utf16(data[:4096])
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif utf16:
        text = data[: len(data) - len(data) % 2].decode(utf16, errors="replace")
        if not quiet:
            warnings.append(f"no byte-order mark: read as {utf16.upper()}")
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


def iso_date(value: object) -> str:
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


def merge_metadata(meta: DocumentMetadata, values: dict[object, object],
                    warnings: list[str]) -> None:
    """Front-matter / sidecar keys onto `meta`; unknown keys go to `extra` as strings."""
    for raw_key, value in values.items():
        key = str(raw_key).strip().lower()
        if value is None:
            continue
        field_name = _FIELDS.get(key)
        if field_name == "date":
            iso = iso_date(value)
            if iso:
                meta.date = iso
            else:
                warnings.append(f"date {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD: ignored")
        elif field_name:
            setattr(meta, field_name, str(value).strip())
        elif isinstance(value, (list, tuple)):
            meta.extra[key] = ", ".join(str(item) for item in value)
        else:
            meta.extra[key] = iso_date(value) if isinstance(value, dt.date) else str(value)


def split_front_matter(text: str) -> tuple[dict[object, object], str, list[str]]:
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


def load_markdown(path: Path, text: str) -> LoadedDocument:
    values, body, warnings = split_front_matter(text)
    meta = DocumentMetadata()
    merge_metadata(meta, values, warnings)
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


def load_text(path: Path, text: str) -> LoadedDocument:
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    title = first if len(first) <= 100 and not first.endswith(".") else path.stem
    headings = numbered_headings(text)
    return LoadedDocument(path, "text", text, [0], headings, DocumentMetadata(title=title))


def numbered_headings(text: str) -> list[Heading]:
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
                                f"{match.group('num')} {clean_title(title)}"))
    return headings


def clean_title(title: str) -> str:
    return re.sub(r"\s+", " ", title.translate(LIGATURES)).strip()

