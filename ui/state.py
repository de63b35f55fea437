"""What every CLI command shares: the config, loaded once from the group's options."""

from __future__ import annotations

import json
from typing import Any

import click

from meditron_rag.config import Config, load_config


class State:
    """Options of the command group, and the config they produce, loaded once."""

    def __init__(self, config_path: str | None, overrides: dict[str, Any]) -> None:
        self.config_path = config_path
        self.overrides = overrides
        self._config: Config | None = None

    def reload(self) -> None:
        """Read the config again at its next use, after a command changed `overrides`."""
        self._config = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, self.overrides)
        return self._config


pass_state = click.make_pass_decorator(State)


def with_reranker(config: Config, reranker: str | None, off: bool = False) -> Config:
    """`config` with a command's reranking flags applied: `reranker` names the cross-encoder to
    use instead of retrieval.reranker, `off` turns reranking off; neither: `config` itself."""
    if reranker and off:
        raise click.UsageError("Give --reranker or --no-rerank, not both.")
    if not (reranker or off):
        return config
    changed = config.model_copy(deep=True)
    changed.retrieval.reranker = None if off else reranker
    return changed


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
