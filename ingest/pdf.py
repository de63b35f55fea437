"""PDF files: text per page, running headers and footers dropped, headings and metadata.

Text comes from pypdf's default ("plain") extraction, which follows the content stream: on the
real guideline PDFs it keeps the two columns of a page apart, where "layout" mode interleaves
their lines. Running headers, footers and page numbers are dropped, words hyphenated across line
ends are joined, and headings come from the outline, else from font sizes, else from numbered
lines. An encrypted PDF opens when its user password is empty (AES needs `cryptography`).
"""

from __future__ import annotations

import io
import logging
import math
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ingest.document import DocumentMetadata, Heading, LoadedDocument
from ingest.text import LIGATURES, clean_title, iso_date, numbered_headings
from meditron_rag.errors import LoadError

_MIN_CHARS_PER_PAGE = 10  # below this on average, a PDF has no real text layer
_EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers/footers
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf reports harmless repairs as warnings


@dataclass
class _Run:
    """A piece of text as pypdf drew it, with its rendered font size in points."""

    text: str
    size: float
    family: str = ""
    y: float = 0.0  # height of the baseline on the page, from the bottom


def load_pdf(path: Path, data: bytes) -> LoadedDocument:
    """A PDF's pages as one text; `LoadError` when it is damaged, locked or has no text layer."""
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
        headings = _merge_numbered(headings, numbered_headings(text))
    elif not headings:
        headings = numbered_headings(text)
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
        raw = _CONTROL.sub("", (raw or "").translate(LIGATURES))
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


def _outline(reader: PdfReader) -> list[_Wanted]:
    """Bookmarks with their page and depth; Word's hidden `_GoBack` marks are skipped."""
    found: list[_Wanted] = []

    def walk(items: list[object], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            title = clean_title(str(getattr(item, "title", "") or ""))
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
        title = clean_title(" ".join(lines))
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
    values = {str(key).lstrip("/"): clean_title(str(value)) for key, value in info.items()
              if isinstance(value, str)}
    title = values.pop("Title", "")
    if re.search(r"^(microsoft word - |untitled)|\.(docx?|pdf|indd|tex|dvi|rtf)$", title, re.I):
        title = ""
    if not title and first_page:
        largest = max(run.size for run in first_page)
        cover = clean_title(" ".join(r.text for r in first_page if r.size == largest))
        title = cover if 0 < len(cover.split()) <= 30 else ""
    if not title and headings:
        title = headings[0].title

    def take(*keys: str) -> str:
        found = [values.pop(key, "") for key in keys]
        return next((value for value in found if value), "")

    meta = DocumentMetadata(title=title or path.stem)
    meta.organisation = take("Organisation", "Organization", "Author")
    published, created = take("PublicationDate"), take("CreationDate")
    meta.date = iso_date(published) or iso_date(created)
    meta.url = take("SourceURL", "URL")
    meta.licence = take("Licence", "License")
    take("ModDate", "Creator", "Producer", "Trapped")
    meta.extra = {key.lower(): value for key, value in values.items() if value}
    return meta
