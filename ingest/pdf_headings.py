"""Headings in PDFs: from the outline, else from font sizes, placed at their offsets."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import Destination

from ingest.document import Heading
from ingest.text import clean_title


@dataclass
class TextRun:
    """A piece of text as the page draws it, with its rendered font size in points."""

    text: str
    size: float
    family: str = ""
    y: float = 0.0  # height of the baseline on the page, from the bottom


@dataclass
class _Wanted:
    """A heading to find on a page (0-based) by its title."""

    page: int
    level: int
    title: str
    from_outline: bool


def bookmarks(reader: PdfReader) -> list[_Wanted]:
    """Bookmarks with their page and depth; Word's hidden `_GoBack` marks are skipped."""
    found: list[_Wanted] = []

    def walk(items: Sequence[object], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            if not isinstance(item, Destination):
                continue
            title = clean_title(str(item.title or ""))
            if not title or title.startswith("_"):
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a broken bookmark is skipped, not fatal
                continue
            if page is not None and page >= 0:
                found.append(_Wanted(page, depth + 1, title, True))

    try:
        walk(reader.outline, 0)
    except Exception:  # a damaged outline means no outline
        return []
    return found


def _font_headings(runs: list[list[TextRun]]) -> list[_Wanted]:
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
    groups: list[tuple[int, TextRun, list[str]]] = []
    for page, page_runs in enumerate(runs):
        previous: TextRun | None = None
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


def place_headings(pages: list[list[str]], outline: list[_Wanted],
                    runs: list[list[TextRun]]) -> list[list[tuple[int, _Wanted]]]:
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


def _drawn_above(runs: list[TextRun], title: str, text: str) -> bool:
    """Whether `title` is drawn higher on the page than the first words of `text`."""
    heading, first = _baseline(runs, title), _baseline(runs, text)
    return heading is not None and first is not None and heading > first


def _baseline(runs: list[TextRun], text: str) -> float | None:
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


def assemble(pages: list[list[str]], placed: list[list[tuple[int, _Wanted]]]
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


def merge_numbered(outline: list[Heading], numbered: list[Heading]) -> list[Heading]:
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
