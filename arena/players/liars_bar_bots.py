"""Liar's Bar bot personas: `cautious`, `bluffer` and `counter`.

All three judge a claim with the same estimate (`chance_claim_is_false`): the claimer's hand before
the play is taken as a random draw from the cards this bot cannot see, and an honest claimer is
assumed to play good cards (the target rank or Jokers) whenever it holds enough of them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from math import comb

from arena.players.personas import Persona, legal_or_fallback
from games.base import Decision
from games.liars_bar.config import LiarsBarConfig
from games.liars_bar.engine import ACCEPT, CHALLENGE, PLAY, LiarsBarView


def chance_claim_is_false(view: LiarsBarView, config: LiarsBarConfig) -> float:
    """P(the last claim holds a card that is neither the target nor a Joker), from this seat's
    view: hypergeometric over the unseen cards (deck minus own hand)."""
    assert view.claim is not None
    count = view.claim.count
    good_in_deck = config.copies_per_rank + config.jokers
    mine_good = view.hand.count(view.target) + view.hand.count("J")
    unseen = 3 * config.copies_per_rank + config.jokers - len(view.hand)
    unseen_good = good_in_deck - mine_good
    drawn = view.cards_left[view.claim.seat] + count  # the claimer's hand before this play
    drawn = min(drawn, unseen)
    if unseen_good < count:
        return 1.0
    # P(at least `count` good cards among `drawn` unseen cards)
    total = comb(unseen, drawn)
    enough = sum(
        comb(unseen_good, g) * comb(unseen - unseen_good, drawn - g)
        for g in range(count, min(drawn, unseen_good) + 1)
    )
    return 1.0 - enough / total


def _play(cards: str, legal: tuple[str, ...]) -> Decision:
    return legal_or_fallback(PLAY + "".join(sorted(cards, key="QKAJ".index)), legal)


def _honest_then_bluff(view: LiarsBarView, legal: tuple[str, ...], most: int) -> Decision:
    """Play up to `most` good cards; with none, bluff a single bad card."""
    good = [c for c in view.hand if c == view.target or c == "J"]
    # Keep Jokers back while real target cards do the job.
    good.sort(key=lambda c: c == "J")
    if good:
        return _play("".join(good[:most]), legal)
    return _play(view.hand[0], legal)


def bluffer(
    view: LiarsBarView,
    legal: tuple[str, ...],
    rng: random.Random,
    config: LiarsBarConfig,
    params: Mapping[str, float],
) -> Decision:
    """Sneaks bad cards in with its good ones; challenges on a hunch as well as on the odds."""
    if view.phase == "respond":
        false = chance_claim_is_false(view, config)
        hunch = rng.random() < params["challenge_rate"]
        return Decision(CHALLENGE if hunch or false >= params["threshold"] else ACCEPT)
    if rng.random() < params["bluff_rate"]:
        size = rng.randint(2, min(3, len(view.hand))) if len(view.hand) > 1 else 1
        cards = list(view.hand)
        rng.shuffle(cards)
        return _play("".join(cards[:size]), legal)
    return _honest_then_bluff(view, legal, 3)


def counter(
    view: LiarsBarView,
    legal: tuple[str, ...],
    rng: random.Random,
    config: LiarsBarConfig,
    params: Mapping[str, float],
) -> Decision:
    """Counts cards: challenges when the claim is false with probability at least `threshold`;
    plays up to `most` good cards and bluffs one card only when it has none. The `cautious`
    persona is this strategy with a high threshold, one card at a time."""
    if view.phase == "respond":
        false = chance_claim_is_false(view, config)
        return Decision(CHALLENGE if false >= params["threshold"] else ACCEPT)
    return _honest_then_bluff(view, legal, int(params["most"]))


LIARS_BAR_PERSONAS: dict[str, Persona] = {
    persona.name: persona
    for persona in (
        Persona(
            "cautious",
            ("liars-bar",),
            "plays one honest card at a time; challenges only near-certain lies",
            counter,
            {"threshold": 0.85, "most": 1},
        ),
        Persona(
            "bluffer",
            ("liars-bar",),
            "mixes bad cards into 2–3 card plays; challenges on a hunch",
            bluffer,
            {"bluff_rate": 0.5, "challenge_rate": 0.3, "threshold": 0.6},
        ),
        Persona(
            "counter",
            ("liars-bar",),
            "challenges when the claim is probably false given its hand and the deck",
            counter,
            {"threshold": 0.5, "most": 3},
        ),
    )
}
