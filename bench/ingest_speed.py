"""`bench ingest`: how fast ingestion runs and how far one machine goes.

`bench_ingest(config, pdf_dir)` ingests (1) the real PDFs in `pdf_dir`, (2) a generated corpus
of guideline-like PDFs (fpdf2, 40 files of 50 pages by default) and (3) 2,000 one-paragraph
files into throw-away stores, and after each gives the same chunk texts to the bare encoder in
the same process: ingest can be no faster than the encoder, and the ratio of the two rates,
measured minutes apart, holds on a shared machine where absolute rates do not. It then times a
no-op re-ingest of the small files, checks an IVF index's recall against exact search on the
stored vectors, and measures memory and search latency of both index kinds at 100,000 chunks.
The real PDFs go in as one ingest, as `meditron-rag ingest DIR` reads them; the command itself
is run once more on them for its peak memory, its own and its parse child's together.
It returns a dict; `python -m bench ingest` saves and reports it, `python -m bench.ingest_speed
[PDF_DIR] [PAGES]` prints it as JSON.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import psutil

from bench.child import peak_rss_mb
from ingest import Embedder, ingest, load_embedder
from ingest.parsing import embedding_text
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


REAL_ROUNDS = 3  # rounds of the shared PDFs, the median reported


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter for this process (Linux); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def write_small_files(folder: Path, count: int) -> None:
    """`count` short guideline notes, one paragraph each: a corpus of many files smaller than
    one batch of the encoder."""
    rng = random.Random(count)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        topic, terms = _TOPICS[i % len(_TOPICS)]
        (folder / f"note-{i:04d}.md").write_text(
            f"# {topic} note {i}\n\n{_paragraph(rng, topic, terms)}\n", encoding="utf-8")


def raw_encode(embedder: Embedder, texts: list[str], batch_size: int) -> float:
    """Seconds the encoder alone takes for `texts`, called once on all of them: for
    sentence-transformers `SentenceTransformer.encode` itself, for llama.cpp its `embed`."""
    model = getattr(embedder, "model", None)
    started = time.perf_counter()
    if model is not None:
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                     convert_to_numpy=True, show_progress_bar=False)
    else:
        embedder.encode(texts)
    return time.perf_counter() - started


def cli_peak_memory(pdfs: list[Path], data_dir: Path) -> dict[str, float]:
    """Peak resident memory (MiB) of `meditron-rag ingest` on `pdfs` into an empty index,
    sampled every 20 ms: the command's own process, and it together with its children."""
    env = {**os.environ, "MEDITRON_RAG_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "ui", "ingest", "--quiet", *map(str, pdfs)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched = psutil.Process(process.pid)
    own = total = 0.0
    while process.poll() is None:
        try:
            rss = [watched.memory_info().rss]
            for child in watched.children(recursive=True):
                try:
                    rss.append(child.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue
        except psutil.NoSuchProcess:
            break
        own, total = max(own, rss[0] / 2**20), max(total, sum(rss) / 2**20)
        time.sleep(0.02)
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"meditron-rag ingest failed: {stderr.decode()[-500:]}")
    return {"peak_rss_mb": round(own), "peak_rss_with_children_mb": round(total),
            "seconds": round(time.perf_counter() - started, 2)}


def parts(paths: list[Path], count: int) -> list[list[Path]]:
    """`paths` in `count` runs of consecutive files (fewer when there are fewer files)."""
    count = max(1, min(count, len(paths)))
    size = max(1, -(-len(paths) // count))
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def _run(parts: list[list[Path]], folder: Path, config: Config, embedder: Embedder,
         threads: list[int] | None = None) -> dict[str, object]:
    """Ingest each part in turn into one new store at `folder`, and after each give the bare
    encoder the same chunk texts (at each of `threads` torch threads, else the current count).
    Alternating part by part, ingest and encoder share whatever load the machine has. On a
    machine whose cores are oversubscribed the wall-clock ratio favours ingest, whose three
    threads get a larger share of the cores than the encoder's one: the CPU seconds of each
    (`cpu_s`, `raw_encode_cpu_s`) show the work ingest adds."""
    import torch

    now = torch.get_num_threads()
    store = SQLiteStore.open(folder, embedder=embedder)
    ingest_s = ingest_cpu = raw_cpu = peak = 0.0
    raw_s = {count: 0.0 for count in threads or [now]}
    files = failed = pages = chunks = 0
    seen: set[str] = set()
    for part in parts:
        _reset_peak()  # the peak of ingest alone, not of the bare encoder's turns
        started, cpu = time.perf_counter(), time.process_time()
        with store.writing():
            report = ingest(part, store, embedder, config.chunking.chunk_tokens,
                            config.chunking.overlap_tokens,
                            window=config.embedding.ingest_window,
                            lookahead=config.embedding.ingest_lookahead)
        ingest_s += time.perf_counter() - started
        ingest_cpu += time.process_time() - cpu
        peak = max(peak, peak_rss_mb())
        files, failed = files + len(report.files), failed + report.count("failed")
        pages, chunks = pages + report.pages, chunks + report.chunks
        new = [d for d in store.documents() if d.id not in seen]
        seen.update(d.id for d in new)
        texts = [embedding_text(d.title, c.section, c.text)
                 for d in new for c in store.document_chunks(d.id)]
        for count in raw_s:
            torch.set_num_threads(count)
            cpu = time.process_time()
            raw_s[count] += raw_encode(embedder, texts, config.embedding.batch_size)
            raw_cpu += time.process_time() - cpu if count == now else 0.0
        torch.set_num_threads(now)
    store.close()
    raw = {str(count): round(chunks / seconds, 2) for count, seconds in raw_s.items()}
    return {
        "files": files, "failed": failed, "pages": pages, "chunks": chunks, "parts": len(parts),
        "seconds": round(ingest_s, 2), "pages_per_s": round(pages / ingest_s, 2),
        "chunks_per_s": round(chunks / ingest_s, 2),
        "raw_encode_s": {str(c): round(v, 2) for c, v in raw_s.items()},
        "raw_encode_chunks_per_s": raw,
        "ingest_over_raw": round(raw_s[now] / ingest_s, 3) if now in raw_s else None,
        "cpu_s": round(ingest_cpu, 2), "raw_encode_cpu_s": round(raw_cpu, 2),
        "peak_rss_mb": peak, "load_average": [round(x, 2) for x in os.getloadavg()],
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


def bench_ingest(config: Config, pdf_dir: Path | None, generated_pages: int = 2000,
                 small_files: int = 2000) -> dict:
    """Ingest rates beside the bare encoder's on the same chunks (ratio `ingest_over_raw`),
    and peak RSS, for the real PDFs in `pdf_dir` (the median of REAL_ROUNDS rounds), a
    generated corpus of `generated_pages` pages (40 files) and `small_files` one-paragraph
    files; the time of a no-op re-ingest of the small files; IVF recall; memory and latency
    at 100,000 chunks."""
    import torch

    embedder = load_embedder(config)
    embedder.encode(["warm up the model"])
    cpus = os.cpu_count() or 1
    result: dict[str, object] = {
        "machine": {"cpus": cpus, "torch_threads": torch.get_num_threads(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "embedding_model": embedder.name,
        "batch_size": config.embedding.batch_size,
    }
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        pdfs = sorted(Path(pdf_dir).glob("*.pdf")) if pdf_dir is not None else []
        if pdfs:
            threads = sorted({1, cpus, torch.get_num_threads()})
            # A run of 25 s on two shared cores varies by several per cent: the median of
            # REAL_ROUNDS, each ingest into a new store beside its bare encoder.
            runs = [_run([pdfs], root / f"real-{i}", config, embedder, threads)
                    for i in range(REAL_ROUNDS)]
            real = sorted(runs, key=lambda r: float(str(r["ingest_over_raw"])))[len(runs) // 2]
            real["rounds_ingest_over_raw"] = [r["ingest_over_raw"] for r in runs]
            real["cli"] = cli_peak_memory(pdfs, root / "cli")
            result["real_pdfs"] = real
        corpus = root / "corpus"
        corpus.mkdir()
        files = 40
        per_file = max(1, -(-generated_pages // files))
        started = time.perf_counter()
        for i in range(files):
            write_guideline_pdf(corpus / f"guideline-{i:02d}.pdf", per_file, seed=i)
        generate_s = time.perf_counter() - started
        generated = _run(parts(sorted(corpus.glob("*.pdf")), 2), root / "generated", config,
                         embedder)
        generated["generate_s"] = round(generate_s, 2)
        result["generated"] = generated

        notes = root / "notes"
        write_small_files(notes, small_files)
        result["small_files"] = _run(parts(sorted(notes.glob("*.md")), 2), root / "small",
                                     config, embedder)
        store = SQLiteStore.open(root / "small", embedder=embedder)
        started = time.perf_counter()
        with store.writing():
            noop = ingest([notes], store, embedder, config.chunking.chunk_tokens,
                          config.chunking.overlap_tokens)
        result["noop_reingest"] = {"files": len(noop.files),
                                   "unchanged": noop.count("unchanged"),
                                   "seconds": round(time.perf_counter() - started, 3)}
        store.close()

        store = SQLiteStore.open(root / "generated", embedder=embedder)
        rows = store.db.execute("SELECT embedding FROM chunks").fetchall()
        vectors = np.frombuffer(b"".join(r[0] for r in rows), np.float32).reshape(-1, store.dim)
        topics = [f"{term} in {topic.lower()}" for topic, terms in _TOPICS for term in terms]
        queries = embedder.encode([f"When should clinicians use {t}?" for t in topics])
        result["ivf_recall"] = _recall(np.ascontiguousarray(vectors), queries)
        store.close()
    result["scale_100k"] = _scale(embedder.dim)
    return result


def ingest_table(result: dict) -> list[str]:
    """The ingest rates beside the bare encoder's, one row per corpus, as Markdown."""
    names = {"real_pdfs": "shared PDFs", "generated": "generated PDFs",
             "small_files": "one-paragraph files"}
    lines = ["| corpus | files | pages | chunks | ingest chunks/s | bare encoder chunks/s "
             "(by torch threads) | ingest / encoder | CPU s: ingest / encoder | peak RSS (MB) |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |"]
    for key, name in names.items():
        row = result.get(key)
        if not row or "raw_encode_chunks_per_s" not in row:
            continue
        raw = ", ".join(f"{rate} ({threads})" for threads, rate in
                        row["raw_encode_chunks_per_s"].items())
        ratio = str(row["ingest_over_raw"])
        if rounds := row.get("rounds_ingest_over_raw"):
            ratio += f" (median of {', '.join(map(str, rounds))})"
        lines.append(f"| {name} | {row['files']:,} | {row['pages']:,} | {row['chunks']:,} | "
                     f"{row['chunks_per_s']} | {raw} | {ratio} | "
                     f"{row['cpu_s']} / {row['raw_encode_cpu_s']} | {row['peak_rss_mb']:.0f} |")
    cli = (result.get("real_pdfs") or {}).get("cli")
    if cli:
        lines += ["", f"`meditron-rag ingest` on the shared PDFs, peak RSS: "
                      f"{cli['peak_rss_mb']} MB, {cli['peak_rss_with_children_mb']} MB with its "
                      f"parse process ({cli['seconds']} s, model loading included)."]
    noop = result.get("noop_reingest")
    if noop:
        lines += ["", f"No-op re-ingest of {noop['files']:,} unchanged files: "
                      f"{noop['seconds']} s."]
    return lines


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
