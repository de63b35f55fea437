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

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path, self.overrides)
        return self._config


pass_state = click.make_pass_decorator(State)


def echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
