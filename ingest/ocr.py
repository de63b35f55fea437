"""Text for scanned PDF pages: each page rendered by pypdfium2 and read by an OCR engine.

Two engines, both offline: Tesseract (Debian's `tesseract-ocr`, through pytesseract), the
default, whose layout analysis reads a two-column page column by column; and RapidOCR (ONNX
models inside its wheel), which reads text lines top to bottom across the columns. Each page
keeps its words' boxes in the pixels of the image the engine read (origin top left), for
locating a cited sentence later (`ingest.page_words`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

from meditron_rag.config import PdfConfig

# What to install, by engine, for the message on a scanned file that cannot be read.
INSTALL = {
    "tesseract": "tesseract-ocr (apt-get install tesseract-ocr, or brew install tesseract) "
                 "and pytesseract",
    "rapidocr": "rapidocr and onnxruntime (pip install 'meditron-rag[rapidocr]')",
}


@dataclass
class OcrWord:
    """A recognised word and its box in pixels of the page image, from its top left corner."""

    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom
    confidence: float  # 0 to 1


@dataclass
class OcrPage:
    """A page's recognised lines (a blank one between paragraphs) and its words."""

    lines: list[str]
    words: list[OcrWord] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """Mean word confidence, 0 to 1 (0 for a page with no words)."""
        if not self.words:
            return 0.0
        return sum(w.confidence for w in self.words) / len(self.words)


class OcrEngine(Protocol):
    name: str  # with its version, as recorded on OCR'd documents

    def read(self, image: Image.Image) -> OcrPage:
        """The text of a page image."""
        ...


class TesseractEngine:
    """Tesseract's words grouped by its blocks, paragraphs and lines (its reading order)."""

    def __init__(self, language: str) -> None:
        import pytesseract

        self._tess = pytesseract
        self.language = language
        self.name = f"tesseract {pytesseract.get_tesseract_version()}"

    def read(self, image: Image.Image) -> OcrPage:
        data = self._tess.image_to_data(image, lang=self.language,
                                        output_type=self._tess.Output.DICT)
        lines: list[str] = []
        words: list[OcrWord] = []
        current: list[str] = []
        line_key: tuple[int, int, int] | None = None
        for i, text in enumerate(data["text"]):
            text = text.strip()
            confidence = float(data["conf"][i])
            if not text or confidence < 0:
                continue
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            if key != line_key:
                if current:
                    lines.append(" ".join(current))
                if line_key is not None and key[:2] != line_key[:2]:
                    lines.append("")  # a new paragraph
                current, line_key = [], key
            current.append(text)
            left, top = int(data["left"][i]), int(data["top"][i])
            box = (left, top, left + int(data["width"][i]), top + int(data["height"][i]))
            words.append(OcrWord(text, box, confidence / 100))
        if current:
            lines.append(" ".join(current))
        return OcrPage(lines, words)


class RapidOcrEngine:
    """RapidOCR's text lines, top to bottom; each line's score stands for its words."""

    def __init__(self) -> None:
        import logging

        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self._ocr = RapidOCR()
        from importlib.metadata import version

        self.name = f"rapidocr {version('rapidocr')}"

    def read(self, image: Image.Image) -> OcrPage:
        result: Any = self._ocr(image.convert("RGB"))
        if result.boxes is None:
            return OcrPage([])
        lines: list[str] = []
        words: list[OcrWord] = []
        for box, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs, ys = [p[0] for p in box], [p[1] for p in box]
            lines.append(text)
            parts = text.split()
            width = (max(xs) - min(xs)) / max(1, len(text))
            offset = 0
            for part in parts:  # each word's share of the line box, by characters
                begin = text.index(part, offset)
                offset = begin + len(part)
                words.append(OcrWord(part, (round(min(xs) + begin * width), round(min(ys)),
                                            round(min(xs) + offset * width), round(max(ys))),
                                     float(score)))
        return OcrPage(lines, words)


def missing(config: PdfConfig) -> str:
    """What to install for `config.ocr_engine` to run; "" when it runs (or OCR is off)."""
    if config.ocr_engine == "tesseract":
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            return INSTALL["tesseract"]
        if shutil.which("tesseract") is None:
            return INSTALL["tesseract"]
        languages = set(pytesseract.get_languages(config=""))
        absent = [code for code in config.ocr_language.split("+") if code not in languages]
        if absent:
            return " and ".join(f"tesseract's '{code}' language data (apt-get install "
                                f"tesseract-ocr-{code})" for code in absent)
    if config.ocr_engine == "rapidocr":
        try:
            import rapidocr  # noqa: F401
        except ImportError:
            return INSTALL["rapidocr"]
    return ""


def open_engine(config: PdfConfig) -> OcrEngine:
    """The configured engine; call `missing` first."""
    if config.ocr_engine == "rapidocr":
        return RapidOcrEngine()
    return TesseractEngine(config.ocr_language)


def read_pages(data: bytes, pages: list[int], engine: OcrEngine, dpi: int
               ) -> dict[int, OcrPage]:
    """OCR of `pages` (1-based) of the PDF in `data`, each rendered in grey at `dpi`. A page
    that cannot be rendered or read (a damaged file) is left out."""
    import pypdfium2 as pdfium

    scale = dpi / 72
    found: dict[int, OcrPage] = {}
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return found
    try:
        for number in pages:
            try:
                page = pdf[number - 1]
                image = page.render(scale=scale, grayscale=True).to_pil()
                page.close()
                found[number] = engine.read(image)
            except Exception:  # noqa: BLE001 - a damaged page, or the engine failing on it
                continue
    finally:
        pdf.close()
    return found
