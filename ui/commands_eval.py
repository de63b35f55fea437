"""`meditron-rag eval`: a user's own question or claim files, a thin layer over rag.evaluation.

The checkout's benchmark kit (`python -m bench eval`) takes the same options, plus the public
data sets and the pages in docs/, through `eval_options`, `evaluate` and `show`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from ui.state import State, echo_json, pass_state, with_reranker

if TYPE_CHECKING:
    from rag.evaluation import EvalSet

F = TypeVar("F", bound=Callable[..., object])
Log = Callable[[str], None]


def log_to(quiet: bool) -> Log:
    """Progress lines on stderr, or none."""
    return (lambda _: None) if quiet else (lambda line: click.echo(line, err=True))


def sizes(text: str | None) -> list[int]:
    """The comma-separated numbers of --chunk-tokens (or --sizes)."""
    try:
        return [int(x) for x in text.split(",")] if text else []
    except ValueError:
        raise click.BadParameter("give sizes as numbers separated by commas, e.g. 128,200,256",
                                 param_hint="--chunk-tokens") from None


def eval_options(out_help: str) -> Callable[[F], F]:
    """The options of `eval`, with `--out` described by `out_help`."""
    options = [
        click.option("--questions", type=click.Path(path_type=Path, dir_okay=False),
                     help="Questions in our JSONL format (question, expected_documents, "
                          "answer...)."),
        click.option("--corpus", type=click.Path(path_type=Path, file_okay=False),
                     help="Folder of documents the questions are about (default: the file's "
                          "folder)."),
        click.option("--claims", "claims_file", type=click.Path(path_type=Path, dir_okay=False),
                     help="Claim-verification cases (JSONL: question, answer, passages, "
                          "expected verdict): measure the citation check itself, no index "
                          "needed."),
        click.option("--multiple-choice", "mc_file",
                     type=click.Path(path_type=Path, dir_okay=False),
                     help="MedQA/MedMCQA-style multiple-choice JSONL (answers; retrieval needs "
                          "--corpus)."),
        click.option("--limit", type=click.IntRange(1), help="Only the first N questions."),
        click.option("--methods", default="dense,bm25,hybrid", show_default=True,
                     help="Retrieval methods, comma-separated; add +rerank to one "
                          "(hybrid+rerank) to rerank its candidates with the cross-encoder."),
        click.option("--reranker", metavar="MODEL",
                     help="Cross-encoder for +rerank methods instead of retrieval.reranker "
                          "(ms-marco-minilm-l6-v2 once pulled, or a CrossEncoder folder)."),
        click.option("--chunk-tokens",
                     help="Chunk sizes to compare, comma-separated (default: config)."),
        click.option("--answers", is_flag=True,
                     help="Also measure answer accuracy by constrained choice, closed-book and "
                          "with retrieval (sets with yes/no/maybe or multiple-choice labels)."),
        click.option("--evidence", is_flag=True,
                     help="Also check that condensing passages to their best sentences keeps "
                          "the expected document and the supporting sentence in the prompt."),
        click.option("--citations", type=click.IntRange(0), default=0,
                     help="Also answer the first N answerable questions and check their "
                          "citations."),
        click.option("--out", type=click.Path(path_type=Path, file_okay=False), help=out_help),
        click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON."),
        click.option("--quiet", "-q", is_flag=True, help="No progress lines."),
    ]

    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


def evaluate(state: State, questions: Path | None, claims_file: Path | None,
             corpus: Path | None, mc_file: Path | None, limit: int | None, methods: str,
             reranker: str | None, chunk_tokens: str | None, answers: bool, evidence: bool,
             citations: int, log: Log, evalset: EvalSet | None = None) -> dict:
    """The result of one `eval`: the claims file's verdicts, or the question set's metrics
    (the set given as `evalset`, else loaded from --questions or --multiple-choice)."""
    from rag import evaluation

    if claims_file is not None:
        from ingest import load_embedder
        from rag.citations import CitationChecker

        checker = CitationChecker(load_embedder(state.config, answering=True).encode)
        return evaluation.claims.run(claims_file, checker.check, "verdicts", log)
    if evalset is None and mc_file is not None:
        evalset = evaluation.load_multiple_choice(mc_file, limit, corpus)
        if corpus is None:
            raise click.UsageError("--multiple-choice needs --corpus for retrieval.")
    elif evalset is None:
        assert questions is not None
        evalset = evaluation.load_questions(questions, corpus, limit)
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    return evaluation.run(evalset, with_reranker(state.config, reranker), method_list,
                          sizes(chunk_tokens), answers, citations, log=log, evidence=evidence)


def show(result: dict, as_json: bool) -> None:
    """The result as JSON, or its summary: the claims table or the retrieval metrics."""
    from rag.evaluation import claims
    from rag.evaluation.results import evaluation_table

    if as_json:
        echo_json(result)
    elif "checker" in result:
        click.echo(claims.summary(result))
    else:
        click.echo(evaluation_table(result))


@click.command("eval")
@eval_options("Also save the results as JSON under OUT/results/.")
@pass_state
def eval_command(state: State, questions: Path | None, corpus: Path | None,
                 claims_file: Path | None, mc_file: Path | None, limit: int | None,
                 methods: str, reranker: str | None, chunk_tokens: str | None, answers: bool,
                 evidence: bool, citations: int, out: Path | None, as_json: bool,
                 quiet: bool) -> None:
    """Measure retrieval (recall@k, MRR, nDCG per method), answers and citations on a
    question set, using a temporary index (your own index is not touched); or, with
    --claims, the citation check's verdicts on labelled cases."""
    if sum(x is not None for x in (questions, claims_file, mc_file)) != 1:
        raise click.UsageError("Give exactly one of --questions, --claims, --multiple-choice.")
    result = evaluate(state, questions, claims_file, corpus, mc_file, limit, methods, reranker,
                      chunk_tokens, answers, evidence, citations, log_to(quiet or as_json))
    result["command"] = "meditron-rag " + " ".join(sys.argv[1:])
    if out:
        from rag.evaluation import save_result

        click.echo(f"Saved {save_result(result, out)}.", err=True)
    show(result, as_json)

