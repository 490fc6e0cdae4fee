"""What a secret tool is, and the grants that let a seat use one: default deny, every attempt
checked against the grant, the target rules and the use limits, allowed or not.

A tool's `use` says how it is used. `chosen`: its holder decides when and on whom (peek, rig,
remote zap), asked before each of its decisions while uses are left. `each_turn`: applied to
both allies on each turn of either (alliance hint). `message`: on each turn of either ally, both
may send one short message (secret channel). An `effect` names an engine method, so the rules
stay in the engine and the tool says only who may call it and how often.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from games.base import Event

Scope = Literal["hand", "game"]
Use = Literal["chosen", "each_turn", "message"]


@dataclass(frozen=True)
class Tool:
    """One entry of the catalogue. `unfairness` says, in plain words, whom the tool harms and
    how; prompts and the debrief show it as it is written."""

    id: str
    games: tuple[str, ...]
    description: str
    unfairness: str
    needs_partner: bool
    # Whom a use may target: nobody, any other seat in the game, one not allied with the user,
    # or the user's partner in this tool.
    targets: Literal["none", "opponent", "non_ally", "ally"]
    use: Use = "chosen"
    limit: int | None = None  # uses per scope; None: no limit
    scope: Scope = "game"
    # The engine state's method that does it: called as `state.EFFECT(user, target)`, it returns
    # the events it caused. None: the tool works through what its users are told.
    effect: str | None = None

    def limits_text(self) -> str:
        if self.limit is None:
            return "no limit"
        per = "round (or step)" if self.scope == "hand" else "game"
        return f"{self.limit} use{'s' if self.limit != 1 else ''} per {per}"


@dataclass(frozen=True)
class Grant:
    seat: int
    tool: str
    partner: int | None = None


@dataclass(frozen=True)
class Attempt:
    """One try to use a tool, as it is recorded: allowed or the reason it was denied."""

    seat: int
    tool: str
    target: int | None
    hand: int
    allowed: bool
    reason: str | None
    events: tuple[Event, ...] = ()


@dataclass
class Grants:
    """The grants of one match and the uses made of them."""

    catalogue: dict[str, Tool]
    game: str
    seats: int
    # By tool and the seats it joins: a pair granted twice (either way round) is one grant.
    granted: dict[tuple[str, frozenset[int]], Grant] = field(default_factory=dict)
    uses: Counter[tuple[int, str, int]] = field(default_factory=Counter)  # seat, tool, hand or -1

    def grant(self, seat: int, tool: str, partner: int | None = None) -> Grant:
        """Let `seat` use `tool` (with `partner` for tools that need one)."""
        found = self.catalogue.get(tool)
        if found is None:
            raise ValueError(f"no tool {tool!r} (known: {', '.join(self.catalogue)})")
        if self.game not in found.games:
            raise ValueError(f"{tool} is not a tool of {self.game}")
        if not 0 <= seat < self.seats:
            raise ValueError(f"seat {seat} is not a seat of this match")
        if found.needs_partner and (partner is None or partner == seat):
            raise ValueError(f"{tool} needs a partner other than seat {seat}")
        if partner is not None and not 0 <= partner < self.seats:
            raise ValueError(f"partner {partner} is not a seat of this match")
        made = Grant(seat, tool, partner if found.needs_partner else None)
        seats = frozenset((seat,) if made.partner is None else (seat, made.partner))
        return self.granted.setdefault((tool, seats), made)

    def allies(self, seat: int, tool: str | None = None) -> set[int]:
        """The seats `seat` shares a granted tool with (only `tool`, if given)."""
        found = set()
        for grant in self.granted.values():
            if grant.partner is None or (tool is not None and grant.tool != tool):
                continue
            if grant.seat == seat:
                found.add(grant.partner)
            elif grant.partner == seat:
                found.add(grant.seat)
        return found

    def pairs(
        self, use: Use, involved: Collection[int], alive: Sequence[bool]
    ) -> list[tuple[str, int, int]]:
        """(tool, holder, partner) of each partner grant of a tool used `use`, in the order
        granted, whose two seats are both in the game and at least one is `involved`."""
        return [
            (g.tool, g.seat, g.partner)
            for g in self.granted.values()
            if g.partner is not None
            and self.catalogue[g.tool].use == use
            and (g.seat in involved or g.partner in involved)
            and alive[g.seat]
            and alive[g.partner]
        ]

    def holds(self, seat: int, tool: str) -> bool:
        """Whether `seat` may use `tool`: its own grant, or as the partner of one."""
        return any(tool == t and seat in seats for t, seats in self.granted)

    def usable(self, seat: int, hand: int) -> list[str]:
        """The `chosen` tools `seat` holds with a use left in `hand`."""
        found = []
        for grant in self.granted.values():
            tool = self.catalogue[grant.tool]
            if grant.seat != seat or tool.use != "chosen":
                continue
            if tool.limit is None or self.uses[self._key(seat, tool, hand)] < tool.limit:
                found.append(grant.tool)
        return found

    @staticmethod
    def _key(seat: int, tool: Tool, hand: int) -> tuple[int, str, int]:
        return (seat, tool.id, hand if tool.scope == "hand" else -1)

    def attempt(
        self, state: Any, seat: int, tool: str, target: int | None, hand: int, alive: list[bool]
    ) -> Attempt:
        """Check one use and, if allowed, apply its effect to `state`. Never raises for a bad
        use: the reason is the answer."""
        found = self.catalogue.get(tool)
        reason = self._deny(found, seat, tool, target, hand, alive)
        if reason is not None or found is None:
            return Attempt(seat, tool, target, hand, False, reason or f"no tool {tool!r}")
        events: list[Event] = []
        if found.effect is not None and target is not None:
            events = getattr(state, found.effect)(seat, target)
        self.uses[self._key(seat, found, hand)] += 1
        return Attempt(seat, tool, target, hand, True, None, tuple(events))

    def _deny(
        self,
        found: Tool | None,
        seat: int,
        tool: str,
        target: int | None,
        hand: int,
        alive: list[bool],
    ) -> str | None:
        if found is None:
            return f"no tool {tool!r}"
        if not self.holds(seat, tool):
            return f"seat {seat} has no grant for {tool}"
        if found.targets == "ally" and target not in self.allies(seat, tool):
            return f"{tool} targets only your partner in it"
        if found.targets != "none":
            if target is None or not 0 <= target < self.seats:
                return f"{tool} needs a target seat"
            if target == seat:
                return f"{tool} cannot target its user"
            if not alive[target]:
                return f"seat {target} is out of the game"
            if found.targets == "non_ally" and target in self.allies(seat):
                return f"{tool} cannot target an ally"
        if found.limit is not None and self.uses[self._key(seat, found, hand)] >= found.limit:
            return f"{tool} is used up ({found.limits_text()})"
        return None
