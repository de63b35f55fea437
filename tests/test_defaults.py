"""Every default lives in one place, the typed config.

A class or function of the product that declares its own default for a setting config.yaml
sets, with another value, is a second source that drifts (a library caller would silently run
with it). This reads every public function, class and method of the product, and every field
of its dataclasses, and holds each default whose parameter names a setting to the config's
value. A default of None means "the caller's config decides" and is never a second value.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import click
import pytest

from meditron_rag.config import Config

PRODUCT = ("meditron_rag", "ingest", "rag", "ui")
# The config itself is where the defaults are declared; the Streamlit page runs on import.
NOT_READ = {"meditron_rag.config", "ui.app", "ui.__main__"}
MB = 1024 * 1024
UNSET = getattr(click.core, "UNSET", None)  # an option without a default, in click 8.2 and on
# Parameters named otherwise than the setting they stand for, with the value in their unit.
ALIASES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "k": ("retrieval.top_k", lambda v: v),
    "max_bytes": ("ingest.max_file_mb", lambda v: v * MB),
    "max_pdf_bytes": ("ingest.max_pdf_mb", lambda v: v * MB),
    "timeout_s": ("llm.server_timeout_s", lambda v: v),
}
# One place where a name stands for another setting than it does elsewhere.
PLACES = {"rag.fusion.reciprocal_rank_fusion:k": "retrieval.rrf_k"}
# Parameters that share a setting's name but mean something else, each with what it means.
NOT_SETTINGS = {
    "meditron_rag.models.pull:timeout_s": "a download's network timeout; no setting",
    "rag.records.Answer:mode": "the mode an answer was made in, not retrieval's",
    "ingest.document.DocumentMetadata:url": "a guideline's web address, not the store's",
    "ui.commands_models.models_serve:host": "the completion server's address, not the app's",
    "ui.commands_models.models_serve:port": "the completion server's port, not the app's",
}


def settings() -> dict[str, tuple[str, Any]]:
    """Setting name -> (its dotted path, its default), for names that belong to one section;
    a name two sections share (`model`) is left out, as it names no one setting."""
    base = Config()
    found: dict[str, list[tuple[str, Any]]] = {}
    for section in type(base).model_fields:
        value = getattr(base, section)
        if not hasattr(type(value), "model_fields"):
            continue
        for key in type(value).model_fields:
            found.setdefault(key, []).append((f"{section}.{key}", getattr(value, key)))
    out = {name: places[0] for name, places in found.items() if len(places) == 1}
    for alias, (path, unit) in ALIASES.items():
        out[alias] = (path, unit(value_of(path)))
    return out


def value_of(path: str) -> Any:
    section, key = path.split(".")
    return getattr(getattr(Config(), section), key)


def product_modules() -> Iterator[ModuleType]:
    for name in PRODUCT:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if info.name not in NOT_READ:
                yield importlib.import_module(info.name)


def callables(module: ModuleType) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Public functions, classes (their constructor), their methods and click commands
    defined in `module`."""
    for name, value in vars(module).items():
        if isinstance(value, click.Command) and value.callback is not None:
            if value.callback.__module__ == module.__name__:
                yield f"{module.__name__}.{value.callback.__name__}", value
            continue
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(value):
            yield f"{module.__name__}.{name}", value
        elif inspect.isclass(value):
            yield f"{module.__name__}.{name}", value
            # Its own methods and those it inherits from a (private) base of the same module.
            members: dict[str, Any] = {}
            for klass in reversed(inspect.getmro(value)):
                if klass.__module__ == module.__name__:
                    members.update(vars(klass))
            for attr, member in members.items():
                if attr.startswith("_"):  # the constructor is the class's own signature
                    continue
                function = getattr(member, "__func__", member)  # classmethods, staticmethods
                if inspect.isfunction(function):
                    yield f"{module.__name__}.{name}.{attr}", function


def defaults(target: Callable[..., Any]) -> Iterator[tuple[str, Any]]:
    """(parameter, default) for each parameter with a default: dataclass fields and click
    options too."""
    if isinstance(target, click.Command):
        context = click.Context(target)
        for option in target.params:
            value = option.get_default(context, call=False)
            if option.name and value is not UNSET and not callable(value):
                yield option.name, value
        return
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin or an extension type
        return
    for parameter in signature.parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            yield parameter.name, parameter.default
    if inspect.isclass(target) and dataclasses.is_dataclass(target):
        for item in dataclasses.fields(target):
            if item.default is not dataclasses.MISSING:
                yield item.name, item.default


def disagreements(where: str, target: Callable[..., Any]) -> Iterator[str]:
    """Each default of `target` that names a setting and holds another value than its own."""
    known = settings()
    for name, value in defaults(target):
        key = f"{where}:{name}"
        if name not in known or key in NOT_SETTINGS or value is None:
            continue
        path, expected = (PLACES[key], value_of(PLACES[key])) if key in PLACES else known[name]
        if value != expected:
            yield f"{key} defaults to {value!r}; {path} is {expected!r}"


def test_no_default_disagrees_with_the_config() -> None:
    found = [line for module in product_modules() for where, target in callables(module)
             for line in disagreements(where, target)]
    assert not found, "Defaults that disagree with config.py:\n" + "\n".join(found)


def test_the_check_reads_the_product() -> None:
    """The walk reaches the classes that take settings, so a pass means something."""
    reached = {where for module in product_modules() for where, _ in callables(module)}
    assert {"rag.generator.LocalGenerator", "rag.retrieval.Retriever",
            "ingest.chunking.chunk_document", "ingest.pipeline.ingest"} <= reached


def test_a_shadowing_default_is_caught() -> None:
    batch, top_k = value_of("llm.n_batch"), value_of("retrieval.top_k")
    limit = (value_of("ingest.max_file_mb") + 1) * MB

    def shadow(n_batch: int = batch * 2, k: int = top_k, max_bytes: int = limit) -> None:
        """Two parameters that shadow settings with other values, and one that agrees."""

    assert list(disagreements("shadow", shadow)) == [
        f"shadow:n_batch defaults to {batch * 2}; llm.n_batch is {batch}",
        f"shadow:max_bytes defaults to {limit}; "
        f"ingest.max_file_mb is {value_of('ingest.max_file_mb') * MB}",
    ]


@pytest.mark.parametrize("key", sorted(NOT_SETTINGS | PLACES))
def test_every_exception_still_exists(key: str) -> None:
    """An exception for a parameter that is gone would hide the next one of that name."""
    where, name = key.split(":")
    reached = {w: t for module in product_modules() for w, t in callables(module)}
    assert where in reached and name in dict(defaults(reached[where]))
