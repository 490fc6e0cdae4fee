"""Headless batches: many matches of one line-up, concurrent, resumable, summarised.

A batch is identified by a key hashed from everything that defines it (game, preset, config,
seats, first seed). Match `i` of a batch plays seed `seed + i`. Rerunning the same batch skips its
finished matches and resumes unfinished ones by replaying their stored decisions, so no row is
written twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from arena import software_version
from arena.conditions import ConditionError, ObserverSwitch, check_observer
from arena.llm.config import ConfigError, ModelsConfig, ModelSettings, api_key
from arena.runtime import StoredProgress, run_match
from arena.seats import SeatError, SeatSpec, make_player, parse_seats, prompt_names
from arena.secrets import SecretSetup
from arena.store.db import Store
from arena.store.keys import OPERATIONAL
from arena.store.recorder import MatchRecorder
from games.base import Decision, Game, GameError, build_config, check_seat_count
from games.registry import GAMES
from tools.offers import GrantSpec, OfferError, OfferSpec, offers_for, parse_grant, parse_offer

# Seeds are stored as SQLite integers: every seed of a batch must be a signed 64-bit value.
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
DEFAULT_SEATS = {
    "liars-bar": ["bot:counter", "bot:cautious", "bot:bluffer", "bot:random"],
    "cleanup": ["bot:harvester", "bot:cleaner", "bot:zapper", "bot:random"],
}


@dataclass(frozen=True)
class BatchPlan:
    """Everything that defines a batch. `plan()` validates it."""

    game: str
    preset: str
    config: BaseModel
    seats: tuple[SeatSpec, ...]
    matches: int
    seed: int
    observer: str = "off"
    framing: str | None = None  # None: no tool is offered or granted
    offers: tuple[OfferSpec, ...] = ()
    grants: tuple[GrantSpec, ...] = ()
    monitor: str | None = None  # `rules`, or the model reviewing under the `monitor` condition
    monitor_settings: ModelSettings | None = field(default=None, compare=False)
    experiment: str | None = None  # the experiment file's name, if the batch is one of its cells

    def secrets_for(self, index: int) -> SecretSetup | None:
        """The secret tools of match `index`: its scheduled offers and the standing grants."""
        if self.framing is None:
            return None
        seed = self.seed + index
        offers = offers_for(self.offers, index, seed, len(self.seats))
        return SecretSetup(tuple(offers), self.grants, self.framing)

    @property
    def key(self) -> str:
        # What is recorded of each match, but the software version; seats by their identity.
        identity = {k: v for k, v in self.match_fields().items() if k != "version"}
        identity.update(seats=[_identity(s) for s in self.seats], seed=self.seed)
        blob = json.dumps(identity, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def match_fields(self) -> dict[str, Any]:
        """What `Store.create_matches` records of every match of this plan besides its batch,
        index and seed: the game, the seats and every condition."""
        return {
            "game": self.game,
            "preset": self.preset,
            "config": self.config.model_dump(mode="json"),
            "seats": [s.describe() for s in self.seats],
            "version": software_version(),
            "observer": self.observer,
            "framing": self.framing,
            "offers": [str(o) for o in self.offers],
            "grants": [str(g) for g in self.grants],
            "monitor": self.monitor,
            "experiment": self.experiment,
        }

    @property
    def game_class(self) -> type[Game]:
        return GAMES[self.game]


def _identity(spec: SeatSpec) -> dict[str, Any]:
    """What defines a seat for the batch key: an LLM's settings but the operational ones (so a
    rerun with another timeout, retry count, concurrency, server or stated price resumes the
    batch), and its templates by their content, not their path."""
    seat = spec.describe()
    params = {k: v for k, v in seat["params"].items() if k not in OPERATIONAL}
    if params.get("templates"):
        folder = Path(params["templates"])
        digest = hashlib.sha256()
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
        params["templates"] = digest.hexdigest()
    return {**seat, "params": params}


def plan(
    game: str,
    preset: str | None,
    overrides: Mapping[str, Any],
    seat_texts: Sequence[str] | None,
    matches: int,
    seed: int,
    models: ModelsConfig | None = None,
    api_base: str | None = None,
    observer: str = "off",
    framing: str | None = None,
    offers: Sequence[str] = (),
    grants: Sequence[str] = (),
    monitor: str | None = None,
    experiment: str | None = None,
    humans: bool = False,
) -> BatchPlan:
    """Check a batch before anything is written; GameError or SeatError says what is wrong.
    Without seats, the game's default line-up of four different bots plays. `llm:` seats resolve
    through `models`; `api_base` applies to each of them. `offers` and `grants` are spec strings
    (`tools.offers`); `framing` defaults to `neutral` when there are any. `monitor` is `rules`
    (the default under the monitor condition) or a model alias or string. `humans` allows
    human seats (the interactive arena)."""
    if game not in GAMES:
        raise GameError(f"unknown game {game!r} (known: {', '.join(GAMES)})")
    game_class = GAMES[game]
    seats = parse_seats(seat_texts or DEFAULT_SEATS[game], game, models, api_base, humans)
    for spec in seats:
        if spec.settings is not None and spec.settings.api_key_env is not None:
            try:
                api_key(spec.settings)
            except ConfigError as error:
                raise SeatError(f"seat llm:{spec.value}: {error}") from None
    preset = preset or next(iter(game_class.presets))
    if matches < 1:
        raise GameError(f"--matches must be at least 1, got {matches}")
    if not SEED_MIN <= seed <= SEED_MAX - (matches - 1):
        raise GameError(
            f"seeds {seed}..{seed + matches - 1} do not fit the database's 64-bit integers: "
            f"give --seed and --matches so that every seed lies in {SEED_MIN}..{SEED_MAX}"
        )
    try:
        config = build_config(game_class, preset, overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {json.dumps(e['input'])})"
            if e["loc"]
            else e["msg"].removeprefix("Value error, ")
            for e in error.errors()
        )
        raise GameError(f"bad {game} config: {problems}") from None
    check_seat_count(game_class(config), len(seats))
    checked: set[str] = set()  # a folder's templates fail or pass the same for every seat
    for seat, spec in enumerate(seats):
        folder = spec.settings.templates if spec.settings is not None else None
        if folder is not None and folder not in checked:
            checked.add(folder)
            _check_templates(game, config, seat, len(seats), Path(folder))
    try:
        check_observer(observer)
    except ConditionError as error:
        raise GameError(str(error)) from None
    try:
        offer_specs = tuple(parse_offer(text, game, len(seats)) for text in offers)
        grant_specs = tuple(parse_grant(text, game, len(seats)) for text in grants)
    except OfferError as error:
        raise GameError(str(error)) from None
    for offer in offer_specs:
        if offer.match is not None and offer.match >= matches:
            raise GameError(
                f"offer {offer}: match {offer.match} is not in the batch, whose matches are "
                f"0..{matches - 1}"
            )
    joined = [(g.tool, frozenset((g.seat, g.partner))) for g in grant_specs]
    for given, key in zip(grant_specs, joined, strict=True):
        if joined.count(key) > 1:
            raise GameError(f"grant {given} is given twice (a pair's order does not matter)")
    if offer_specs or grant_specs:
        framing = _check_framing(framing or "neutral", seats)
    elif framing is not None:
        raise GameError(f"--framing {framing} needs a tool to frame: add --offer or --grant")
    if monitor is None and observer == "monitor":
        monitor = "rules"
    monitor_settings = None
    if monitor is not None and monitor != "rules":
        try:
            _, monitor_settings = (models or ModelsConfig({}, {}, "the command line")).resolve(
                monitor, api_base
            )
        except ConfigError as error:
            raise SeatError(f"--monitor {error}") from None
        monitor = monitor_settings.model
    return BatchPlan(
        game, preset, config, tuple(seats), matches, seed, observer,
        framing, offer_specs, grant_specs, monitor, monitor_settings, experiment,
    )  # fmt: skip


def _check_framing(framing: str, seats: Sequence[SeatSpec]) -> str:
    """The framing must exist for every LLM seat (in its templates folder or the packaged
    ones); bots read only its name."""
    from arena.llm.prompts import framing_names

    folders = {s.settings.templates for s in seats if s.settings is not None}
    known = set(framing_names())
    for folder in folders:
        mine = framing_names(Path(folder) if folder else None)
        if framing not in mine:
            where = f" in {folder}" if folder else ""
            raise GameError(f"no framing {framing!r}{where} (known: {', '.join(mine)})")
        known |= set(mine)
    if framing not in known:
        raise GameError(f"no framing {framing!r} (known: {', '.join(sorted(known))})")
    return framing


def _check_templates(game: str, config: BaseModel, seat: int, seats: int, folder: Path) -> None:
    """Render every template a seat can meet from a user's folder, before anything is written:
    the system prompt, a decision message and a re-ask of every decision kind (met by playing
    a throwaway game with the first legal actions), and the reflection."""
    from arena.llm.prompts import (
        TemplateError,
        decision_message,
        reask_message,
        reflection_message,
        system_prompt,
    )

    names = prompt_names(seats)
    try:
        system_prompt(game, config, seat, names, templates=folder)
        state, _ = GAMES[game](config).new_game(0, seats)
        met: set[str] = set()
        while not state.is_terminal():
            decisions = {}
            for s in state.to_act():
                kind, legal = state.decision_kind(s), state.legal_actions(s)
                if kind not in met:
                    met.add(kind)
                    decision_message(game, kind, state.view_for(s), legal, names, templates=folder)
                    reask_message(game, kind, "a reason", legal, templates=folder)
                decisions[s] = Decision(legal[0])
            state.apply(decisions)
        reflection_message(game, seat, names, ["a line"], templates=folder)
    except TemplateError as error:
        raise SeatError(str(error)) from None


@dataclass
class BatchReport:
    new: int = 0
    resumed: int = 0
    skipped: int = 0


# Matches are created and resumed a chunk at a time as the players reach them, so a batch of any
# size holds at most a chunk's rows and `concurrency` matches in memory.
CHUNK = 256


async def run_batch(
    store: Store,
    batch: BatchPlan,
    concurrency: int = 1,
    on_match_done: Callable[[], None] = lambda: None,
) -> BatchReport:
    """Play every match of the batch not yet finished in `store`, at most `concurrency` at once."""
    report = BatchReport()
    client = None
    llm_monitor = batch.monitor not in (None, "rules")
    if llm_monitor or any(spec.kind == "llm" for spec in batch.seats):
        from arena.llm.client import LLMClient
        from arena.llm.gateway import warm_up

        await warm_up()  # the gateways load litellm; a gateway that cannot start stops us here
        client = LLMClient()
    reviewer = None
    if batch.monitor is not None:
        from arena.monitor import matches_to_review, review_match, reviewer_for

        reviewer = reviewer_for(batch.monitor, batch.monitor_settings, client)
        for match_id, _ in matches_to_review(store, batch.key):  # finished, not yet reviewed
            await review_match(store, match_id, reviewer)
    game = batch.game_class(batch.config)

    def chunk_of(start: int, stop: int) -> list[tuple[int, int, StoredProgress]]:
        """Matches `start`..`stop` still to play: created if missing, resumed if unfinished."""
        stored = store.matches_of(batch.key, start, stop)
        missing = [i for i in range(start, stop) if i not in stored]
        new_ids = store.create_matches(
            batch=batch.key,
            indexes=missing,
            seeds=[batch.seed + i for i in missing],
            **batch.match_fields(),
        )
        todo = [
            (i, match_id, StoredProgress()) for i, match_id in zip(missing, new_ids, strict=True)
        ]
        report.new += len(missing)
        for index, row in stored.items():
            if row["status"] == "finished":
                report.skipped += 1
                on_match_done()
            else:
                progress = StoredProgress(
                    store.stored_decisions(row["id"]),
                    store.stored_event_count(row["id"]),
                    store.stored_toggles(row["id"]),
                )
                todo.append((index, row["id"], progress))
                report.resumed += 1
        return sorted(todo, key=lambda item: item[0])

    def matches_to_play() -> Iterator[tuple[int, int, StoredProgress]]:
        for start in range(0, batch.matches, CHUNK):
            yield from chunk_of(start, min(start + CHUNK, batch.matches))

    async def play(index: int, match_id: int, progress: StoredProgress) -> None:
        seed = batch.seed + index
        players = [
            make_player(
                spec, batch.game, batch.config, seed, seat,
                seats=len(batch.seats), client=client, observer=batch.observer,
            )
            for seat, spec in enumerate(batch.seats)
        ]  # fmt: skip
        switch = ObserverSwitch(batch.observer)
        recorder = MatchRecorder(store, match_id)
        secrets = batch.secrets_for(index)
        await run_match(game, seed, players, [recorder], progress, switch, secrets)
        if reviewer is not None:
            await review_match(store, match_id, reviewer)
        on_match_done()

    # Each player takes the next match from the one shared iterator (taking one never awaits,
    # so no two take the same), which creates the next chunk's rows only when it is reached.
    work = matches_to_play()

    async def player() -> None:
        for item in work:
            await play(*item)
            # A bots' match never waits on anything: let the loop run (Ctrl-C, progress).
            await asyncio.sleep(0)

    await asyncio.gather(*(player() for _ in range(max(1, concurrency))))
    store.sync()
    return report


def summarize(store: Store, batch: BatchPlan) -> tuple[list[dict[str, Any]], float | None]:
    """Per seat of the line-up: matches, wins, mean score and mean placement; and the mean number
    of hands per match (the batch's finished matches)."""
    seats = list(
        store.db.query(
            f"""SELECT seat, name, kind, coalesce(persona, model) AS agent,
                       count(*) AS matches, sum(winner) AS wins,
                       avg(score) AS mean_score, avg(placement) AS mean_placement
                FROM seats WHERE match_id IN ({BATCH_MATCHES}) AND placement IS NOT NULL
                GROUP BY seat, name, kind, agent ORDER BY seat""",
            _batch_params(batch),
        )
    )
    (hands,) = store.conn.execute(
        f"SELECT avg(hands) FROM matches WHERE id IN ({BATCH_MATCHES}) AND status = 'finished'",
        _batch_params(batch),
    ).fetchone()
    return seats, hands


# The ids of a batch's matches, as many as it was asked for (a rerun may ask for fewer).
BATCH_MATCHES = "SELECT id FROM matches WHERE batch = :batch AND batch_index < :matches"


def _batch_params(batch: BatchPlan) -> dict[str, Any]:
    return {"batch": batch.key, "matches": batch.matches}


def offer_summary(store: Store, batch: BatchPlan) -> list[dict[str, Any]]:
    """Per tool and offered seat: offers made and how they were answered (`simulated` marks a
    bot's answers), partners' refusals and grants."""
    return list(
        store.db.query(
            f"""SELECT o.tool, o.seat, coalesce(s.model, s.persona, s.kind) AS agent,
                       max(o.simulated) AS simulated, count(*) AS offers,
                       sum(o.answer = 'accept') AS accepted, sum(o.answer = 'refuse') AS refused,
                       sum(o.answer = 'unclear') AS unclear,
                       sum(coalesce(o.partner_answer, '') IN ('refuse', 'unclear'))
                           AS partner_refused,
                       sum(o.granted) AS granted
                FROM tool_offers o JOIN seats s ON s.match_id = o.match_id AND s.seat = o.seat
                WHERE o.match_id IN ({BATCH_MATCHES})
                GROUP BY o.tool, o.seat, agent ORDER BY o.tool, o.seat""",
            _batch_params(batch),
        )
    )
