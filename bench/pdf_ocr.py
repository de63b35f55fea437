"""OCR on a scanned copy of a real guideline: word recall, pages per second, and retrieval.

`python -m bench.pdf_ocr [--step N] [--out docs]` renders each shared PDF's pages to greyscale
JPEG images and back into an image-only PDF (a "scan", kept in a cache folder, never in the
repository), then:

1. engines: every N-th page of each scan read by each engine (Tesseract and RapidOCR, at
   `pdf.ocr_dpi`): word recall against the page's text layer in the original (multiset of
   lowercased letter-and-digit words; each reference word counts once per occurrence) and
   pages per second of OCR alone (rendering excluded, one thread of work at a time);
2. product: the whole CDC guide ingested twice into throw-away stores, from the text PDF and
   from its scan (OCR by pdf.ocr_engine), the document-level word recall of the second
   against the first, and recall@5 (hybrid retrieval) of the questions in
   bench/data/cdc-outpatient-questions.jsonl: a hit is a top-5 passage on one of the pages
   the question's answer is on.

Writes docs/results/pdf-ocr.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from fpdf import FPDF

from bench.common import log_stderr
from ingest import ingest, load_embedder
from ingest.loaders import load_document
from ingest.ocr import OcrEngine, RapidOcrEngine, TesseractEngine
from ingest.store import SQLiteStore
from meditron_rag.config import Config, load_config
from rag.evaluation.results import machine
from rag.retrieval import Retriever

ROOT = Path(__file__).resolve().parent.parent
PDFS = ROOT.parent / "shared" / "data" / "pdfs"
QUESTIONS = ROOT / "bench" / "data" / "cdc-outpatient-questions.jsonl"
CDC = "cdc-outpatient-infection-prevention-2016.pdf"
SCAN_DPI = 300  # the usual resolution of an office scanner
SCAN_QUALITY = 75  # JPEG quality of the scanned pages


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folder = Path(base) / "meditron-rag" / "bench-scans"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def scanned_copy(source: Path) -> Path:
    """An image-only copy of `source` (made once and cached)."""
    target = cache_dir() / f"{source.stem}-scan{SCAN_DPI}.pdf"
    if target.exists():
        return target
    pdf = pdfium.PdfDocument(source)
    out = FPDF(unit="pt")
    for index in range(len(pdf)):
        page = pdf[index]
        width, height = page.get_size()
        jpeg = io.BytesIO()
        page.render(scale=SCAN_DPI / 72, grayscale=True).to_pil().save(
            jpeg, "JPEG", quality=SCAN_QUALITY)
        out.add_page(format=(width, height))
        out.image(jpeg, x=0, y=0, w=width, h=height)
    partial = target.with_suffix(".part")
    partial.write_bytes(bytes(out.output()))
    partial.replace(target)
    return target


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z0-9]+", text.lower()))


def recall(reference: Counter[str], found: Counter[str]) -> tuple[int, int]:
    """(reference words found, reference words), each occurrence counted."""
    return sum(min(n, found[w]) for w, n in reference.items()), sum(reference.values())


@dataclass
class _Tally:
    hit: int = 0
    words: int = 0
    seconds: float = 0.0
    page_recall: list[float] = field(default_factory=list)


def engine_figures(sources: list[Path], step: int, engines: dict[str, OcrEngine],
                   dpi: int) -> dict[str, dict[str, object]]:
    """Per engine: word recall and OCR pages per second on every `step`-th page."""
    tallies = {name: _Tally() for name in engines}
    for source in sources:
        original = pdfium.PdfDocument(source)
        scan = pdfium.PdfDocument(scanned_copy(source))
        for index in range(0, len(original), step):
            reference = words(original[index].get_textpage().get_text_range())
            if sum(reference.values()) < 20:  # a cover or blank page says little
                continue
            image = scan[index].render(scale=dpi / 72, grayscale=True).to_pil()
            for name, engine in engines.items():
                started = time.perf_counter()
                page = engine.read(image)
                seconds = time.perf_counter() - started
                hit, count = recall(reference, words(" ".join(page.lines)))
                tally = tallies[name]
                tally.hit += hit
                tally.words += count
                tally.seconds += seconds
                tally.page_recall.append(round(hit / count, 4))
                log_stderr(f"{source.name} p{index + 1} {name}: recall {hit / count:.3f}, "
                           f"{seconds:.1f} s, confidence {page.confidence:.2f}")
    return {name: {
        "engine": engines[name].name, "pages": len(t.page_recall),
        "word_recall": round(t.hit / t.words, 4) if t.words else None,
        "worst_page_recall": min(t.page_recall, default=None),
        "median_page_recall": statistics.median(t.page_recall) if t.page_recall else None,
        "pages_per_second": round(len(t.page_recall) / t.seconds, 4) if t.seconds else None,
    } for name, t in tallies.items()}


def product_figures(config: Config, source: Path) -> dict[str, object]:
    """The text PDF and its scan through the real ingest: word recall and recall@5."""
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line]
    embedder = load_embedder(config)
    result: dict[str, object] = {"document": source.name, "questions": len(questions)}
    with tempfile.TemporaryDirectory(prefix="meditron-rag-pdf-ocr-") as tmp:
        for label, path in (("text", source), ("scan", scanned_copy(source))):
            folder = Path(tmp) / label
            folder.mkdir()
            (folder / source.name).write_bytes(path.read_bytes())
            store = SQLiteStore.open(Path(tmp) / f"index-{label}", embedder=embedder)
            started = time.perf_counter()
            with store.writing():
                report = ingest([folder], store, embedder, config.chunking.chunk_tokens,
                                config.chunking.overlap_tokens, max_bytes=2**30,
                                pdf=config.pdf)
            seconds = time.perf_counter() - started
            failed = [f.reason for f in report.files if f.status == "failed"]
            if failed:
                raise SystemExit(f"{label}: {failed}")
            retriever = Retriever(store, embedder, config.retrieval)
            hits = []
            for q in questions:
                passages = retriever.search(q["question"], 5)
                hits.append(any(set(range(p.page_start, p.page_end + 1)) & set(q["pages"])
                                for p in passages))
            doc = store.documents()[0]
            result[label] = {
                "ingest_s": round(seconds, 1), "chunks": store.chunk_count(),
                "recall_at_5": round(sum(hits) / len(hits), 4),
                "missed": [q["id"] for q, hit in zip(questions, hits, strict=True) if not hit],
                "extra": {k: v for k, v in doc.extra.items() if k != "ocr_page_confidence"},
                "size_mb": round(path.stat().st_size / 2**20, 1),
            }
            store.close()
            log_stderr(f"{label}: {result[label]}")
    # Word recall against the text layer as read with tables off: a table's Markdown repeats
    # its header in every piece, which the scan (no table found on an OCR'd page) cannot match.
    text_doc = load_document(source, pdf=config.pdf.model_copy(update={"tables": False}))
    scan_doc = load_document(scanned_copy(source), max_bytes=2**30, pdf=config.pdf)
    hit, count = recall(words(text_doc.text), words(scan_doc.text))
    result["word_recall"] = round(hit / count, 4)
    pages = [recall(words(text_doc.page_text(n)), words(scan_doc.page_text(n)))
             for n in range(1, text_doc.page_count + 1)]
    result["worst_pages"] = sorted(
        ((n, round(h / c, 3)) for n, (h, c) in enumerate(pages, start=1) if c >= 20),
        key=lambda pair: pair[1])[:5]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--step", type=int, default=5, help="measure every N-th page")
    parser.add_argument("--engines", default="tesseract,rapidocr")
    parser.add_argument("--skip-product", action="store_true")
    parser.add_argument("--skip-engines", action="store_true",
                        help="keep the engine figures of the last results file")
    parser.add_argument("--pdfs", type=Path, default=PDFS, help="the shared guideline PDFs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    if not (args.pdfs / CDC).is_file():
        raise SystemExit(f"{args.pdfs} lacks {CDC}: the shared PDFs are kept beside the project")
    config = load_config()
    out = args.out / "results" / "pdf-ocr.json"
    engines: dict[str, OcrEngine] = {}
    for name in [] if args.skip_engines else args.engines.split(","):
        engines[name] = RapidOcrEngine() if name == "rapidocr" else TesseractEngine(
            config.pdf.ocr_language)
    sources = sorted(args.pdfs.glob("*.pdf"))
    results: dict[str, object] = {
        "command": "python -m bench.pdf_ocr " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
            if k in ("step", "engines")) + (" --skip-engines" if args.skip_engines else ""),
        "scan": {"dpi": SCAN_DPI, "jpeg_quality": SCAN_QUALITY, "greyscale": True},
        "ocr_dpi": config.pdf.ocr_dpi,
        "machine": {**machine(), "shared": True},
        "engines": (json.loads(out.read_text(encoding="utf-8"))["engines"] if args.skip_engines
                    else engine_figures(sources, args.step, engines, config.pdf.ocr_dpi)),
    }
    if args.skip_engines:  # the command that measured them
        results["engines_command"] = json.loads(out.read_text(encoding="utf-8"))["command"]
    if not args.skip_product:
        results["product"] = product_figures(config, args.pdfs / CDC)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
