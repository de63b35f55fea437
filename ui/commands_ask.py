"""`meditron-rag search` and `ask`: the question commands, their filters and the checked
answer as the terminal shows it."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meditron_rag import NOT_FOR_CLINICAL_USE
from ui.state import State, echo_json, pass_state, with_reranker

if TYPE_CHECKING:
    from rag import Answer, Engine, Filters

F = TypeVar("F", bound=Callable[..., Any])


def _question(question: str) -> str:
    """The question with bytes that are not UTF-8 (which the shell passes through as surrogate
    escapes, and no model or tokenizer can encode) replaced by U+FFFD, said on stderr."""
    cleaned = question.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if cleaned != question:
        click.echo("Note: the question held bytes that are not UTF-8 text; they are read as "
                   "\ufffd. Check the terminal's encoding.", err=True)
    return cleaned


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _date(flag: str, value: str | None) -> str:
    """`value` of --since or --until checked: a real date as YYYY, YYYY-MM or YYYY-MM-DD."""
    if value is None:
        return ""
    text = value.strip()
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        year, month, day = (int(g) if g else 1 for g in match.groups())
        when = datetime.date(year, month, day)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD "
                                 "(e.g. 2021, 2021-05 or 2021-05-18).", param_hint=flag) from None
    if flag == "--since" and when > datetime.date.today():
        raise click.BadParameter(f"{text} is in the future, so no document could match: give "
                                 "a date up to today.", param_hint=flag)
    return text


def _filters(engine: Engine, doc: tuple[str, ...], org: tuple[str, ...], since: str | None,
             until: str | None) -> Filters:
    """The filters of `search` and `ask`, each checked: a typo must be an error, not an
    answer that says the (zero) passages do not support one."""
    from rag import Filters

    date_from, date_to = _date("--since", since), _date("--until", until)
    if date_from and date_to and date_from[:len(date_to)] > date_to:
        raise click.BadParameter(f"{date_from} is after --until {date_to}.",
                                 param_hint="--since")
    known = {d.id for d in engine.store.documents()} if doc else set()
    unknown = [d for d in doc if d not in known]
    if unknown:
        listed = (", ".join(sorted(known)) if len(known) <= 10
                  else "see `meditron-rag docs list`")
        raise click.BadParameter(f"no document {', '.join(map(repr, unknown))} in the index; "
                                 f"the ids are: {listed or 'none (the index is empty)'}.",
                                 param_hint="--doc")
    return Filters(list(doc), list(org), date_from, date_to)


filter_options = [
    click.option("--doc", multiple=True, help="Only this document id (repeatable)."),
    click.option("--org", multiple=True, help="Only documents of this organisation (repeatable)."),
    click.option("--since", help="Only documents dated on or after (YYYY, YYYY-MM, YYYY-MM-DD)."),
    click.option("--until", help="Only documents dated on or before."),
    click.option("-k", "--top-k", type=click.IntRange(1, 50), help="Passages to use."),
]


def with_filters(func: F) -> F:
    for option in reversed(filter_options):
        func = option(func)
    return func


def with_rerank(func: F) -> F:
    """The reranking flags of `search` and `ask`."""
    func = click.option("--no-rerank", is_flag=True,
                        help="Skip the configured reranker (retrieval.reranker).")(func)
    return click.option("--reranker", metavar="MODEL",
                        help="Rerank with this cross-encoder (ms-marco-minilm-l6-v2 once pulled, "
                             "or a CrossEncoder folder) instead of retrieval.reranker.")(func)


@click.command("search")
@click.argument("question")
@with_filters
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retriever.")
@with_rerank
@click.option("--json", "as_json", is_flag=True, help="Print the ranked passages as JSON.")
@pass_state
def search_command(state: State, question: str, doc: tuple[str, ...], org: tuple[str, ...],
                   since: str | None, until: str | None, top_k: int | None, mode: str | None,
                   reranker: str | None, no_rerank: bool, as_json: bool) -> None:
    """Print the passages retrieved for QUESTION, without generating an answer."""
    from rag import Engine

    engine = Engine(with_reranker(state.config, reranker, no_rerank))
    filters = _filters(engine, doc, org, since, until)
    passages = engine.retrieve(_question(question), top_k, filters, mode)
    if as_json:
        echo_json([p.to_dict() for p in passages])
        return
    for p in passages:
        rerank = f"  rerank={p.scores['rerank']:.4f}" if "rerank" in p.scores else ""
        click.echo(f"{p.source_line()}  score={p.score:.4f}{rerank}  ({p.document_id})")
        click.echo("    " + p.text[:240].replace("\n", " ") + ("…" if len(p.text) > 240 else ""))


@click.command("ask")
@click.argument("question")
@with_filters
@with_rerank
@click.option("--max-tokens", type=click.IntRange(16, 4096), help="Cap on the answer length.")
@click.option("--mode", type=click.Choice(["auto", "extractive", "generative"]),
              help="extractive: quote the sources' own sentences; generative: the model "
                   "writes; auto: by the model's size (default: generation.answer_mode).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result object as JSON.")
@pass_state
def ask_command(state: State, question: str, doc: tuple[str, ...], org: tuple[str, ...],
                since: str | None, until: str | None, top_k: int | None, reranker: str | None,
                no_rerank: bool, max_tokens: int | None, mode: str | None,
                as_json: bool) -> None:
    """Answer QUESTION from the indexed guidelines, with numbered, checked sources."""
    from rag import Answer, Engine

    answer_started = False
    config = with_reranker(state.config, reranker, no_rerank)
    if mode:
        config = config.model_copy(update={
            "generation": config.generation.model_copy(update={"answer_mode": mode})})
    engine = Engine(config)
    filters = _filters(engine, doc, org, since, until)
    answer: Answer | None = None
    for event in engine.stream(_question(question), top_k, filters, max_tokens):
        if event.kind == "passages" and not as_json:
            click.secho("Sources found:", bold=True, err=True)
            assert isinstance(event.data, list)
            for p in event.data:
                click.echo("  " + p.source_line(), err=True)
        elif event.kind == "token" and not as_json:
            if not answer_started:
                click.secho(f"\nDraft ({engine.generator.name}, checked below):", bold=True)
                answer_started = True
            click.echo(str(event.data), nl=False)
        elif event.kind == "answer":
            assert isinstance(event.data, Answer)
            answer = event.data
    assert answer is not None
    if as_json:
        echo_json(answer.to_dict())
        return
    click.echo("\n" if answer_started else "")
    print_checked(answer)


_MARKS = {"supported": ("supported", "green"), "contradicted": ("CONTRADICTED", "red"),
          "unsupported": ("UNSUPPORTED", "red"), "not_applicable": ("NOT APPLICABLE", "red"),
          "not_a_claim": ("not a claim", "yellow")}


def print_checked(answer: Answer) -> None:
    """The verified answer first, then what was set apart and why, then the sources."""
    if answer.status in ("no_evidence", "not_covered"):
        click.secho(answer.text, fg="yellow")
    else:
        title = ("Answer, quoted from the sources" if answer.status == "extractive"
                 else "Answer, every sentence checked against its source")
        click.secho(f"{title}:", bold=True)
        for s in answer.sentences:
            click.echo(f"  {click.style('supported', fg='green')}  {s.text}")
    if answer.rejected:
        click.secho("\nSet apart from the model's answer:", bold=True)
        for s in answer.rejected:
            label, colour = _MARKS[s.verdict]
            click.echo(f"  {click.style(label, fg=colour)}  {s.text}")
            click.echo(f"      why: {s.reason}"
                       + (f" [{s.best_passage}]" if s.best_passage else ""))
    if answer.evidence and answer.status != "extractive":
        click.secho("\nKey evidence:", bold=True)
        for ev in answer.evidence:
            click.echo(f"  “{ev['text']}” [{ev['passage']}]")
    cited = answer.cited_passages() or answer.passages
    click.secho("\nSources:", bold=True)
    for p in cited:
        click.echo("  " + p.source_line())
        if p.superseded_by:
            click.echo(f"      superseded by {p.superseded_by}")
        if p.url:
            click.echo(f"      {p.url}")
    for warning in answer.warnings:
        click.secho(f"Note: {warning}", fg="yellow")
    click.secho(NOT_FOR_CLINICAL_USE, fg="yellow")

