"""The docs cannot drift from the code.

Every command and every setting is documented; every command, option, setting, file and
module the docs name exists; docs/cli.md is what the commands' `--help` prints. The commands
are read from the click group and the settings from the pydantic model, so a new command or
setting needs no change here, only its documentation.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import click
import pytest
import yaml
from pydantic import BaseModel

from meditron_rag.config import Config
from scripts import cli_docs
from tests.conftest import ROOT
from ui.cli import cli

CONFIG_YAML = ROOT / "config.yaml"
GENERATED = {cli_docs.PAGE}
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WRITTEN = [page for page in PAGES if page not in GENERATED]
PROGRAM = "meditron-rag"
SHELL_BREAKS = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "<"}
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`]+)`")


# --- where the docs name things: code blocks and inline code ----------------------------------

def code_lines(text: str) -> Iterator[str]:
    """Each line of every fenced block (continuations joined, prompts dropped), then each
    inline code span as one line."""
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            yield line.strip().removeprefix("$ ")
    yield from inline_spans(text)


def inline_spans(text: str) -> Iterator[str]:
    for span in INLINE.findall(FENCE.sub("", text)):
        yield " ".join(span.split())


def yaml_comments(path: Path) -> str:
    """The comments of a YAML file as one text, so that a code span may run across lines."""
    return "\n".join(line.split("#", 1)[1] for line in path.read_text().splitlines()
                     if "#" in line)


@cache
def sources() -> dict[str, str]:
    """Every text a user reads for how to use the program, by name (docs/cli.md is compared
    with the commands whole)."""
    texts = {str(page.relative_to(ROOT)): page.read_text(encoding="utf-8") for page in WRITTEN}
    texts["config.yaml comments"] = yaml_comments(CONFIG_YAML)
    return texts


def words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # an unbalanced quote in prose
        return line.split()


def invocations(line: str) -> Iterator[list[str]]:
    """The arguments of each `meditron-rag ...` in a line. After ` | `, a word that is one of
    its commands starts another (`docs list | docs show ID`); any other word is a pipe."""
    args: list[str] | None = None
    continues = False  # whether the word after a ` | ` may be one of our commands
    for word in words(line):
        if word == PROGRAM or word.endswith("/" + PROGRAM):
            if args is not None:
                yield args
            args, continues = [], True
        elif word in SHELL_BREAKS:
            if args is not None:
                yield args
            args, continues = None, continues and word == "|"
        elif args is not None:
            args.append(word)
        elif continues and word in cli.commands:
            args = [word]
        else:
            continues = False
    if args is not None:
        yield args


def documented_invocations(texts: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """(where, arguments) of every command the texts name: `meditron-rag ...` anywhere in
    code, and inline code that starts with one of its commands (`ingest --rebuild`)."""
    for where, text in texts.items():
        if where.endswith("comments"):
            lines: Iterator[str] = inline_spans(text)
        else:
            lines = code_lines(text)
        for line in lines:
            yield from ((where, args) for args in invocations(line) if args)
        for span in inline_spans(text):
            tokens = words(span)
            if PROGRAM not in span and len(tokens) > 1 and tokens[0] in cli.commands:
                yield where, tokens


# --- the command line -------------------------------------------------------------------------

COMMANDS = list(cli_docs.command_paths())  # the group itself, (), first
HELP = cli.context_settings["help_option_names"]  # every command inherits them


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def options(command: click.Command) -> dict[str, click.Option]:
    """A command's options by every name they answer to, help included."""
    found = {name: p for p in command.params if isinstance(p, click.Option)
             for name in (*p.opts, *p.secondary_opts)}
    return {**{name: click.Option([name], is_flag=True) for name in HELP}, **found}


def resolve(args: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The command path `args` names, and what is wrong with them: a command or option that
    does not exist, or a value that is not one of an option's choices."""
    command: click.Command = cli
    path: tuple[str, ...] = ()
    problems: list[str] = []
    rest = [a.strip("[]") for a in args]
    while rest:
        word = rest.pop(0)
        where = " ".join((PROGRAM, *path))
        if word.startswith("-") and len(word) > 1:
            name, _, value = word.partition("=")
            option = options(command).get(name)
            if option is None:
                problems.append(f"`{where}` has no option {name}")
            elif not (option.is_flag or option.count):
                value = value or (rest.pop(0) if rest else "")
                problems += bad_choice(where, option, value)
        elif isinstance(command, click.Group):
            if word not in command.commands:
                problems.append(f"`{where}` has no command {word!r}")
                break
            command, path = command.commands[word], (*path, word)
    return path, problems


def bad_choice(where: str, option: click.Option, value: str) -> list[str]:
    """`value` of a choice option, written as one choice or `a|b`; a placeholder (MODEL,
    "...") is not checked."""
    if not isinstance(option.type, click.Choice) or not re.fullmatch(r"[a-z0-9|+_-]+", value):
        return []
    choices = [str(c) for c in option.type.choices]
    return [f"`{where} {option.opts[-1]}` has no choice {v!r}" for v in value.split("|")
            if v not in choices]


@cache
def shown_commands() -> set[tuple[str, ...]]:
    """The command paths the README and the hand-written pages show, and the groups above."""
    paths = {resolve(args)[0] for where, args in documented_invocations(sources())
             if where.endswith(".md")}
    return {path[:n] for path in paths for n in range(len(path) + 1)}


@pytest.mark.parametrize("path", [" ".join(p) for p in COMMANDS if p])
def test_every_command_is_documented(path):
    """Each command and subcommand is shown in the README or a hand-written page."""
    assert tuple(path.split()) in shown_commands(), (
        f"`{PROGRAM} {path}` is not shown in README.md or docs/*.md: say what it is for.")


def test_every_documented_command_and_option_exists():
    problems = [f"{where}: {problem}" for where, args in documented_invocations(sources())
                for problem in resolve(args)[1]]
    assert not problems, "\n".join(problems)


def test_every_option_named_alone_exists():
    """An option named on its own (`--no-rerank`) belongs to some command."""
    known = {name for path in COMMANDS for name in options(command_at(path))}
    named = {(where, span.split()[0].split("=")[0]) for where, text in sources().items()
             for span in inline_spans(text) if re.match(r"(--[a-z][\w-]*|-[a-zA-Z])(\s|=|$)", span)}
    unknown = sorted(f"{where}: {name}" for where, name in named if name not in known)
    assert not unknown, "\n".join(unknown)


def test_cli_md_is_what_the_commands_print():
    current = cli_docs.PAGE.read_text(encoding="utf-8") if cli_docs.PAGE.exists() else ""
    assert current == cli_docs.render(), (
        f"docs/cli.md differs from the commands' --help: run `{cli_docs.REGENERATE}`.")


@pytest.mark.slow
def test_cli_md_shows_the_installed_commands_real_output():
    """The page's rendering (click's test runner) is what the real entry point prints."""
    done = subprocess.run([sys.executable, "-m", "ui", "docs", "show", "--help"],
                          capture_output=True, text=True, env=wide_terminal(), cwd=ROOT, check=True)
    assert f"```\n{done.stdout.rstrip()}\n```" in cli_docs.PAGE.read_text(encoding="utf-8")


def wide_terminal() -> dict[str, str]:
    return {**os.environ, "COLUMNS": cli_docs.COLUMNS, "PYTHONPATH": str(ROOT)}


# --- settings ---------------------------------------------------------------------------------

def settings(model: type[BaseModel] = Config, prefix: str = "") -> Iterator[str]:
    """Every setting's dotted name, sections walked."""
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from settings(kind, f"{prefix}{name}.")
        else:
            yield prefix + name


def yaml_keys(data: dict, prefix: str = "") -> Iterator[str]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from yaml_keys(value, f"{prefix}{key}.")
        else:
            yield prefix + key


def commented_keys(path: Path) -> set[str]:
    """Keys of a YAML file with a comment on the line above, or named in a comment of their
    section."""
    above: set[str] = set()
    comments: dict[str, str] = {}
    keys: list[str] = []
    section, previous = "", ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comments[section] = comments.get(section, "") + stripped + "\n"
        elif not line.startswith(" ") and stripped.endswith(":"):
            section = stripped[:-1]
        elif ":" in stripped:
            name = stripped.split(":")[0]
            key = f"{section}.{name}" if line.startswith(" ") else name
            keys.append(key)
            if previous.startswith("#"):
                above.add(key)
        previous = stripped
    named = {key for key in keys if re.search(
        rf"\b{key.rpartition('.')[2]}\b", comments.get(key.rpartition(".")[0], ""))}
    return above | named


@pytest.mark.parametrize("key", list(settings()))
def test_every_setting_is_in_config_yaml_and_explained(key):
    in_yaml = set(yaml_keys(yaml.safe_load(CONFIG_YAML.read_text())))
    assert key in in_yaml, f"config.yaml lacks {key}: every setting is listed there."
    docs = "\n".join(text for where, text in sources().items() if where.endswith(".md"))
    explained = key in commented_keys(CONFIG_YAML) or f"`{key}`" in docs or f"`{key}:" in docs
    assert explained, f"{key} is explained neither by a comment in config.yaml nor in the docs."


def test_every_key_in_config_yaml_is_a_setting():
    unknown = set(yaml_keys(yaml.safe_load(CONFIG_YAML.read_text()))) - set(settings())
    assert not unknown, f"config.yaml has keys the config does not know: {sorted(unknown)}"


def test_config_yaml_shows_the_defaults():
    """config.yaml is read as the list of defaults; a value that differs from the model's
    would make a run without it behave otherwise than the file says."""
    written = Config.model_validate(yaml.safe_load(CONFIG_YAML.read_text()))
    assert written.model_dump(exclude={"data_dir"}) == Config().model_dump(exclude={"data_dir"})
    assert written.data_dir == Config().data_dir


@cache
def first_party() -> set[str]:
    return {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} | {"scripts"}


def module_exists(dotted: str) -> bool:
    """Whether `dotted` is a module of this checkout, or an attribute of one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        if base.with_suffix(".py").exists() or (base / "__init__.py").exists() or (
                base / "__main__.py").exists():
            module = importlib.import_module(".".join(parts[:cut]))
            return cut == len(parts) or hasattr(module, parts[cut])
    return False


def test_every_setting_and_module_named_exists():
    """`retrieval.reranker` is a setting; `evaluation.metrics` and `python -m X` modules are
    this checkout's; nothing else with a section's or a package's name."""
    known = set(settings())
    sections = {key.split(".")[0] for key in known if "." in key}
    problems = []
    for where, text in sources().items():
        spans = [*inline_spans(text), *FENCE.findall(text)]
        for span in spans:
            for dotted in re.findall(r"(?<![\w./-])([a-z_]+(?:\.[a-z_0-9]+)+)(?![\w/-])", span):
                head = dotted.split(".")[0]
                if dotted in known or (head not in sections and head not in first_party()):
                    continue
                if dotted.rsplit(".", 1)[-1] in ("py", "md", "yaml", "json", "jsonl", "sqlite"):
                    continue
                if head in first_party() and module_exists(dotted):
                    continue
                problems.append(f"{where}: `{dotted}` is neither a setting nor a module")
    assert not problems, "\n".join(sorted(set(problems)))


def test_every_file_named_exists():
    """Paths in code that start in this checkout (`rag/citations.py`, `corpora/starter/`)."""
    tops = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")}
    problems = []
    for where, text in sources().items():
        for span in [*inline_spans(text), *FENCE.findall(text)]:
            for path in re.findall(r"(?<![\w./~$-])([\w.-]+/[\w./-]*)", span):
                head = path.split("/")[0]
                if head not in tops or re.search(r"[A-Z]{2}|<|\*", path):
                    continue
                if not (ROOT / path.rstrip(".")).exists():
                    problems.append(f"{where}: {path} does not exist")
    assert not problems, "\n".join(sorted(set(problems)))
