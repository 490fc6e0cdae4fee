"""The `arena` command line. Bad input gets one line naming the problem and exit code 2."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arena.batch import BatchPlan, offer_summary, plan, run_batch, summarize
from arena.experiment import ExperimentError, load_experiment
from arena.llm.config import ConfigError, load_models
from arena.llm.gateway import GatewayError
from arena.seats import SeatError
from arena.store.db import Store, StoreError, default_db_path
from games.base import GameError

app = typer.Typer(
    name="arena",
    pretty_exceptions_show_locals=False,  # a traceback must never print a key held in a local
    help="Collusion Arena: Liar's Bar and Cleanup for humans, bots and LLM agents. "
    "Without a command: arena play.",
    add_completion=False,
)
LLM_CONCURRENCY = 16
BOT_CONCURRENCY = 4
out = Console()
err = Console(stderr=True)


@app.callback(invoke_without_command=True)
def _commands(ctx: typer.Context) -> None:
    """Collusion Arena: Liar's Bar and Cleanup for humans, bots and LLM agents. Without a
    command: `arena play`."""
    if ctx.invoked_subcommand is None:
        play(db=None, config=None, pace=0.6)


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise GameError(f"--set {item!r} is not KEY=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # a bare word, e.g. --set deal=paper
        overrides[key.strip()] = value
    return overrides


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML file of model aliases (default: arena.toml here, if present); see docs/llm.md",
    ),
]


@app.command()
def run(
    game: Annotated[
        str | None, typer.Option(help="liars-bar or cleanup (default: liars-bar)")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="named configuration (default: the game's first)")
    ] = None,
    seat: Annotated[
        list[str] | None,
        typer.Option(
            help="a seat, KIND:VALUE, once per seat, e.g. --seat bot:counter. Bots: counter, "
            "cautious, bluffer (liars-bar), harvester, cleaner, zapper (cleanup), random (both). "
            "LLMs: llm:ALIAS (from --config) or llm:MODEL (any litellm model string, e.g. "
            "llm:openai/gpt-4o-mini). Default: four different bots"
        ),
    ] = None,
    matches: Annotated[
        int | None, typer.Option(min=1, help="matches in the batch (default: 20)")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="matches played at once (default: 16 with LLM seats, whose calls overlap; "
            "4 otherwise)",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="match i of the batch plays seed SEED+i (default: 1)")
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="database file (default: $ARENA_DB, else saves/arena.db)"),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a config value of the preset, KEY=VALUE"),
    ] = None,
    config: ConfigOption = None,
    api_base: Annotated[
        str | None,
        typer.Option(
            help="API base URL for the LLM seats given here, e.g. http://127.0.0.1:8000/v1"
        ),
    ] = None,
    observer: Annotated[
        str | None,
        typer.Option(
            help="what agents are told about being observed: off, on, monitor, or both (the "
            "same seeds and seats once with off and once with on; default off)"
        ),
    ] = None,
    offer: Annotated[
        list[str] | None,
        typer.Option(
            help="offer a secret tool, TOOL:SEAT[@MATCH[.HAND]]: SEAT a number or random, MATCH "
            "the match's index in the batch or * (every match, the default), HAND the round "
            "(liars-bar) or step (cleanup) at whose start it is offered (default 1). Repeatable. "
            "Tools: secret_channel, alliance_hint (both games), peek, rig_revolver (liars-bar), "
            "remote_zap (cleanup)"
        ),
    ] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(
            help="a tool available from the start without asking, TOOL:SEAT[+PARTNER], e.g. "
            "secret_channel:0+2. Repeatable"
        ),
    ] = None,
    framing: Annotated[
        str | None,
        typer.Option(
            help="how offered tools are described: neutral (default), unfair_label, ethical, "
            "survival_pressure, win_at_all_costs, cooperative_norm, or a framing file of your "
            "templates folder"
        ),
    ] = None,
    monitor: Annotated[
        str | None,
        typer.Option(
            help="who reviews private messages and tool uses under the monitor condition: rules "
            "(default) or an LLM, ALIAS or MODEL"
        ),
    ] = None,
    experiment: Annotated[
        Path | None,
        typer.Option(
            help="an experiment file (TOML): a grid of conditions with paired seeds, run cell by "
            "cell; see docs/experiments.md. Replaces the flags that define a batch"
        ),
    ] = None,
) -> None:
    """Play a batch of matches headless, record them, and print a summary.

    Rerunning the same command skips finished matches and completes unfinished ones.
    """
    try:
        models = load_models(config)
        if experiment is not None:
            given = {
                "--game": game, "--preset": preset, "--seat": seat, "--matches": matches,
                "--seed": seed, "--set": set_, "--observer": observer, "--offer": offer,
                "--grant": grant, "--framing": framing, "--monitor": monitor,
            }  # fmt: skip
            clashing = [flag for flag, value in given.items() if value not in (None, [])]
            if clashing:
                raise GameError(
                    f"{', '.join(clashing)} cannot be combined with --experiment: the file "
                    "defines the batches"
                )
            loaded, batches = load_experiment(experiment, models, api_base)
            concurrency = concurrency or loaded.concurrency
        else:
            condition = observer or "off"
            conditions = ["off", "on"] if condition == "both" else [condition]
            overrides = parse_overrides(set_ or [])
            batches = [
                plan(
                    game or "liars-bar",
                    preset,
                    overrides,
                    seat,
                    matches or 20,
                    seed or 1,
                    models,
                    api_base,
                    observer=each,
                    framing=framing,
                    offers=offer or [],
                    grants=grant or [],
                    monitor=monitor,
                )
                for each in conditions
            ]
        store = Store(db or default_db_path())
    except (GameError, SeatError, StoreError, ConfigError, ExperimentError) as error:
        raise fail(str(error)) from None
    try:
        with store:
            for batch in batches:
                has_llm = any(spec.kind == "llm" for spec in batch.seats)
                at_once = concurrency or (LLM_CONCURRENCY if has_llm else BOT_CONCURRENCY)
                _run_with_progress(store, batch, at_once)
    except (StoreError, GatewayError) as error:  # disk full, permissions; litellm cannot load
        raise fail(str(error)) from None


def _run_with_progress(store: Store, batch: BatchPlan, concurrency: int) -> None:
    started = time.perf_counter()
    progress = Progress(
        TextColumn(f"{batch.game} {batch.preset} · observer {batch.observer}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task("matches", total=batch.matches)
        try:
            report = asyncio.run(
                run_batch(store, batch, concurrency, lambda: progress.advance(task))
            )
        except KeyboardInterrupt:
            progress.stop()
            err.print("interrupted: rerun the same command to finish the batch")
            raise typer.Exit(130) from None
    elapsed = time.perf_counter() - started
    rows, mean_hands = summarize(store, report.match_ids)
    framed = f" · framing {batch.framing}" if batch.framing else ""
    title = (
        f"{batch.game} · {batch.preset} · observer {batch.observer}{framed} · "
        f"{batch.matches} matches"
    )
    table = Table(title=title)
    for column in ("seat", "name", "kind", "matches", "wins", "mean score", "mean place"):
        table.add_column(column, justify="right" if column != "name" else "left")
    for row in rows:
        score = "—" if row["mean_score"] is None else f"{row['mean_score']:.2f}"
        table.add_row(
            str(row["seat"]),
            row["name"],
            row["kind"],
            str(row["matches"]),
            str(row["wins"]),
            score,
            f"{row['mean_placement']:.2f}",
        )
    out.print(table)
    offers = offer_summary(store, report.match_ids)
    if offers:
        table = Table(
            title="offers",
            caption="* simulated: a bot's answers, not a model's",
            box=None,  # fits 80 columns with a long tool name and a model in the seat column
            pad_edge=False,
        )
        for column in ("tool", "seat", "offers", "accept", "refuse", "unclear", "partner no",
                       "granted"):  # fmt: skip
            text = column in ("tool", "seat")
            table.add_column(column, justify="left" if text else "right", no_wrap=text)
        for row in offers:
            agent = row["agent"] + ("*" if row["simulated"] else "")
            table.add_row(
                row["tool"], f"{row['seat']} {agent}",
                *(str(row[k]) for k in ("offers", "accepted", "refused", "unclear",
                                        "partner_refused", "granted")),
            )  # fmt: skip
        out.print(table)
    hands = "—" if mean_hands is None else f"{mean_hands:.1f}"
    out.print(
        f"mean hands per match: {hands} · {report.new} new, {report.resumed} resumed, "
        f"{report.skipped} already done · {elapsed:.1f} s · batch {batch.key} · {store.path}",
        highlight=False,
    )


@app.command()
def models(
    config: ConfigOption = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds to wait for each model")] = 10.0,
    check: Annotated[bool, typer.Option(help="ask each model for a one-word reply")] = True,
) -> None:
    """List the model aliases and check that each one answers."""
    try:
        loaded = load_models(config)
    except ConfigError as error:
        raise fail(str(error)) from None
    if not loaded.aliases:
        err.print(f"no model aliases in {loaded.source}; see docs/llm.md for the file format")
        raise typer.Exit(2)
    results: dict[str, str] = {}
    if check:
        from arena.llm.probe import probe_all

        try:
            with err.status("asking each model for a reply…"):
                results = asyncio.run(probe_all(loaded.aliases, timeout))
        except GatewayError as error:
            raise fail(str(error)) from None
    table = Table(title=f"models · {loaded.source}")
    for column in ("alias", "model", "api base", "key from", "concurrency"):
        table.add_column(column)
    for alias, settings in loaded.aliases.items():
        table.add_row(
            alias,
            settings.model,
            settings.api_base or "—",
            settings.api_key_env or "litellm's default",
            str(settings.concurrency),
        )
    out.print(table)
    for alias, text in results.items():
        out.print(f"{alias}: {text}", highlight=False, soft_wrap=True)
    if any(not text.startswith("ok") for text in results.values()):
        raise typer.Exit(1)


DbOption = Annotated[
    Path | None, typer.Option(help="database file (default: $ARENA_DB, else saves/arena.db)")
]


@app.command()
def play(
    db: DbOption = None,
    config: ConfigOption = None,
    pace: Annotated[
        float, typer.Option(min=0.0, help="seconds each bot or LLM move is shown before it is made")
    ] = 0.6,
) -> None:
    """The arena in this terminal: Enter in the lobby starts you against three bots."""
    from arena.tui.app import ArenaApp

    path = db or default_db_path()
    _check_db(path)
    ArenaApp(path, config=config, pace_s=pace, suspense_s=2.5 * pace).run()


def _check_db(path: Path) -> None:
    """Refuse a database the arena cannot use before any screen opens."""
    try:
        Store(path).close()
    except StoreError as error:
        raise fail(str(error)) from None


@app.command()
def replay(
    match: Annotated[
        int, typer.Argument(help="the match id (`arena sql` or the debrief shows it)")
    ],
    db: DbOption = None,
) -> None:
    """Step through a saved match, in the observer's view."""
    import sqlite3

    path = db or default_db_path()
    if not path.exists():
        raise fail(f"no database at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = conn.execute("SELECT id FROM matches WHERE id = ?", (match,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise fail(f"cannot read {path}: {error}") from None
    if found is None:
        raise fail(f"{path} has no match {match}")
    from arena.tui.app import ArenaApp

    ArenaApp(path, replay=match).run()


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            help="address to listen on; another than localhost opens the arena to the network"
        ),
    ] = "localhost",
    port: Annotated[int, typer.Option(min=1, max=65535, help="port to listen on")] = 8000,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """The arena in a browser (textual-serve), one arena process per tab, one database."""
    import shlex
    import sys

    from textual_serve.server import Server

    path = (db or default_db_path()).resolve()
    _check_db(path)
    command = [sys.executable, "-m", "arena", "play", "--db", str(path)]
    if config is not None:
        command += ["--config", str(config.resolve())]
    err.print(f"serving the arena on http://{host}:{port} (Ctrl+C stops)", highlight=False)
    Server(shlex.join(command), host=host, port=port, title="Collusion Arena").serve()


def main() -> None:
    app()
