"""`meditron-rag models`, `config` and `path`: the models, the settings and where they live."""

from __future__ import annotations

import click

from ui.state import State, echo_json, pass_state


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)  # pragma: no cover


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


@models_group.command("serve")
@click.option("--port", type=int, default=8080, show_default=True, help="Port.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; the server has no login).")
@pass_state
def models_serve(state: State, port: int, host: str) -> None:
    """Serve llm.model as an OpenAI-compatible completion server, for llm.server_url.

    The bare model, for the llm.server_url of other meditron-rag processes (`meditron-rag
    serve` is the HTTP API for people and tools): llama-cpp-python's server with the model
    loaded as `ask` and the app load it (weights not repacked unless llm.repack_weights:
    repacking crashes llama.cpp on some Xeons with AMX).
    """
    from rag.server import serve

    llm = state.config.llm
    click.echo(f"Serving {llm.model} at http://{host}:{port}/v1 (weight repacking "
               f"{'on' if llm.repack_weights else 'off'}); point llm.server_url there. "
               "Ctrl+C to stop.", err=True)
    serve(state.config, host, port)
