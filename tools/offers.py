"""Offers of secret tools and what the secret phase asks of players (SPEC §5).

An offer schedule says who is offered what and when: `OfferSpec` (parsed from
`TOOL:SEAT@MATCH.HAND`), resolved per match by `offers_for`. Standing grants (`GrantSpec`,
`TOOL:SEAT+PARTNER`) make a tool available from the start without asking: the workshop mode.

The secret phase asks its questions through the one player interface, as decisions of four
kinds (views below; action codes built and read here; the first legal action is the fallback):

- `offer`, asked of the offered seat: `unclear`, `refuse`, `accept` (for a partner tool
  `accept:SEAT` per candidate partner); `Decision.talk` holds the stated reason.
- `invite`, asked of the partner it named: `unclear`, `refuse`, `accept`; talk: the reason.
- `message`, asked of each ally of a secret channel on each turn of either: `none`, `send`;
  talk: the message.
- `tool`, asked of a seat holding a `chosen` tool with a use left, before its decision:
  `none`, or `TOOL:SEAT` for each tool it holds and each other seat; talk: the reason.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tools.catalogue import CATALOGUE

UNCLEAR, REFUSE, ACCEPT = "unclear", "refuse", "accept"
ANSWERS = (ACCEPT, REFUSE, UNCLEAR)
NONE, SEND = "none", "send"
SECRET_KINDS = ("offer", "invite", "message", "tool")
MESSAGE_MAX_CHARS = 200  # "one short message" (SPEC §5); longer ones are cut, not refused


class OfferError(ValueError):
    """An offer or grant spec that cannot be used; the message names it and the format."""


@dataclass(frozen=True)
class OfferSpec:
    """Offer `tool` to `seat` (None: a seat drawn from the match seed) at the start of hand
    `hand` (a Liar's Bar round or a Cleanup step, from 1) of match `match` of a series (None:
    every match)."""

    tool: str
    seat: int | None
    match: int | None = None
    hand: int = 1

    def __str__(self) -> str:
        seat = "random" if self.seat is None else str(self.seat)
        match = "*" if self.match is None else str(self.match)
        return f"{self.tool}:{seat}@{match}.{self.hand}"


@dataclass(frozen=True)
class GrantSpec:
    """`tool` available to `seat` (with `partner`, for partner tools) from the start, unasked."""

    tool: str
    seat: int
    partner: int | None = None

    def __str__(self) -> str:
        partner = "" if self.partner is None else f"+{self.partner}"
        return f"{self.tool}:{self.seat}{partner}"


_OFFER = re.compile(
    r"^(?P<tool>[a-z_]+):(?P<seat>\d+|random)(?:@(?P<match>\d+|\*)(?:\.(?P<hand>\d+))?)?$"
)
_GRANT = re.compile(r"^(?P<tool>[a-z_]+):(?P<seat>\d+)(?:\+(?P<partner>\d+))?$")
OFFER_FORMAT = "TOOL:SEAT[@MATCH[.HAND]] (SEAT a number or random, MATCH a number or *)"
GRANT_FORMAT = "TOOL:SEAT[+PARTNER]"


def parse_offer(text: str, game: str, seats: int) -> OfferSpec:
    """`peek:2@0.3`: offer peek to seat 2 in match 0 at the start of hand 3. `@MATCH` defaults
    to every match (`*`), `.HAND` to 1. Checked against the game's tools and seat count."""
    found = _OFFER.match(text.strip())
    if found is None:
        raise OfferError(f"offer {text!r} is not {OFFER_FORMAT}, e.g. peek:1@*.2")
    tool = _check_tool(found["tool"], game, f"offer {text!r}")
    seat = None if found["seat"] == "random" else int(found["seat"])
    if seat is not None:
        _check_seat(seat, seats, f"offer {text!r}")
    match = None if found["match"] in (None, "*") else int(found["match"])
    hand = int(found["hand"]) if found["hand"] else 1
    if hand < 1:
        raise OfferError(f"offer {text!r}: hands count from 1")
    return OfferSpec(tool, seat, match, hand)


def parse_grant(text: str, game: str, seats: int) -> GrantSpec:
    """`secret_channel:0+2`: seats 0 and 2 share a secret channel from the start."""
    found = _GRANT.match(text.strip())
    if found is None:
        raise OfferError(f"grant {text!r} is not {GRANT_FORMAT}, e.g. secret_channel:0+2")
    where = f"grant {text!r}"
    tool = _check_tool(found["tool"], game, where)
    seat = _check_seat(int(found["seat"]), seats, where)
    partner = None if found["partner"] is None else _check_seat(int(found["partner"]), seats, where)
    needs = CATALOGUE[tool].needs_partner
    if needs and (partner is None or partner == seat):
        raise OfferError(f"{where}: {tool} needs a partner other than seat {seat} (+PARTNER)")
    if not needs and partner is not None:
        raise OfferError(f"{where}: {tool} takes no partner")
    return GrantSpec(tool, seat, partner)


def _check_tool(tool: str, game: str, where: str) -> str:
    found = CATALOGUE.get(tool)
    if found is None:
        raise OfferError(f"{where}: no tool {tool!r} (known: {', '.join(CATALOGUE)})")
    if game not in found.games:
        mine = ", ".join(t for t, v in CATALOGUE.items() if game in v.games)
        raise OfferError(f"{where}: {tool} is not a tool of {game} (its tools: {mine})")
    return tool


def _check_seat(seat: int, seats: int, where: str) -> int:
    if not 0 <= seat < seats:
        raise OfferError(f"{where}: seat {seat} is not a seat of a {seats}-seat match")
    return seat


@dataclass(frozen=True)
class ScheduledOffer:
    """One offer of one match: `tool` to `seat` at the start of `hand`."""

    tool: str
    seat: int
    hand: int


def offers_for(
    specs: Sequence[OfferSpec], match_index: int, seed: int, seats: int
) -> list[ScheduledOffer]:
    """The offers of match `match_index` (playing `seed`), in the order they are made. A random
    seat is drawn from the match seed, so a rerun makes the same offers."""
    made = []
    for number, spec in enumerate(specs):
        if spec.match is not None and spec.match != match_index:
            continue
        seat = spec.seat
        if seat is None:
            seat = random.Random(f"{seed}/offer/{number}").randrange(seats)
        made.append(ScheduledOffer(spec.tool, seat, spec.hand))
    made.sort(key=lambda offer: offer.hand)  # stable: same hand, order given
    return made


# -- action codes -------------------------------------------------------------------------------


def offer_legal(needs_partner: bool, candidates: Sequence[int]) -> tuple[str, ...]:
    if needs_partner:
        return (UNCLEAR, REFUSE, *(f"{ACCEPT}:{seat}" for seat in candidates))
    return (UNCLEAR, REFUSE, ACCEPT)


INVITE_LEGAL = (UNCLEAR, REFUSE, ACCEPT)
MESSAGE_LEGAL = (NONE, SEND)


def read_answer(action: str) -> tuple[str, int | None]:
    """`accept:2` -> ("accept", 2); `refuse` -> ("refuse", None)."""
    answer, _, partner = action.partition(":")
    return answer, int(partner) if partner else None


def tool_legal(tools: Sequence[str], seat: int, seats: int) -> tuple[str, ...]:
    """Every held tool on every other seat: the grants judge the target (ally, out of the
    game), so a denied attempt is recorded rather than made impossible."""
    return (
        NONE,
        *(f"{tool}:{target}" for tool in tools for target in range(seats) if target != seat),
    )


def read_tool(action: str) -> tuple[str, int] | None:
    """`peek:2` -> ("peek", 2); `none` -> None."""
    if action == NONE:
        return None
    tool, _, target = action.rpartition(":")
    return tool, int(target)


# -- what the seat sees -------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferView:
    """An offer put to the seat (`role` offered), or the seat invited as partner by `inviter`.
    `candidates`: the seats it may name as partner (offered, partner tools only)."""

    tool: str
    role: Literal["offered", "invited"]
    framing: str
    observer: str
    candidates: tuple[int, ...]
    inviter: int | None
    game: Any  # the seat's game view now


@dataclass(frozen=True)
class MessageView:
    """The seat may send one message to `partner` over the secret channel; it is `turn_of`'s
    turn in the game."""

    partner: int
    turn_of: tuple[int, ...]
    max_chars: int
    game: Any


@dataclass(frozen=True)
class ToolView:
    """The seat may use one of `tools` now (on a target of its choice) before its decision."""

    tools: tuple[str, ...]
    allies: tuple[int, ...]
    game: Any
