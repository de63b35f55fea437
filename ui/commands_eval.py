"""`meditron-rag eval` and `meditron-rag bench`: thin layers over the evaluation package."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from meditron_rag.errors import MeditronRagError
from ui.state import State, echo_json, pass_state, with_reranker


def _log(quiet: bool):  # type: ignore[no-untyped-def]
    return (lambda _: None) if quiet else (lambda line: click.echo(line, err=True))


def _sizes(text: str | None) -> list[int]:
    try:
        return [int(x) for x in text.split(",")] if text else []
    except ValueError:
        raise click.BadParameter("give sizes as numbers separated by commas, e.g. 128,200,256",
                                 param_hint="--chunk-tokens") from None


def _finish(result: dict, out: Path | None, as_json: bool, save: Callable[[dict, Path], object],
            page: str, summary: Callable[[dict], str]) -> None:
    """Record the command, save the results and their page under OUT, print them."""
    result["command"] = "meditron-rag " + " ".join(sys.argv[1:])
    if out:
        saved = save(result, out)
        click.echo(f"Saved {saved} and rewrote {out / page}.", err=True)
    if as_json:
        echo_json(result)
    else:
        click.echo(summary(result))


@click.command("eval")
@click.option("--questions", type=click.Path(path_type=Path, dir_okay=False),
              help="Questions in our JSONL format (question, expected_documents, answer...).")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of documents the questions are about (default: the file's folder).")
@click.option("--claims", "claims_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Claim-verification cases (JSONL: question, answer, passages, expected "
                   "verdict): measure the citation check itself, no index needed.")
@click.option("--dataset", type=click.Choice(["pubmedqa", "medquad"]),
              help="A shared data set from ../shared/data instead of --questions.")
@click.option("--multiple-choice", "mc_file", type=click.Path(path_type=Path, dir_okay=False),
              help="MedQA/MedMCQA-style multiple-choice JSONL (answers; retrieval needs --corpus).")
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("--methods", default="dense,bm25,hybrid", show_default=True,
              help="Retrieval methods, comma-separated; add +rerank to one (hybrid+rerank) to "
                   "rerank its candidates with the cross-encoder.")
@click.option("--reranker", metavar="MODEL",
              help="Cross-encoder for +rerank methods instead of retrieval.reranker "
                   "(ms-marco-minilm-l6-v2 once pulled, or a CrossEncoder folder).")
@click.option("--chunk-tokens", help="Chunk sizes to compare, comma-separated (default: config).")
@click.option("--answers", is_flag=True,
              help="Also measure answer accuracy by constrained choice, closed-book and with "
                   "retrieval (sets with yes/no/maybe or multiple-choice labels).")
@click.option("--evidence", is_flag=True,
              help="Also check that condensing passages to their best sentences keeps the "
                   "expected document and the supporting sentence in the prompt.")
@click.option("--citations", type=click.IntRange(0), default=0,
              help="Also answer the first N answerable questions and check their citations.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Save results under OUT/results/ and rewrite OUT/evaluation.md.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@pass_state
def eval_command(state: State, questions: Path | None, claims_file: Path | None,
                 corpus: Path | None, dataset: str | None, mc_file: Path | None,
                 limit: int | None, methods: str, reranker: str | None,
                 chunk_tokens: str | None, answers: bool, evidence: bool, citations: int,
                 out: Path | None, as_json: bool, quiet: bool) -> None:
    """Measure retrieval (recall@k, MRR, nDCG per method), answers and citations on a
    question set, using a temporary index (your own index is not touched); or, with
    --claims, the citation check's verdicts on labelled cases."""
    from evaluation import datasets, harness, report

    if sum(x is not None for x in (questions, claims_file, dataset, mc_file)) != 1:
        raise click.UsageError(
            "Give exactly one of --questions, --claims, --dataset, --multiple-choice.")
    if claims_file is not None:
        from evaluation import claims
        from ingest import load_embedder
        from rag.citations import CitationChecker

        checker = CitationChecker(load_embedder(state.config, answering=True).encode)
        result = claims.run(claims_file, checker.check, "verdicts", _log(quiet or as_json))
        _finish(result, out, as_json, report.save_claims, "evaluation.md", claims.summary)
        return
    if dataset:
        evalset = datasets.load_dataset(dataset, limit)
    elif mc_file:
        evalset = datasets.load_multiple_choice(mc_file, limit, corpus)
        if corpus is None:
            raise click.UsageError("--multiple-choice needs --corpus for retrieval.")
    else:
        assert questions is not None
        evalset = datasets.load_questions(questions, corpus, limit)
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    result = harness.run(
        evalset, with_reranker(state.config, reranker), method_list, _sizes(chunk_tokens),
        answers, citations, log=_log(quiet or as_json), evidence=evidence,
    )
    _finish(result, out, as_json, report.save_evaluation, "evaluation.md",
            report.evaluation_table)


@click.command("bench")
@click.argument("part", type=click.Choice(["ingest", "retrieval", "generation", "ttft",
                                           "settings", "memory", "all"]), default="all")
@click.option("--model", "bench_model", default="smollm2", show_default=True,
              help="Generation model: smollm2, meditron-shaped (built on first use, ~4 GB in "
                   "~/.cache/meditron-rag/bench) or a .gguf path. Several, comma-separated, "
                   "for generation; ttft, settings and memory measure the first.")
@click.option("--sizes", default="1000,10000,100000", show_default=True,
              help="Chunk counts for retrieval latency and for memory.")
@click.option("--queries", type=click.IntRange(5), default=50, show_default=True,
              help="Queries timed per size.")
@click.option("--questions", type=click.IntRange(1), default=20, show_default=True,
              help="Starter questions for time to first token (evenly spaced; the "
                   "library-default naive path answers 3 of them).")
@click.option("--repeats", type=click.IntRange(1), default=1, show_default=True,
              help="Rounds of the settings grid; each figure is the median of its row's runs.")
@click.option("--pdf-dir", type=click.Path(path_type=Path, file_okay=False),
              help="PDFs for the ingest benchmark (default: ../shared/data/pdfs).")
@click.option("--pages", type=click.IntRange(1), default=2000, show_default=True,
              help="Generated PDF pages for the ingest benchmark.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Save results under OUT/results/ and rewrite OUT/benchmarks.md.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@pass_state
def bench_command(state: State, part: str, bench_model: str, sizes: str, queries: int,
                  questions: int, repeats: int, pdf_dir: Path | None, pages: int,
                  out: Path | None, as_json: bool) -> None:
    """Time ingestion, retrieval (1K/10K/100K chunks) and generation (TTFT, tokens/s, RSS);
    time to first token in the app, the llama.cpp settings grid, and the app's peak memory,
    each against the project's speed and memory targets."""
    from evaluation import bench, bench_memory, bench_settings, bench_ttft, report

    log = _log(as_json)
    results: dict[str, object] = {}
    if part in ("ingest", "all"):
        results["ingest"] = bench.ingest_part(state.config, pdf_dir, log, pages)
    if part in ("retrieval", "all"):
        results["retrieval"] = bench.retrieval_latency(state.config, _sizes(sizes), queries, log)
    if part in ("generation", "all"):
        results["generation"] = [
            bench.generation(state.config, name.strip(), log)
            for name in bench_model.split(",") if name.strip()
        ]
    model = bench_model.split(",")[0].strip()  # the parts below measure one model
    if part in ("ttft", "all"):
        results["ttft"] = bench_ttft.ttft(state.config, model, questions, log)
    if part in ("settings", "all"):
        results["settings"] = bench_settings.settings_grid(state.config, model, log,
                                                            repeats=repeats)
    if part in ("memory", "all"):
        results["memory"] = bench_memory.memory(state.config, model, _sizes(sizes), log)
    if not results:  # pragma: no cover - click.Choice
        raise MeditronRagError(f"Unknown part {part}.")
    results["machine"] = report.machine()
    _finish(results, out, as_json, report.save_benchmarks, "benchmarks.md",
            report.benchmark_summary)


EVAL_COMMANDS = [eval_command, bench_command]
