"""Split a loaded document into passages sized for the embedding model.

The document's own structure decides the cuts, coarsest first: a chunk never spans two sections
(headings); inside a section, blocks (paragraphs, lists, tables; a list or table stays whole
where it fits) are packed together up to the limit; a block too big is cut between list items or
table rows, then between sentences, then between words. Sizes are measured by `count_tokens`,
the embedding model's tokenizer in production.

Packing asks the size of many overlapping spans (a chunk as it grows, its trailing sentences),
and tokenizing each one again took most of the chunking time. Given `token_spans` (the
tokenizer's character offsets), a section is tokenized once and a span's size is the number of
its tokens that lie inside the span: exact for a tokenizer that splits words at whitespace
first, as WordPiece does. Each chunk cut that way is still measured by `count_tokens`, and a
section with a chunk over the limit is cut again measuring every span, so any tokenizer gets
the same guarantee.

Rules worth knowing:
- A chunk's text is a verbatim slice: `doc.text[chunk.start:chunk.end] == chunk.text`, with no
  surrounding whitespace. `char_start`/`char_end` are the same two offsets counted from the start
  of `page_start`'s and `page_end`'s text (ends are exclusive, as in Python slices).
- A heading line belongs to the first chunk of its section, so the passage reads as it does in
  the document; a section that holds nothing but its heading makes no chunk of its own.
- `section` is the heading path, titles joined with " > " by heading level. A lone top heading
  (the only one at the top level, and the first heading) is the document's title: it is left out
  of the paths below it, as it would repeat in every one.
- Consecutive chunks of the same section overlap by the whole trailing sentences of the first
  whose token count is nearest `overlap_tokens` (at most twice that, never a whole chunk).
- A chunk holds more than `chunk_tokens` tokens only when it is a single unsplittable word.
- Text before the first heading has the section "". Chunks with no letter or digit are dropped.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingest.document import Chunk, Heading, LoadedDocument
from ingest.page_words import squash
from meditron_rag.text import Span, item_spans, paragraph_spans, sentence_spans


@dataclass(frozen=True)
class _Section:
    start: int
    end: int
    path: str


Count = Callable[[int, int], int]  # tokens in the document's text[start:end]
# A text's tokens as (start, end) offsets; None where the tokenizer gives no offsets.
TokenSpans = Callable[[str], Sequence[tuple[int, int]] | None]


def chunk_document(doc: LoadedDocument, count_tokens: Callable[[str], int], *,
                   chunk_tokens: int, overlap_tokens: int,
                   token_spans: TokenSpans | None = None) -> list[Chunk]:
    """Chunks in document order, numbered from 0; see the module docstring for the rules.
    The sizes are chunking.chunk_tokens and chunking.overlap_tokens in the product;
    `token_spans`, where the tokenizer gives offsets, makes measuring spans fast."""
    text = doc.text

    def exact(start: int, end: int) -> int:
        return count_tokens(text[start:end])

    chunks: list[Chunk] = []
    for section in _sections(doc):
        spans = None
        quick = _counter(text, section, token_spans) if token_spans else None
        if quick is not None:
            spans = _cut(text, section, quick, chunk_tokens, overlap_tokens)
            if any(exact(start, end) > chunk_tokens and len(text[start:end].split()) > 1
                   for start, end in spans):
                spans = None  # the tokenizer's counts do not add up over spans
        if spans is None:
            spans = _cut(text, section, exact, chunk_tokens, overlap_tokens)
        for start, end in spans:
            if any(ch.isalnum() for ch in text[start:end]):
                chunks.append(_chunk(doc, len(chunks), start, end, section.path))
    return chunks


def _counter(text: str, section: _Section, token_spans: TokenSpans) -> Count | None:
    """Tokens of any span of `section`, from one tokenization of the whole section: those
    that lie inside the span."""
    spans = token_spans(text[section.start:section.end])
    if spans is None:
        return None
    starts = [section.start + start for start, _ in spans]
    ends = [section.start + end for _, end in spans]

    def count(start: int, end: int) -> int:
        return max(0, bisect_right(ends, end) - bisect_left(starts, start))

    return count


def _cut(text: str, section: _Section, count: Count, limit: int, overlap: int) -> list[Span]:
    def fits(span: Span) -> bool:
        return count(*span) <= limit

    units = _units(text, section.start, section.end, fits, headed=bool(section.path))
    return _pack(text, units, count, limit, overlap)


def section_paths(headings: list[Heading]) -> list[str]:
    """The " > " path of each heading (sorted by offset), the lone top heading left out."""
    ordered = sorted(headings, key=lambda h: h.offset)
    if not ordered:
        return []
    top = min(h.level for h in ordered)
    tops = [h for h in ordered if h.level == top]
    root = ordered[0] if len(tops) == 1 and tops[0] is ordered[0] else None
    stack: list[Heading] = []
    paths = []
    for heading in ordered:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        shown = [h.title for h in stack if h is not root] or [heading.title]
        paths.append(" > ".join(shown))
    return paths


def _sections(doc: LoadedDocument) -> list[_Section]:
    text = doc.text
    headings = sorted((h for h in doc.headings if 0 <= h.offset < len(text)),
                      key=lambda h: h.offset)
    paths = section_paths(headings)
    bounds = [h.offset for h in headings] + [len(text)]
    sections = []
    if not headings or headings[0].offset > 0:
        sections.append(_Section(0, bounds[0], ""))
    for i, heading in enumerate(headings):
        start, end = heading.offset, bounds[i + 1]
        if _letters(text[start:end]) != _letters(heading.title):  # more than the heading
            sections.append(_Section(start, end, paths[i]))
    return sections


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _words(text: str, start: int, end: int, fits: Callable[[Span], bool]) -> list[Span]:
    """Greedy runs of whole words that fit; a single word too long stays whole."""
    pieces: list[Span] = []
    current: Span | None = None
    for match in re.finditer(r"\S+", text[start:end]):
        word = (start + match.start(), start + match.end())
        if current is not None and fits((current[0], word[1])):
            current = (current[0], word[1])
            continue
        if current is not None:
            pieces.append(current)
        current = word
    if current is not None:
        pieces.append(current)
    return pieces


def _units(text: str, start: int, end: int, fits: Callable[[Span], bool],
           headed: bool = False) -> list[Span]:
    """Pieces that each fit (but single words), from the coarsest structure that allows it. In
    a `headed` section a heading line that is a paragraph of its own is one block with the
    paragraph after it, so that it is never a chunk of its own."""
    blocks = paragraph_spans(text, start, end)
    if headed and len(blocks) > 1 and "\n" not in text[blocks[0][0]:blocks[0][1]]:
        blocks = [(blocks[0][0], blocks[1][1]), *blocks[2:]]
    units: list[Span] = []
    for block in blocks:
        if fits(block):
            units.append(block)
            continue
        for item in item_spans(text, *block):
            if fits(item):
                units.append(item)
                continue
            for sentence in sentence_spans(text, *item):
                if fits(sentence):
                    units.append(sentence)
                else:
                    units.extend(_words(text, *sentence, fits))
    return units


def _pack(text: str, units: list[Span], count: Count, limit: int, overlap: int) -> list[Span]:
    """Consecutive units merged while they fit; each new chunk starts with an overlap."""
    chunks: list[Span] = []
    current: Span | None = None
    for unit in units:
        if current is None:
            current = unit
        elif count(current[0], unit[1]) <= limit:
            current = (current[0], unit[1])
        else:
            chunks.append(current)
            begin = _overlap_start(text, current, count, overlap)
            fitting = begin is not None and count(begin, unit[1]) <= limit
            current = (begin, unit[1]) if fitting and begin is not None else unit
    if current is not None:
        chunks.append(current)
    return chunks


def _overlap_start(text: str, chunk: Span, count: Count, overlap: int) -> int | None:
    """Start of the chunk's trailing whole sentences whose size is nearest `overlap`."""
    if overlap <= 0:
        return None
    sentences = sentence_spans(text, *chunk)
    best: tuple[int, int] | None = None  # (distance from overlap, start)
    for sentence in reversed(sentences[1:]):
        size = count(sentence[0], chunk[1])
        if size > 2 * overlap:
            break
        if best is None or abs(size - overlap) <= best[0]:
            best = (abs(size - overlap), sentence[0])
    return best[1] if best else None


def _chunk(doc: LoadedDocument, ordinal: int, start: int, end: int, section: str) -> Chunk:
    page_start, page_end = doc.page_of(start), doc.page_of(end - 1)
    return Chunk(
        ordinal=ordinal,
        text=doc.text[start:end],
        section=section,
        start=start,
        end=end,
        page_start=page_start,
        page_end=page_end,
        char_start=start - doc.page_starts[page_start - 1],
        char_end=end - doc.page_starts[page_end - 1],
        ocr_confidence=_ocr_confidence(doc, start, end, page_start, page_end),
    )


def _ocr_confidence(doc: LoadedDocument, start: int, end: int, page_start: int,
                    page_end: int) -> float | None:
    """The mean OCR confidence of the words of `doc.text[start:end]` on OCR'd pages; None
    where none of its pages was OCR'd. Each page's part of the text is found among that page's
    OCR words (by letters and digits: the cleaning joined hyphens and dropped running
    headers); a part not found counts as its whole page."""
    found: list[float] = []
    for number in range(page_start, page_end + 1):
        words = doc.page_words.get(number)
        if words is None:
            continue
        begin = max(start, doc.page_starts[number - 1])
        stop = min(end, doc.page_starts[number] if number < doc.page_count else len(doc.text))
        part = doc.text[begin:stop]
        if not squash(part):
            continue
        indexes = words.find(part) or range(len(words.texts))
        found.extend(words.confidences[list(indexes)].tolist())
    return round(sum(found) / len(found) / 100, 3) if found else None
