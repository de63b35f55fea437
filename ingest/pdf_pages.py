"""A PDF's page lines made into running text: edges, hyphens and paragraphs.

Running headers, footers and page numbers are dropped, words hyphenated across line ends are
joined, and a short line that ends a sentence ends its paragraph.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict

_EDGE_LINES = 3  # lines at the top and bottom of a page that may be running headers/footers


def _edge_key(line: str) -> str:
    """A line as a running header sees it: no spaces, every number the same, and no page
    number at either end (a header drawn beside its page number is read as one line, the
    number before it on even pages and after it on odd ones)."""
    return re.sub(r"^#|#$", "", re.sub(r"\d+", "#", re.sub(r"\s+", "", line)))


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


def clean_pages(pages: list[list[str]]) -> list[list[str]]:
    """Each page's lines without running headers or footers, joined and split into paragraphs."""
    keys = _boilerplate(pages)
    stripped = [_strip_edges(lines, keys) for lines in pages]
    vocabulary = _vocabulary(stripped)
    cleaned = []
    for lines in stripped:
        lines = _paragraph_breaks(_join_hyphenated(lines, vocabulary))
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        cleaned.append(text.split("\n") if text else [])
    return cleaned

