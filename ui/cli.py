"""The `meditron-rag` command line. Each command is a thin layer over ingest/ and rag/.

Exit codes: 0 success; 1 a general error; 2 bad usage, config or question; 3 model missing or
unloadable; 4 download failed; 5 index missing, locked or incompatible; 6 generation failed;
7 an ingest in which some files failed (the others are in the index).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from meditron_rag import __version__
from meditron_rag.errors import MeditronRagError
from ui.commands import COMMANDS
from ui.state import State

F = TypeVar("F", bound=Callable[..., object])


def config_options(func: F) -> F:
    """--config, --data-dir and --model: where a command group's config comes from."""
    for option in reversed([
        click.option("--config", "config_path", type=click.Path(dir_okay=False),
                     help="config.yaml to read (default: $MEDITRON_RAG_CONFIG or "
                          "./config.yaml)."),
        click.option("--data-dir", type=click.Path(file_okay=False), help="Override data_dir."),
        click.option("--model", help="Override llm.model: smollm2, meditron-7b or a .gguf path."),
    ]):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="meditron-rag")
@config_options
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, data_dir: str | None,
        model: str | None) -> None:
    """Ask questions of clinical guidelines and get answers with checkable sources.

    A study and research aid, not for clinical use.
    """
    ctx.obj = state_of(config_path, data_dir, model)


def state_of(config_path: str | None, data_dir: str | None, model: str | None) -> State:
    """The group's options as the State every command reads its config from."""
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = str(Path(data_dir).resolve())
    if model:
        overrides["llm"] = {"model": model}
    return State(config_path, overrides)


for command in COMMANDS:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `meditron-rag`."""
    run(cli, "meditron-rag", argv)


def run(group: click.Group, prog_name: str, argv: list[str] | None = None) -> None:
    """Run a command group so that every expected failure becomes one sentence and an exit
    code (the checkout's `python -m bench` runs the same way)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        group.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MeditronRagError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
