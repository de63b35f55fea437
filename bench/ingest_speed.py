"""`bench ingest`: how fast ingestion runs and how far one machine goes.

`bench_ingest(config, pdf_dir)` ingests (1) the real PDFs in `pdf_dir` and (2) a generated corpus
of guideline-like PDFs (fpdf2, 40 files of 50 pages by default) into throw-away stores, then
times a no-op re-ingest, checks an IVF index's recall against exact search on the stored vectors,
and measures memory and search latency of both index kinds at 100,000 chunks. It returns a dict;
`python -m bench.ingest_speed [PDF_DIR]` prints it as JSON.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.child import peak_rss_mb
from ingest import Embedder, ingest, load_embedder
from ingest.store import SQLiteStore
from ingest.store.vectors import new_ivf_index
from meditron_rag.config import Config, load_config

_TOPICS = [
    ("Hand hygiene", ["alcohol-based hand rub", "soap and water", "glove use", "audit feedback"]),
    ("Hypertension", ["home blood pressure", "systolic target", "thiazide diuretics",
                      "ACE inhibitors"]),
    ("Sepsis", ["lactate measurement", "blood cultures", "broad-spectrum antibiotics",
                "fluid resuscitation"]),
    ("Asthma", ["inhaled corticosteroids", "budesonide-formoterol", "spirometry",
                "exacerbation plans"]),
    ("Pneumonia", ["chest radiography", "amoxicillin", "CURB-65 score", "macrolides"]),
    ("Vaccination", ["pneumococcal conjugate vaccine", "influenza vaccine", "RSV vaccine",
                     "catch-up schedules"]),
]
_TEMPLATES = [
    "Clinicians should consider {a} for adults with suspected {topic} (strong recommendation, "
    "moderate-certainty evidence).",
    "In patients at high risk, {a} is preferred over {b} when both are available.",
    "The panel found insufficient evidence to recommend routine {a} in primary care.",
    "Facilities should audit {a} at least every {n} months and report the results to staff.",
    "Offer {a} within {n} hours of presentation; reassess after {m} days.",
    "{A} reduced mortality by {n}% in {m} randomised trials (relative risk 0.{n2}).",
    "Do not use {a} alone; combine it with {b} and document the reason in the record.",
]


def _paragraph(rng: random.Random, topic: str, terms: list[str]) -> str:
    sentences = []
    for _ in range(rng.randint(3, 6)):
        a, b = rng.sample(terms, 2)
        sentences.append(rng.choice(_TEMPLATES).format(
            a=a, A=a[0].upper() + a[1:], b=b, topic=topic.lower(), n=rng.randint(2, 48),
            m=rng.randint(3, 30), n2=rng.randint(50, 95)))
    return " ".join(sentences)


def write_guideline_pdf(path: Path, pages: int, seed: int) -> None:
    """A guideline-like PDF: numbered sections with headings, paragraphs, a table, page numbers."""
    from fpdf import FPDF

    rng = random.Random(seed)
    topic, terms = _TOPICS[seed % len(_TOPICS)]
    pdf = FPDF()
    pdf.set_title(f"{topic} guideline {2000 + seed % 25}")
    pdf.set_author("Bench Guideline Society")
    pdf.set_auto_page_break(True, margin=15)
    for page in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        pdf.cell(0, 5, f"{topic} guideline - page {page} of {pages}", align="R",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 8, f"{page}. {rng.choice(terms).capitalize()} in {topic.lower()}",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for _ in range(3):
            pdf.multi_cell(0, 4.5, _paragraph(rng, topic, terms), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        if page % 5 == 0:
            for term in rng.sample(terms, 3):
                pdf.cell(0, 5, f"{term} | grade {rng.choice('ABC')} | {rng.randint(1, 9)} trials",
                         new_x="LMARGIN", new_y="NEXT")
        if pdf.page_no() > page:  # overflowed: keep one page per page number
            break
    pdf.output(str(path))


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter for this process (Linux); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _run(paths: list[Path], folder: Path, config: Config, embedder: Embedder
         ) -> dict[str, float]:
    store = SQLiteStore.open(folder, embedder=embedder)
    _reset_peak()
    started = time.perf_counter()
    with store.writing():
        report = ingest(paths, store, embedder, config.chunking.chunk_tokens,
                        config.chunking.overlap_tokens)
    seconds = time.perf_counter() - started
    store.close()
    return {
        "files": len(report.files), "failed": report.count("failed"), "pages": report.pages,
        "chunks": report.chunks, "seconds": round(seconds, 2),
        "pages_per_s": round(report.pages / seconds, 2),
        "chunks_per_s": round(report.chunks / seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def _recall(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> dict[str, float]:
    """Recall@k of the store's IVF settings against exact search, over the same vectors."""
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    nlist = max(1, min(int(np.sqrt(len(vectors))), len(vectors) // 39))
    sample = vectors[np.random.default_rng(0).choice(len(vectors), min(len(vectors),
                                                                        nlist * 64), False)]
    ivf = new_ivf_index(sample, nlist)
    ivf.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    truth = exact.search(queries, k)[1]
    found = ivf.search(queries, k)[1]
    hits = sum(len(set(t) & set(f)) for t, f in zip(truth, found))
    return {"vectors": len(vectors), "nlist": nlist,
            "nprobe": int(faiss.extract_index_ivf(ivf).nprobe),
            f"recall_at_{k}": round(hits / truth.size, 4)}


def _scale(dim: int, n: int = 100_000, queries: int = 200) -> dict[str, object]:
    """Memory and search latency of flat and IVF at n clustered unit vectors."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((2000, dim)).astype(np.float32)
    data = centres[rng.integers(0, 2000, n)] + 0.6 * rng.standard_normal((n, dim)).astype(
        np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ask = data[rng.integers(0, n, queries)] + 0.3 * rng.standard_normal((queries, dim)).astype(
        np.float32)
    ask /= np.linalg.norm(ask, axis=1, keepdims=True)
    out: dict[str, object] = {"chunks": n, "dim": dim}
    ids = np.arange(n, dtype=np.int64)
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    flat.add_with_ids(data, ids)
    started = time.perf_counter()
    nlist = int(np.sqrt(n))
    ivf = new_ivf_index(data[rng.choice(n, nlist * 64, False)], nlist)
    ivf.add_with_ids(data, ids)
    out["ivf_build_s"] = round(time.perf_counter() - started, 2)
    truth = None
    for name, index in (("flat", flat), ("ivf", ivf)):
        size = len(faiss.serialize_index(index)) / 1e6
        started = time.perf_counter()
        found = np.stack([index.search(q.reshape(1, -1), 10)[1][0] for q in ask])
        latency = (time.perf_counter() - started) / queries * 1000
        truth = found if truth is None else truth
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)])
        out[name] = {"index_mb": round(size, 1), "search_ms": round(latency, 2),
                     "recall_at_10": round(float(recall), 4)}
    return out


def bench_ingest(config: Config, pdf_dir: Path | None, generated_pages: int = 2000) -> dict:
    """Pages/s, chunks/s and peak RSS for the real PDFs and a generated corpus of
    `generated_pages` pages (40 files), the time of a no-op re-ingest, IVF recall, and scale."""
    import torch

    embedder = load_embedder(config)
    embedder.encode(["warm up the model"])
    result: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "embedding_model": embedder.name,
    }
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        if pdf_dir is not None:
            pdfs = sorted(Path(pdf_dir).glob("*.pdf"))
            result["real_pdfs"] = _run(pdfs, root / "real", config, embedder)
        corpus = root / "corpus"
        corpus.mkdir()
        files = 40
        per_file = max(1, -(-generated_pages // files))
        started = time.perf_counter()
        for i in range(files):
            write_guideline_pdf(corpus / f"guideline-{i:02d}.pdf", per_file, seed=i)
        generate_s = time.perf_counter() - started
        generated = _run([corpus], root / "generated", config, embedder)
        generated["generate_s"] = round(generate_s, 2)
        result["generated"] = generated
        started = time.perf_counter()
        noop = _run([corpus], root / "generated", config, embedder)
        result["noop_reingest_s"] = round(time.perf_counter() - started, 2)
        result["noop_reingest_ingested"] = noop["chunks"]

        store = SQLiteStore.open(root / "generated", embedder=embedder)
        rows = store.db.execute("SELECT embedding FROM chunks").fetchall()
        vectors = np.frombuffer(b"".join(r[0] for r in rows), np.float32).reshape(-1, store.dim)
        topics = [f"{term} in {topic.lower()}" for topic, terms in _TOPICS for term in terms]
        queries = embedder.encode([f"When should clinicians use {t}?" for t in topics])
        result["ivf_recall"] = _recall(np.ascontiguousarray(vectors), queries)
        store.close()
    result["scale_100k"] = _scale(embedder.dim)
    return result


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    pdf_dir = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "shared" / (
        "data/pdfs")
    pages = int(args[1]) if len(args) > 1 else 2000
    config = load_config()
    print(json.dumps(bench_ingest(config, pdf_dir if pdf_dir.is_dir() else None, pages),
                     indent=2))


if __name__ == "__main__":
    main()
