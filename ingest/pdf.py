"""PDF files: text per page, running headers and footers dropped, headings and metadata.

Pages without a usable text layer are read by OCR (`ingest.pdf_scan`), and ruled tables
become Markdown tables in place of their flattened text (`ingest.pdf_tables`); docs/pdf.md.

pypdf opens the file (damage, encryption, the outline, the info dictionary); pdfium reads the
text, in the order the content stream draws it (`ingest.pdf_text`): on the real guideline PDFs
that keeps the two columns of a page apart. Running headers, footers and page numbers are
dropped, words hyphenated across line ends are joined, and headings come from the outline,
else from font sizes, else from numbered lines. An encrypted PDF opens when its user password
is empty (AES needs `cryptography`).
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError

from ingest.document import DocumentMetadata, Heading, LoadedDocument
from ingest.page_words import PageWords
from ingest.pdf_headings import TextRun, assemble, bookmarks, merge_numbered, place_headings
from ingest.pdf_pages import clean_pages
from ingest.pdf_scan import needs_ocr, page_list, recognise
from ingest.pdf_tables import find_tables, place_tables
from ingest.pdf_text import extract_pages
from ingest.text import clean_title, iso_date, numbered_headings
from meditron_rag.config import PdfConfig
from meditron_rag.errors import LoadError

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf reports harmless repairs as warnings


def load_pdf(path: Path, data: bytes, pdf: PdfConfig | None = None) -> LoadedDocument:
    """A PDF's pages as one text; `LoadError` when it is damaged or locked, or scanned with no
    OCR engine to read it. Pages without a usable text layer are read by `pdf.ocr_engine`."""
    pdf = pdf or PdfConfig()
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
    raw_pages, runs, failed = extract_pages(data, page_count)
    if len(failed) == page_count:
        raise LoadError(path, "corrupt or truncated PDF: no page could be read; re-download "
                              "or re-export it")
    if failed:
        warnings.append(f"pages {page_list(failed)} could not be read and are left empty")
    scanned = [i + 1 for i, page in enumerate(raw_pages)
               if i + 1 not in failed and needs_ocr(page)]
    extra: dict[str, str] = {}
    words: dict[int, PageWords] = {}
    if scanned:
        extra, words = _recognise(path, data, scanned, raw_pages, runs, pdf, warnings,
                                  everything=len(scanned) + len(failed) == page_count)

    pages = clean_pages(raw_pages)
    if pdf.tables:
        text_pages = [n for n in range(1, page_count + 1) if n not in scanned and pages[n - 1]]
        for number, tables in find_tables(data, text_pages).items():
            pages[number - 1] = place_tables(pages[number - 1], tables, pdf.table_chars)
    outline = bookmarks(reader)
    placed = place_headings(pages, outline, runs)
    text, page_starts, headings = assemble(pages, placed)
    if outline:
        headings = merge_numbered(headings, numbered_headings(text))
    elif not headings:
        headings = numbered_headings(text)
    meta = _pdf_metadata(reader, path, runs[0] if runs else [], headings)
    meta.extra.update(extra)
    return LoadedDocument(path, "pdf", text, page_starts, headings, meta, True, warnings, words)


def _recognise(path: Path, data: bytes, scanned: list[int], raw_pages: list[list[str]],
               runs: list[list[TextRun]], pdf: PdfConfig, warnings: list[str],
               everything: bool) -> tuple[dict[str, str], dict[int, PageWords]]:
    """OCR the `scanned` pages in place; the document's OCR record and the OCR'd pages' words,
    or a warning (or, when `everything` is scanned, a `LoadError`) naming what to install."""
    result = recognise(data, scanned, pdf)
    if isinstance(result, str):  # the engine is off or not installed
        if everything:
            raise LoadError(path, f"scanned PDF with no text layer: {result}")
        warnings.append(f"pages {page_list(scanned)} have no text (blank or scanned): "
                        f"{result}")
        return {}, {}
    for number, page in result.pages.items():
        raw_pages[number - 1] = page.lines
        runs[number - 1] = []
    unread = [n for n in scanned if n not in result.pages]
    empty = [n for n, page in result.pages.items() if not page.words]
    if everything and len(unread) == len(scanned):
        raise LoadError(path, "corrupt or truncated PDF: its pages could not be rendered for "
                              "OCR; re-download or re-export it")
    if everything and len(unread) + len(empty) == len(scanned):
        raise LoadError(path, "scanned PDF in which OCR found no text: check the scan")
    if unread:
        warnings.append(f"pages {page_list(unread)} could not be rendered for OCR and are "
                        "left empty")
    if empty:
        warnings.append(f"pages {page_list(empty)} have no text (blank), even to OCR")
    words = {number: PageWords.from_ocr(page, result.dpi)
             for number, page in result.pages.items() if page.words}
    return result.record(), words


def _pdf_metadata(reader: PdfReader, path: Path, first_page: list[TextRun],
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
