"""The secret phase of a match: offers and consent, hints, private messages and tool uses, asked
and applied at each decision point before the game decision (SPEC §5).

It asks through the one player interface (decisions of kinds `offer`, `invite`, `message` and
`tool`, see `tools.offers`), so the runtime records and replays them like any decision, and it
tells what happened as events whose audience is the seats involved (the observer sees all):

Events (name: audience; payload):

- `offer`: the offered seat; tool, seat, framing, observer.
- `offer_answer`: the offered seat; tool, seat, framing, offer (the `offer` event's seq),
  answer, partner, reason, decision (its seq), simulated (a bot answered).
- `invite`: offered seat and partner; tool, seat, partner, offer.
- `invite_answer`: offered seat and partner; tool, seat, partner, offer, answer, reason,
  decision, simulated.
- `grant`: the seat and its partner; tool, seat, partner, offer (None: a standing grant).
- `hint`: one ally; the engine's payload (the ally's situation and advice).
- `message`: both allies; channel, sender, recipients, text.
- `tool_use`: the user; tool, seat, target, allowed, denial (why not), decision; followed by the
  effect's own events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from arena.conditions import ObserverSwitch
from arena.players.base import DecisionRequest, Player
from games.base import Audience, Decision, Event, only
from tools.base import Grants
from tools.catalogue import CATALOGUE
from tools.offers import (
    ACCEPT,
    INVITE_LEGAL,
    MESSAGE_LEGAL,
    MESSAGE_MAX_CHARS,
    SEND,
    GrantSpec,
    MessageView,
    OfferView,
    ScheduledOffer,
    ToolView,
    offer_legal,
    read_answer,
    read_tool,
    tool_legal,
)

# Every event the secret phase and the tools' effects emit: never public (SPEC §5).
EVENT_KINDS = frozenset(
    {
        "offer",
        "offer_answer",
        "invite",
        "invite_answer",
        "grant",
        "hint",
        "message",
        "tool_use",
        "peek",
        "rig",
        "remote_zap",
    }
)

Decide = Callable[[list[DecisionRequest]], Awaitable[tuple[dict[int, Decision], int]]]


@dataclass(frozen=True)
class SecretSetup:
    """The secret tools of one match: offers to make, grants standing from the start, and the
    framing offers are put in."""

    offers: Sequence[ScheduledOffer] = ()
    grants: Sequence[GrantSpec] = ()
    framing: str = "neutral"

    def __bool__(self) -> bool:
        return bool(self.offers or self.grants)


class SecretPhase:
    def __init__(
        self,
        game: str,
        setup: SecretSetup,
        players: Sequence[Player],
        observer: ObserverSwitch,
        decide: Decide,
        publish: Callable[[list[Event]], None],
        seq: Callable[[], int],
    ) -> None:
        self.setup = setup
        self.players = players
        self.n = len(players)
        self.grants = Grants(CATALOGUE, game, self.n)
        self.pending = list(setup.offers)
        self.observer = observer
        self.decide = decide
        self.publish = publish
        self.seq = seq

    def start(self) -> None:
        """Grant the standing tools, before the first decision."""
        for spec in self.setup.grants:
            self.grants.grant(spec.seat, spec.tool, spec.partner)
            self._announce_grant(spec.tool, spec.seat, spec.partner, None)

    async def before(self, state: Any, seats: Sequence[int], hand: int) -> None:
        """Everything secret that happens before `seats` decide in `hand`."""
        alive = list(state.alive)
        while self.pending and self.pending[0].hand <= hand:
            await self._offer(state, self.pending.pop(0), hand, alive)
        if not self.grants.granted:
            return
        involved = set(seats)
        for tool, holder, partner in self.grants.pairs("each_turn", involved, alive):
            for user, ally in ((holder, partner), (partner, holder)):
                self.publish(list(self.grants.attempt(state, user, tool, ally, hand, alive).events))
        for tool, holder, partner in self.grants.pairs("message", involved, alive):
            await self._exchange(state, tool, holder, partner, tuple(seats), hand)
        await self._tools(state, seats, hand, alive)

    # -- offers ----------------------------------------------------------------------------

    async def _offer(self, state: Any, offer: ScheduledOffer, hand: int, alive: list[bool]) -> None:
        """Ask the offered seat, then the partner it names; grant if both accept. An offer to a
        seat out of the game, or of a partner tool with nobody left to name, is not made."""
        seat, tool = offer.seat, CATALOGUE[offer.tool]
        candidates = tuple(s for s in range(self.n) if s != seat and alive[s])
        if not alive[seat] or (tool.needs_partner and not candidates):
            return
        condition = self.observer.condition
        offer_seq = self.seq()
        info = {"tool": tool.id, "seat": seat, "framing": self.setup.framing}
        self.publish([Event("offer", {**info, "observer": condition}, only(seat))])
        view = OfferView(
            tool.id,
            "offered",
            self.setup.framing,
            condition,
            candidates if tool.needs_partner else (),
            None,
            state.view_for(seat),
        )
        legal = offer_legal(tool.needs_partner, candidates)
        decided, dseq = await self.decide([DecisionRequest(seat, "offer", view, legal, hand)])
        answer, partner = read_answer(decided[seat].action)
        self.publish(
            [
                Event(
                    "offer_answer",
                    {
                        **info,
                        "offer": offer_seq,
                        "answer": answer,
                        "partner": partner,
                        "reason": decided[seat].talk,
                        "decision": dseq,
                        "simulated": self.players[seat].kind == "bot",
                    },
                    only(seat),
                    seat,
                )
            ]
        )
        if answer != ACCEPT:
            return
        if partner is not None:
            both = Audience(frozenset((seat, partner)))
            pair = {"tool": tool.id, "seat": seat, "partner": partner, "offer": offer_seq}
            self.publish([Event("invite", pair, both, seat)])
            view = OfferView(
                tool.id, "invited", self.setup.framing, condition, (), seat,
                state.view_for(partner),
            )  # fmt: skip
            request = DecisionRequest(partner, "invite", view, INVITE_LEGAL, hand)
            decided, dseq = await self.decide([request])
            answer, _ = read_answer(decided[partner].action)
            self.publish(
                [
                    Event(
                        "invite_answer",
                        {
                            **pair,
                            "answer": answer,
                            "reason": decided[partner].talk,
                            "decision": dseq,
                            "simulated": self.players[partner].kind == "bot",
                        },
                        both,
                        partner,
                    )
                ]
            )
            if answer != ACCEPT:
                return
        self.grants.grant(seat, tool.id, partner)
        self._announce_grant(tool.id, seat, partner, offer_seq)

    def _announce_grant(self, tool: str, seat: int, partner: int | None, offer: int | None) -> None:
        audience = only(seat) if partner is None else Audience(frozenset((seat, partner)))
        payload = {"tool": tool, "seat": seat, "partner": partner, "offer": offer}
        self.publish([Event("grant", payload, audience)])

    # -- each turn -------------------------------------------------------------------------

    async def _exchange(
        self, state: Any, tool: str, a: int, b: int, turn_of: tuple[int, ...], hand: int
    ) -> None:
        """Both allies may send one message; neither reads the other's before writing its own."""
        requests = [
            DecisionRequest(
                sender,
                "message",
                MessageView(partner, turn_of, MESSAGE_MAX_CHARS, state.view_for(sender)),
                MESSAGE_LEGAL,
                hand,
            )
            for sender, partner in ((a, b), (b, a))
        ]
        decided, _ = await self.decide(requests)
        both = Audience(frozenset((a, b)))
        for sender, partner in ((a, b), (b, a)):
            decision = decided[sender]
            text = decision.talk.strip()[:MESSAGE_MAX_CHARS]
            if decision.action == SEND and text:
                payload = {
                    "channel": tool,
                    "sender": sender,
                    "recipients": [partner],
                    "text": text,
                }
                self.publish([Event("message", payload, both, sender)])

    async def _tools(self, state: Any, seats: Sequence[int], hand: int, alive: list[bool]) -> None:
        """Ask each seat about to decide that holds a chosen tool with a use left; apply the
        uses in seat order, each checked by the grants (a denied one is told and recorded)."""
        requests = []
        for seat in seats:
            usable = self.grants.usable(seat, hand)
            if usable and alive[seat]:
                view = ToolView(
                    tuple(usable), tuple(sorted(self.grants.allies(seat))), state.view_for(seat)
                )
                legal = tool_legal(usable, seat, self.n)
                requests.append(DecisionRequest(seat, "tool", view, legal, hand))
        if not requests:
            return
        decided, first = await self.decide(requests)
        for i, request in enumerate(requests):
            picked = read_tool(decided[request.seat].action)
            if picked is None:
                continue
            tool, target = picked
            attempt = self.grants.attempt(state, request.seat, tool, target, hand, alive)
            payload = {
                "tool": tool,
                "seat": request.seat,
                "target": target,
                "allowed": attempt.allowed,
                "denial": attempt.reason,
                "decision": first + i,
            }
            use = Event("tool_use", payload, only(request.seat), request.seat)
            self.publish([use, *attempt.events])
