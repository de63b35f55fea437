"""The subcommands of `meditron-rag`: `ingest` and `ui` here, the others in
ui/commands_*.py by group. Bodies stay short: the work is in ingest/ and rag/."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click

from meditron_rag.errors import MeditronRagError
from ui.commands_ask import ask_command, search_command
from ui.commands_docs import docs_group
from ui.commands_eval import eval_command
from ui.commands_models import config_group, data_path, models_group
from ui.commands_serve import serve_command
from ui.commands_store import store_group
from ui.state import State, echo_json, pass_state

EXIT_PARTIAL_INGEST = 7
CHUNK_LINE_SECONDS = 5.0  # between two progress lines of one large file
APP = Path(__file__).with_name("app.py")


# --- ingest ------------------------------------------------------------------------------------

def run_ingest(state: State, paths: list[Path], prune: bool, rebuild: bool, quiet: bool,
               as_json: bool) -> int:
    """Ingest `paths`; returns the exit code (7 when some files failed). A rebuild writes a
    new index beside the old one and swaps it in under the writer lock (`ingest.rebuild`)."""
    from ingest import IngestReport, ingest, load_embedder
    from ingest.pipeline import ChunkProgress, FileResult
    from ingest.rebuild import rebuild as rebuild_index
    from ingest.store import SQLiteStore, open_store

    config = state.config
    if rebuild and config.store.backend != "sqlite":
        raise MeditronRagError(
            "ingest --rebuild rebuilds the embedded index; with store.backend postgres, ingest "
            "into an empty database (a new store.url) and switch to it when done."
        )
    embedder = load_embedder(config)
    started = time.perf_counter()

    def progress(result: FileResult, n: int, total: int) -> None:
        if quiet or as_json:
            return
        elapsed = max(time.perf_counter() - started, 1e-6)
        mark = {"added": "+", "replaced": "~", "rechunked": "~", "unchanged": "=",
                "duplicate": "=", "failed": "!"}[result.status]
        line = f"[{n}/{total}] {mark} {Path(result.path).name}"
        if result.status in ("failed", "duplicate"):
            line += f": {result.reason}"
        elif result.status != "unchanged":
            anew = ", chunked anew" if result.status == "rechunked" else ""
            line += f" ({result.pages} pages, {result.chunks} chunks{anew})"
        click.echo(f"{line}   [{n / elapsed:.1f} files/s]", err=True)

    shown: dict[str, float] = {}  # file -> when its last chunk line was printed

    def chunk_progress(step: ChunkProgress) -> None:
        """A line for a file that takes more than one window: on its first window, then every
        few seconds, so a large file never looks stuck."""
        if quiet or as_json or step.embedded >= step.found:
            return
        now = time.perf_counter()
        if now - shown.get(step.path, float("-inf")) < CHUNK_LINE_SECONDS:
            return
        shown[step.path] = now
        click.echo(f"      {Path(step.path).name}: {step.embedded:,}/{step.found:,} chunks "
                   f"embedded   [{step.chunks_per_s:.1f} chunks/s]", err=True)

    def build(folder: Path | None) -> IngestReport:
        store = (open_store(config, embedder) if folder is None
                 else SQLiteStore.open(folder, config.index, embedder=embedder))
        try:
            with store.writing(), store.filling():
                done = ingest(
                    paths, store, embedder, config.chunking.chunk_tokens,
                    config.chunking.overlap_tokens, prune=prune, progress=progress,
                    chunk_progress=chunk_progress, max_bytes=config.ingest.max_file_bytes,
                    max_pdf_bytes=config.ingest.max_pdf_bytes,
                    window=config.embedding.ingest_window,
                    lookahead=config.embedding.ingest_lookahead, pdf=config.pdf,
                )
        finally:
            store.close()
        if not done.files and not done.removed:  # before a rebuild would swap in an empty index
            raise MeditronRagError(
                "No documents found in " + ", ".join(map(str, paths))
                + ": add PDF, HTML, Markdown or text files."
            )
        return done

    report = rebuild_index(config.index_dir, build) if rebuild else build(None)
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


# --- the app -----------------------------------------------------------------------------------

@click.command("ui")
@click.option("--port", type=int, help="Port (default: ui.port).")
@click.option("--host", help="Address to listen on (default: ui.host).")
@click.option("--seed", type=click.Path(path_type=Path, file_okay=False),
              help="Ingest this folder first if the index has no documents yet.")
@click.option("--api", "api_url", metavar="URL",
              help="Ask and keep the library through this running `meditron-rag serve` "
                   "(default: ui.api_url): the app then loads no model and shares the "
                   "server's.")
@pass_state
def ui_command(state: State, port: int | None, host: str | None, seed: Path | None,
               api_url: str | None) -> None:
    """Serve the browser app (Streamlit) and print its URL.

    With --api (or ui.api_url) the app answers through a running `meditron-rag serve`, so the
    app and the API's clients share one model and its line; the token for uploads comes from
    MEDITRON_RAG_API_TOKEN or serve.token_file.
    """
    config = state.config
    if api_url:
        state.overrides.setdefault("ui", {})["api_url"] = api_url
        state.reload()
        config = state.config
    if seed is not None and config.ui.api_url:
        raise click.UsageError("--seed indexes into this machine's index: with --api, upload "
                               "through the app's library or the API instead.")
    if seed is not None and not _has_documents(state):
        click.echo(f"First run: indexing {seed} ...", err=True)
        code = run_ingest(state, [seed], prune=False, rebuild=False, quiet=False, as_json=False)
        if code not in (0, EXIT_PARTIAL_INGEST):
            sys.exit(code)
    port = port or config.ui.port
    host = host or config.ui.host
    click.echo(f"meditron-rag is at http://{host}:{port}  (Ctrl+C to stop)", err=True)
    env_config = str(config.source) if config.source else ""
    # Streamlit refuses in the browser what no upload may be: over the larger of ingest's two
    # limits, or over ui.max_upload_mb; ui/uploads.py holds each kind of file to its own.
    largest_mb = min(config.ui.max_upload_mb,
                     max(config.ingest.max_pdf_mb, config.ingest.max_file_mb))
    args = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
        "--server.address", host, "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.maxUploadSize",
        str(largest_mb), "--", "--data-dir", str(config.data_dir),
    ]
    if env_config:
        args += ["--config", env_config]
    if state.overrides.get("llm", {}).get("model"):
        args += ["--model", state.overrides["llm"]["model"]]
    if config.ui.api_url:
        args += ["--api", config.ui.api_url]
    if os.name != "posix":
        sys.exit(subprocess.call(args))
    # Become the server rather than wait beside it: this process may hold PyTorch and the
    # embedder after a first-run ingest, which the server does not need.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)


def _has_documents(state: State) -> bool:
    from ingest.store import stored_documents

    return stored_documents(state.config) > 0


COMMANDS: list[click.Command] = [
    ingest_command, ask_command, search_command, docs_group, models_group, config_group,
    data_path, ui_command, serve_command, eval_command, store_group,
]
