"""Which PDF pages need OCR, and their OCR with a record of how it was read.

A page needs OCR when its text layer is (nearly) empty, as on a scan, or garbage: glyphs
mapped to private-use or replacement characters, or "words" with no vowels (a font whose
characters map to the wrong letters).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ingest.ocr import OcrPage, missing, open_engine, read_pages
from meditron_rag.config import PdfConfig

_MIN_CHARS = 10  # below this, a page has no real text layer
_MIN_WORDS = 20  # a page needs this many words before its vowel-less share is judged
_MAX_ODD = 0.1  # share of private-use, replacement or control characters
_MAX_VOWELLESS = 0.5  # share of letter runs of 3 or more with no vowel


def needs_ocr(lines: list[str]) -> bool:
    """Whether a page's extracted lines are too few or too garbled to index."""
    chars = re.sub(r"\s", "", "".join(lines))
    if len(chars) < _MIN_CHARS:
        return True
    odd = sum(ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc", "Cn") for ch in chars)
    if odd > _MAX_ODD * len(chars):
        return True
    words = re.findall(r"[A-Za-z]{3,}", " ".join(lines))
    vowelless = sum(not re.search(r"[aeiouyAEIOUY]", word) for word in words)
    return len(words) >= _MIN_WORDS and vowelless > _MAX_VOWELLESS * len(words)


@dataclass
class ScanResult:
    """OCR'd pages (1-based numbers) and how they were read."""

    engine: str
    dpi: int
    pages: dict[int, OcrPage]

    def record(self) -> dict[str, str]:
        """What a document keeps of its OCR (in its metadata's `extra`): the engine, the
        pages, and each page's mean word confidence, so any chunk's pages say how it was read."""
        read = [n for n, page in self.pages.items() if page.words]
        words = [w for n in read for w in self.pages[n].words]
        mean = sum(w.confidence for w in words) / len(words) if words else 0.0
        return {
            "ocr": f"{self.engine} at {self.dpi} dpi",
            "ocr_pages": page_ranges(read),
            "ocr_confidence": f"{mean:.2f}",
            "ocr_page_confidence": " ".join(f"{n}:{self.pages[n].confidence:.2f}"
                                            for n in read),
        }


def recognise(data: bytes, pages: list[int], config: PdfConfig) -> ScanResult | str:
    """The OCR of `pages`, or why it cannot run ("install X to index it")."""
    if config.ocr_engine == "off":
        return "set pdf.ocr_engine to tesseract or rapidocr to index it"
    need = missing(config)
    if need:
        return f"install {need} to index it"
    engine = open_engine(config)
    return ScanResult(engine.name, config.ocr_dpi, read_pages(data, pages, engine, config.ocr_dpi))


def page_list(pages: list[int]) -> str:
    """Page numbers for a message, the first ten of them."""
    shown = ", ".join(str(p) for p in pages[:10])
    return shown + (f" and {len(pages) - 10} more" if len(pages) > 10 else "")


def page_ranges(pages: list[int]) -> str:
    """1, 2, 3, 5 -> "1-3, 5"."""
    parts: list[str] = []
    for number in sorted(pages):
        if parts and parts[-1].split("-")[-1] == str(number - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{number}"
        else:
            parts.append(str(number))
    return ", ".join(parts)
