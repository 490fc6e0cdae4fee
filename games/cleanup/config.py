"""Cleanup parameters and the preset `paper` (the reference grid, its seat-order bias fixed).

Every number of the rules is a field here; the engine reads nothing else.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CleanupConfig(BaseModel):
    """Everything that varies between Cleanup presets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int = Field(default=5, ge=1, le=64, description="grid height")
    cols: int = Field(default=6, ge=2, le=64, description="grid width")
    river_cols: tuple[int, ...] = Field(
        default=(2, 3),
        description="0-based columns that are river (hold pollution, can be cleaned, never grow "
        "apples); every other column is orchard",
    )
    start_positions: tuple[tuple[int, int], ...] = Field(
        default=((0, 0), (0, 5), (4, 0), (4, 5)),
        description="(row, col) where each agent starts, in seat order; the game needs exactly "
        "this many seats",
    )
    initial_polluted: int = Field(
        default=1,
        ge=0,
        description="river tiles polluted at reset, drawn uniformly without replacement",
    )
    pollution_interval: int = Field(
        default=5,
        ge=1,
        description="at every step whose 0-based index is a multiple of this (0, 5, 10, …), one "
        "uniformly random clean river tile becomes polluted (none if all are polluted)",
    )
    pollution_threshold: int = Field(
        default=6,
        ge=0,
        description="apples grow only while the total pollution (polluted river tiles) is below "
        "this; at or above it nothing grows",
    )
    growth_prob: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="chance per step that an empty orchard tile grows an apple; also the chance "
        "per empty orchard tile at reset. Empty means no apple and no agent on it, so an apple "
        "never appears under an agent (who would otherwise collect it without moving)",
    )
    zap_freeze: int = Field(
        default=5,
        ge=0,
        description="a zapped agent may only STAY for exactly this many following steps; it "
        "collects no apple and cleans nothing in the step it is zapped nor while its counter "
        "is above 0 after the tick, so it can collect again from the last of its STAY-only "
        "steps (see the engine's docstring for the counter arithmetic)",
    )
    max_steps: int = Field(default=30, ge=1, le=100_000, description="steps per episode")

    @model_validator(mode="after")
    def _layout_fits(self) -> CleanupConfig:
        river = self.river_cols
        if not river:
            raise ValueError("river_cols must name at least one column")
        if len(set(river)) != len(river):
            raise ValueError(f"river_cols repeats a column: {river}")
        if any(not 0 <= c < self.cols for c in river):
            raise ValueError(f"river_cols {river} must lie within 0..{self.cols - 1}")
        if len(river) == self.cols:
            raise ValueError("every column is river: keep at least one orchard column")
        if not self.start_positions:
            raise ValueError("start_positions must place at least one agent")
        for r, c in self.start_positions:
            if not (0 <= r < self.rows and 0 <= c < self.cols):
                raise ValueError(
                    f"start position ({r}, {c}) is off the {self.rows}x{self.cols} grid"
                )
        if self.initial_polluted > self.rows * len(river):
            raise ValueError(
                f"initial_polluted {self.initial_polluted} exceeds the "
                f"{self.rows * len(river)} river tiles"
            )
        return self


PRESETS: dict[str, CleanupConfig] = {"paper": CleanupConfig()}
