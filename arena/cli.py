"""The `arena` command line. Bad input gets one line naming the problem and exit code 2."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

# typer (0.29 on) carries its own copy of click; its usage errors are these.
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from arena import software_version
from arena.analysis.output import (
    SIMULATED_NOTE,
    cell,
    columns_of,
    json_text,
    observability_chart,
    printable,
    report_json,
    rows_table,
    section_text,
    write_csv,
    write_jsonl,
)
from arena.analysis.report import (
    SECTION_NAMES,
    Column,
    Filters,
    ReportError,
    build_report,
    exportable,
)
from arena.store.db import (
    Store,
    StoreError,
    check_integrity,
    default_db_path,
    open_for_analysis,
    open_read_only,
)

# The commands that play matches import the runtime, the games and the LLM gateway when they
# run: `arena analyze`, `sql` and `export` start in half the time without them.
if TYPE_CHECKING:
    from arena.batch import BatchPlan


class OneLineErrors(TyperGroup):
    """typer's group, but a usage error (a bad number, an unknown option or choice) is one line
    on stderr and exit code 2, like every error the commands report themselves."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except ClickException as error:
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "arena"
            # typer checks values with pydantic, which starts a validator's message with
            # "Value error, ": a user needs only the message
            message = error.format_message().replace("Value error, ", "")
            given = _given_value(error, sys.argv[1:] if args is None else list(args))
            if given is not None:
                message += f" (got {given!r})"
            fail(f"{command}: {message} (see {command} --help)")
            sys.exit(2)
        except typer.Abort:
            err.print("aborted")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _given_value(error: ClickException, args: list[str]) -> str | None:
    """The value the command line gave the option a usage error is about, if it names one."""
    options = getattr(getattr(error, "param", None), "opts", None) or []
    if not any(option.startswith("--") for option in options):
        return None  # an argument: click's message is all there is
    for i, arg in enumerate(args):
        for option in options:
            if arg == option and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(option + "="):
                return arg[len(option) + 1 :]
    return None


app = typer.Typer(
    name="arena",
    cls=OneLineErrors,
    pretty_exceptions_show_locals=False,  # a traceback must never print a key held in a local
    help="Collusion Arena: Liar's Bar and Cleanup for humans, bots and LLM agents. "
    "Without a command: arena play.",
)
LLM_CONCURRENCY = 16
BOT_CONCURRENCY = 4
out = Console()
err = Console(stderr=True)


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class FileFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _version(show: bool) -> None:
    if show:
        out.print(f"collusion-arena {software_version()}", highlight=False)
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _commands(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Collusion Arena: Liar's Bar and Cleanup for humans, bots and LLM agents. Without a
    command: `arena play`."""
    if ctx.invoked_subcommand is None:
        play(db=None, config=None, pace=0.6)


def fail(message: str) -> typer.Exit:
    """Print `message` as one error line (as it is: no markup, control characters escaped) and
    return the exit to raise."""
    err.print(Text("error: ", style="bold red") + Text(printable(message)), soft_wrap=True)
    return typer.Exit(2)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    from games.base import GameError

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


CheckModelsOption = Annotated[
    bool,
    typer.Option(
        "--check-models/--no-check-models",
        help="before the first match, ask each LLM once for a short reply and stop (exit 2, "
        "nothing written) if one does not answer",
    ),
]


def _check_models(batches: list[BatchPlan]) -> None:
    """Ask every model of the batches (seats and monitor) for one short reply; exit 2 naming
    each that does not answer. GatewayError if litellm cannot load."""
    from arena.llm.probe import check_models, models_of

    needed = models_of(batches)
    if not needed:
        return
    try:
        with err.status(f"asking {len(needed)} model(s) for a reply…"):
            problems = check_models(needed)
    except KeyboardInterrupt:
        err.print("interrupted while asking the models: nothing was written")
        raise typer.Exit(130) from None
    if len(problems) == 1:
        raise fail(f"no answer from {problems[0].line}")
    if problems:
        raise fail(f"no answer from {len(problems)} models: " + "; ".join(p.line for p in problems))


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
    check_models: CheckModelsOption = True,
) -> None:
    """Play a batch of matches headless, record them, and print a summary.

    Rerunning the same command skips finished matches and completes unfinished ones.
    """
    from arena.batch import plan
    from arena.experiment import ExperimentError, load_experiment
    from arena.llm.config import ConfigError, load_models
    from arena.llm.gateway import GatewayError
    from arena.seats import SeatError
    from games.base import GameError

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
        if check_models:
            _check_models(batches)
        store = Store(db or default_db_path())
    except (GameError, SeatError, StoreError, ConfigError, ExperimentError, GatewayError) as error:
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
    import asyncio

    from arena.batch import offer_summary, run_batch, summarize

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
    rows, mean_hands = summarize(store, batch)
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
    offers = offer_summary(store, batch)
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
    _print_health(store, batch)
    hands = "—" if mean_hands is None else f"{mean_hands:.1f}"
    out.print(
        f"mean hands per match: {hands} · {report.new} new, {report.resumed} resumed, "
        f"{report.skipped} already done · {elapsed:.1f} s · batch {batch.key} · {store.path}",
        highlight=False,
    )


def _print_health(store: Store, batch: BatchPlan) -> None:
    """Each LLM seat's decisions that fell back, and why, with a warning past 10%."""
    from arena.llm.health import health_lines, health_warnings, llm_seat_health

    health = llm_seat_health(store.conn, batch.key, batch.matches)
    for line in health_lines(health):
        out.print(Text(printable(line)), soft_wrap=True)
    for line in health_warnings(health):
        err.print(Text(printable(line), style="yellow"), soft_wrap=True)


@app.command()
def models(
    config: ConfigOption = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds to wait for each model")] = 10.0,
    check: Annotated[bool, typer.Option(help="ask each model for a one-word reply")] = True,
) -> None:
    """List the model aliases and check that each one answers."""
    import asyncio

    from arena.llm.config import ConfigError, load_models
    from arena.llm.gateway import GatewayError

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
    from arena.replay import ReplayError, read_replay

    path = db or default_db_path()
    try:
        read_replay(path, match)  # every way the match cannot be shown fails here, in one line
    except ReplayError as error:
        raise fail(str(error)) from None
    from arena.tui.app import ArenaApp

    shown = ArenaApp(path, replay=match)
    shown.run()
    if shown.return_code:  # the file changed under it, and the match could not be read after all
        raise typer.Exit(shown.return_code)


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


# -- analysis --------------------------------------------------------------------------------

FormatOption = Annotated[
    TableFormat, typer.Option("--format", help="a table for the terminal, CSV or JSON")
]


CheckOption = Annotated[
    bool,
    typer.Option(
        "--check/--no-check",
        help="first read the whole file for damage (SQLite's quick_check, about a second per "
        "gigabyte, not repeated while the file is as it was found sound); a damaged file is "
        "refused",
    ),
]


def _check(conn: sqlite3.Connection, path: Path, enabled: bool) -> None:
    """SQLite's quick check of the file behind `conn`, now; exit 2 if the file is damaged."""
    if enabled:
        try:
            check_integrity(conn, path)
        except StoreError as error:
            raise fail(str(error)) from None


def _start_check(path: Path, enabled: bool) -> Callable[[], None]:
    """Start SQLite's quick check of the file at `path` on a thread of its own, beside the
    caller's reading; the function returned waits for it and fails (exit 2) if the file is
    damaged. Damage the reading meets may come out as wrong rows rather than an error."""
    if not enabled:
        return lambda: None
    found: list[StoreError] = []

    def check() -> None:
        try:
            conn = open_read_only(path, check=False)
            try:
                check_integrity(conn, path)
            finally:
                conn.close()
        except StoreError as error:
            found.append(error)

    thread = threading.Thread(target=check, name="quick_check", daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if found:
            raise fail(str(found[0]))

    return wait


def _analysis_connection(path: Path) -> sqlite3.Connection:
    """A connection that cannot write to the arena file at `path` (an older one is brought up
    to the current schema first: the analysis views came with version 5)."""
    try:
        return open_for_analysis(path)
    except StoreError as error:
        raise fail(str(error)) from None


@app.command()
def analyze(
    db: DbOption = None,
    game: Annotated[str | None, typer.Option(help="liars-bar or cleanup")] = None,
    model: Annotated[
        str | None,
        typer.Option(help="one agent: an LLM's model string or a bot persona (e.g. counter)"),
    ] = None,
    framing: Annotated[str | None, typer.Option(help="one framing, e.g. ethical")] = None,
    observer: Annotated[
        str | None,
        typer.Option(help="one observer condition: off, on or monitor (drops the effect table)"),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="matches created from this date or time on (UTC)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="matches created up to this date (inclusive) or time")
    ] = None,
    series: Annotated[
        str | None,
        typer.Option(help="one batch (its key, as `arena run` prints it) or experiment name"),
    ] = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            help=f"only these tables of the report (repeatable): {', '.join(SECTION_NAMES)}"
        ),
    ] = None,
    format_: FormatOption = TableFormat.table,
    check: CheckOption = True,
) -> None:
    """The collusion report: adoption, the observability effect, collusive play, harm, monitor
    flags against actions, and cost, with 95% intervals and exact tests.

    Each table is also a view of the database (see docs/schema.md); CSV prints one block per
    table (`--section` for one), JSON one object.
    """
    fmt = format_.value
    unknown = [name for name in section or [] if name not in SECTION_NAMES]
    if unknown:
        raise fail(f"no report table {unknown[0]!r} (known: {', '.join(SECTION_NAMES)})")
    path = db or default_db_path()
    filters = Filters(game, model, framing, observer, since, until, series)
    try:
        filters.check()
    except ReportError as error:
        raise fail(str(error)) from None
    conn = _analysis_connection(path)
    checked = _start_check(path, check)
    try:
        report = build_report(
            conn,
            filters,
            section or SECTION_NAMES,
            connect=lambda: open_read_only(path, check=False),
        )
    except ReportError as error:
        checked()  # damage explains a failed read best
        raise fail(str(error)) from None
    finally:
        conn.close()
    checked()
    if fmt == "json":
        document = {"database": str(path), "matches": report.matches, "finished": report.finished}
        document.update(report_json(report))
        # Plain: rich's highlighting of a large document takes seconds.
        sys.stdout.write(json_text(document, indent=2) + "\n")
        return
    if fmt == "csv":
        for i, part in enumerate(report.sections):
            if len(report.sections) > 1:
                print(("\n" if i else "") + f"# {part.name}")
            names = columns_of(part.rows)
            write_csv(sys.stdout, names, ([row[n] for n in names] for row in part.rows))
        return
    out.print(
        f"[bold]Collusion report[/] · {report.filters.describe()} · {report.matches:,} matches "
        f"({report.finished:,} finished) · {path}",
        highlight=False,
    )
    for part in report.sections:
        if not part.rows:
            why = "; ".join(part.notes) or "no rows in this selection"
            out.print(f"\n[bold]{part.title}[/]: [dim]{why}[/]", highlight=False)
            continue
        out.print()
        title, _, table = section_text(part, out.width).partition("\n")
        out.print(f"[bold]{title}[/]", highlight=False)
        out.print(table, markup=False, highlight=False, crop=False, soft_wrap=True)
        out.print(f"[dim]{part.about}[/]", highlight=False)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help='one SQL statement, e.g. "SELECT * FROM adoption"')],
    db: DbOption = None,
    format_: FormatOption = TableFormat.table,
    timeout: Annotated[
        float,
        typer.Option(min=0.1, help="seconds the statement may run before it is stopped"),
    ] = 30.0,
    check: CheckOption = True,
) -> None:
    """Run one read-only SQL statement over the database (it cannot change the file).

    Ctrl-C or --timeout stops a long query. Stored text is shown with its control characters
    written out (\\x1b…) in the table, in JSON and in CSV to a terminal, so a stored answer
    cannot act on your terminal; CSV into a file or pipe keeps the text as stored.
    """
    import signal

    fmt = format_.value
    path = db or default_db_path()
    try:
        conn = open_read_only(path)
    except StoreError as error:
        raise fail(str(error)) from None
    try:
        _check(conn, path, check)
    except typer.Exit:
        conn.close()
        raise
    stop = QueryStop(timeout)
    conn.set_progress_handler(stop.check, 10_000)
    previous = signal.signal(signal.SIGINT, stop.interrupt)
    try:
        cursor = conn.execute(query)
        names = [d[0] for d in cursor.description or ()]
        if fmt == "table":
            rows = cursor.fetchall()
            out.print(rows_table(names, rows))
            err.print(f"{len(rows):,} rows", highlight=False)
        elif fmt == "csv":
            write_csv(sys.stdout, names, cursor, terminal=sys.stdout.isatty())
        else:
            write_jsonl(sys.stdout, names, cursor)
    except sqlite3.Error as error:
        text = str(error)
        if stop.why == "interrupt":
            err.print("interrupted: the query was stopped")
            raise typer.Exit(130) from None
        if stop.why == "timeout":
            raise fail(
                f"the query ran longer than {timeout:g} s and was stopped (--timeout)"
            ) from None
        if "malformed" in text:
            raise fail(f"{path} is damaged ({text}): restore a copy of it") from None
        if isinstance(error, sqlite3.DatabaseError) and (
            "readonly" in text or "authoriz" in text or "I/O" in text
        ):
            raise fail(f"arena sql is read-only, {path} was not changed ({text})") from None
        raise fail(f"the query failed: {text}") from None
    except sqlite3.Warning as error:  # e.g. more than one statement
        raise fail(f"the query failed: {error}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
        conn.close()


class QueryStop:
    """SQLite's progress handler for `arena sql`: stops the statement after `timeout_s` or at
    Ctrl-C (SQLite then fails the statement with "interrupted"). Python's own Ctrl-C cannot
    reach a statement running inside SQLite, hence the flag."""

    def __init__(self, timeout_s: float) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.why: str | None = None

    def interrupt(self, *_: object) -> None:
        self.why = "interrupt"

    def check(self) -> int:
        if self.why is None and time.monotonic() > self.deadline:
            self.why = "timeout"
        return self.why is not None


@app.command()
def export(
    table: Annotated[
        list[str] | None,
        typer.Option(help="a table or view to export (repeatable; default: every table and view)"),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="folder to write into (created if missing)")
    ] = Path("export"),
    format_: Annotated[
        FileFormat, typer.Option("--format", help="CSV or JSON Lines")
    ] = FileFormat.csv,
    db: DbOption = None,
    check: CheckOption = True,
) -> None:
    """Write tables and views as CSV or JSON Lines files, one per table, into a folder."""
    fmt = format_.value
    path = db or default_db_path()
    conn = _analysis_connection(path)
    try:
        _check(conn, path, check)
        known = exportable(conn)
        chosen = table or known
        unknown = [name for name in chosen if name not in known]
        if unknown:
            raise fail(f"no table or view {unknown[0]!r} in {path} (known: {', '.join(known)})")
        created = not out_dir.exists()
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise fail(f"cannot create {out_dir}: {error.strerror}") from None
        try:
            written = _export(conn, chosen, out_dir, fmt)
        except BaseException:  # a failure or Ctrl-C: the folder made for it goes too
            if created:
                with contextlib.suppress(OSError):
                    out_dir.rmdir()  # empty again: nothing of this export is left
            raise
    finally:
        conn.close()
    for name, rows, file in written:
        out.print(f"{name}: {rows:,} rows → {file}", highlight=False)


def _export(
    conn: sqlite3.Connection, names: list[str], folder: Path, fmt: str
) -> list[tuple[str, int, Path]]:
    """Write every table to a `.part` file, and rename them all once every one is whole: a
    failure leaves no file of this export behind (and the files of an earlier one as they
    were)."""
    writer = write_csv if fmt == "csv" else write_jsonl
    done = []
    parts: list[Path] = []
    progress = Progress(
        TextColumn("{task.description}"), TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(), console=err, transient=True,
    )  # fmt: skip
    try:
        with progress:
            for name in names:
                target = folder / f"{name}.{fmt}"
                part = target.with_name(target.name + ".part")
                task = progress.add_task(name)
                try:
                    cursor = conn.execute(f'SELECT * FROM "{name}"')
                    columns = [d[0] for d in cursor.description]

                    def counted(rows: Any, task: Any = task) -> Any:
                        for i, row in enumerate(rows, 1):
                            if i % 10_000 == 0:
                                progress.update(task, completed=i)
                            yield row

                    parts.append(part)
                    with part.open("w", encoding="utf-8", newline="") as file:
                        count = writer(file, columns, counted(cursor))
                except (OSError, sqlite3.Error) as error:
                    reason = getattr(error, "strerror", None) or str(error)
                    raise fail(f"cannot export {name} to {target}: {reason}") from None
                progress.remove_task(task)
                done.append((name, count, target))
        for part, (_, _, target) in zip(parts, done, strict=True):
            try:
                part.replace(target)
            except OSError as error:
                raise fail(f"cannot write {target}: {error.strerror}") from None
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    return done


demo_app = typer.Typer(
    help="Demonstrations for trainers: `arena demo observability`.", no_args_is_help=True
)
app.add_typer(demo_app, name="demo")
DEMO_OFFERS = {
    "liars-bar": ["secret_channel:0", "peek:1"],
    "cleanup": ["secret_channel:0", "remote_zap:1"],
}
DEMO_EXPERIMENT = "demo-observability"


@demo_app.command("observability")
def demo_observability(
    llm: Annotated[
        list[str] | None,
        typer.Argument(
            help="LLM aliases (from --config) or model strings to seat first; the other seats "
            "are the game's default bots. None: bots only",
            show_default=False,
        ),
    ] = None,
    game: Annotated[str, typer.Option(help="liars-bar or cleanup")] = "liars-bar",
    matches: Annotated[int, typer.Option(min=1, help="matches under each condition")] = 20,
    seed: Annotated[int, typer.Option(help="match i plays seed SEED+i in both conditions")] = 1,
    offer: Annotated[
        list[str] | None,
        typer.Option(
            help="an offer, as for arena run (repeatable; default: secret_channel:0 and peek:1 "
            "in liars-bar, secret_channel:0 and remote_zap:1 in cleanup)"
        ),
    ] = None,
    framing: Annotated[str, typer.Option(help="how the tools are described")] = "neutral",
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="matches at once (default as for arena run)")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    api_base: Annotated[
        str | None, typer.Option(help="API base URL for the LLM seats given here")
    ] = None,
    check_models: CheckModelsOption = True,
) -> None:
    """The same seeds and seats played with the observer off and on, then adoption under the
    two conditions side by side, with the effect, its 95% interval and an exact test.

    Rerunning the same demo reuses the matches already played.
    """
    import asyncio
    from functools import partial

    from arena.batch import DEFAULT_SEATS, plan, run_batch
    from arena.llm.config import ConfigError, load_models
    from arena.llm.gateway import GatewayError
    from arena.seats import SeatError
    from games.base import GameError

    try:
        models = load_models(config)
        if game not in DEFAULT_SEATS:
            raise GameError(f"unknown game {game!r} (known: {', '.join(DEFAULT_SEATS)})")
        bots = DEFAULT_SEATS[game]
        if len(llm or []) > len(bots):
            raise GameError(f"at most {len(bots)} LLM seats at {game}")
        seats = [f"llm:{name}" for name in llm or []] + bots[len(llm or []) :]
        batches = [
            plan(
                game,
                None,
                {},
                seats,
                matches,
                seed,
                models,
                api_base,
                observer=condition,
                framing=framing,
                offers=offer or DEMO_OFFERS[game],
                experiment=DEMO_EXPERIMENT,
            )
            for condition in ("off", "on")
        ]
        if check_models:
            _check_models(batches)
        store = Store(db or default_db_path())
    except (GameError, SeatError, StoreError, ConfigError, GatewayError) as error:
        raise fail(str(error)) from None
    has_llm = bool(llm)
    at_once = concurrency or (LLM_CONCURRENCY if has_llm else BOT_CONCURRENCY)
    err.print(
        f"{game}: {matches} matches with the observer off, then the same seeds and seats with "
        f"it on · seats {', '.join(seats)} · offers {', '.join(offer or DEMO_OFFERS[game])}",
        highlight=False,
        soft_wrap=True,
    )
    progress = Progress(
        TextColumn("observer {task.fields[condition]}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err,
    )  # fmt: skip
    tasks = [progress.add_task("", total=matches, condition=b.observer) for b in batches]
    try:
        with store:
            with progress:
                for batch, task in zip(batches, tasks, strict=True):
                    asyncio.run(run_batch(store, batch, at_once, partial(progress.advance, task)))
            for batch in batches:
                _print_health(store, batch)
    except KeyboardInterrupt:
        err.print("interrupted: rerun the same command to finish the demo")
        raise typer.Exit(130) from None
    except (StoreError, GatewayError) as error:
        raise fail(str(error)) from None
    conn = _analysis_connection(db or default_db_path())
    try:
        filters = Filters(batches=tuple(b.key for b in batches))
        report = build_report(conn, filters, ("observability",))
    finally:
        conn.close()
    rows = report.section("observability").rows
    if not rows:
        out.print("no offers were answered under both conditions: nothing to compare")
        return
    table = Table(title="Adoption with the observer off and on", title_justify="left",
                  caption=SIMULATED_NOTE if any(r["simulated"] for r in rows) else None,
                  caption_justify="left")  # fmt: skip
    columns = (
        Column("agent", "agent"), Column("tool", "tool"),
        Column("off_rate", "off [95% CI]", "rate"), Column("on_rate", "on [95% CI]", "rate"),
        Column("shown_effect", "effect [95% CI]", "signed"), Column("p", "p", "p"),
        Column("design", "design"),
    )  # fmt: skip
    for column in columns:
        table.add_column(column.title, justify="left" if column.kind == "text" else "right")
    for row in rows:
        table.add_row(*(cell(row, column) for column in columns))
    out.print(table)
    out.print(observability_chart(rows), highlight=False)
    out.print(
        "[dim]effect = adoption off − on: positive means the tools are taken more when agents "
        "are told nobody watches. Paired by seed (McNemar exact test). "
        f'Again with SQL: arena sql "SELECT * FROM observability WHERE experiment = '
        f"'{DEMO_EXPERIMENT}'\"[/]",
        highlight=False,
    )


def main() -> None:
    app()
