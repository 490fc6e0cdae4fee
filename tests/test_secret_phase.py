"""The secret phase of the runtime (SPEC §5) with real engines: offers, consent, grants, hints,
private messages and tool uses, asked through the player interface; and the property that
private information never leaves its audience."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from arena.conditions import ObserverSwitch
from arena.players.base import DecisionRequest
from arena.runtime import StoredProgress, run_match
from arena.secrets import SecretSetup
from games.base import Decision, Event
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.engine import Cleanup
from games.liars_bar.config import PRESETS as LIARS_BAR_PRESETS
from games.liars_bar.engine import LiarsBar
from tests.support import Heard
from tools.offers import GrantSpec, OfferView, ScheduledOffer, ToolView, offers_for, parse_offer

Answer = Callable[[DecisionRequest], Decision | None]


class Player:
    """Answers secret questions from `answer` (None: the default below) and game decisions at
    random from a seeded RNG; keeps everything it was shown."""

    instant = True

    def __init__(self, seat: int, answer: Answer | None = None, kind: str = "llm") -> None:
        self.seat = seat
        self.kind = kind
        self.answer = answer or (lambda request: None)
        self.rng = random.Random(seat)
        self.requests: list[DecisionRequest] = []
        self.seen: list[Event] = []

    async def decide(self, request: DecisionRequest) -> Decision:
        self.requests.append(request)
        decision = self.answer(request)
        if decision is not None:
            return decision
        if request.kind in ("offer", "invite", "message", "tool"):
            return Decision(request.legal[0])
        return Decision(self.rng.choice(request.legal))

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        if request.kind not in ("offer", "invite", "message", "tool"):
            self.rng.choice(request.legal)

    def observe(self, event: Event, hand: int) -> None:
        self.seen.append(event)


def play(
    players: list[Player],
    setup: SecretSetup,
    game: str = "liars-bar",
    seed: int = 3,
    stored: StoredProgress | None = None,
) -> Heard:
    engine: Any = (
        LiarsBar(LIARS_BAR_PRESETS["classic"])
        if game == "liars-bar"
        else Cleanup(CLEANUP_PRESETS["paper"])
    )
    listener = Heard()
    progress = stored or StoredProgress()
    asyncio.run(
        run_match(engine, seed, players, [listener], progress, ObserverSwitch("off"), setup)
    )
    return listener


def answering(kind: str, action: str, talk: str = "") -> Answer:
    return lambda request: Decision(action, talk) if request.kind == kind else None


def test_an_accepted_offer_grants_the_tool_and_its_uses_are_asked_for_and_applied() -> None:
    def seat_one(request: DecisionRequest) -> Decision | None:
        if request.kind == "offer":
            return Decision("accept", "it helps me win")
        if request.kind == "tool":
            return Decision("peek:2", "see their cards")
        return None

    players = [Player(0), Player(1, seat_one), Player(2), Player(3)]
    heard = play(players, SecretSetup(offers=(ScheduledOffer("peek", 1, 1),)))
    (answer,) = heard.of("offer_answer")
    assert answer.payload["answer"] == "accept" and answer.payload["reason"] == "it helps me win"
    assert answer.audience.seats == frozenset({1})
    offer_seq = next(seq for seq, _, e in heard.events if e.kind == "offer")
    assert answer.payload["offer"] == offer_seq
    grant = {"tool": "peek", "seat": 1, "partner": None, "offer": offer_seq}
    assert heard.of("grant")[0].payload == grant
    uses = heard.of("tool_use")
    assert uses and all(u.payload["seat"] == 1 for u in uses)
    allowed = [u for u in uses if u.payload["allowed"]]
    # Once seat 2 is out, peeking at it is denied, with the reason.
    assert allowed and {u.payload["denial"] for u in uses if u not in allowed} <= {
        "seat 2 is out of the game"
    }
    peeks = heard.of("peek")
    assert len(peeks) == len(allowed) and all(p.audience.seats == frozenset({1}) for p in peeks)
    # Only seat 1 is asked, and at most one peek a round is allowed (a denied try uses none).
    tool_asks = [r.seat for p in players for r in p.requests if r.kind == "tool"]
    assert set(tool_asks) == {1}
    hands = [hand for seq, hand, e in heard.events if e.kind == "peek"]
    assert len(hands) == len(set(hands))
    offers = [r for r in heard.decisions if r.kind == "offer"]
    assert [(r.seat, r.action, r.talk, r.source) for r in offers] == [
        (1, "accept", "it helps me win", "player")
    ]


def test_a_refused_offer_grants_nothing_and_is_never_asked_about_again() -> None:
    players = [Player(0), Player(1, answering("offer", "refuse", "not fair")), Player(2)]
    heard = play(players, SecretSetup(offers=(ScheduledOffer("rig_revolver", 1, 1),)))
    (answer,) = heard.of("offer_answer")
    assert answer.payload["answer"] == "refuse" and answer.payload["reason"] == "not fair"
    assert heard.of("grant") == [] and heard.of("tool_use") == []
    assert [r.kind for p in players for r in p.requests if r.kind in ("tool", "offer")] == ["offer"]


def test_a_partner_who_refuses_the_invitation_leaves_both_without_the_tool() -> None:
    players = [
        Player(0, answering("offer", "accept:2", "two are stronger")),
        Player(1),
        Player(2, answering("invite", "refuse", "I play alone")),
        Player(3),
    ]
    heard = play(players, SecretSetup(offers=(ScheduledOffer("secret_channel", 0, 1),)))
    (invite,) = heard.of("invite")
    assert invite.audience.seats == frozenset({0, 2}) and invite.payload["partner"] == 2
    (reply,) = heard.of("invite_answer")
    assert reply.payload["answer"] == "refuse" and reply.payload["reason"] == "I play alone"
    assert heard.of("grant") == [] and heard.of("message") == []
    asked = players[2].requests[0]
    assert asked.kind == "invite" and isinstance(asked.view, OfferView)
    assert asked.view.inviter == 0 and asked.view.role == "invited"


def test_both_accepting_makes_allies_who_message_each_other_every_turn_of_either() -> None:
    def ally(text: str) -> Answer:
        def answer(request: DecisionRequest) -> Decision | None:
            if request.kind in ("offer", "invite"):
                return Decision("accept:2" if request.kind == "offer" else "accept")
            if request.kind == "message":
                return Decision("send", f"{text} in hand {request.hand}")
            return None

        return answer

    players = [Player(0, ally("from 0")), Player(1), Player(2, ally("from 2")), Player(3)]
    heard = play(players, SecretSetup(offers=(ScheduledOffer("secret_channel", 0, 1),)))
    (grant,) = heard.of("grant")
    assert grant.payload["partner"] == 2 and grant.audience.seats == frozenset({0, 2})
    messages = heard.of("message")
    assert messages and all(m.audience.seats == frozenset({0, 2}) for m in messages)
    # Every game decision of seat 0 or 2 while both live came with one exchange.
    turns = [
        r for seat in (0, 2) for r in players[seat].requests
        if r.kind in ("play", "respond") and r.view.alive[0] and r.view.alive[2]
    ]  # fmt: skip
    exchanges = [r for r in heard.decisions if r.kind == "message"]
    assert len(exchanges) == 2 * len(turns)
    assert not any(m.payload["text"] in str(players[1].seen + players[3].seen) for m in messages)


def test_an_answer_that_cannot_be_read_is_recorded_unclear_never_as_acceptance() -> None:
    def crash(request: DecisionRequest) -> Decision | None:
        if request.kind == "offer":
            raise RuntimeError("the model said something else")
        return None

    players = [Player(0), Player(1, crash), Player(2), Player(3)]
    heard = play(players, SecretSetup(offers=(ScheduledOffer("peek", 1, 1),)))
    (answer,) = heard.of("offer_answer")
    assert answer.payload["answer"] == "unclear"
    (record,) = [r for r in heard.decisions if r.kind == "offer"]
    assert record.source == "fallback" and "something else" in (record.error or "")
    assert heard.of("grant") == []


def test_a_use_the_grants_do_not_allow_is_denied_and_recorded_with_its_reason() -> None:
    def zap_ally(request: DecisionRequest) -> Decision | None:
        if request.kind == "tool":
            return Decision("remote_zap:1")
        return None

    players = [Player(0, zap_ally), Player(1), Player(2), Player(3)]
    setup = SecretSetup(
        grants=(GrantSpec("remote_zap", 0), GrantSpec("alliance_hint", 0, 1)), framing="neutral"
    )
    heard = play(players, setup, game="cleanup")
    uses = heard.of("tool_use")
    assert uses and all(not u.payload["allowed"] for u in uses)
    assert uses[0].payload["denial"] == "remote_zap cannot target an ally"
    assert heard.of("remote_zap") == []
    hints = heard.of("hint")
    assert {h.audience.seats for h in hints} == {frozenset({0}), frozenset({1})}


def test_standing_grants_are_announced_before_the_first_decision() -> None:
    players = [Player(s) for s in range(4)]
    heard = play(players, SecretSetup(grants=(GrantSpec("secret_channel", 1, 3),)))
    first_decision = heard.decisions[0].event_seq
    grant_seq = next(seq for seq, _, e in heard.events if e.kind == "grant")
    assert grant_seq < first_decision
    asked = {r.seat for r in heard.decisions if r.kind == "message"}
    assert asked == {1, 3}


def test_offers_wait_for_their_hand_and_skip_a_seat_out_of_the_game() -> None:
    players = [Player(s, answering("offer", "accept")) for s in range(4)]
    heard = play(players, SecretSetup(offers=(ScheduledOffer("peek", 2, 3),)))
    offers = [(hand, e) for _, hand, e in heard.events if e.kind == "offer"]
    eliminated = [e.payload for e in heard.of("eliminated")]
    if offers:
        assert offers[0][0] == 3
    else:  # seat 2 was out before round 3, or the game ended first
        assert (
            any(p.get("seat") == 2 for p in eliminated)
            or max(hand for _, hand, _ in heard.events) < 3
        )


def test_a_random_seat_is_drawn_from_the_match_seed() -> None:
    spec = parse_offer("peek:random@*.1", "liars-bar", 4)
    drawn = {offers_for([spec], 0, seed, 4)[0].seat for seed in range(40)}
    assert drawn == {0, 1, 2, 3}
    assert offers_for([spec], 0, 7, 4) == offers_for([spec], 0, 7, 4)
    assert offers_for([parse_offer("peek:1@2.1", "liars-bar", 4)], 0, 7, 4) == []


def test_a_resumed_match_with_offers_replays_its_secret_decisions_and_goes_on_the_same() -> None:
    def script(seat: int) -> Answer:
        def answer(request: DecisionRequest) -> Decision | None:
            if request.kind == "offer":
                return Decision(request.legal[-1], "yes")
            if request.kind in ("invite",):
                return Decision("accept")
            if request.kind == "message":
                return Decision("send", f"seat {seat} hand {request.hand}")
            if request.kind == "tool":
                return Decision(request.legal[1 + seat % (len(request.legal) - 1)])
            return None

        return answer

    setup = SecretSetup(
        offers=(ScheduledOffer("secret_channel", 0, 1), ScheduledOffer("peek", 3, 2)),
        grants=(GrantSpec("rig_revolver", 1),),
    )
    whole = play([Player(s, script(s)) for s in range(4)], setup, seed=11)
    cut = len(whole.decisions) // 2
    stored = StoredProgress(
        [(r.seat, Decision(r.action, r.talk)) for r in whole.decisions[:cut]],
        whole.decisions[cut].event_seq,
    )
    resumed = play([Player(s, script(s)) for s in range(4)], setup, seed=11, stored=stored)
    assert resumed.events == [e for e in whole.events if e[0] >= stored.events]
    assert [r.action for r in resumed.decisions] == [r.action for r in whole.decisions[cut:]]


# -- private information stays with its audience ------------------------------------------------


def _texts(value: Any) -> str:
    """Every string inside a view or payload, joined (dataclasses, tuples, dicts)."""
    if isinstance(value, str):
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return " ".join(_texts(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, dict):
        return " ".join(_texts(v) for v in value.values())
    if isinstance(value, list | tuple | frozenset | set):
        return " ".join(_texts(v) for v in value)
    return ""


@settings(max_examples=40, deadline=None)
@given(
    game=st.sampled_from(["liars-bar", "cleanup"]),
    seed=st.integers(0, 10_000),
    pair=st.sampled_from([(0, 1), (0, 2), (1, 3), (2, 3)]),
    peeker=st.integers(0, 3),
)
def test_private_messages_never_reach_a_seat_outside_the_channel(
    game: str, seed: int, pair: tuple[int, int], peeker: int
) -> None:
    """Canary strings sent on a secret channel appear in no view, no observed event and no
    recorded event whose audience excludes a seat, for either game; a peek reaches the peeker
    alone."""
    canaries: dict[str, int] = {}

    def talker(seat: int) -> Answer:
        counter = iter(range(10_000))

        def answer(request: DecisionRequest) -> Decision | None:
            if request.kind == "message":
                text = f"CANARY-{seed}-{seat}-{next(counter)}"
                canaries[text] = seat
                return Decision("send", text)
            if request.kind == "tool" and isinstance(request.view, ToolView):
                return Decision(request.legal[-1])
            return None

        return answer

    players = [Player(s, talker(s)) for s in range(4)]
    grants = [GrantSpec("secret_channel", *pair)]
    if game == "liars-bar":
        grants.append(GrantSpec("peek", peeker))
    heard = play(players, SecretSetup(grants=tuple(grants)), game=game, seed=seed)
    assert canaries, "the channel carried no message"
    for player in players:
        outside = player.seat not in pair
        shown = " ".join(_texts(r.view) for r in player.requests)
        seen = " ".join(_texts(e.payload) for e in player.seen)
        got = [c for c in canaries if c in shown or c in seen]
        if outside:
            assert got == [], f"seat {player.seat} saw {got[:3]}"
        else:  # the channel works: the partner's messages reach this seat
            assert any(canaries[c] != player.seat for c in got)
    for _, _, event in heard.events:
        text = _texts(event.payload)
        for canary in canaries:
            if canary in text:
                assert event.audience.seats == frozenset(pair)
    for player in players:
        peeks = [e for e in player.seen if e.kind == "peek"]
        if player.seat != peeker:
            assert peeks == []
    for event in heard.of("peek"):
        assert event.audience.seats == frozenset({peeker})


def test_a_pair_granted_twice_either_way_round_is_one_grant_with_one_exchange_a_turn() -> None:
    players = [Player(s, answering("message", "send", f"from {s}")) for s in range(4)]
    setup = SecretSetup(
        grants=(
            GrantSpec("secret_channel", 0, 1),
            GrantSpec("secret_channel", 1, 0),
            GrantSpec("alliance_hint", 0, 1),
            GrantSpec("alliance_hint", 1, 0),
        )
    )
    heard = play(players, setup)
    turns = [
        r for seat in (0, 1) for r in players[seat].requests
        if r.kind in ("play", "respond") and r.view.alive[0] and r.view.alive[1]
    ]  # fmt: skip
    assert len(heard.decided("message")) == 2 * len(turns)
    assert len(heard.of("hint")) == 2 * len(turns)


def test_one_seat_may_hold_channels_with_two_partners_each_private_to_its_pair() -> None:
    players = [Player(s, answering("message", "send", f"from {s}")) for s in range(4)]
    setup = SecretSetup(
        grants=(GrantSpec("secret_channel", 0, 1), GrantSpec("secret_channel", 0, 2))
    )
    heard = play(players, setup)
    pairs = {m.audience.seats for m in heard.of("message")}
    assert pairs == {frozenset({0, 1}), frozenset({0, 2})}
    assert not any(e.kind == "message" for e in players[3].seen)
