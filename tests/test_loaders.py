"""Loaders on real files: PDFs built here with fpdf2 and pypdf, text in several encodings,
Markdown, HTML, and the two real guideline PDFs in ../shared/data/pdfs."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from ingest.chunking import chunk_document
from ingest.document import LoadedDocument
from ingest.loaders import SUPPORTED_SUFFIXES, load_document, sniff_kind
from meditron_rag.config import ChunkingConfig, PdfConfig
from meditron_rag.errors import LoadError

PDFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdfs"
HEADER = "Hand Hygiene Guideline - Test Edition 2024"
BODY = (
    "Health care-associated infections affect millions of patients every year. Clean hands "
    "are the single most important measure to prevent them. This guideline sets out what "
    "every facility should do, who is responsible, and how progress is measured over time. "
)
LEFT = (
    "Observers record every hand hygiene opportunity during a session of twenty minutes. "
    "Each opportunity is marked as taken or missed on a paper form. "
)
RIGHT = (
    "Feedback reaches the ward within one week of the audit session. "
    "Teams discuss the missed opportunities at their next meeting. "
)


def words(text: str) -> int:
    return len(text.split())


def find(doc: LoadedDocument, sentence: str) -> int:
    """Offset of `sentence` in the document text, whatever the line breaks inside it."""
    pattern = r"\s+".join(re.escape(word) for word in sentence.split())
    match = re.search(pattern, doc.text)
    assert match, f"not found: {sentence!r}"
    return match.start()


class _Guide(FPDF):
    """A PDF with a running header and a "Page N of M" footer on every page."""

    def header(self) -> None:
        self.set_font("Helvetica", size=9)
        self.cell(0, 6, HEADER, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def _heading(pdf: FPDF, text: str, size: int, outline_level: int | None) -> None:
    if outline_level is not None:
        pdf.start_section(text, level=outline_level)
    pdf.set_font("Helvetica", "B", size)
    pdf.cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)


def _body(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def build_guide(path: Path, outline: bool = False) -> Path:
    """Four pages: a title, numbered headings in larger type, a word hyphenated across two
    lines, a heading orphaned at the foot of a page, a page of two columns written column after
    column, and a heading drawn after the text below it."""
    pdf = _Guide()
    pdf.set_title("Hand Hygiene Guideline")
    pdf.set_author("Test Health Organisation")
    pdf.set_subject("hand hygiene in hospitals")
    pdf.set_creation_date(dt.datetime(2024, 3, 5, tzinfo=dt.timezone.utc))
    level = (lambda n: n) if outline else (lambda n: None)

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 24)
    pdf.cell(0, 14, "Hand Hygiene Guideline", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "1 Introduction", 16, level(0))
    _body(pdf, BODY * 3)
    _body(pdf, "Hand hygiene protects patients and staff alike. " * 3)

    pdf.add_page()
    _heading(pdf, "2 Recommendations", 16, level(0))
    _body(pdf, BODY)
    _heading(pdf, "2.1 Alcohol-based handrub", 13, level(1))
    for line in ("The panel makes a strong recom-",
                 "mendation for alcohol-based handrub before every patient contact.",
                 "Dispensers should be placed within reach of every bed."):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    _heading(pdf, "2.2 Handwashing", 13, level(1))
    _body(pdf, "Wash hands with soap and water when they are visibly soiled. " * 2)
    _heading(pdf, "2.3 Drying hands", 13, level(1))  # an orphan: its text is on page 3

    pdf.add_page()
    _body(pdf, "Dry hands thoroughly with a single-use towel.")
    _heading(pdf, "3 Audit and feedback", 16, level(0))
    top = pdf.get_y()
    pdf.set_xy(10, top)
    pdf.multi_cell(88, 6, LEFT * 3)
    pdf.set_xy(110, top)
    pdf.multi_cell(88, 6, RIGHT * 3)

    pdf.add_page()  # the heading is drawn last, above the text: it must still come first
    pdf.set_y(40)
    _body(pdf, "Compliance should be reported to ward staff every month. " + BODY)
    pdf.set_y(25)
    _heading(pdf, "4 Monitoring", 16, level(0))
    path.write_bytes(bytes(pdf.output()))
    return path


def rewrite(source: Path, target: Path, password: str | None = None,
            metadata: dict[str, str] | None = None) -> Path:
    """Copy a PDF through pypdf, optionally encrypting it or adding info-dictionary keys."""
    writer = PdfWriter(clone_from=PdfReader(source))
    if metadata:
        writer.add_metadata(metadata)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner-secret",
                       algorithm="RC4-128")
    with target.open("wb") as handle:
        writer.write(handle)
    return target


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_guide(tmp_path_factory.mktemp("pdf") / "guide.pdf")


@pytest.fixture(scope="module")
def guide_doc(guide: Path) -> LoadedDocument:
    return load_document(guide)


# --- PDF: text, pages, headings ---------------------------------------------------------------


def test_pdf_pages_and_page_of_every_sentence(guide_doc: LoadedDocument) -> None:
    doc = guide_doc
    assert (doc.kind, doc.paginated, doc.page_count) == ("pdf", True, 4)
    assert doc.page_starts[0] == 0 and doc.page_starts == sorted(set(doc.page_starts))
    assert doc.page_of(find(doc, "Clean hands are the single most important")) == 1
    assert doc.page_of(find(doc, "Wash hands with soap and water")) == 2
    assert doc.page_of(find(doc, "Feedback reaches the ward within one week")) == 3
    assert doc.page_of(find(doc, "Compliance should be reported to ward staff")) == 4
    assert "Compliance should be reported" in doc.page_text(4)
    assert doc.page_of(find(doc, "Dry hands thoroughly")) == 3


def test_pdf_running_header_and_page_numbers_are_dropped(guide_doc: LoadedDocument) -> None:
    assert "Test Edition" not in guide_doc.text
    assert not re.search(r"Page \d+ of \d+", guide_doc.text)


def test_pdf_hyphenated_word_is_joined(guide_doc: LoadedDocument) -> None:
    assert "strong recommendation for alcohol-based handrub" in guide_doc.text
    assert "recom-" not in guide_doc.text


def test_pdf_two_columns_are_not_interleaved(guide_doc: LoadedDocument) -> None:
    page = " ".join(guide_doc.page_text(3).split())
    assert " ".join(LEFT.split()) in page
    assert " ".join(RIGHT.split()) in page


def test_pdf_headings_from_font_sizes(guide_doc: LoadedDocument) -> None:
    found = [(h.level, h.title, guide_doc.page_of(h.offset)) for h in guide_doc.headings]
    assert found == [
        (1, "Hand Hygiene Guideline", 1), (2, "1 Introduction", 1),
        (2, "2 Recommendations", 2), (3, "2.1 Alcohol-based handrub", 2),
        (3, "2.2 Handwashing", 2), (3, "2.3 Drying hands", 2), (2, "3 Audit and feedback", 3),
        (2, "4 Monitoring", 4),
    ]
    assert guide_doc.headings[-1].offset == guide_doc.page_starts[3]
    for heading in guide_doc.headings:
        assert guide_doc.text[heading.offset:].startswith(heading.title)


def test_pdf_headings_from_outline(tmp_path: Path) -> None:
    doc = load_document(build_guide(tmp_path / "outlined.pdf", outline=True))
    found = [(h.level, h.title, doc.page_of(h.offset)) for h in doc.headings]
    assert found == [
        (1, "1 Introduction", 1), (1, "2 Recommendations", 2),
        (2, "2.1 Alcohol-based handrub", 2), (2, "2.2 Handwashing", 2),
        (2, "2.3 Drying hands", 2), (1, "3 Audit and feedback", 3), (1, "4 Monitoring", 4),
    ]
    assert doc.text[doc.headings[3].offset:].startswith("2.2 Handwashing")


def test_pdf_sections_and_pages_of_chunks(guide_doc: LoadedDocument) -> None:
    chunks = chunk_document(guide_doc, words, chunk_tokens=60, overlap_tokens=8)

    def chunk_of(sentence: str):
        offset = find(guide_doc, sentence)
        return next(c for c in chunks if c.start <= offset < c.end)

    hit = chunk_of("strong recommendation for alcohol-based")
    assert (hit.section, hit.page_start) == ("2 Recommendations > 2.1 Alcohol-based handrub", 2)
    hit = chunk_of("Wash hands with soap and water")
    assert (hit.section, hit.page_start) == ("2 Recommendations > 2.2 Handwashing", 2)
    hit = chunk_of("Dry hands thoroughly with a single-use towel")
    assert (hit.section, hit.page_start, hit.page_end) == (
        "2 Recommendations > 2.3 Drying hands", 2, 3)
    assert hit.text.startswith("2.3 Drying hands")
    hit = chunk_of("Teams discuss the missed opportunities")
    assert (hit.section, hit.page_end) == ("3 Audit and feedback", 3)
    hit = chunk_of("Compliance should be reported")
    assert (hit.section, hit.page_start) == ("4 Monitoring", 4)
    assert hit.text.startswith("4 Monitoring")  # the heading opens its section's first chunk


def test_pdf_metadata_from_info_dictionary(guide: Path, tmp_path: Path) -> None:
    meta = load_document(guide).metadata
    assert (meta.title, meta.organisation, meta.date) == (
        "Hand Hygiene Guideline", "Test Health Organisation", "2024-03-05")
    assert meta.extra["subject"] == "hand hygiene in hospitals"
    custom = rewrite(guide, tmp_path / "custom.pdf", metadata={
        "/PublicationDate": "2023-11", "/SourceURL": "https://example.org/hand-hygiene",
        "/Topic": "hand-hygiene", "/Licence": "CC BY 4.0", "/Title": "Microsoft Word - hh.docx",
    })
    meta = load_document(custom).metadata
    assert (meta.date, meta.url, meta.licence) == (
        "2023-11", "https://example.org/hand-hygiene", "CC BY 4.0")
    assert meta.extra["topic"] == "hand-hygiene"
    assert meta.title == "Hand Hygiene Guideline"  # a junk /Title falls back to the cover


def test_sidecar_overrides_metadata(tmp_path: Path, guide: Path) -> None:
    target = tmp_path / "guide.pdf"
    target.write_bytes(guide.read_bytes())
    (tmp_path / "guide.pdf.meta.yaml").write_text(
        "title: WHO Hand Hygiene\norganisation: WHO\ndate: 2009-05-05\n"
        "url: https://who.int/hh\nlicence: CC BY-NC-SA 3.0 IGO\ntopic: hand-hygiene\n"
        "superseded_by: who-hh-2025.pdf\n", encoding="utf-8")
    meta = load_document(target).metadata
    assert (meta.title, meta.organisation, meta.date, meta.url, meta.licence) == (
        "WHO Hand Hygiene", "WHO", "2009-05-05", "https://who.int/hh", "CC BY-NC-SA 3.0 IGO")
    assert meta.extra["topic"] == "hand-hygiene"
    assert meta.extra["superseded_by"] == "who-hh-2025.pdf"
    (tmp_path / "guide.pdf.meta.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(LoadError, match="not valid YAML"):
        load_document(target)


def test_pdf_named_txt_is_read_as_pdf(tmp_path: Path, guide: Path) -> None:
    disguised = tmp_path / "guide.txt"
    disguised.write_bytes(guide.read_bytes())
    assert sniff_kind(disguised) == "pdf"
    doc = load_document(disguised)
    assert (doc.kind, doc.page_count) == ("pdf", 4)


# --- PDF: files that cannot be read -----------------------------------------------------------


def test_encrypted_pdf_with_a_password_is_refused(tmp_path: Path, guide: Path) -> None:
    locked = rewrite(guide, tmp_path / "locked.pdf", password="s3cret")
    with pytest.raises(LoadError, match=r"^.*locked\.pdf: encrypted PDF: remove the password"):
        load_document(locked)


def test_encrypted_pdf_with_an_empty_password_opens(tmp_path: Path, guide: Path) -> None:
    doc = load_document(rewrite(guide, tmp_path / "open.pdf", password=""))
    assert doc.page_count == 4
    assert "Wash hands with soap and water" in doc.text


def test_truncated_pdf(tmp_path: Path, guide: Path) -> None:
    data = guide.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError, match="corrupt or truncated PDF") as caught:
        load_document(cut)
    assert caught.value.path == str(cut)


def test_damaged_pdfs_raise_only_load_errors(tmp_path: Path, guide: Path) -> None:
    data = guide.read_bytes()
    rng = random.Random(7)
    damaged = tmp_path / "damaged.pdf"
    for _ in range(25):
        copy = bytearray(data)
        for _ in range(rng.randint(1, 40)):
            copy[rng.randrange(len(copy))] = rng.randrange(256)
        damaged.write_bytes(bytes(copy))
        try:
            doc = load_document(damaged)
        except LoadError as error:
            assert error.reason and "\n" not in error.reason
        else:
            chunk_document(doc, words, **ChunkingConfig().model_dump())


def test_pdf_with_only_images_is_refused_with_ocr_off(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).text((20, 80), "Scanned page: wash your hands", fill="black")
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=180)
    scanned = tmp_path / "scanned.pdf"
    scanned.write_bytes(bytes(pdf.output()))
    with pytest.raises(LoadError, match=r"scanned PDF with no text layer: set pdf.ocr_engine to "
                                        r"tesseract or rapidocr to index it"):
        load_document(scanned, pdf=PdfConfig(ocr_engine="off"))


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    empty = tmp_path / "empty.md"
    empty.write_bytes(content)
    with pytest.raises(LoadError, match="empty file"):
        load_document(empty)


def test_file_too_large(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("hand hygiene " * 2000, encoding="utf-8")
    with pytest.raises(LoadError, match=r"file too large \(0\.0 MB > 0\.0 MB limit\): split "
                                        r"it or raise the limit \(ingest.max_file_mb\)"):
        load_document(big, max_bytes=1000)


def test_a_pdf_is_held_to_its_own_size_limit_and_its_text_to_the_file_limit(
        guide: Path) -> None:
    """A PDF's bytes are mostly images and fonts: a PDF larger than the text limit is read
    while its text is within it, and refused by its own limit, or by its text."""
    size = guide.stat().st_size
    doc = load_document(guide, max_bytes=len(load_document(guide).text) + 1,
                        max_pdf_bytes=size)
    assert doc.page_count == 4 and size > len(doc.text)
    with pytest.raises(LoadError, match=r"file too large .* \(ingest.max_pdf_mb\)"):
        load_document(guide, max_pdf_bytes=size - 1)
    with pytest.raises(LoadError, match=r"too much text \(0\.0 MB of text > 0\.0 MB limit, "
                                        r"ingest.max_file_mb\)"):
        load_document(guide, max_bytes=len(doc.text) - 1, max_pdf_bytes=size)


def test_binary_junk_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "image.txt"
    junk.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(LoadError, match="not a supported document"):
        load_document(junk)
    with pytest.raises(LoadError, match="not a supported document"):
        sniff_kind(junk)
    with pytest.raises(LoadError, match="file not found"):
        load_document(tmp_path / "absent.pdf")
    with pytest.raises(LoadError, match="folder"):
        load_document(tmp_path)


# --- Text, Markdown, HTML ---------------------------------------------------------------------


def test_text_in_cp1252_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Caf\u00e9 \u201cquoted\u201d \u2013 dash\r\nsecond line\r\n".encode("cp1252"))
    doc = load_document(path)
    assert doc.text == "Caf\u00e9 \u201cquoted\u201d \u2013 dash\nsecond line\n"
    assert any("cp1252" in warning for warning in doc.warnings)
    assert (doc.kind, doc.page_starts, doc.paginated) == ("text", [0], False)


def test_text_in_utf16_and_utf8_with_bom(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("R\u00e9sum\u00e9 \u2713\r\nline two\r".encode("utf-16"))
    doc = load_document(utf16)
    assert doc.text == "R\u00e9sum\u00e9 \u2713\nline two\n" and doc.warnings == []
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfFirst line\nNa\xc3\xafve")
    assert load_document(bom).text == "First line\nNa\u00efve"


def test_text_numbered_headings_are_conservative(tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(
        "Infection control plan\n\n1 Introduction\nWhy this plan exists.\n\n"
        "2 Recommendations\n1. Develop and maintain infection\nprevention programs.\n"
        "2.1 Hand hygiene\nUse handrub.\n\nContents\n3 Audit 12\n\n3 Audit\nEvery month.\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "1 Introduction"), (1, "2 Recommendations"), (2, "2.1 Hand hygiene"), (1, "3 Audit"),
    ]
    assert doc.text[doc.headings[-1].offset:].startswith("3 Audit\nEvery month.")
    assert doc.metadata.title == "Infection control plan"


def test_markdown_front_matter_and_headings(tmp_path: Path) -> None:
    path = tmp_path / "rsv.md"
    path.write_text(
        "---\ntitle: RSV vaccination\norganisation: CDC\ndate: 2024-06\n"
        "url: https://cdc.gov/rsv\nlicence: public domain\ntopic: rsv\n"
        "supersedes: rsv-2023.md\ncovers: [adults, older adults]\n---\n\n"
        "# RSV vaccination\n\nIntro text.\n\n## Recommendations\n\n"
        "```\n# not a heading\n```\n\n### Adults 75+\n\nOne dose.\n\nSetext\n======\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    meta = doc.metadata
    assert (meta.title, meta.organisation, meta.date, meta.url, meta.licence) == (
        "RSV vaccination", "CDC", "2024-06", "https://cdc.gov/rsv", "public domain")
    assert meta.extra == {"topic": "rsv", "supersedes": "rsv-2023.md",
                          "covers": "adults, older adults"}
    assert doc.text.startswith("# RSV vaccination\n\nIntro text.")
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "RSV vaccination"), (2, "Recommendations"), (3, "Adults 75+"), (1, "Setext"),
    ]
    assert doc.text[doc.headings[2].offset:].startswith("### Adults 75+")
    assert doc.text[doc.headings[3].offset:].startswith("Setext\n===")
    assert (doc.kind, doc.page_starts) == ("markdown", [0])


def test_markdown_title_falls_back_to_heading_then_stem(tmp_path: Path) -> None:
    titled = tmp_path / "a.markdown"
    titled.write_text("Some text.\n\n# Real title\n\nMore.\n", encoding="utf-8")
    assert load_document(titled).metadata.title == "Real title"
    bare = tmp_path / "bare-notes.md"
    bare.write_text("Only text, no heading.\n", encoding="utf-8")
    assert load_document(bare).metadata.title == "bare-notes"


def test_front_matter_in_a_txt_file_makes_it_markdown(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("---\ntitle: Notes\n---\nBody.\n", encoding="utf-8")
    assert sniff_kind(path) == "markdown"
    assert load_document(path).metadata.title == "Notes"


HTML = """<!DOCTYPE html>
<html><head><title>Page title | Site</title>
<meta name="citation_title" content="Hand hygiene in outpatient care">
<meta name="dc.publisher" content="Ministry of Health">
<meta name="citation_publication_date" content="2021/04/15">
<meta property="og:url" content="https://example.org/hh">
<meta name="description" content="What to do">
<style>body { color: red }</style><script>var hidden = "script text";</script>
</head><body>
<nav><a href="/">Home</a> | <a href="/menu">Menu text</a></nav>
<h1>Hand   hygiene</h1>
<p>Clean hands   save lives.
Every time.</p>
<h2>When to clean hands</h2>
<ul><li>Before touching a patient</li><li>After body fluid exposure</li></ul>
<table><tr><th>Moment</th><th>Product</th></tr><tr><td>Before</td><td>Handrub</td></tr></table>
<p>Caf&eacute; &amp; more.</p>
</body></html>
"""


def test_html_text_headings_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document(path)
    assert doc.kind == "html"
    assert "script text" not in doc.text and "Menu text" not in doc.text
    assert "color: red" not in doc.text
    assert "Hand hygiene\n\nClean hands save lives. Every time.\n\nWhen to clean hands" in doc.text
    assert "- Before touching a patient\n- After body fluid exposure" in doc.text
    assert "Moment | Product\nBefore | Handrub" in doc.text
    assert doc.text.rstrip().endswith("Caf\u00e9 & more.")
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Hand hygiene"), (2, "When to clean hands")]
    for heading in doc.headings:
        assert doc.text[heading.offset:].startswith(heading.title)
    meta = doc.metadata
    assert (meta.title, meta.organisation, meta.date, meta.url) == (
        "Hand hygiene in outpatient care", "Ministry of Health", "2021-04-15",
        "https://example.org/hh")
    assert meta.extra["description"] == "What to do"


def test_html_sniffed_by_content_and_title_fallback(tmp_path: Path) -> None:
    path = tmp_path / "saved.txt"
    path.write_text("<html><body><h1>Only heading</h1><p>Text.</p></body></html>",
                    encoding="utf-8")
    assert sniff_kind(path) == "html"
    assert load_document(path).metadata.title == "Only heading"


def test_supported_suffixes() -> None:
    assert {".pdf", ".md", ".markdown", ".html", ".htm", ".txt"} <= set(SUPPORTED_SUFFIXES)


# --- The real guideline PDFs ------------------------------------------------------------------

WHO = "who-ipc-core-components-2016.pdf"
CDC = "cdc-outpatient-infection-prevention-2016.pdf"
CORE_1A = ("8 Core components > Core component 1: Infection prevention and control programmes "
           "1a. Health care facility level")
CORE_8B = ("8 Core components > Core component 8: Built environment, materials and equipment "
           "for IPC at the facility level 8b Materials, equipment and ergonomics for "
           "appropriate hand hygiene")
FUNDAMENTALS = ("FUNDAMENTAL ELEMENTS NEEDED TO PREVENT TRANSMISSION OF INFECTIOUS AGENTS IN "
                "OUTPATIENT SETTINGS")

# (sentence, PDF page, section path of its chunk)
WHO_SENTENCES = [
    ("At any one time, up to 7% of patients in developed and 10% in developing countries "
     "will acquire at least one HAI.", 9, "Executive Summary"),
    ("This document supersedes the WHO Core components for infection prevention and control "
     "(1) issued in 2009.", 9, "Executive Summary"),
    ("Population: patients of any age admitted to an acute health care facility", 22,
     "4 Methods > 4.5 Research question/PICO"),
    ("the GDG unanimously recommended that an IPC programme should be in place in all acute "
     "health care facilities", 30, CORE_1A),
    ("WHO recommends a minimum of one hand wash basin per every 10 beds", 73, CORE_8B),
]
CDC_SENTENCES = [
    ("more than three-quarters of all operations in the United States are performed in "
     "settings outside the hospital.", 3, "INTRODUCTION"),
    ("Good hand hygiene, including use of alcohol-based hand rubs (ABHR) and handwashing with "
     "soap and water, is critical", 8, f"{FUNDAMENTALS} > Hand Hygiene"),
    ("Injection safety includes practices intended to prevent transmission of infectious "
     "diseases", 10, f"{FUNDAMENTALS} > Injection Safety"),
    ("Respiratory Hygiene/Cough Etiquette is an element of Standard Precautions", 14,
     f"{FUNDAMENTALS} > Respiratory Hygiene/Cough Etiquette"),
]


def _real(name: str) -> LoadedDocument:
    path = PDFS / name
    if not path.exists():
        pytest.skip(f"../shared/data/pdfs is absent: {name} is kept beside the project, "
                    "not in it (see ../shared/README.md)")
    return load_document(path)


@pytest.fixture(scope="module")
def who() -> LoadedDocument:
    return _real(WHO)


@pytest.fixture(scope="module")
def cdc() -> LoadedDocument:
    return _real(CDC)


@pytest.mark.parametrize(("which", "sentences"), [("who", WHO_SENTENCES), ("cdc", CDC_SENTENCES)])
def test_real_pdf_sentences_land_on_their_page_and_section(
        request: pytest.FixtureRequest, which: str,
        sentences: list[tuple[str, int, str]]) -> None:
    doc = request.getfixturevalue(which)
    chunks = chunk_document(doc, words, chunk_tokens=150, overlap_tokens=24)
    for sentence, page, section in sentences:
        offset = find(doc, sentence)
        assert doc.page_of(offset) == page, sentence
        chunk = next(c for c in chunks if c.start <= offset < c.end)
        assert chunk.section == section, sentence
        assert chunk.page_start <= page <= chunk.page_end
        own_page = doc.page_text(chunk.page_start)
        assert own_page[chunk.char_start:].startswith(chunk.text[:40])


def test_real_pdfs_pages_metadata_and_boilerplate(who, cdc) -> None:
    who_doc, cdc_doc = who, cdc
    assert (who_doc.page_count, cdc_doc.page_count) == (91, 44)
    assert who_doc.metadata.title == (
        "Guidelines on Core Components of Infection Prevention and Control Programmes at the "
        "National and Acute Health Care Facility Level")
    assert who_doc.metadata.date == "2016-11-17"
    assert cdc_doc.metadata.organisation == "Centers for Disease Control and Prevention"
    assert cdc_doc.metadata.date == "2016-11-07"
    running = "Guidelines on Core Components of Infection Prevention and Control Programmes"
    assert not any(line.startswith(running) for line in who_doc.text.split("\n")[40:])
    assert "Version 2.3" not in cdc_doc.text
    assert "EXECUTIVE SUMMARY" not in who_doc.text  # the running section title of pp. 10-17


def test_real_pdf_outline_and_numbered_subheadings(who) -> None:
    doc = who
    titles = {h.title: (h.level, doc.page_of(h.offset)) for h in doc.headings}
    assert titles["4 Methods"] == (1, 21)
    assert titles["4.5 Research question/PICO"] == (2, 22)
    assert titles["4.6.1 Systematic review: facility level"] == (3, 22)
    assert titles["Acknowledgements"] == (1, 4)
    assert not any(title.startswith("_GoBack") for title in titles)
    acknowledgements = next(h for h in doc.headings if h.title == "Acknowledgements")
    assert acknowledgements.offset == doc.page_starts[3]  # moved from the end of its page
