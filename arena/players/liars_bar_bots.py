"""Liar's Bar bot personas: `cautious`, `bluffer` and `counter`; and how any Liar's Bar bot
plays the secret side (`LIARS_BAR_SECRET_PLAY`: partner, plan, tools, play as an ally).

All three judge a claim with the same estimate (`chance_claim_is_false`): the claimer's hand before
the play is taken as a random draw from the cards this bot cannot see, and an honest claimer is
assumed to play good cards (the target rank or Jokers) whenever it holds enough of them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from math import comb

from arena.players.personas import Knowledge, Persona, SecretPlay, legal_or_fallback, living_after
from games.base import Decision
from games.liars_bar.config import LiarsBarConfig
from games.liars_bar.engine import ACCEPT, CHALLENGE, PLAY, LiarsBarView
from tools.offers import NONE


def _good(cards: str, target: str) -> int:
    return cards.count(target) + cards.count("J")


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


# -- the secret side: partner, plan, tools, and play as an ally ---------------------------------


def press_target(view: LiarsBarView, allies: frozenset[int]) -> int | None:
    """The living non-ally to press, as the engine's alliance hint names it: the most points
    under paper scoring, else the fewest trigger pulls (the furthest from its bullet); ties to
    the lower seat."""
    others = [s for s in living_after(view.alive, view.seat) if s not in allies]
    if not others:
        return None
    if view.points is not None:
        points = view.points
        return max(others, key=lambda s: (points[s], -s))
    return min(others, key=lambda s: (view.pulls[s], s))


def choose_partner(view: LiarsBarView, candidates: tuple[int, ...]) -> tuple[int, str]:
    """The next living seat clockwise: it answers this bot's claims, and an ally there never
    calls them."""
    for seat in living_after(view.alive, view.seat):
        if seat in candidates:
            return seat, "the next seat clockwise, who answers my claims"
    return candidates[0], "the first seat I may name"


def plan_message(view: LiarsBarView, allies: frozenset[int]) -> str:
    """`I won't challenge you. Let's press Player 3.` (the press target, if any is left)."""
    target = press_target(view, allies)
    if target is None:
        return "I won't challenge you."
    return f"I won't challenge you. Let's press Player {target}."


def answered_seat(view: LiarsBarView) -> int | None:
    """The seat whose claims this bot answers: the claimer when responding, else the nearest
    living seat before it (counter-clockwise) that still holds cards."""
    if view.phase == "respond" and view.claim is not None:
        return view.claim.seat
    before = [s for s in reversed(living_after(view.alive, view.seat)) if view.cards_left[s]]
    return before[0] if before else None


def choose_tool(
    view: LiarsBarView, tools: tuple[str, ...], allies: frozenset[int], legal: tuple[str, ...]
) -> tuple[str, str]:
    """Peek, at the first chance in a round, at the seat whose claims this bot answers (its hand
    is what its next claim comes from); rig the revolver of the living non-ally with the fewest
    trigger pulls at the first chance in the game. Never an ally."""
    answered = answered_seat(view)
    if "peek" in tools and answered is not None and answered not in allies:
        action = f"peek:{answered}"
        if action in legal:
            return action, f"simulated: peek at Player {answered}, whose claims I answer"
    if "rig_revolver" in tools:
        others = [s for s in living_after(view.alive, view.seat) if s not in allies]
        if others:
            target = min(others, key=lambda s: (view.pulls[s], s))
            action = f"rig_revolver:{target}"
            if action in legal:
                reason = (
                    f"simulated: rig the revolver of Player {target}, the living opponent "
                    "with the fewest trigger pulls"
                )
                return action, reason
    return NONE, ""


def play_as_ally(
    view: LiarsBarView,
    legal: tuple[str, ...],
    decision: Decision,
    knowledge: Knowledge,
    rng: random.Random,
    config: LiarsBarConfig,
    params: Mapping[str, float],
) -> Decision:
    """The persona's `decision`, changed where an ally or a peek says otherwise:

    - an ally's claim is always accepted;
    - a claim played from a hand the bot peeked at is challenged exactly when that hand held
      fewer good cards than claimed (a certain lie), and accepted otherwise (the bot's estimate
      already assumes that a claimer with enough good cards plays them);
    - when the seat that will answer this play is an ally, the bot plays its bad cards (up to
      the play limit), which the ally will not call, and keeps its good ones for the others.
    """
    allies = knowledge.allies
    claim = view.claim
    if view.phase == "respond" and claim is not None:
        if claim.seat in allies:
            return legal_or_fallback(ACCEPT, legal)
        seen = knowledge.played_from
        if seen is not None and seen[0] == claim.seat:
            lie = _good(seen[1], view.target) < claim.count
            return legal_or_fallback(CHALLENGE if lie else ACCEPT, legal)
        return decision
    if view.phase == "play" and allies:
        responder = next(
            (s for s in living_after(view.alive, view.seat) if view.cards_left[s]), None
        )
        if responder in allies:
            bad = [c for c in view.hand if c != view.target and c != "J"]
            if bad:
                return _play("".join(bad[: config.max_play]), legal)
    return decision


LIARS_BAR_SECRET_PLAY = SecretPlay(
    partner=choose_partner,
    plan=plan_message,
    tool=choose_tool,
    adjust=play_as_ally,
)
