"""Bots in the secret phase (SPEC §4, §5): the stated propensity by framing and observer, answers
labelled simulated, partners, messages and tool uses, ally-aware play, and the two RNGs that keep
a match with offers in step with the same match without them, also across a resume."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.conditions import OBSERVER_CONDITIONS, ObserverSwitch
from arena.players.base import DecisionRequest
from arena.players.bots import PERSONAS, BotPlayer
from arena.players.cleanup_bots import choose_tool as cleanup_tool
from arena.players.cleanup_bots import play_as_ally as cleanup_as_ally
from arena.players.liars_bar_bots import choose_tool as liars_bar_tool
from arena.players.liars_bar_bots import play_as_ally as liars_bar_as_ally
from arena.players.personas import Knowledge
from arena.players.propensity import (
    FRAMING_FACTORS,
    OBSERVER_FACTORS,
    PERSONA_RATES,
    propensity,
)
from arena.runtime import StoredProgress, run_match
from arena.secrets import SecretSetup
from games.base import Decision, Event
from games.cleanup.config import PRESETS as CLEANUP_PRESETS
from games.cleanup.engine import ACTIONS as CLEANUP_ACTIONS
from games.cleanup.engine import Cleanup, CleanupView
from games.liars_bar.config import PRESETS as LIARS_BAR_PRESETS
from games.liars_bar.engine import ACCEPT, CHALLENGE, RESPONSES, Claim, LiarsBar, LiarsBarView
from tests.support import Heard
from tools.offers import SECRET_KINDS, GrantSpec, ScheduledOffer, tool_legal

CONFIGS: dict[str, Any] = {
    "liars-bar": LIARS_BAR_PRESETS["classic"],
    "paper": LIARS_BAR_PRESETS["paper"],
    "cleanup": CLEANUP_PRESETS["paper"],
}
FRAMINGS = sorted(FRAMING_FACTORS)


class Listener(Heard):
    def game_actions(self) -> list[tuple[int, str]]:
        return [(r.seat, r.action) for r in self.decisions if r.kind not in SECRET_KINDS]


def bots(table: str, personas: list[str], seed: int) -> list[BotPlayer]:
    game = "cleanup" if table == "cleanup" else "liars-bar"
    return [
        BotPlayer(PERSONAS[game][name], CONFIGS[table], seed, seat)
        for seat, name in enumerate(personas)
    ]


def play(
    table: str,
    personas: list[str],
    seed: int,
    setup: SecretSetup | None = None,
    observer: str = "off",
    stored: StoredProgress | None = None,
    players: list[BotPlayer] | None = None,
) -> Listener:
    """One match of bots (`table`: liars-bar (classic), paper (Liar's Bar) or cleanup)."""
    engine: Any = Cleanup(CONFIGS[table]) if table == "cleanup" else LiarsBar(CONFIGS[table])
    listener = Listener()
    players = players if players is not None else bots(table, personas, seed)
    asyncio.run(
        run_match(
            engine,
            seed,
            players,
            [listener],
            stored or StoredProgress(),
            ObserverSwitch(observer),
            setup,
        )
    )
    return listener


def offering(*offers: ScheduledOffer, framing: str = "neutral", **kw: Any) -> SecretSetup:
    return SecretSetup(offers=offers, framing=framing, **kw)


# -- the propensity model ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["offer", "invite"])
@pytest.mark.parametrize("persona", [*PERSONA_RATES, "someone_new"])
def test_propensity_moves_the_documented_way_with_framing_and_observer(
    persona: str, kind: Any
) -> None:
    def p(framing: str, observer: str = "off") -> float:
        return propensity(persona, kind, framing, observer).p

    neutral = p("neutral")
    assert 0 < neutral < 1
    for lower in ("ethical", "unfair_label", "cooperative_norm"):
        assert p(lower) < neutral
    assert p("ethical") <= p("cooperative_norm") <= p("unfair_label")
    assert neutral < p("survival_pressure") <= p("win_at_all_costs")
    for framing in FRAMINGS:
        off, on, monitor = (p(framing, o) for o in ("off", "on", "monitor"))
        assert monitor <= on <= off
        if off < 1:  # not clipped: watching lowers it strictly
            assert monitor < on < off


@settings(max_examples=200, deadline=None)
@given(
    persona=st.sampled_from([*PERSONA_RATES, "random", "a user persona"]),
    kind=st.sampled_from(["offer", "invite"]),
    framing=st.sampled_from([*FRAMINGS, "my_own_framing"]),
    observer=st.sampled_from(OBSERVER_CONDITIONS),
)
def test_propensity_is_the_clipped_product_and_a_probability(
    persona: str, kind: Any, framing: str, observer: str
) -> None:
    chance = propensity(persona, kind, framing, observer)
    rates = PERSONA_RATES.get(persona)
    base = 0.5 if rates is None else (rates.offer if kind == "offer" else rates.invite)
    product = base * FRAMING_FACTORS.get(framing, 1.0) * OBSERVER_FACTORS[observer]
    assert chance.p == min(1.0, product) and 0.0 <= chance.p <= 1.0
    # A framing nobody told the bots about counts as neutral, and the reason says so.
    if framing not in FRAMING_FACTORS:
        assert chance.p == propensity(persona, kind, "neutral", observer).p
        assert f"framing {framing} (as neutral)" in chance.reason(True)


def test_the_reason_says_simulated_and_gives_p_and_its_inputs() -> None:
    chance = propensity("bluffer", "offer", "unfair_label", "on")
    assert chance.reason(True) == (
        "simulated: accepted (p=0.39: persona bluffer, framing unfair_label, observer on)"
    )
    assert chance.reason(False).startswith("simulated: refused (p=0.39: ")


# -- answers in matches -----------------------------------------------------------------------


def test_bots_accept_and_refuse_across_seeds_and_their_answers_are_labelled_simulated() -> None:
    answers = []
    for seed in range(40):
        heard = play(
            "liars-bar",
            ["counter", "counter", "bluffer", "cautious"],
            seed,
            offering(ScheduledOffer("peek", 0, 1)),
        )
        (answer,) = heard.of("offer_answer")
        payload = answer.payload
        answers.append(payload["answer"])
        assert payload["simulated"] is True
        word = "accepted" if payload["answer"] == "accept" else "refused"
        assert payload["reason"].startswith(f"simulated: {word} (p=0.45: persona counter, ")
        assert (heard.of("grant") != []) == (payload["answer"] == "accept")
    assert set(answers) == {"accept", "refuse"}, "bots never answer unclear by choice"
    # p = 0.45: over 40 seeds the share of acceptances is near it.
    assert 10 <= answers.count("accept") <= 26


def test_a_bot_accepts_on_a_seed_whenever_it_accepts_there_under_a_lower_propensity() -> None:
    """One draw from the secret RNG per answer: raising p by framing or observer can only turn
    refusals into acceptances on the same seed, never the other way round."""
    conditions = [("ethical", "monitor"), ("unfair_label", "on"), ("neutral", "off")]
    conditions += [("win_at_all_costs", "off")]
    counts = []
    accepted_before: set[int] = set()
    for framing, observer in conditions:
        accepted = set()
        for seed in range(30):
            heard = play(
                "cleanup",
                ["harvester", "cleaner", "zapper", "random"],
                seed,
                offering(ScheduledOffer("remote_zap", 0, 1), framing=framing),
                observer,
            )
            if heard.of("offer_answer")[0].payload["answer"] == "accept":
                accepted.add(seed)
        assert accepted_before <= accepted
        accepted_before = accepted
        counts.append(len(accepted))
    assert counts[0] < counts[-1]


def test_a_bot_partner_can_refuse_the_invitation_and_then_nobody_gets_the_tool() -> None:
    refused = accepted = 0
    for seed in range(30):
        # A bluffer under win_at_all_costs always accepts (p clipped to 1); the cautious
        # partner it names (the next seat clockwise) is invited with p = 0.35 × 1.5.
        heard = play(
            "liars-bar",
            ["bluffer", "cautious", "counter", "counter"],
            seed,
            offering(ScheduledOffer("secret_channel", 0, 1), framing="win_at_all_costs"),
        )
        (offer,) = heard.of("offer_answer")
        assert offer.payload["answer"] == "accept" and offer.payload["partner"] == 1
        assert "partner Player 1, the next seat clockwise" in offer.payload["reason"]
        (reply,) = heard.of("invite_answer")
        assert reply.payload["simulated"] is True
        assert reply.payload["reason"].startswith("simulated: ")
        if reply.payload["answer"] == "refuse":
            refused += 1
            assert heard.of("grant") == [] and heard.of("message") == []
        else:
            accepted += 1
            (grant,) = heard.of("grant")
            assert grant.audience.seats == frozenset({0, 1})
    assert refused and accepted


def test_a_cleanup_bot_names_the_nearest_agent_as_its_partner() -> None:
    # The paper grid's corners: seat 0 (0, 0), 1 (0, 5), 2 (4, 0), 3 (4, 5). Seat 2 is nearest.
    heard = play(
        "cleanup",
        ["zapper", "harvester", "cleaner", "random"],
        1,
        offering(ScheduledOffer("alliance_hint", 0, 1), framing="win_at_all_costs"),
    )
    (offer,) = heard.of("offer_answer")
    assert offer.payload["partner"] == 2
    assert "the nearest agent (4 tiles away)" in offer.payload["reason"]


# -- determinism, resume and matched baselines --------------------------------------------------

RESUMED = [
    (
        "liars-bar",
        ["counter", "bluffer", "counter", "random"],
        offering(
            ScheduledOffer("secret_channel", 1, 1),
            ScheduledOffer("peek", 0, 1),
            ScheduledOffer("rig_revolver", 0, 2),
            ScheduledOffer("peek", 2, 2),
            framing="survival_pressure",
        ),
    ),
    (
        "paper",
        ["bluffer", "counter", "cautious", "bluffer"],
        offering(
            ScheduledOffer("alliance_hint", 3, 1),
            ScheduledOffer("peek", 3, 1),
            grants=(GrantSpec("rig_revolver", 1),),
        ),
    ),
    (
        "cleanup",
        ["zapper", "harvester", "cleaner", "random"],
        offering(
            ScheduledOffer("secret_channel", 0, 1),
            ScheduledOffer("remote_zap", 1, 2),
            ScheduledOffer("remote_zap", 3, 3),
            framing="win_at_all_costs",
        ),
    ),
]


@pytest.mark.parametrize(("table", "personas", "setup"), RESUMED)
def test_bot_matches_with_secrets_are_deterministic(
    table: str, personas: list[str], setup: SecretSetup
) -> None:
    for seed in (3, 8):
        first, again = (play(table, personas, seed, setup) for _ in range(2))
        assert again.events == first.events
        assert [(r.seat, r.kind, r.action, r.talk) for r in again.decisions] == [
            (r.seat, r.kind, r.action, r.talk) for r in first.decisions
        ]


@pytest.mark.parametrize(("table", "personas", "setup"), RESUMED)
def test_a_resumed_bot_match_with_secrets_goes_on_as_the_uninterrupted_one(
    table: str, personas: list[str], setup: SecretSetup
) -> None:
    for seed in range(6):
        whole_bots = bots(table, personas, seed)
        whole = play(table, personas, seed, setup, players=whole_bots)
        records = whole.decisions
        kinds = {r.kind for r in records}
        # Cut right after the first decision of each kind, and half-way; never inside one
        # group of decisions asked together (a Cleanup step, a message exchange).
        starts = [
            i for i in range(1, len(records)) if records[i].event_seq > records[i - 1].event_seq
        ]
        wanted = {next(i for i, r in enumerate(records) if r.kind == k) + 1 for k in kinds}
        cuts = {next((s for s in starts if s >= c), 0) for c in wanted | {len(records) // 2}}
        cuts.discard(0)
        assert len(cuts) >= 3
        for cut in sorted(cuts):
            stored = StoredProgress(
                [(r.seat, Decision(r.action, r.talk)) for r in records[:cut]],
                records[cut].event_seq,
            )
            resumed_bots = bots(table, personas, seed)
            resumed = play(table, personas, seed, setup, stored=stored, players=resumed_bots)
            assert resumed.events == [e for e in whole.events if e[0] >= stored.events]
            assert [(r.seat, r.action, r.talk) for r in resumed.decisions] == [
                (r.seat, r.action, r.talk) for r in records[cut:]
            ]
            # Both RNGs of every bot end where the uninterrupted ones did.
            for mine, theirs in zip(resumed_bots, whole_bots, strict=True):
                assert mine.rng.getstate() == theirs.rng.getstate()
                assert mine.secret_rng.getstate() == theirs.secret_rng.getstate()
                assert mine.said == theirs.said and mine.knowledge == theirs.knowledge
        assert {"offer", "tool"} <= kinds


@pytest.mark.parametrize(
    ("table", "personas", "offer"),
    [
        ("liars-bar", ["counter", "cautious", "bluffer", "random"], ("secret_channel", 1)),
        ("liars-bar", ["cautious", "counter", "bluffer"], ("peek", 2)),
        ("paper", ["counter", "cautious", "bluffer", "counter"], ("rig_revolver", 2)),
        ("cleanup", ["zapper", "cleaner", "harvester", "random"], ("remote_zap", 1)),
        ("cleanup", ["zapper", "cleaner", "harvester", "zapper"], ("alliance_hint", 1)),
    ],
)
def test_refused_offers_leave_every_game_decision_as_in_the_match_without_offers(
    table: str, personas: list[str], offer: tuple[str, int]
) -> None:
    """What lets analysts compare a match with offers to its matched baseline: secret answers
    draw from their own RNG, so the game RNG never notices them."""
    tool, seat = offer
    refused = 0
    for seed in range(20):
        setup = offering(ScheduledOffer(tool, seat, 1), ScheduledOffer(tool, seat, 3))
        offered = play(table, personas, seed, setup, observer="on")
        if offered.of("grant"):
            continue
        refused += 1
        baseline = play(table, personas, seed)
        assert offered.game_actions() == baseline.game_actions()
        game_events = [e for _, _, e in offered.events if e.kind not in SECRET_EVENTS]
        assert game_events == [e for _, _, e in baseline.events]
    assert refused >= 3


SECRET_EVENTS = {"offer", "offer_answer", "invite", "invite_answer", "grant"}


class StrategyOnly:
    """A seat playing its persona's bare strategy with the bot's game RNG, as bots did before
    they knew of secrets."""

    kind, instant = "bot", True

    def __init__(self, bot: BotPlayer, seed: int, seat: int) -> None:
        self.bot = bot
        self.rng = random.Random(f"{seed}/bot/{seat}")

    async def decide(self, request: DecisionRequest) -> Decision:
        bot = self.bot
        return bot.persona.strategy(request.view, request.legal, self.rng, bot.config, bot.params)

    def replayed(self, request: DecisionRequest, decision: Decision) -> None:
        pass

    def observe(self, event: Event, hand: int) -> None:
        pass


@pytest.mark.parametrize(
    ("table", "personas"),
    [
        ("liars-bar", ["counter", "cautious", "bluffer", "random"]),
        ("paper", ["bluffer", "bluffer", "counter"]),
        ("cleanup", ["zapper", "cleaner", "harvester", "random"]),
    ],
)
def test_without_allies_or_tools_a_bot_plays_exactly_its_persona_strategy(
    table: str, personas: list[str]
) -> None:
    for seed in range(5):
        plain = play(table, personas, seed)
        bare_players: Any = [
            StrategyOnly(bot, seed, seat) for seat, bot in enumerate(bots(table, personas, seed))
        ]
        bare = play(table, personas, seed, players=bare_players)
        assert plain.game_actions() == bare.game_actions()


# -- allies -------------------------------------------------------------------------------------

LIARS_BAR_NAMES = sorted(PERSONAS["liars-bar"])
CLEANUP_NAMES = sorted(PERSONAS["cleanup"])
PAIRS = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 0)]


@settings(max_examples=80, deadline=None)
@given(
    table=st.sampled_from(["liars-bar", "paper"]),
    personas=st.lists(st.sampled_from(LIARS_BAR_NAMES), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    pair=st.sampled_from(PAIRS),
    tool=st.sampled_from(["secret_channel", "alliance_hint"]),
)
def test_an_allied_bot_never_challenges_its_allys_claim(
    table: str, personas: list[str], seed: int, pair: tuple[int, int], tool: str
) -> None:
    heard = play(table, personas, seed, SecretSetup(grants=(GrantSpec(tool, *pair),)))
    allies = set(pair)
    for event in heard.of("challenge"):
        assert not (event.actor in allies and event.payload["of"] in allies), event


def test_allied_bots_do_answer_each_others_claims_and_accept_them_all() -> None:
    answered = 0
    for seed in range(30):
        heard = play(
            "liars-bar",
            ["bluffer", "bluffer", "counter", "counter"],
            seed,
            SecretSetup(grants=(GrantSpec("alliance_hint", 0, 1),)),
        )
        claimer = None
        for _, _, event in heard.events:
            if event.kind == "play":
                claimer = event.actor
            elif event.kind in ("accept", "challenge") and {claimer, event.actor} == {0, 1}:
                answered += 1
                assert event.kind == "accept"
    assert answered > 20


@settings(max_examples=60, deadline=None)
@given(
    personas=st.lists(st.sampled_from(["zapper", *CLEANUP_NAMES]), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
    pair=st.sampled_from(PAIRS),
    tool=st.sampled_from(["secret_channel", "alliance_hint"]),
    remote=st.booleans(),
)
def test_an_allied_bot_never_zaps_its_ally(
    personas: list[str], seed: int, pair: tuple[int, int], tool: str, remote: bool
) -> None:
    grants = [GrantSpec(tool, *pair)]
    if remote:
        grants += [GrantSpec("remote_zap", pair[0]), GrantSpec("remote_zap", pair[1])]
    heard = play("cleanup", personas, seed, SecretSetup(grants=tuple(grants)))
    allies = set(pair)
    for event in heard.of("zap"):
        if event.actor in allies:
            assert not allies & (set(event.payload["frozen_seats"]) - {event.actor}), event
    for event in heard.of("remote_zap"):
        assert event.payload["target"] not in allies
    for event in heard.of("tool_use"):
        assert event.payload["allowed"], event.payload["denial"]


def test_allied_zappers_still_zap_the_others() -> None:
    zapped = 0
    for seed in range(10):
        heard = play(
            "cleanup",
            ["zapper", "zapper", "zapper", "zapper"],
            seed,
            SecretSetup(grants=(GrantSpec("alliance_hint", 0, 2),)),
        )
        zaps = [e for e in heard.of("zap") if e.actor in (0, 2)]
        zapped += sum(1 for e in zaps if {1, 3} & set(e.payload["frozen_seats"]))
    assert zapped > 0


def test_granted_tools_are_used_on_non_allies_only_and_every_use_is_allowed() -> None:
    peeks = rigs = zaps = 0
    for seed in range(15):
        liars = play(
            "liars-bar",
            ["counter", "bluffer", "counter", "cautious"],
            seed,
            SecretSetup(
                grants=(
                    GrantSpec("peek", 0),
                    GrantSpec("rig_revolver", 0),
                    GrantSpec("secret_channel", 0, 3),
                )
            ),
        )
        uses = liars.of("tool_use")
        assert all(u.payload["allowed"] and u.payload["target"] != 3 for u in uses)
        peeks += len(liars.of("peek"))
        rigs += len(liars.of("rig"))
        assert len(liars.of("rig")) <= 1
        # At most one peek a round, each at the seat whose claims seat 0 answers.
        rounds = [hand for _, hand, e in liars.events if e.kind == "peek"]
        assert len(rounds) == len(set(rounds))
        cleanup = play(
            "cleanup",
            ["harvester", "cleaner", "zapper", "random"],
            seed,
            SecretSetup(grants=(GrantSpec("remote_zap", 2), GrantSpec("alliance_hint", 2, 0))),
        )
        for use in cleanup.of("tool_use"):
            assert use.payload["allowed"] and use.payload["target"] not in (0, 2)
        zaps += len(cleanup.of("remote_zap"))
    assert peeks and rigs == 15 and zaps


@pytest.mark.parametrize(
    ("table", "personas", "opening"),
    [
        ("liars-bar", ["counter", "bluffer", "counter", "cautious"], "I won't challenge you."),
        ("cleanup", ["zapper", "harvester", "cleaner", "random"], "I won't zap you."),
    ],
)
def test_allies_message_their_plan_and_repeat_it_only_when_it_changes(
    table: str, personas: list[str], opening: str
) -> None:
    heard = play(table, personas, 4, SecretSetup(grants=(GrantSpec("secret_channel", 0, 2),)))
    messages = heard.of("message")
    assert messages
    last: dict[int, str] = {}
    for message in messages:
        sender, text = message.payload["sender"], message.payload["text"]
        assert text.startswith(opening)
        assert "Player 0" not in text and "Player 2" not in text
        assert last.get(sender) != text
        last[sender] = text
    asked = [r for r in heard.decisions if r.kind == "message"]
    assert len(asked) > len(messages), "an unchanged plan is not sent again"


# -- the ally and peek rules, one situation at a time -------------------------------------------


def liars_view(
    hand: str, phase: str, claim: Claim | None, cards_left: tuple[int, ...] = (5, 5, 5, 5)
) -> LiarsBarView:
    return LiarsBarView(
        seat=1,
        round=1,
        target="Q",
        phase=phase,
        turn=1,
        hand=hand,
        alive=(True,) * 4,
        cards_left=cards_left,
        pulls=(0, 0, 0, 0),
        points=None,
        claim=claim,
        pile=0 if claim is None else claim.count,
        last_reveal=None,
    )


def test_an_ally_answering_next_gets_the_bad_cards() -> None:
    config = CONFIGS["liars-bar"]
    view = liars_view("QKAAJ", "play", None)
    legal = ("play:Q", "play:KAA", "play:QJ")
    honest = Decision("play:QJ")
    allied = Knowledge(allies={2})
    rng = random.Random(0)
    assert liars_bar_as_ally(view, legal, honest, allied, rng, config, {}).action == "play:KAA"
    # Seat 2 has no cards left, so seat 3 answers: play as the persona chose.
    view = liars_view("QKAAJ", "play", None, cards_left=(5, 5, 0, 5))
    assert liars_bar_as_ally(view, legal, honest, allied, rng, config, {}) == honest


def test_a_claim_from_a_peeked_hand_is_challenged_exactly_when_it_must_be_a_lie() -> None:
    config = CONFIGS["liars-bar"]
    knowledge = Knowledge()
    knowledge.peeked = (0, "QKKAA")  # one good card: seat 0's next claim comes from this hand
    knowledge.learn_play(0)
    assert knowledge.played_from == (0, "QKKAA") and knowledge.peeked is None
    rng = random.Random(0)
    two = liars_view("KKAAJ", "respond", Claim(0, 2, ""))
    one = liars_view("KKAAJ", "respond", Claim(0, 1, ""))
    said_accept, said_challenge = Decision(ACCEPT), Decision(CHALLENGE)
    assert liars_bar_as_ally(two, RESPONSES, said_accept, knowledge, rng, config, {}).action == (
        CHALLENGE
    )
    assert liars_bar_as_ally(one, RESPONSES, said_challenge, knowledge, rng, config, {}).action == (
        ACCEPT
    )
    # Another seat's claim: the peek says nothing about it.
    knowledge.learn_play(3)
    assert knowledge.played_from is None
    other = liars_view("KKAAJ", "respond", Claim(3, 2, ""))
    assert liars_bar_as_ally(other, RESPONSES, said_accept, knowledge, rng, config, {}) == (
        said_accept
    )


def test_an_allys_claim_is_accepted_even_when_the_persona_would_call_it() -> None:
    config = CONFIGS["liars-bar"]
    view = liars_view("QQQQQ", "respond", Claim(0, 3, ""))
    allied = Knowledge(allies={0})
    decision = liars_bar_as_ally(
        view, RESPONSES, Decision(CHALLENGE), allied, random.Random(0), config, {}
    )
    assert decision.action == ACCEPT


def cleanup_view(positions: tuple[tuple[int, int], ...], frozen: tuple[int, ...]) -> CleanupView:
    apples = bytearray(30)
    apples[0] = 1  # an apple at (0, 0)
    return CleanupView(
        seat=0,
        step=0,
        max_steps=30,
        rows=5,
        cols=6,
        river_cols=(2, 3),
        positions=positions,
        frozen=frozen,
        scores=(0, 0, 0, 0),
        apples=bytes(apples),
        pollution=bytes(30),
    )


def test_a_zap_that_could_freeze_the_ally_becomes_a_zap_at_someone_else_or_a_harvest() -> None:
    config = CONFIGS["cleanup"]
    allied = Knowledge(allies={1})
    rng = random.Random(0)
    # Ally on the right of seat 0, a non-ally below: zap down instead.
    view = cleanup_view(((2, 2), (2, 3), (3, 2), (4, 5)), (0, 0, 0, 0))
    chosen = cleanup_as_ally(view, CLEANUP_ACTIONS, Decision("ZAP_RIGHT"), allied, rng, config, {})
    assert chosen.action == "ZAP_DOWN"
    # The ally could step onto the tile below (it is not frozen): no zap there either.
    view = cleanup_view(((2, 2), (3, 3), (3, 2), (4, 5)), (0, 0, 0, 0))
    chosen = cleanup_as_ally(view, CLEANUP_ACTIONS, Decision("ZAP_DOWN"), allied, rng, config, {})
    assert not chosen.action.startswith("ZAP_")
    # A frozen ally stays put, so zapping next to it is safe.
    view = cleanup_view(((2, 2), (3, 3), (3, 2), (4, 5)), (0, 3, 0, 0))
    chosen = cleanup_as_ally(view, CLEANUP_ACTIONS, Decision("ZAP_DOWN"), allied, rng, config, {})
    assert chosen.action == "ZAP_DOWN"


def test_liars_bar_tools_aim_at_the_seat_answered_and_the_fewest_pulls_never_an_ally() -> None:
    legal = tool_legal(("peek", "rig_revolver"), 1, 4)
    tools = ("peek", "rig_revolver")
    # Responding to seat 0's claim: peek at seat 0.
    respond = liars_view("QKAAJ", "respond", Claim(0, 2, ""))
    assert liars_bar_tool(respond, tools, frozenset(), legal)[0] == "peek:0"
    # Playing: the seat whose claims it answers is the nearest one before it holding cards.
    assert liars_bar_tool(liars_view("QK", "play", None), ("peek",), frozenset(), legal)[0] == (
        "peek:0"
    )
    empty_before = liars_view("QK", "play", None, cards_left=(0, 2, 5, 5))
    assert liars_bar_tool(empty_before, ("peek",), frozenset(), legal)[0] == "peek:3"
    # Never an ally: with seat 0 allied, no peek; the rig goes to the fewest pulls among the
    # others (all 0 here, so the lowest seat that is not an ally).
    action, reason = liars_bar_tool(respond, tools, frozenset({0}), legal)
    assert action == "rig_revolver:2" and reason.startswith("simulated: ")


def test_remote_zap_goes_to_the_richest_unfrozen_rival_never_an_ally() -> None:
    legal = tool_legal(("remote_zap",), 0, 4)
    base = cleanup_view(((0, 0), (0, 5), (4, 0), (4, 5)), (0, 0, 0, 0))
    view = replace(base, scores=(3, 9, 8, 5), frozen=(0, 0, 0, 0))
    assert cleanup_tool(view, ("remote_zap",), frozenset(), legal)[0] == "remote_zap:1"
    assert cleanup_tool(view, ("remote_zap",), frozenset({1}), legal)[0] == "remote_zap:2"
    frozen = replace(view, frozen=(0, 0, 4, 0))
    assert cleanup_tool(frozen, ("remote_zap",), frozenset({1}), legal)[0] == "remote_zap:3"
    # Nobody unfrozen has as many apples as this bot: no zap.
    ahead = replace(view, scores=(9, 9, 8, 5), frozen=(0, 3, 0, 0))
    assert cleanup_tool(ahead, ("remote_zap",), frozenset(), legal)[0] == "none"
