"""`python -m bench`: speed, memory and the public data sets, run from a checkout.

Each part of the benchmark is a subcommand; `eval` is the product's `meditron-rag eval` plus the
shared data sets (`--dataset`); `--out docs` saves the results under docs/results/ and rewrites
docs/benchmarks.md or docs/evaluation.md from them.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from bench.datasets import NAMES
from meditron_rag.config import API_TOKEN_ENV, ENV_PREFIX, STORE_PASSWORD_ENV
from meditron_rag.errors import MeditronRagError
from ui.cli import config_options, run, state_of
from ui.commands_eval import eval_options, evaluate, log_to, show, sizes
from ui.state import State, echo_json, pass_state

F = TypeVar("F", bound=Callable[..., object])
SECRET_ENV = (STORE_PASSWORD_ENV, API_TOKEN_ENV)

PARTS = {
    "ingest": "Time ingestion of real and generated PDFs, and how far one machine goes.",
    "retrieval": "Time retrieval at each of --sizes chunks, stage by stage, beside a naive "
                 "LangChain pipeline.",
    "generation": "Time each --model: load, time to first token, tokens/s, peak RSS, and the "
                  "pipeline against bare llama.cpp.",
    "ttft": "Time to first token in the app on starter questions, against the speed target.",
    "settings": "The llama.cpp settings grid: generation speed of each setting.",
    "memory": "Peak memory of the app and of the engine at each of --sizes chunks.",
    "all": "Every part, each against the project's speed and memory targets.",
}


def _command() -> str:
    """The command line that gave a result, with the settings it took from the environment
    (never a password or token), so that the figure can be reproduced."""
    settings = [f"{name}={shlex.quote(value)}" for name, value in sorted(os.environ.items())
                if name.startswith(ENV_PREFIX) and name not in SECRET_ENV]
    return " ".join([*settings, "python -m bench", *map(shlex.quote, sys.argv[1:])])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@config_options
@click.pass_context
def bench(ctx: click.Context, config_path: str | None, data_dir: str | None,
          model: str | None) -> None:
    """Benchmarks and evaluations of meditron-rag, from a checkout: speed and memory
    against the project's targets, and retrieval on the public data sets in ../shared."""
    ctx.obj = state_of(config_path, data_dir, model)


def _part_options(func: F) -> F:
    for option in reversed([
        click.option("--model", "bench_model",
                     help="Generation model: smollm2, meditron-shaped (built on first use, "
                          "~4 GB in ~/.cache/meditron-rag/bench) or a .gguf path (default: the "
                          "group's --model, else smollm2). Several, comma-separated, for "
                          "generation; ttft, settings and memory measure the first."),
        click.option("--sizes", "size_list", default="1000,10000,100000", show_default=True,
                     help="Chunk counts for retrieval latency and for memory."),
        click.option("--queries", type=click.IntRange(5), default=50, show_default=True,
                     help="Queries timed per size."),
        click.option("--questions", type=click.IntRange(1), default=20, show_default=True,
                     help="Starter questions for time to first token (evenly spaced; the "
                          "library-default naive path answers 3 of them)."),
        click.option("--repeats", type=click.IntRange(1), default=1, show_default=True,
                     help="Rounds of the settings grid; each figure is the median of its "
                          "row's runs."),
        click.option("--pdf-dir", type=click.Path(path_type=Path, file_okay=False),
                     help="PDFs for the ingest benchmark (default: ../shared/data/pdfs)."),
        click.option("--pages", type=click.IntRange(1), default=2000, show_default=True,
                     help="Generated PDF pages for the ingest benchmark."),
        click.option("--out", type=click.Path(path_type=Path, file_okay=False),
                     help="Save results under OUT/results/ and rewrite OUT/benchmarks.md."),
        click.option("--json", "as_json", is_flag=True, help="Print the results as JSON."),
    ]):
        func = option(func)
    return func


def measure(state: State, part: str, bench_model: str | None, size_list: str, queries: int,
            questions: int, repeats: int, pdf_dir: Path | None, pages: int, out: Path | None,
            as_json: bool) -> None:
    """Run one part (or all), save the results under OUT and print them."""
    from bench import memory, report, settings, speed, ttft
    from rag.evaluation.results import machine

    bench_model = bench_model or state.overrides.get("llm", {}).get("model") or "smollm2"
    log = log_to(as_json)
    results: dict[str, object] = {}
    if part in ("ingest", "all"):
        results["ingest"] = speed.ingest_part(state.config, pdf_dir, log, pages)
    if part in ("retrieval", "all"):
        results["retrieval"] = speed.retrieval_latency(state.config, sizes(size_list), queries,
                                                       log)
    if part in ("generation", "all"):
        results["generation"] = [
            speed.generation(state.config, name.strip(), log)
            for name in bench_model.split(",") if name.strip()
        ]
    model = bench_model.split(",")[0].strip()  # the parts below measure one model
    if part in ("ttft", "all"):
        results["ttft"] = ttft.ttft(state.config, model, questions, log)
    if part in ("settings", "all"):
        results["settings"] = settings.settings_grid(state.config, model, log, repeats=repeats)
    if part in ("memory", "all"):
        results["memory"] = memory.memory(state.config, model, sizes(size_list), log)
    if not results:  # pragma: no cover - PARTS names every part
        raise MeditronRagError(f"Unknown part {part}.")
    results["machine"] = machine()
    results["command"] = _command()
    if out:
        saved = report.save_benchmarks(results, out)
        click.echo(f"Saved {saved} and rewrote {out / 'benchmarks.md'}.", err=True)
    if as_json:
        echo_json(results)
    else:
        click.echo(report.benchmark_summary(results))


def _part_command(part: str) -> click.Command:
    @click.command(part, help=PARTS[part])
    @_part_options
    @pass_state
    def command(state: State, bench_model: str | None, size_list: str, queries: int,
                questions: int, repeats: int, pdf_dir: Path | None, pages: int,
                out: Path | None, as_json: bool) -> None:
        measure(state, part, bench_model, size_list, queries, questions, repeats, pdf_dir,
                pages, out, as_json)

    return command


for _part in PARTS:
    bench.add_command(_part_command(_part))


@bench.command("eval")
@click.option("--dataset", type=click.Choice(NAMES),
              help="A shared data set from ../shared/data instead of --questions.")
@eval_options("Save results under OUT/results/ and rewrite OUT/evaluation.md.")
@pass_state
def eval_command(state: State, dataset: str | None, questions: Path | None,
                 corpus: Path | None, claims_file: Path | None, mc_file: Path | None,
                 limit: int | None, methods: str, reranker: str | None,
                 chunk_tokens: str | None, answers: bool, evidence: bool, citations: int,
                 out: Path | None, as_json: bool, quiet: bool) -> None:
    """`meditron-rag eval` on the public data sets too, with the pages in docs/: retrieval,
    answers and citations on a temporary index, or the citation check on labelled claims."""
    from bench import report
    from bench.datasets import load_dataset

    if sum(x is not None for x in (questions, claims_file, dataset, mc_file)) != 1:
        raise click.UsageError(
            "Give exactly one of --questions, --claims, --dataset, --multiple-choice.")
    evalset = load_dataset(dataset, limit) if dataset else None
    result = evaluate(state, questions, claims_file, corpus, mc_file, limit, methods, reranker,
                      chunk_tokens, answers, evidence, citations, log_to(quiet or as_json),
                      evalset)
    result["command"] = _command()
    if out:
        saved = report.save_evaluation(result, out)
        click.echo(f"Saved {saved} and rewrote {out / 'evaluation.md'}.", err=True)
    show(result, as_json)


@bench.command("serve")
@click.option("--clients", type=click.IntRange(1), default=20, show_default=True,
              help="Clients asking at once.")
@click.option("--duration", "duration_s", type=click.FloatRange(5), default=180,
              show_default=True, help="Seconds of load.")
@click.option("--upload-every", "upload_every_s", type=click.FloatRange(1), default=20,
              show_default=True, help="Seconds between the writer's uploads.")
@click.option("--answer-mode", type=click.Choice(["auto", "extractive", "generative"]),
              default="auto", show_default=True,
              help="The server's generation.answer_mode: generative makes the embedded model "
                   "write every answer, so sources are timed while the model is busy.")
@click.option("--n-threads", type=click.IntRange(1), default=None,
              help="The server's llm.n_threads (default: the config's): fewer than the "
                   "cores leaves one for search while the model writes.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Save the results as OUT/results/bench-serve.json (with --answer-mode "
                   "generative: bench-serve-generative.json).")
@pass_state
def serve_command(state: State, clients: int, duration_s: float, upload_every_s: float,
                  answer_mode: str, n_threads: int | None, out: Path | None) -> None:
    """Many clients at once against the real HTTP API (`meditron-rag serve`) on a copy of
    the index: errors, 429s, lost uploads, time to sources and to text, how busy the model
    was, memory."""
    import shutil
    import tempfile

    from bench.common import log_stderr
    from bench.serve import serve_bench
    from rag.evaluation.results import machine

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(state.config.index_dir, data / "index")
        result = serve_bench(data, clients, duration_s, upload_every_s, answer_mode,
                             n_threads, log_stderr)
    result.update(machine=machine(), command=_command())
    name = "bench-serve-generative.json" if answer_mode == "generative" else "bench-serve.json"
    _save(result, out, name)


@bench.command("followups")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Save the results as OUT/results/followups.json.")
@pass_state
def followups_command(state: State, out: Path | None) -> None:
    """Recall of the second question of corpora/starter/followups.jsonl alone and as
    rewritten after the first, at k = 1 and 5 (the index must hold the starter corpus)."""
    from bench.common import STARTER
    from bench.followups import measure
    from rag import Engine

    engine = Engine(state.config)
    path = STARTER / "followups.jsonl"
    result = {"at_5": measure(engine, path, 5),
              "at_1": {k: v for k, v in measure(engine, path, 1).items() if k != "cases"},
              "command": _command()}
    _save(result, out, "followups.json")


def _save(result: dict, out: Path | None, name: str) -> None:
    if out is None:
        echo_json(result)
        return
    path = out / "results" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"Saved {path}.", err=True)


@bench.command("report")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default="docs",
              show_default=True, help="The folder whose results/ the pages are built from.")
def report_command(out: Path) -> None:
    """Rewrite OUT/evaluation.md and OUT/benchmarks.md from the results saved under
    OUT/results/ (by earlier runs, or by `meditron-rag eval --out OUT`)."""
    from bench import report

    for page in (report.write_evaluation_page(out), report.write_benchmark_page(out)):
        click.echo(f"Rewrote {page}.", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `python -m bench`."""
    run(bench, "python -m bench", argv)
