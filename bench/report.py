"""Results as Markdown pages with plots (docs/evaluation.md, docs/benchmarks.md).

Each `python -m bench` run saves its JSON under `<out>/results/` (rag.evaluation.results); the
Markdown page is then rewritten from every result file there, so runs can be repeated one at a
time (after a change to retrieval, say) and the page always shows the latest of each. Every
section names the command that produced it and the machine it ran on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from bench.ingest_speed import ingest_table
from bench.report_store import store_lines
from bench.report_targets import cpu_of, cpu_tag, part_lines, targets_lines
from rag.evaluation.claims import format_share, kinds_table
from rag.evaluation.harness import __doc__ as HARNESS_DOC  # noqa: N812
from rag.evaluation.metrics import __doc__ as METRICS_DOC  # noqa: N812
from rag.evaluation.results import evaluation_table, save_json, save_result, slug

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _load(out: Path, prefix: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "results").glob(f"{prefix}-*.json"))]


# --- evaluation ---------------------------------------------------------------------------------

def paired_line(paired: dict[str, dict]) -> str:
    """The sign tests of recall@5, one clause per pair of methods."""
    clauses = []
    for pair, t in paired.items():
        first, second = pair.split(" vs ")
        clauses.append(f"{first} ahead of {second} on {t['wins']}, behind on {t['losses']} "
                       f"(p = {t['p_value']:.2g})")
    return ("Question by question (recall@5; questions where two methods differ, exact "
            "two-sided sign test): "
            + "; ".join(clauses) + ".")


def save_evaluation(result: dict, out: Path) -> Path:
    """An eval or claims result saved under OUT/results/, and OUT/evaluation.md rewritten."""
    path = save_result(result, out)
    write_evaluation_page(out)
    return path


def _claims_section(out: Path) -> list[str]:
    """The citation check on each claims file: every checker measured on it, side by side."""
    by_file: dict[str, list[dict]] = {}
    for r in _load(out, "claims"):
        by_file.setdefault(Path(r["file"]).name, []).append(r)
    lines: list[str] = []
    for name, runs in by_file.items():
        lines += [f"## Citation check: {name}", "",
                  "Targets: precision of supported at least 0.98, recall of supported at "
                  "least 0.90; each kind of contradiction caught at least 0.95; not_applicable "
                  "caught at least 0.90. Caught is the exact verdict; flagged is anything but "
                  "supported (the reader is at least warned).", "",
                  "| checker | cases | precision of supported | recall of supported | "
                  "exact verdict | ms a case |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for r in runs:
            lines.append(f"| {r['checker']} | {r['cases']} | "
                         f"{format_share(r['precision_supported'])} | "
                         f"{format_share(r['recall_supported'])} | "
                         f"{format_share(r['accuracy'])} | {r['ms_per_case']} |")
        for r in runs:
            lines += ["", f"**{r['checker']}**: `{r.get('command', '')}`", "", kinds_table(r),
                      "", _machine_line(r.get("machine", {})), ""]
    return lines


def _recall_plot(results: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    methods = ["dense", "bm25", "hybrid"]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        values = [r["methods"].get(method, {}).get("recall@5", 0.0) for r in results]
        xs = [j + i * width for j in range(len(results))]
        bars = ax.bar(xs, values, width, label=method)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([j + width for j in range(len(results))])
    ax.set_xticklabels([f"{r['dataset']} (n={r['scored_questions']})" for r in results])
    ax.set_ylabel("recall@5")
    ax.set_ylim(0, 1.08)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Retrieval recall@5 by method")
    return _save_figure(fig, path)


def _save_figure(fig: Figure, path: Path) -> bool:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _machine_line(m: dict) -> str:
    v = m.get("versions", {})
    libs = ", ".join(f"{k} {v[k]}" for k in v)
    return (f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB RAM, "
            f"{m.get('os')}, Python {m.get('python')}; {libs}; measured {m.get('date')}")


def _store(result: dict) -> str:
    return str(result.get("settings", {}).get("store", "sqlite"))


def _backends_section(results: list[dict]) -> list[str]:
    """Each data set measured on both store backends: the same retrieval, side by side."""
    embedded = {r["dataset"]: r for r in results if _store(r) == "sqlite"}
    lines: list[str] = []
    for other in (r for r in results if _store(r) != "sqlite" and r["dataset"] in embedded):
        first = embedded[other["dataset"]]
        if not lines:
            lines += ["## Both store backends", "",
                      "The same data set, settings and questions, indexed into the embedded "
                      "store (SQLite + FAISS) and into PostgreSQL + pgvector "
                      "(`store.backend: postgres`, HNSW); each row is one method, embedded / "
                      "PostgreSQL.", "",
                      "| data set | method | recall@1 | recall@5 | recall@10 | MRR |",
                      "| --- | --- | ---: | ---: | ---: | ---: |"]
        for method, values in other["methods"].items():
            base = first["methods"].get(method)
            if base is None:
                continue
            cells = [f"{base[m]:.4f} / {values[m]:.4f}"
                     for m in ("recall@1", "recall@5", "recall@10", "mrr")]
            lines.append(f"| {other['dataset']} | {method} | " + " | ".join(cells) + " |")
    if lines:
        lines += ["", "PostgreSQL runs: " + "; ".join(
            f"`{r.get('command', '')}` with `MEDITRON_RAG_STORE_BACKEND=postgres` "
            f"({r.get('seconds')} s; {cpu_of(r.get('machine'))})"
            for r in results if _store(r) != "sqlite") + ".", ""]
    return lines


def write_evaluation_page(out: Path) -> Path:
    everything = _load(out, "eval")
    results = [r for r in everything if _store(r) == "sqlite"]
    lines = [
        "# Evaluation",
        "",
        "Retrieval, answer and citation quality of meditron-rag on our own question set and two "
        "public medical QA sets. Every number below comes from the command printed with it; "
        "re-run that command (it builds a temporary index and leaves yours alone) to refresh "
        "its section. Results are saved under `docs/results/`. The latency column is the "
        "time of one `Retriever.search` during the run, indicative only (other work may share "
        "the machine); `docs/benchmarks.md` has the controlled latency measurements.",
        "",
    ]
    if results and _recall_plot(results, out / "img" / "eval-recall.png"):
        lines += ["![recall@5 by method and data set](img/eval-recall.png)", ""]
    lines += _claims_section(out)
    lines += _backends_section(everything)
    for r in results:
        s = r.get("settings", {})
        c = r.get("corpus", {})
        lines += [
            f"## {r['dataset']}",
            "",
            f"`{r.get('command', '')}`",
            "",
            f"{r['questions']} questions ({r['scored_questions']} with an expected document"
            + (f", {r['unanswerable']} unanswerable, not scored" if r.get("unanswerable") else "")
            + f"); corpus of {c.get('documents')} documents in {c.get('chunks')} chunks of "
            f"{'/'.join(str(x) for x in s.get('chunk_tokens') or [])} tokens "
            f"(overlap {s.get('overlap_tokens')}), embedder "
            f"{s.get('embedding')}, {s.get('candidates')} candidates per retriever, RRF k "
            f"{s.get('rrf_k')}"
            + (f"; reranker {s['reranker']} over the best {s.get('rerank_candidates')} passages"
               if s.get("reranker") else "")
            + f". Ingest took {c.get('ingest_s')} s; the whole run {r.get('seconds')} s.",
            "",
            evaluation_table(r),
            "",
        ]
        if paired := r.get("paired"):
            lines += [paired_line(paired), ""]
        for size, part in (r.get("by_chunk_tokens") or {}).items():
            lines += [f"Chunks of {size} tokens ({part['corpus']['chunks']} chunks):", "",
                      evaluation_table(part), ""]
        if "answers" in r:
            a = r["answers"]
            lines += [
                f"**Answers** ({a['model']}, {a['questions']} questions, constrained choice; "
                f"with retrieval: top {a['k']} {a['mode']} passages). Majority class "
                f"'{a['majority_class']}' is {a['majority_rate']:.3f} of the gold labels.",
                "",
                "| condition | accuracy | predictions | s/question |",
                "| --- | ---: | --- | ---: |",
            ]
            for cond in ("closed_book", "rag"):
                if cond in a:
                    x = a[cond]
                    dist = ", ".join(f"{k} {v}" for k, v in x["predicted_distribution"].items())
                    lines.append(f"| {cond.replace('_', '-')} | {x['accuracy']:.3f} | {dist} | "
                                 f"{x['seconds_per_question']:.2f} |")
            lines.append("")
        if "evidence" in r:
            e = r["evidence"]
            lines += [
                f"**Evidence condensing** ({e['model']} tokenizer, {e['questions']} questions, "
                f"top {e['top_k']} passages; the supporting sentence is checked for the "
                f"{e['questions_with_supporting_sentence']} questions with a short expected "
                "answer found in a retrieved passage of an expected document):",
                "",
                "| prompt | expected document in prompt | supporting sentence in prompt "
                "| prompt tokens (mean) |",
                "| --- | ---: | ---: | ---: |",
            ]
            for variant, label in (("whole", "whole passages"),
                                   ("condensed", f"best {e['evidence_sentences']} "
                                                 "sentences per passage")):
                x = e[variant]
                lines.append(f"| {label} | {x['passage_in_prompt']:.3f} | "
                             f"{x['supporting_sentence_in_prompt']:.3f} | "
                             f"{x['prompt_tokens_mean']:.0f} |")
            lines.append("")
        if "citations" in r and "verdicts" in r["citations"]:
            x = r["citations"]
            covered = x.get("unanswerable_not_covered")
            lines += [
                f"**Citations** ({x['model']}, {x['mode']} answers; {x['questions']} answerable "
                f"and {x['unanswerable']} unanswerable questions): {x['shown_sentences']} "
                f"sentences shown as the answer, {x['shown_not_supported']} of them not "
                f"supported; {x['citation_precision']:.3f} of their {x['citations']} citations "
                f"support their sentence on their own, "
                f"{x['citations_on_expected_document']:.3f} point at the expected document; "
                "verdicts of every sentence written: "
                + ", ".join(f"{k} {v}" for k, v in sorted(x["verdicts"].items()))
                + (f"; unanswerable questions answered 'not covered': {covered:.3f}"
                   if covered is not None else "")
                + ". Statuses: " + ", ".join(f"{k} {v}" for k, v in x["statuses"].items())
                + f"; median {x['seconds_per_question_p50']} s per question.",
                "",
            ]
        lines += [f"Machine: {_machine_line(r.get('machine', {}))}.", ""]
    lines += ["## Method", "", "### Metrics", "", _doc_text(METRICS_DOC), "",
              "### Harness", "", _doc_text(HARNESS_DOC), ""]
    page = out / "evaluation.md"
    page.write_text("\n".join(lines))
    return page


def _doc_text(doc: str | None) -> str:
    return "\n".join(line for line in (doc or "").strip().splitlines())


# --- benchmarks ---------------------------------------------------------------------------------

def _result_name(part: str, machine: dict | None) -> str:
    """`bench-PART-CPU`: a run replaces the results of its own CPU only, so figures from the
    different CPUs the project runs on stand side by side."""
    cpu = cpu_tag(machine)
    return f"bench-{part}-{cpu}" if cpu else f"bench-{part}"


def save_benchmarks(results: dict, out: Path) -> list[Path]:
    """One file per part (and per generation model) and CPU, so parts can be re-run
    separately."""
    saved = []
    machine = results.get("machine")
    common = {"machine": machine, "command": results.get("command")}
    for part in ("ingest", "retrieval", "ttft", "settings", "memory"):
        if part in results:
            saved.append(save_json({**common, part: results[part]}, out,
                                   _result_name(part, machine)))
    for gen in results.get("generation", []) or []:
        repacked = "-repacked" if gen.get("repack_weights") else ""
        saved.append(save_json({**common, "generation": gen}, out, _result_name(
            f"generation-{slug(str(gen.get('model')))}{repacked}", machine)))
    write_benchmark_page(out)
    return saved


def benchmark_summary(results: dict) -> str:
    lines = []
    for row in (results.get("retrieval") or {}).get("sizes", []):
        lines.append(f"retrieval {row['chunks']:>7} chunks: p50 {row['total_ms']['p50']:.1f} ms, "
                     f"p95 {row['total_ms']['p95']:.1f} ms")
    for g in results.get("generation") or []:
        if "crashed" in g:
            lines.append(f"{g['model']}: {g['crashed']}")
            continue
        lines.append(
            f"{g['model']}: load {g['load_s']:.1f} s, TTFT {g['ttft_s']:.2f} s for "
            f"{g['prompt_tokens']} prompt tokens, prompt {g['prompt_tok_s']:.0f} tok/s, "
            f"generation {g['gen_tok_s']:.1f} tok/s, peak RSS {g['peak_rss_mb']:.0f} MB")
    if results.get("ingest"):
        lines.append("ingest: " + json.dumps(results["ingest"])[:400])
    lines += [line for line in targets_lines([results]) if line.startswith("|")]
    return "\n".join(lines)


def _generation_model(g: dict) -> str:
    """The model of a generation row, and whether llama.cpp repacked its weights."""
    if "repack_weights" not in g:
        return str(g["model"])
    return f"{g['model']}, weights {'repacked' if g['repack_weights'] else 'not repacked'}"


def _latency_plot(retrieval: dict, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = retrieval.get("sizes", [])
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.4))
    xs = [r["chunks"] for r in rows]
    for stage in ("embed_ms", "dense_ms", "bm25_ms", "fetch_fuse_ms", "pack_ms", "total_ms"):
        if stage in rows[0]:
            ax.plot(xs, [r[stage]["p50"] for r in rows], marker="o",
                    label=stage.replace("_ms", ""), linewidth=2.2 if stage == "total_ms" else 1)
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title("Retrieval latency per stage (hybrid)")
    ax.legend(fontsize=8)
    return _save_figure(fig, path)


def write_benchmark_page(out: Path) -> Path:
    results = _load(out, "bench")
    lines = [
        "# Benchmarks",
        "",
        "Speed and memory of meditron-rag, measured by `python -m bench`. Each section "
        "names the command and machine; results are saved under `docs/results/` and this page "
        "is rewritten from them. Timings on a shared 2-core machine vary by 10-20% run to run.",
        "",
        # The evidence target is measured by `eval --evidence` on the starter questions.
        *targets_lines(results + [{"evidence": r["evidence"], "machine": r.get("machine")}
                                  for r in _load(out, "eval")
                                  if r.get("dataset") == "starter" and r.get("evidence")]),
    ]
    for r in results:
        if "ingest" in r:
            lines += ["## Ingestion", "", f"`{r.get('command')}`", "",
                      *ingest_table(r["ingest"]), "",
                      "```json", json.dumps(r["ingest"], indent=2)[:4000], "```", "",
                      f"Machine: {_machine_line(r.get('machine') or {})}.", ""]
    for r in results:
        if "retrieval" in r:
            ret = r["retrieval"]
            lines += ["## Retrieval latency", "", f"`{r.get('command')}`", "",
                      ret.get("method", ""), ""]
            if _latency_plot(ret, out / "img" / "bench-retrieval.png"):
                lines += ["![retrieval latency per stage](img/bench-retrieval.png)", ""]
            stages = [k for k in ("embed_ms", "dense_ms", "bm25_ms", "fetch_fuse_ms", "pack_ms",
                                  "total_ms") if ret["sizes"] and k in ret["sizes"][0]]
            lines += ["| chunks | " + " | ".join(f"{s[:-3]} p50 / p95 (ms)" for s in stages)
                      + " | peak RSS (MB) |",
                      "| ---: |" + " ---: |" * (len(stages) + 1)]
            for row in ret["sizes"]:
                cells = [f"{row[s]['p50']:.1f} / {row[s]['p95']:.1f}" for s in stages]
                lines.append(f"| {row['chunks']:,} | " + " | ".join(cells)
                             + f" | {row.get('peak_rss_mb', 0):.0f} |")
            lines += [""]
            if ret.get("langchain"):
                lc = ret["langchain"]
                lines += ["### Against a naive LangChain pipeline", "", lc.get("method", ""), ""]
                lines += ["| pipeline | recall@5 | MRR | retrieval p50 (ms) | p95 (ms) | chunks |",
                          "| --- | ---: | ---: | ---: | ---: | ---: |"]
                for name, row in lc["pipelines"].items():
                    lines.append(f"| {name} | {row['recall@5']:.3f} | {row['mrr']:.3f} | "
                                 f"{row['latency_ms_p50']:.1f} | {row['latency_ms_p95']:.1f} | "
                                 f"{row['chunks']} |")
                lines.append("")
            lines += [f"Machine: {_machine_line(r.get('machine') or {})}.", ""]
    gens = [r for r in results if "generation" in r]
    if gens:
        lines += ["## Generation", "",
                  "Per model: load time, time to first token (TTFT) for one prompt of the "
                  "stated length (KV cache emptied first), prompt processing and generation "
                  "speed, and the peak resident memory of the process that ran it (a fresh "
                  "subprocess per model). Peak RSS counts the memory-mapped file, the KV cache "
                  "for the whole window (1 GB for a 7B at 2,048 tokens, F16) and, where "
                  "llama.cpp repacks Q4_K weights for its faster CPU kernels (q4_K_8x8, seen "
                  "in its load log as `CPU_REPACK model buffer`), a second copy of most weights: "
                  "for the 7B, 3.9 GB mapped + 2.9 GB repacked. `pipeline / bare` is the "
                  "end-to-end time of our "
                  "`Engine.stream` (retrieval, packing, generation, citation check) divided by "
                  "bare `llama_cpp.Llama.create_completion` on the same prompt with the same "
                  "token cap, in the same process. The Meditron-shaped model has Meditron-7B's "
                  "exact shapes and Q4_K_M types with random weights (bench/"
                  "meditron_shape.py): its speed and memory are the real model's, its text is "
                  "noise. It carries Llama's own tokenizer, as Meditron does, since 2026-11-25; "
                  "runs before that used a character-level one, which changes how much text a "
                  "prompt of so many tokens holds, not the time per token.", "",
                  "| model | file | load (s) | prompt tokens | TTFT (s) | prompt tok/s | "
                  "gen tok/s | peak RSS (MB) | pipeline / bare | CPU |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in gens:
            g = r["generation"]
            cpu = cpu_of(r.get("machine"))
            if "crashed" in g:
                lines.append(f"| {_generation_model(g)} | - | {g['crashed']} |" + " - |" * 6
                             + f" {cpu} |")
                continue
            ratio = g.get("pipeline", {}).get("ratio")
            lines.append(
                f"| {_generation_model(g)} | {g.get('file_gb', 0):.2f} GB | {g['load_s']:.1f} | "
                f"{g['prompt_tokens']} | {g['ttft_s']:.2f} | {g['prompt_tok_s']:.1f} | "
                f"{g['gen_tok_s']:.2f} | {g['peak_rss_mb']:.0f} | "
                + (f"{ratio:.2f}" if ratio else "-") + f" | {cpu} |")
        lines.append("")
        for r in gens:
            g = r["generation"]
            lines += [f"- {_generation_model(g)}: `{r.get('command')}`."
                      + (f" {g['note']}" if g.get("note") else "")]
            if g.get("pipeline"):
                p = g["pipeline"]
                lines[-1] += (f" Pipeline stages: retrieval {p['retrieval_s']:.3f} s, "
                              f"first token {p['first_token_s']:.2f} s, total {p['total_s']:.2f} s"
                              f" vs bare {p['bare_total_s']:.2f} s.")
            lines[-1] += f" Machine: {_machine_line(r.get('machine') or {})}."
        lines.append("")
    lines += part_lines(results, out, _machine_line, _save_figure)
    lines += store_lines(out)
    page = out / "benchmarks.md"
    page.write_text("\n".join(lines))
    return page
