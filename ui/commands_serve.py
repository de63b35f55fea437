"""`meditron-rag serve`: the HTTP API (ui/api.py) with the index and models of this config."""

from __future__ import annotations

import click

from meditron_rag.config import API_TOKEN_ENV, api_token
from meditron_rag.errors import MeditronRagError
from ui.state import State, pass_state


@click.command("serve")
@click.option("--port", type=int, help="Port (default: serve.port).")
@click.option("--host", help="Address to listen on (default: serve.host).")
@pass_state
def serve_command(state: State, port: int | None, host: str | None) -> None:
    """Serve the HTTP API: search, ask (streamed), OpenAI-compatible chat completions and
    the document library, with its OpenAPI page at /docs.

    Uploads and removals need a bearer token (MEDITRON_RAG_API_TOKEN or serve.token_file);
    without one the API is read-only.
    """
    try:
        from ui.api import serve
    except ImportError as exc:
        raise MeditronRagError(f"The HTTP API needs {exc.name}: pip install "
                               '"meditron-rag[api]"') from None

    config = state.config
    host = host or config.serve.host
    port = port or config.serve.port
    writes = "uploads need the token" if api_token(config) else f"read-only (no {API_TOKEN_ENV})"
    click.echo(f"meditron-rag API at http://{host}:{port}/v1, OpenAPI page at "
               f"http://{host}:{port}/docs; {writes}. Ctrl+C to stop.", err=True)
    serve(config, host, port)
