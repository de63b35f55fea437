"""The chunker: structure first, verbatim offsets, token limits, overlap, and page positions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document, section_paths
from ingest.document import Chunk, DocumentMetadata, Heading, LoadedDocument
from ingest.embedder import Embedder
from ingest.loaders import load_document
from meditron_rag.config import ChunkingConfig

PDFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdfs"


def words(text: str) -> int:
    return len(text.split())


_PIECE = re.compile(r"\w{1,4}|[^\w\s]")


def pieces(text: str) -> int:
    """A stand-in for a sub-word tokenizer: word pieces of up to 4 characters, punctuation."""
    return len(_PIECE.findall(text))


def piece_spans(text: str) -> list[tuple[int, int]]:
    """The same pieces as character offsets, as a fast tokenizer gives them."""
    return [match.span() for match in _PIECE.finditer(text)]


def markdown(tmp_path: Path, text: str) -> LoadedDocument:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return load_document(path)


def check_chunk(doc: LoadedDocument, chunk: Chunk, count: Callable[[str], int],
                limit: int) -> None:
    """What every chunk must satisfy, whatever the document."""
    assert doc.text[chunk.start:chunk.end] == chunk.text
    assert chunk.text == chunk.text.strip() and any(ch.isalnum() for ch in chunk.text)
    assert count(chunk.text) <= limit or not re.search(r"\s", chunk.text)
    assert chunk.page_start == doc.page_of(chunk.start)
    assert chunk.page_end == doc.page_of(chunk.end - 1)
    assert chunk.char_start == chunk.start - doc.page_starts[chunk.page_start - 1]
    assert chunk.char_end == chunk.end - doc.page_starts[chunk.page_end - 1]
    assert doc.page_text(chunk.page_start)[chunk.char_start:].startswith(
        chunk.text[: len(doc.page_text(chunk.page_start)) - chunk.char_start])
    for heading in doc.headings:
        assert not chunk.start < heading.offset < chunk.end, "a chunk spans two sections"


GUIDE = """# Hand hygiene guideline

Why hands matter. Clean hands save lives.

## 1 Scope

This guideline covers hospitals and clinics.

## 2 Recommendations

### 2.1 Alcohol-based handrub

Use handrub before touching a patient. Rub for twenty seconds.

### 2.2 Handwashing

Wash with soap and water when hands are visibly soiled.
"""


def test_section_paths_and_headings_in_their_first_chunk(tmp_path: Path) -> None:
    doc = markdown(tmp_path, GUIDE)
    chunks = chunk_document(doc, words, chunk_tokens=50, overlap_tokens=0)
    assert [(c.ordinal, c.section) for c in chunks] == [
        (0, "Hand hygiene guideline"),
        (1, "1 Scope"),
        (2, "2 Recommendations > 2.1 Alcohol-based handrub"),
        (3, "2 Recommendations > 2.2 Handwashing"),
    ]  # "## 2 Recommendations" holds only its heading: no chunk of its own
    assert chunks[0].text.startswith("# Hand hygiene guideline\n\nWhy hands matter.")
    assert chunks[2].text.startswith("### 2.1 Alcohol-based handrub\n\nUse handrub")
    for chunk in chunks:
        check_chunk(doc, chunk, words, 50)


def test_a_top_heading_is_kept_when_it_is_not_alone() -> None:
    headings = [Heading(0, 1, "Part A"), Heading(10, 2, "Intro"), Heading(20, 1, "Part B"),
                Heading(30, 3, "Deep"), Heading(40, 2, "Mid")]
    assert section_paths(headings) == [
        "Part A", "Part A > Intro", "Part B", "Part B > Deep", "Part B > Mid"]
    lone = [Heading(0, 1, "Title"), Heading(10, 2, "One"), Heading(20, 3, "One.a")]
    assert section_paths(lone) == ["Title", "One", "One > One.a"]


def test_lists_and_tables_stay_whole_where_they_fit(tmp_path: Path) -> None:
    doc = markdown(tmp_path, (
        "## Moments\n\nThe five moments are listed below.\n\n"
        "- before touching a patient\n- before a clean procedure\n- after body fluid exposure\n"
        "- after touching a patient\n- after touching surroundings\n\n"
        "| Moment | Product |\n| --- | --- |\n| Before | Handrub |\n| After | Soap |\n"
    ))
    chunks = chunk_document(doc, words, chunk_tokens=30, overlap_tokens=0)
    texts = [c.text for c in chunks]
    assert any(t.endswith("- after touching surroundings") and "- before touching" in t
               for t in texts)
    assert any(t.startswith("| Moment | Product |") and t.endswith("| After | Soap |")
               for t in texts)


def test_a_list_too_big_is_cut_between_items(tmp_path: Path) -> None:
    items = "\n".join(f"{n}. Recommendation number {n} applies to every ward." for n in range(1, 9))
    doc = markdown(tmp_path, f"## Recommendations\n\n{items}\n")
    chunks = chunk_document(doc, words, chunk_tokens=25, overlap_tokens=0)
    assert len(chunks) > 1
    for chunk in chunks[1:]:
        assert re.match(r"\d\. Recommendation", chunk.text)
        check_chunk(doc, chunk, words, 25)


def test_overlap_is_whole_trailing_sentences(tmp_path: Path) -> None:
    sentences = [f"Sentence {n} has exactly six words." for n in range(1, 21)]
    doc = markdown(tmp_path, "## Long\n\n" + " ".join(sentences) + "\n")
    chunks = chunk_document(doc, words, chunk_tokens=30, overlap_tokens=8)
    assert len(chunks) > 2
    for first, second in zip(chunks, chunks[1:], strict=False):
        assert second.start < first.end  # they overlap ...
        assert first.text.endswith(doc.text[second.start:first.end])  # ... by a tail of first
        assert re.match(r"Sentence \d+ has", second.text)  # ... starting on a sentence
        assert words(doc.text[second.start:first.end]) == 6  # the one sentence nearest 8 words
        check_chunk(doc, second, words, 30)
    without = chunk_document(doc, words, chunk_tokens=30, overlap_tokens=0)
    assert all(b.start > a.end for a, b in zip(without, without[1:], strict=False))


def test_sentences_then_words_and_one_long_word(tmp_path: Path) -> None:
    long_word = "pneumonoultramicroscopicsilicovolcanoconiosis" * 3
    run_on = " ".join(["word"] * 40)
    doc = markdown(tmp_path, f"## Cuts\n\nShort one. {run_on} end. {long_word} tail.\n")
    chunks = chunk_document(doc, pieces, chunk_tokens=12, overlap_tokens=0)
    assert long_word in [c.text for c in chunks]
    for chunk in chunks:
        check_chunk(doc, chunk, pieces, 12)
    covered = "".join(c.text for c in chunks)
    assert covered.count("word") == 40 + long_word.count("word") + 0


def test_abbreviations_do_not_end_sentences(tmp_path: Path) -> None:
    doc = markdown(tmp_path, "## A\n\nUse PPE, e.g. Gloves and gowns. See Smith et al. Later work. "
                             "Then stop here. " * 3)
    chunks = chunk_document(doc, words, chunk_tokens=9, overlap_tokens=0)
    assert not any(c.text.startswith(("Gloves", "Later")) for c in chunks)


def test_punctuation_only_chunks_are_skipped(tmp_path: Path) -> None:
    doc = markdown(tmp_path, "---\n\n* * *\n\n## Real\n\nText here.\n\n## Rule\n\n----\n\n...\n")
    chunks = chunk_document(doc, words, **ChunkingConfig().model_dump())
    assert [c.text for c in chunks] == ["## Real\n\nText here."]  # "## Rule" has no words


def test_pages_and_offsets_inside_pages() -> None:
    pages = ["First page text. It ends here.\n\n", "Second page begins. A heading follows.\n\n",
             "3 Results\nThird page sentence one. Sentence two.\n\n"]
    starts = [0, len(pages[0]), len(pages[0]) + len(pages[1])]
    text = "".join(pages)
    doc = LoadedDocument(Path("x.pdf"), "pdf", text, starts,
                         [Heading(starts[2], 1, "3 Results")], DocumentMetadata(), True)
    chunks = chunk_document(doc, words, chunk_tokens=12, overlap_tokens=0)
    assert [(c.section, c.page_start, c.page_end) for c in chunks] == [
        ("", 1, 2), ("3 Results", 3, 3)]
    assert (chunks[0].char_start, chunks[0].char_end) == (0, len(pages[1].rstrip()))
    assert chunks[1].char_start == 0 and chunks[1].text.startswith("3 Results\nThird")
    for chunk in chunks:
        check_chunk(doc, chunk, words, 12)


# --- Property: any document with headings and pages ------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnop", min_size=1, max_size=12)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=10).map(
    lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]) + ".")
_PARAGRAPH = st.one_of(
    st.lists(_SENTENCE, min_size=1, max_size=6).map(" ".join),
    st.lists(_SENTENCE, min_size=1, max_size=6).map("\n".join),
    st.lists(_SENTENCE, min_size=1, max_size=5).map(lambda s: "\n".join(f"- {x}" for x in s)),
    st.builds(lambda w: w * 30, _WORD),  # one long word
)
_SECTION = st.tuples(st.integers(1, 3), st.lists(_WORD, min_size=1, max_size=4),
                     st.lists(_PARAGRAPH, min_size=0, max_size=4))


@st.composite
def documents(draw: st.DrawFn) -> tuple[LoadedDocument, list[tuple[int, int]]]:
    """A document of sections (some empty) and its paragraph spans, on random pages."""
    parts: list[str] = []
    headings: list[Heading] = []
    paragraphs: list[tuple[int, int]] = []
    offset = 0

    def add(piece: str) -> int:
        nonlocal offset
        start = offset
        parts.append(piece)
        offset += len(piece)
        return start

    for paragraph in draw(st.lists(_PARAGRAPH, max_size=2)):
        start = add(paragraph)
        paragraphs.append((start, offset))
        add(draw(st.sampled_from(["\n\n", "\n \n", "\n\n\n"])))
    for level, title_words, body in draw(st.lists(_SECTION, min_size=1, max_size=6)):
        title = " ".join(title_words)
        headings.append(Heading(add("#" * level + " "), level, title))
        add(title + "\n\n")
        for paragraph in body:
            start = add(paragraph)
            paragraphs.append((start, offset))
            add("\n\n")
    text = "".join(parts)
    cuts = draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=5, unique=True))
    starts = sorted({0, *cuts})
    doc = LoadedDocument(Path("p.md"), "markdown", text, starts, headings, DocumentMetadata(),
                         len(starts) > 1)
    return doc, paragraphs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.integers(4, 60), st.integers(0, 12))
def test_property_chunks_are_verbatim_bounded_and_located(
        case: tuple[LoadedDocument, list[tuple[int, int]]], limit: int, overlap: int) -> None:
    doc, paragraphs = case
    chunks = chunk_document(doc, pieces, chunk_tokens=limit, overlap_tokens=overlap)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(a.start <= b.start for a, b in zip(chunks, chunks[1:], strict=False))
    for chunk in chunks:
        check_chunk(doc, chunk, pieces, limit)
        text = doc.text
        assert chunk.start == 0 or not (text[chunk.start - 1].isalnum()
                                        and text[chunk.start].isalnum()), "cut inside a word"
        assert chunk.end == len(text) or not (text[chunk.end - 1].isalnum()
                                              and text[chunk.end].isalnum()), "cut inside a word"
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    for start, end in paragraphs:  # no text is lost
        assert all(i in covered for i in range(start, end) if doc.text[i].isalnum())
    quick = chunk_document(doc, pieces, chunk_tokens=limit, overlap_tokens=overlap,
                           token_spans=piece_spans)
    assert quick == chunks  # spans measured from offsets are cut exactly the same


def test_offsets_that_do_not_add_up_fall_back_to_measuring_every_span(tmp_path: Path) -> None:
    doc = markdown(tmp_path, GUIDE + "\n" + "Wash hands before and after care. " * 40)
    exact = chunk_document(doc, pieces, chunk_tokens=30, overlap_tokens=8)

    def half(text: str) -> list[tuple[int, int]]:  # a tokenizer whose offsets undercount
        return piece_spans(text)[::2]

    chunks = chunk_document(doc, pieces, chunk_tokens=30, overlap_tokens=8, token_spans=half)
    assert chunks == exact
    for chunk in chunks:
        check_chunk(doc, chunk, pieces, 30)
    assert chunk_document(doc, pieces, chunk_tokens=30, overlap_tokens=8,
                          token_spans=lambda text: None) == exact


# --- The production tokenizer on a real guideline ---------------------------------------------


@pytest.mark.slow
def test_real_pdf_with_the_embedding_tokenizer(embedder: Embedder) -> None:
    path = PDFS / "cdc-outpatient-infection-prevention-2016.pdf"
    if not path.exists():
        pytest.skip("../shared/data/pdfs is absent: the real guideline PDFs are kept beside "
                    "the project, not in it (see ../shared/README.md)")
    doc = load_document(path)
    chunks = chunk_document(doc, embedder.count_tokens, chunk_tokens=200, overlap_tokens=32)
    assert len(chunks) > 50
    for chunk in chunks:
        check_chunk(doc, chunk, embedder.count_tokens, 200)
    sizes = sorted(embedder.count_tokens(c.text) for c in chunks)
    assert sizes[len(sizes) // 2] > 100  # chunks are packed, not one per line
    assert chunk_document(doc, embedder.count_tokens, chunk_tokens=200, overlap_tokens=32,
                          token_spans=embedder.token_spans) == chunks


def test_a_heading_never_stands_alone_before_a_paragraph_that_fills_a_chunk(
        tmp_path: Path) -> None:
    items = "\n".join(f"- Option {i}: take the tablet with water every morning." for i in range(4))
    doc = markdown(tmp_path, f"# Guide\n\nIntro.\n\n## First-line drug classes\n\n{items}\n")
    limit = words(items) + 1  # the list fits alone, not with its heading
    chunks = chunk_document(doc, words, chunk_tokens=limit, overlap_tokens=0)
    section = [c for c in chunks if c.section.endswith("First-line drug classes")]
    assert section[0].text.startswith("## First-line drug classes\n\n- Option 0")
    assert all(c.text.strip() != "## First-line drug classes" for c in chunks)
    for chunk in chunks:
        check_chunk(doc, chunk, words, limit)


def test_the_chunkers_output_is_pinned_to_its_version() -> None:
    """Documents record CHUNKER_VERSION, and an ingest chunks anew only those recorded with
    another: a change to the Markdown loader, the chunker or the embedded text that leaves the
    version as it was would leave every index with the old chunks. Such a change fails here;
    raise CHUNKER_VERSION and record the new fingerprint (an edit of the starter corpus's
    Markdown changes it too, and needs only the new fingerprint)."""
    import hashlib
    import json

    from ingest.parsing import CHUNKER_VERSION, embedding_text

    digest = hashlib.sha256()
    for path in sorted((Path(__file__).resolve().parents[1] / "corpora" / "starter").glob(
            "*.md")):
        doc = load_document(path)
        for size, overlap in ((200, 32), (120, 20), (60, 10), (30, 5)):
            for c in chunk_document(doc, pieces, chunk_tokens=size, overlap_tokens=overlap,
                                    token_spans=piece_spans):
                row = [path.name, c.ordinal, c.start, c.end, c.section, c.page_start,
                       c.page_end, embedding_text(doc.metadata.title, c.section, c.text)]
                digest.update(json.dumps(row).encode())
    assert (CHUNKER_VERSION, digest.hexdigest()[:16]) == (2, "b173014ea75c7d22")
