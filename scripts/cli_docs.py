"""Write docs/cli.md: the `--help` of every `meditron-rag` command, exactly as it prints it.

Run `python -m scripts.cli_docs` from a checkout after changing a command or an option;
tests/test_docs.py fails while docs/cli.md differs from what the commands print. The
commands are read from the click group itself, so a new one needs no change here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from ui.cli import cli

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"
REGENERATE = "python -m scripts.cli_docs"
# click wraps help at the terminal's width less 2, at most 78: what a terminal of 80 or more
# columns shows, and so what the page shows.
COLUMNS = "80"

INTRO = f"""# Command-line reference

Every `meditron-rag` command's `--help`, as the command prints it. The README says which
command to use for what; [ingestion](ingestion.md), [citations](citations.md) and
[evaluation](evaluation.md) say how each works.

This page is generated from the commands themselves by `{REGENERATE}`, and
`tests/test_docs.py` fails when it differs from their output.
"""


def command_paths(group: click.Group = cli,
                  path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command's path under `group`, the group itself first, subcommands by name."""
    yield path
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            yield from command_paths(command, (*path, name))
        else:
            yield (*path, name)


def help_text(path: tuple[str, ...]) -> str:
    """What `meditron-rag PATH --help` prints on a terminal of 80 columns or more."""
    result = CliRunner(env={"COLUMNS": COLUMNS}).invoke(
        cli, [*path, "--help"], prog_name="meditron-rag", catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"meditron-rag {' '.join(path)} --help exited {result.exit_code}")
    return result.output


def render() -> str:
    """The whole page: the introduction, then one section per command."""
    sections = [INTRO]
    for path in command_paths():
        title = " ".join(("meditron-rag", *path))
        sections.append(f"## {title}\n\n```\n{help_text(path).rstrip()}\n```\n")
    return "\n".join(sections)


def main() -> None:
    PAGE.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
