"""The terminal interface's responsiveness: how soon the lobby answers, and keys while LLMs think.

1. **Process start to an interactive lobby**, no LLM seat configured (target under 1 s): the real
   `python -m arena play --db TMP/arena.db` is spawned under a pseudo-terminal of 80x24
   (TERM=xterm-256color), in a folder without arena.toml, as a user's terminal runs it. The
   clock starts just before the spawn. "First drawn": the bytes that complete the lobby's own
   text (seat rows, tool rows) have arrived; "settled" (the figure held against the target): the
   last byte before the output then stays quiet for 150 ms. Both include the interpreter's start,
   every import, the database check, Textual's start and the lobby's frames, encoded and written
   to the terminal; not the terminal emulator's drawing. Then F1 is sent and timed until the
   help screen's text is written (the lobby answers keys), F1 closes it, Ctrl+Q is timed until
   the process has exited. One untimed run first (warm disk cache and bytecode), then `STARTS`
   timed runs. The untimed run goes through a shim (`python -c`, running the `arena` module with
   `runpy` as `-m` does) that writes at exit whether `litellm` is in `sys.modules`: it must not.
2. **Key to screen while LLM seats think** (target p95 under 50 ms): the fake OpenAI-compatible
   server (`arena.llm.fake_server`) in a process of its own on 127.0.0.1, every call waiting
   `LATENCY_S`; a temporary arena.toml whose alias `fake` is `openai/fake` at that server; the
   last table saved as Liar's Bar `classic`, seed 2 (an LLM seat starts), seats `human:You` and
   three `llm:fake`. `ArenaApp` runs under `run_test(size=(80, 24))` with `arena play`'s default
   pace (0.6 s a move, 1.5 s of suspense); Enter starts the table. While a seat is thinking
   (`screen.table.thinking` not empty) keys that change the screen are sent in turn: `1` `2` `1`
   `2` (pick and unpick two cards), `f8` `f8` (observer view on and off: every seat box, the log
   and the prompt redrawn), `f2` `f2` (secret panel open and closed). Each key is posted to the
   app as the terminal driver posts it (`driver.send_message(Key)`, as the pilot does) and timed
   until the end of the first frame whose content shows its effect: the app's `_display` is
   wrapped, each frame is encoded to the escape sequences a terminal would get (the headless
   driver skips that), the time is taken, and then the screen is rendered to text and checked
   (the card's corner heavy or round; "OBSERVER VIEW" in the status line and no seat box saying
   "(you)", or the reverse; the secret panel's title shown or not). A key not shown within
   `KEY_TIMEOUT_S` counts as lost. Keys go at most every `KEY_INTERVAL_S` (20 a second, faster
   than people type: Textual draws at most 60 frames a second, so a key sent within 1/60 s of
   the last frame waits for the next one), then `BURST_KEYS` back to back as a second figure.
   When it is the human's turn the script plays, unmeasured, so the LLM seats think again. The
   same keys are also timed right after Enter, while the LLM gateways start and load litellm
   (two processes importing on both cores), as a side figure.

Prints a short table and one JSON line. Run: `python bench/tui.py` (about 25 s).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import math
import os
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STARTS = 5
START_TARGET_S = 1.0
KEYS = 200
KEY_TARGET_MS = 50.0
KEY_TIMEOUT_S = 3.0
KEY_INTERVAL_S = 0.05  # keys at most 20 a second: 200 keys span several LLM decisions
BURST_KEYS = 100  # then keys back to back, each sent as soon as the last one is shown
WARMUP_KEYS = 100  # at most, timed while the gateways load litellm
LATENCY_S = 3.0
SEED = 2  # Liar's Bar classic, 4 seats: seat 1 (an LLM) starts
SIZE = (80, 24)
QUIET_S = 0.15
CYCLE = ("1", "2", "1", "2", "f8", "f8", "f2", "f2")

# -- 1. process start to an interactive lobby --------------------------------------------------

_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_].*?(?:\x07|\x1b\\)|\x1b.")
LOBBY_MARKS = (b"Seat 3", b"From start")
HELP_MARK = b"LLM agents"
F1, CTRL_Q = b"\x1bOP", b"\x11"
SHIM = (
    "import atexit, os, runpy, sys\n"
    "def _report():\n"
    "    with open(os.environ['BENCH_MODULES_OUT'], 'w') as out:\n"
    "        out.write('litellm' if 'litellm' in sys.modules else 'none')\n"
    "atexit.register(_report)\n"
    "sys.argv[0] = 'arena'\n"
    "runpy.run_module('arena', run_name='__main__', alter_sys=True)\n"
)


class Terminal:
    """A child process on a pseudo-terminal of SIZE; `until` reads its output."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        columns, rows = SIZE
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.raw = b""
        self.last_byte = self.started

    def read(self, wait_s: float) -> bool:
        """Read what is there within `wait_s`; False at end of output."""
        ready, _, _ = select.select([self.master], [], [], wait_s)
        if not ready:
            return True
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # the child closed the terminal
            return False
        if not data:
            return False
        self.raw += data
        self.last_byte = time.perf_counter()
        return True

    def text(self, since: int = 0) -> bytes:
        return _ESCAPES.sub(b"", self.raw[since:])

    def until(
        self, marks: tuple[bytes, ...], since: int, limit_s: float = 20
    ) -> tuple[float, float]:
        """Read until every mark is in the output after byte `since` and the output has been
        quiet for QUIET_S. Returns when the bytes completing the marks arrived (first drawn) and
        the time of the last byte before the quiet (settled)."""
        deadline = time.perf_counter() + limit_s
        first: float | None = None
        while time.perf_counter() < deadline:
            if first is None and all(mark in self.text(since) for mark in marks):
                first = self.last_byte
            if first is not None and time.perf_counter() - self.last_byte >= QUIET_S:
                return first, self.last_byte
            if not self.read(QUIET_S / 3) and first is None:
                break
        raise RuntimeError(f"the terminal never showed {marks}: {self.text(since)[-400:]!r}")

    def send(self, data: bytes) -> float:
        sent = time.perf_counter()
        os.write(self.master, data)
        return sent

    def wait_exit(self, limit_s: float = 10) -> float:
        deadline = time.perf_counter() + limit_s
        while self.proc.poll() is None and time.perf_counter() < deadline:
            self.read(0.01)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("arena play did not quit on Ctrl+Q")
        return time.perf_counter()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def one_start(folder: Path, shim: bool) -> dict[str, float]:
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("ARENA_DB", None)
    env["BENCH_MODULES_OUT"] = str(folder / "modules.txt")
    db = str(folder / "arena.db")
    if shim:
        command = [sys.executable, "-c", SHIM, "play", "--db", db]
    else:
        command = [sys.executable, "-m", "arena", "play", "--db", db]
    # The working directory has no arena.toml; PYTHONPATH finds the project as an install would.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    term = Terminal(command, folder, env)
    try:
        drawn, settled = term.until(LOBBY_MARKS, 0)
        mark = len(term.raw)
        sent = term.send(F1)
        help_drawn, help_settled = term.until((HELP_MARK,), mark)
        mark = len(term.raw)
        term.send(F1)  # closes the help: Ctrl+Q does nothing while it is open
        term.until((b"Seat",), mark, 5)
        quit_sent = term.send(CTRL_Q)
        quit_s = term.wait_exit() - quit_sent
    finally:
        term.close()
    return {
        "lobby_s": settled - term.started,
        "lobby_drawn_s": drawn - term.started,
        "f1_drawn_s": help_drawn - sent,
        "f1_settled_s": help_settled - sent,
        "quit_s": quit_s,
    }


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 3)


def starts() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one_start(folder, shim=True)  # untimed: warm caches, and which modules got imported
        modules = (folder / "modules.txt").read_text()
        runs = [one_start(folder, shim=False) for _ in range(STARTS)]
    lobby = [run["lobby_s"] for run in runs]
    return {
        "runs": STARTS,
        "lobby_min_s": round(min(lobby), 3),
        "lobby_median_s": round(statistics.median(lobby), 3),
        "lobby_max_s": round(max(lobby), 3),
        "ratio_median_to_target": round(statistics.median(lobby) / START_TARGET_S, 2),
        "lobby_first_drawn_median_s": median_of(runs, "lobby_drawn_s"),
        "f1_to_help_drawn_median_ms": round(median_of(runs, "f1_drawn_s") * 1000, 1),
        "f1_to_help_settled_median_ms": round(median_of(runs, "f1_settled_s") * 1000, 1),
        "ctrl_q_to_exit_median_s": median_of(runs, "quit_s"),
        "litellm_imported": modules != "none",
    }


# -- 2. key to screen while LLM seats think ----------------------------------------------------


class ServerProcess:
    """`python -m arena.llm.fake_server` on a free port, for the length of a `with`."""

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "arena.llm.fake_server", "--port", "0"]
        command += ["--latency", str(LATENCY_S), "--seed", "1"]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()


class Frames:
    """Wraps the app's `_display`: every frame is encoded as a terminal would be sent it, timed,
    and then (outside the time) checked against the predicate of the key in flight."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.count = 0
        self.check: Callable[[list[str]], bool] | None = None
        self.shown_at: float | None = None
        self.shown = asyncio.Event()
        original = app._display
        console = app.console

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(console)  # the escape sequences a terminal gets
            now = time.perf_counter()
            self.count += 1
            if self.check is not None and screen is app.screen and self.check(lines(screen)):
                self.check = None
                self.shown_at = now
                self.shown.set()

        app._display = display

    async def time_key(
        self, key: str, check: Callable[[list[str]], bool], interval_s: float
    ) -> float | None:
        """Seconds from posting `key` to the end of the first frame showing its effect (None:
        not shown within KEY_TIMEOUT_S); the next key comes no sooner than `interval_s` after
        this one was posted."""
        from textual import events

        self.shown.clear()
        self.shown_at = None
        self.check = check
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(self.app)
        posted = time.perf_counter()
        self.app._driver.send_message(event)
        try:
            await asyncio.wait_for(self.shown.wait(), KEY_TIMEOUT_S)
        except TimeoutError:
            self.check = None
            return None
        finally:
            await asyncio.sleep(max(0.0, posted + interval_s - time.perf_counter()))
        assert self.shown_at is not None
        return self.shown_at - posted


def lines(screen: Any) -> list[str]:
    return [strip.text for strip in screen._compositor.render_strips()]


def expectation(screen: Any, key: str) -> Callable[[list[str]], bool] | None:
    """What the screen must show once `key` has been handled; None if the key would do nothing
    visible now (then another is sent)."""
    from arena.tui.liars_bar import Card, LiarsBarBoard
    from arena.tui.secret_panel import SecretPanel

    board = screen.query_one(LiarsBarBoard)
    if key in ("1", "2"):
        index = int(key) - 1
        cards = [card for card in screen.query(Card) if card.index == index]
        if not cards or index >= len(board.hand):
            return None
        corner = "┏" if index not in board.picked else "╭"
        card = cards[0]

        def card_shown(rows: list[str]) -> bool:
            try:
                region = card.region
                return bool(region) and rows[region.y][region.x] == corner
            except Exception:  # the card was taken away: a new hand (that key is discarded)
                return False

        return card_shown
    if key == "f8":
        observing = not screen.observer_view

        def observer_shown(rows: list[str]) -> bool:
            status = "OBSERVER VIEW" in rows[0]
            mine = any("(you)" in row for row in rows[1:])  # the seat boxes name "You (you)"
            return status == observing and mine != observing

        return observer_shown
    if key == "f2":
        opening = not screen.query_one(SecretPanel).display
        if opening and screen.perspective is None and not screen.observer_view:
            return None

        def panel_shown(rows: list[str]) -> bool:
            text = "\n".join(rows)
            return ("only you see this" in text or "Every secret" in text) == opening

        return panel_shown
    raise ValueError(key)


def percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[math.ceil(0.95 * len(ms)) - 1], 1),  # nearest rank
        "max_ms": round(ms[-1], 1),
    }


def summary(samples: list[tuple[str, float]], lost: int) -> dict[str, Any]:
    """Figures over (key, seconds) samples, also per key."""
    if not samples:
        return {"keys": 0, "lost": lost}
    by_key: dict[str, list[float]] = {}
    for key, took in samples:
        by_key.setdefault(key, []).append(took * 1000)
    return {
        "keys": len(samples),
        "lost": lost,
        **percentiles([took * 1000 for _, took in samples]),
        "by_key": {key: {"keys": len(ms), **percentiles(ms)} for key, ms in by_key.items()},
    }


async def play_my_turn(pilot: Any, screen: Any) -> None:
    """The human's move, unmeasured: accept a claim, or play the first card."""
    from arena.tui.liars_bar import LiarsBarBoard

    ask = screen.table.desk.waiting(0)
    if ask is None:
        return
    if ask.request.kind != "play":
        await pilot.press("a")
        return
    board = screen.query_one(LiarsBarBoard)
    if not board.picked:
        await pilot.press("1")
    await pilot.press("p")


class Keys:
    """Sends the key cycle to the table screen and keeps what it measured."""

    def __init__(self, pilot: Any, frames: Frames, screen: Any) -> None:
        self.pilot = pilot
        self.frames = frames
        self.screen = screen
        self.table = screen.table
        self.step = 0
        self.seats: set[int] = set()
        self.at_once = 0
        self.ended_meanwhile = 0
        self.human_moves = 0
        self.discarded = 0

    async def while_thinking(self, count: int, interval_s: float) -> dict[str, Any]:
        """`count` keys, each sent while an LLM seat is thinking; the human plays when it is
        their turn. Stops early if the match ends."""
        samples: list[tuple[str, float]] = []
        lost = 0
        table, screen = self.table, self.screen
        while len(samples) + lost < count:
            if screen.app.screen is not screen or table.finished:
                break  # the match ended: the report shows fewer keys
            if not table.thinking:
                if table.desk.waiting(0) is not None:
                    await play_my_turn(self.pilot, screen)
                    self.human_moves += 1
                    await asyncio.sleep(0.2)  # the desk takes the move; the next seat starts
                await asyncio.sleep(0.01)
                continue
            self.seats |= table.thinking
            self.at_once = max(self.at_once, len(table.thinking))
            key, took = await self.one(interval_s)
            if key is None:
                continue
            if not table.thinking:
                self.ended_meanwhile += 1
            if took is None:
                lost += 1
            else:
                samples.append((key, took))
        return summary(samples, lost)

    async def one(self, interval_s: float) -> tuple[str | None, float | None]:
        """The next key of the cycle and its time (None: lost); no key if it would show nothing
        now, or if a new hand was dealt meanwhile (then its cards are not the ones timed)."""
        from arena.tui.liars_bar import LiarsBarBoard

        key = CYCLE[self.step % len(CYCLE)]
        self.step += 1
        check = expectation(self.screen, key)
        if check is None:
            return None, None
        board = self.screen.query_one(LiarsBarBoard)
        hand = board.hand
        took = await self.frames.time_key(key, check, interval_s)
        if board.hand != hand:
            self.discarded += 1
            return None, None
        return key, took


async def keys_at_table(folder: Path, base_url: str) -> dict[str, Any]:
    from arena.table import TableSpec, save_last_table
    from arena.tui.app import ArenaApp
    from arena.tui.lobby import LobbyScreen
    from arena.tui.table_screen import TableScreen

    config = folder / "arena.toml"
    config.write_text(
        f'[models.fake]\nmodel = "openai/fake"\napi_base = "{base_url}"\n'
        "timeout_s = 60\nretries = 0\n"
    )
    seats = ["human:You", "llm:fake", "llm:fake", "llm:fake"]
    save_last_table(folder, TableSpec(game="liars-bar", preset="classic", seats=seats, seed=SEED))
    app = ArenaApp(folder / "arena.db", config=config, pace_s=0.6, suspense_s=1.5)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LobbyScreen), app.screen
        frames = Frames(app)
        pressed = time.perf_counter()
        await pilot.press("enter")
        while not isinstance(app.screen, TableScreen):
            await asyncio.sleep(0.005)
        to_table = time.perf_counter() - pressed
        keys = Keys(pilot, frames, app.screen)
        table = keys.table
        loading: list[tuple[str, float]] = []
        lost_loading = 0
        while not table.thinking and len(loading) + lost_loading < WARMUP_KEYS:
            key, took = await keys.one(KEY_INTERVAL_S)
            if key is not None and took is None:
                lost_loading += 1
            elif key is not None and took is not None:
                loading.append((key, took))
        while not table.thinking:
            if table.finished:
                raise RuntimeError("the match ended before any LLM seat thought")
            await asyncio.sleep(0.005)
        to_thinking = time.perf_counter() - pressed
        keys.step = 0
        frames_before = frames.count
        started = time.perf_counter()
        paced = await keys.while_thinking(KEYS, KEY_INTERVAL_S)
        wall = time.perf_counter() - started
        frames_drawn = frames.count - frames_before
        burst = await keys.while_thinking(BURST_KEYS, 0.0)
        decisions = len(table.record.decisions)
    return {
        "latency_s_per_call": LATENCY_S,
        "enter_to_table_s": round(to_table, 3),
        "enter_to_first_thinking_s": round(to_thinking, 2),
        "while_thinking": paced,
        "while_thinking_wall_s": round(wall, 2),
        "while_thinking_frames": frames_drawn,
        "back_to_back_while_thinking": burst,
        "during_litellm_load": summary(loading, lost_loading),
        "thinking_ended_during_a_key": keys.ended_meanwhile,
        "llm_seats_that_thought": sorted(keys.seats),
        "most_seats_thinking_at_once": keys.at_once,
        "human_moves_made": keys.human_moves,
        "keys_discarded_new_hand": keys.discarded,
        "match_decisions_by_the_end": decisions,
    }


def ms_figures(figures: dict[str, Any]) -> str:
    if not figures["keys"]:
        return "no keys"
    return f"p50 {figures['p50_ms']} · p95 {figures['p95_ms']} · max {figures['max_ms']} ms"


def main() -> None:
    start = starts()
    with ServerProcess() as server, tempfile.TemporaryDirectory() as tmp:
        keys = asyncio.run(keys_at_table(Path(tmp), server.base_url))
    thinking = keys["while_thinking"]
    ratio = round(thinking["p95_ms"] / KEY_TARGET_MS, 2) if thinking["keys"] else None
    keys["ratio_p95_to_target"] = ratio
    load = keys["during_litellm_load"]
    burst = keys["back_to_back_while_thinking"]
    rows = [
        ("start → lobby settled, min / median",
         f"{start['lobby_min_s']:.3f} / {start['lobby_median_s']:.3f} s",
         f"{start['ratio_median_to_target']} of the 1 s target"),
        ("start → lobby first drawn, median", f"{start['lobby_first_drawn_median_s']:.3f} s", ""),
        ("litellm imported by `arena play`", str(start["litellm_imported"]), "must be False"),
        ("F1 → help drawn / settled, median",
         f"{start['f1_to_help_drawn_median_ms']} / {start['f1_to_help_settled_median_ms']} ms",
         f"Ctrl+Q → exited {start['ctrl_q_to_exit_median_s']:.3f} s"),
        (f"key → screen, LLM thinking ({thinking['keys']} keys)", ms_figures(thinking),
         f"p95 {ratio} of the 50 ms target"),
        (f"key → screen, back to back ({burst['keys']} keys)", ms_figures(burst),
         "the same, no pause between keys"),
        (f"key → screen, litellm loading ({load['keys']} keys)", ms_figures(load),
         f"Enter → first thinking {keys['enter_to_first_thinking_s']} s"),
        ("LLM seats that thought / at once",
         f"{keys['llm_seats_that_thought']} / {keys['most_seats_thinking_at_once']}",
         f"thinking ended during a key {keys['thinking_ended_during_a_key']}, keys lost "
         f"{thinking['lost'] + burst['lost'] + load['lost']}"),
    ]  # fmt: skip
    width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    print("python bench/tui.py")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:<{value_width}}  {note}".rstrip())
    print(json.dumps({"start": start, "keys": keys}))


if __name__ == "__main__":
    main()
