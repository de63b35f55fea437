"""The subcommands of `meditron-rag`. Bodies stay short: the work is in ingest/ and rag/."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import click

from meditron_rag import NOT_FOR_CLINICAL_USE
from meditron_rag.errors import MeditronRagError
from ui.state import State, echo_json, pass_state, with_reranker

EXIT_PARTIAL_INGEST = 7
APP = Path(__file__).with_name("app.py")


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)  # pragma: no cover


# --- ingest ------------------------------------------------------------------------------------

def run_ingest(state: State, paths: list[Path], prune: bool, rebuild: bool, quiet: bool,
               as_json: bool) -> int:
    """Ingest `paths`; returns the exit code (7 when some files failed). A rebuild writes a
    new index beside the old one and swaps it in under the writer lock (`ingest.rebuild`)."""
    from ingest import IngestReport, ingest, load_embedder
    from ingest.rebuild import rebuild as rebuild_index
    from ingest.store import SQLiteStore

    config = state.config
    embedder = load_embedder(config)
    started = time.perf_counter()

    def progress(result, n: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if quiet or as_json:
            return
        elapsed = max(time.perf_counter() - started, 1e-6)
        mark = {"added": "+", "replaced": "~", "unchanged": "=", "duplicate": "=",
                "failed": "!"}[result.status]
        line = f"[{n}/{total}] {mark} {Path(result.path).name}"
        if result.status in ("failed", "duplicate"):
            line += f": {result.reason}"
        elif result.status != "unchanged":
            line += f" ({result.pages} pages, {result.chunks} chunks)"
        click.echo(f"{line}   [{n / elapsed:.1f} files/s]", err=True)

    def build(folder: Path) -> IngestReport:
        store = SQLiteStore.open(folder, config.index, embedder=embedder)
        try:
            with store.writing():
                done = ingest(
                    paths, store, embedder, config.chunking.chunk_tokens,
                    config.chunking.overlap_tokens, prune=prune, progress=progress,
                    max_bytes=config.ingest.max_file_mb * 1024 * 1024,
                )
        finally:
            store.close()
        if not done.files and not done.removed:  # before a rebuild would swap in an empty index
            raise MeditronRagError(
                "No documents found in " + ", ".join(map(str, paths))
                + ": add PDF, HTML, Markdown or text files."
            )
        return done

    report = rebuild_index(config.index_dir, build) if rebuild else build(config.index_dir)
    if as_json:
        echo_json(report.to_dict())
    elif not quiet or report.count("failed"):
        click.echo(report.summary(), err=True)
        for failed in (f for f in report.files if f.status == "failed"):
            click.echo(f"  failed: {failed.path}: {failed.reason}", err=True)
    return EXIT_PARTIAL_INGEST if report.count("failed") else 0


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove documents whose file under PATHS is gone.")
@click.option("--rebuild", is_flag=True, help="Delete the index first and build it anew.")
@click.option("--quiet", "-q", is_flag=True, help="Print only failures and errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_state
def ingest_command(state: State, paths: tuple[Path, ...], prune: bool, rebuild: bool,
                   quiet: bool, as_json: bool) -> None:
    """Add or update documents (PDF, HTML, Markdown, text) from files or folders.

    Unchanged files are skipped, changed files replace their old version. Exit code 7 means
    some files failed and the rest were indexed.
    """
    sys.exit(run_ingest(state, list(paths), prune, rebuild, quiet, as_json))


# --- questions ---------------------------------------------------------------------------------

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


def _filters(engine, doc: tuple[str, ...], org: tuple[str, ...], since: str | None,
             until: str | None):  # type: ignore[no-untyped-def]
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


def with_filters(func):  # type: ignore[no-untyped-def]
    for option in reversed(filter_options):
        func = option(func)
    return func


def with_rerank(func):  # type: ignore[no-untyped-def]
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
            for p in event.data:  # type: ignore[attr-defined]
                click.echo("  " + p.source_line(), err=True)
        elif event.kind == "token" and not as_json:
            if not answer_started:
                click.secho(f"\nDraft ({engine.generator.name}, checked below):", bold=True)
                answer_started = True
            click.echo(str(event.data), nl=False)
        elif event.kind == "answer":
            answer = event.data  # type: ignore[assignment]
    assert answer is not None
    if as_json:
        echo_json(answer.to_dict())
        return
    click.echo("\n" if answer_started else "")
    print_checked(answer)


_MARKS = {"supported": ("supported", "green"), "contradicted": ("CONTRADICTED", "red"),
          "unsupported": ("UNSUPPORTED", "red"), "not_applicable": ("NOT APPLICABLE", "red"),
          "not_a_claim": ("not a claim", "yellow")}


def print_checked(answer) -> None:  # type: ignore[no-untyped-def]
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


# --- documents ---------------------------------------------------------------------------------

@click.group("docs")
def docs_group() -> None:
    """List, show and remove indexed documents."""


def _store(state: State):  # type: ignore[no-untyped-def]
    """The index, opened without loading PyTorch or an embedding model."""
    from ingest.store import open_store

    return open_store(state.config)


@docs_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def docs_list(state: State, as_json: bool) -> None:
    """Every document with its date, organisation and chunk count."""
    docs = _store(state).documents()
    if as_json:
        echo_json([d.to_dict() for d in docs])
        return
    if not docs:
        click.echo("The index is empty: add documents with `meditron-rag ingest FOLDER`.")
    for d in docs:
        click.echo(f"{d.id:<48} {d.date or '-':<10} {d.chunk_count:>4} chunks  {d.title}")


@docs_group.command("show")
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True)
@click.option("--chunks", "with_chunks", is_flag=True, help="Also print every chunk.")
@pass_state
def docs_show(state: State, doc_id: str, as_json: bool, with_chunks: bool) -> None:
    """One document's metadata (and chunks)."""
    store = _store(state)
    doc = store.document(doc_id)
    if doc is None:
        raise MeditronRagError(f"No document '{doc_id}': see `meditron-rag docs list`.")
    chunks = store.document_chunks(doc_id) if with_chunks else []
    if as_json:
        echo_json({**doc.to_dict(), "chunks": [c.to_dict() for c in chunks]})
        return
    for key, value in doc.to_dict().items():
        click.echo(f"{key:>13}: {value}")
    for c in chunks:
        click.echo(f"\n--- chunk {c.ordinal} · p. {c.page_start}-{c.page_end} · {c.section}")
        click.echo(c.text)


@docs_group.command("remove")
@click.argument("doc_ids", nargs=-1, required=True)
@pass_state
def docs_remove(state: State, doc_ids: tuple[str, ...]) -> None:
    """Remove documents from the index (the files themselves are left alone)."""
    store = _store(state)
    with store.writing():
        for doc_id in doc_ids:
            if not store.remove_document(doc_id):
                raise MeditronRagError(f"No document '{doc_id}': see `meditron-rag docs list`.")
            click.echo(f"Removed {doc_id}.")


# --- models, config, paths ---------------------------------------------------------------------

@click.group("models")
def models_group() -> None:
    """Show and download models."""


@models_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def models_list(state: State, as_json: bool) -> None:
    """Registered and configured models, whether they are present, and their size."""
    from meditron_rag.models import list_models

    rows = list_models(state.config)
    if as_json:
        echo_json([r.__dict__ for r in rows])
        return
    for r in rows:
        flag = "*" if r.configured else " "
        where = _human(r.size_bytes) if r.present else "missing"
        click.echo(f"{flag} {r.kind:<9} {r.name:<21} {where:>9}  {r.description}")
        click.echo(f"  {'':<9} {'':<21} {'':>9}  {r.path or '(package not installed)'}")
    click.echo("\n* = configured")


@models_group.command("pull")
@click.argument("name")
@pass_state
def models_pull(state: State, name: str) -> None:
    """Download a model (meditron-7b, ms-marco-minilm-l6-v2) with progress, resume and a
    checksum."""
    from meditron_rag.models import REGISTRY, pull

    path = pull(name, state.config)
    use = (f"meditron-rag ask --reranker {name} ..., or set retrieval.reranker: {name}"
           if REGISTRY[name].kind == "reranker" else f"meditron-rag --model {name} ask ...")
    click.echo(f"Downloaded {name} to {path}. Use it with: {use}")


@click.group("config")
def config_group() -> None:
    """Show the merged settings and where they come from."""


@config_group.command("show")
@pass_state
def config_show(state: State) -> None:
    """The config in force (defaults, config.yaml, environment and flags merged), as YAML."""
    import yaml

    data = state.config.model_dump(mode="json")
    click.echo(f"# from {state.config.source or 'built-in defaults'}")
    click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())


@config_group.command("path")
@pass_state
def config_path(state: State) -> None:
    """The config file in use."""
    click.echo(str(state.config.source or "(none: built-in defaults)"))


@click.command("path")
@pass_state
def data_path(state: State) -> None:
    """The data directory: index, document store, uploads, downloaded models."""
    click.echo(str(state.config.data_dir))


# --- the app -----------------------------------------------------------------------------------

@click.command("ui")
@click.option("--port", type=int, help="Port (default: ui.port).")
@click.option("--host", help="Address to listen on (default: ui.host).")
@click.option("--seed", type=click.Path(path_type=Path, file_okay=False),
              help="Ingest this folder first if the index has no documents yet.")
@pass_state
def ui_command(state: State, port: int | None, host: str | None, seed: Path | None) -> None:
    """Serve the browser app (Streamlit) and print its URL."""
    config = state.config
    if seed is not None and not _has_documents(state):
        click.echo(f"First run: indexing {seed} ...", err=True)
        code = run_ingest(state, [seed], prune=False, rebuild=False, quiet=False, as_json=False)
        if code not in (0, EXIT_PARTIAL_INGEST):
            sys.exit(code)
    port = port or config.ui.port
    host = host or config.ui.host
    click.echo(f"meditron-rag is at http://{host}:{port}  (Ctrl+C to stop)", err=True)
    env_config = str(config.source) if config.source else ""
    args = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
        "--server.address", host, "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.maxUploadSize",
        str(config.ui.max_upload_mb), "--", "--data-dir", str(config.data_dir),
    ]
    if env_config:
        args += ["--config", env_config]
    if state.overrides.get("llm", {}).get("model"):
        args += ["--model", state.overrides["llm"]["model"]]
    if os.name != "posix":
        sys.exit(subprocess.call(args))
    # Become the server rather than wait beside it: this process may hold PyTorch and the
    # embedder after a first-run ingest (hundreds of MB), which the server does not need.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)


@click.command("serve")
@click.option("--port", type=int, default=8080, show_default=True, help="Port.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; the server has no login).")
@pass_state
def serve_command(state: State, port: int, host: str) -> None:
    """Serve llm.model as an OpenAI-compatible completion server, for llm.server_url.

    llama-cpp-python's server with the model loaded as `ask` and the app load it (weights not
    repacked unless llm.repack_weights: repacking crashes llama.cpp on some Xeons with AMX).
    """
    from rag.server import serve

    llm = state.config.llm
    click.echo(f"Serving {llm.model} at http://{host}:{port}/v1 (weight repacking "
               f"{'on' if llm.repack_weights else 'off'}); point llm.server_url there. "
               "Ctrl+C to stop.", err=True)
    serve(state.config, host, port)


def _has_documents(state: State) -> bool:
    from ingest.store import document_count

    return document_count(state.config.index_dir) > 0


def _commands() -> list[click.Command]:
    from ui.commands_eval import EVAL_COMMANDS

    return [ingest_command, ask_command, search_command, docs_group, models_group,
            config_group, data_path, ui_command, serve_command, *EVAL_COMMANDS]


COMMANDS = _commands()
