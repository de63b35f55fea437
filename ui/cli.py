"""The `meditron-rag` command line. Each command is a thin layer over ingest/ and rag/.

Exit codes: 0 success; 1 a general error; 2 bad usage, config or question; 3 model missing or
unloadable; 4 download failed; 5 index missing, locked or incompatible; 6 generation failed;
7 an ingest in which some files failed (the others are in the index).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from meditron_rag import __version__
from meditron_rag.errors import MeditronRagError
from ui.commands import COMMANDS
from ui.state import State


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="meditron-rag")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="config.yaml to read (default: $MEDITRON_RAG_CONFIG or ./config.yaml).")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Override data_dir.")
@click.option("--model", help="Override llm.model: smollm2, meditron-7b or a .gguf path.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, data_dir: str | None,
        model: str | None) -> None:
    """Ask questions of clinical guidelines and get answers with checkable sources.

    A study and research aid, not for clinical use.
    """
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = str(Path(data_dir).resolve())
    if model:
        overrides["llm"] = {"model": model}
    ctx.obj = State(config_path, overrides)


for command in COMMANDS:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every expected failure becomes one sentence and an exit code."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        cli.main(args=argv, prog_name="meditron-rag", standalone_mode=False)
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
