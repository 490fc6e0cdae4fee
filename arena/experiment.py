"""Experiment files: a TOML grid of tables (game, preset, offers) × seat line-ups × framings ×
observer conditions, every cell playing the same seeds (paired), each cell a resumable batch.

See docs/experiments.md for the format. Loading checks the whole grid, so a bad cell stops the
run before anything is written.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arena.batch import BatchPlan, plan
from arena.llm.config import ModelsConfig


class ExperimentError(ValueError):
    """An experiment file that cannot be run; the message names the file and the problem."""


class Table(BaseModel):
    """One game setup of the grid."""

    model_config = ConfigDict(extra="forbid")

    game: str
    preset: str | None = None
    lineups: list[list[str]] = Field(min_length=1)
    offers: list[str] = Field(default_factory=list)
    grants: list[str] = Field(default_factory=list)
    set: dict[str, Any] = Field(default_factory=dict)


class ExperimentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    matches: int = Field(ge=1, description="matches per cell; every cell plays the same seeds")
    seed: int = 1
    framings: list[str] = Field(default_factory=lambda: ["neutral"], min_length=1)
    observers: list[str] = Field(default_factory=lambda: ["off", "on"], min_length=1)
    monitor: str | None = None
    concurrency: int | None = Field(default=None, ge=1)
    tables: list[Table] = Field(min_length=1)


def load_experiment(
    path: Path, models: ModelsConfig | None = None, api_base: str | None = None
) -> tuple[ExperimentFile, list[BatchPlan]]:
    """Read and check `path`; return it and one batch per cell, in grid order."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ExperimentError(f"cannot read experiment file {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ExperimentError(f"experiment file {path} is not valid TOML: {error}") from None
    try:
        experiment = ExperimentFile.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in error.errors()
        )
        raise ExperimentError(f"experiment file {path}: {problems}") from None
    cells = []
    for t, table in enumerate(experiment.tables):
        has_tools = bool(table.offers or table.grants)
        framings: list[str | None] = list(experiment.framings) if has_tools else [None]
        for lineup in table.lineups:
            for framing in framings:
                for observer in experiment.observers:
                    try:
                        cell = plan(
                            table.game,
                            table.preset,
                            table.set,
                            lineup,
                            experiment.matches,
                            experiment.seed,
                            models,
                            api_base,
                            observer=observer,
                            framing=framing,
                            offers=table.offers,
                            grants=table.grants,
                            monitor=experiment.monitor,
                            experiment=experiment.name,
                        )
                    except ValueError as error:
                        raise ExperimentError(
                            f"experiment file {path}, tables[{t}] ({table.game}): {error}"
                        ) from None
                    cells.append(cell)
    return experiment, cells
