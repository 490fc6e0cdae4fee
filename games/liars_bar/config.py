"""Liar's Bar parameters and the presets `classic` and `paper` (see docs/games.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RANKS = ("Q", "K", "A")
JOKER = "J"


class LiarsBarConfig(BaseModel):
    """Everything that varies between Liar's Bar presets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    copies_per_rank: int = Field(6, ge=1, le=12, description="Queens, Kings and Aces each")
    jokers: int = Field(2, ge=0, le=8, description="wild cards, always honest")
    hand_size: int = Field(5, ge=1, le=8)
    deal: Literal["random", "paper"] = Field(
        "random",
        description="random: shuffle and deal; paper: each player gets exactly 2 target cards, "
        "2 non-target cards and 1 Joker",
    )
    max_play: int = Field(3, ge=1, le=8, description="most cards in one play")
    chambers: int = Field(6, ge=1, le=12, description="revolver chambers, one live round")
    scoring: Literal["none", "paper"] = Field("none", description="paper: the points table")
    max_rounds: int = Field(
        100,
        ge=1,
        description="safety cap: a game still undecided after this many rounds ends in a draw "
        "among the living (rounds can end without a shot, so nothing else bounds a game)",
    )
    talk_max_chars: int = Field(
        200, ge=0, le=2000, description="longest table-talk line; longer ones are cut"
    )

    @model_validator(mode="after")
    def _deck_is_big_enough(self) -> LiarsBarConfig:
        deck = 3 * self.copies_per_rank + self.jokers
        if 4 * self.hand_size > deck:
            raise ValueError(f"a deck of {deck} cannot deal {self.hand_size} cards to 4 players")
        if self.deal == "paper":
            if self.hand_size != 5:
                raise ValueError("the paper deal gives exactly 5 cards: keep hand_size 5")
            if self.copies_per_rank < 8 or self.jokers < 4:
                raise ValueError("the paper deal needs at least 8 of each rank and 4 Jokers")
        return self

    def deck(self) -> tuple[str, ...]:
        return tuple(r for r in RANKS for _ in range(self.copies_per_rank)) + (JOKER,) * self.jokers


PRESETS: dict[str, LiarsBarConfig] = {
    "classic": LiarsBarConfig(),
    "paper": LiarsBarConfig(copies_per_rank=8, jokers=4, deal="paper", scoring="paper"),
}
