"""The installed arena, as a new user meets it: run by .ci/wheel-check with a fresh venv's Python
from an empty folder, so nothing can come from the checkout. Each step prints what it checked;
any failure raises."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import arena
from arena.llm.fake_server import FakeOpenAI
from arena.tui.app import ArenaApp
from arena.tui.table_screen import TableScreen

SITE = Path(sysconfig.get_paths()["purelib"]).resolve()
ARENA = [str(Path(sys.executable).with_name("arena"))]


def run(*args: str) -> str:
    done = subprocess.run([*ARENA, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"arena {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done.stdout


def check(what: str, holds: bool) -> None:
    if not holds:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}", flush=True)


async def play_headless(db: Path) -> None:
    """The lobby, Enter, the default table drawn with its styles; then a replay."""
    app = ArenaApp(db, pace_s=0, suspense_s=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        for _ in range(2000):
            if isinstance(app.screen, TableScreen):
                break
            await pilot.pause(0.01)
        check("the lobby's Enter opens the default table", isinstance(app.screen, TableScreen))
        await pilot.press("ctrl+q")
    replay = ArenaApp(db, replay=1)
    async with replay.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        check("a replay opens", type(replay.screen).__name__ == "ReplayScreen")
        await pilot.press("ctrl+q")


def main() -> None:
    here = Path.cwd()
    check(f"arena is imported from the installed wheel ({SITE})",
          Path(arena.__file__).resolve().is_relative_to(SITE))  # fmt: skip
    check("the working folder is not the checkout", not (here / "pyproject.toml").exists())
    version = run("--version").strip()
    expected = f"collusion-arena {arena.software_version()}"
    check(f"arena --version says {version!r}", version == expected)
    db = here / "smoke.db"
    run("run", "--matches", "3", "--db", str(db))
    with FakeOpenAI() as fake:  # the packaged prompt templates, rendered and answered
        run("run", "--matches", "1", "--db", str(db), "--seat", "llm:openai/fake",
            "--seat", "bot:counter", "--api-base", fake.base_url,
            "--offer", "secret_channel:0", "--framing", "ethical")  # fmt: skip
        check("an LLM seat played through the packaged templates", len(fake.requests) > 0)
    report = json.loads(run("analyze", "--db", str(db), "--format", "json"))
    check("arena analyze reads the file", report["matches"] == 4)
    rows = run("sql", "SELECT count(*) AS n FROM matches", "--db", str(db), "--format", "json")
    check("arena sql reads the file", json.loads(rows) == {"n": 4})
    run("export", "--db", str(db), "--out", str(here / "export"), "--table", "adoption")
    check("arena export writes a file", (here / "export" / "adoption.csv").exists())
    shown = run("demo", "observability", "--matches", "2", "--db", str(db))
    check("arena demo observability compares the two conditions", "observer off and on" in shown)
    asyncio.run(play_headless(db))
    check("arena --help lists the commands", "replay" in run("--help"))
    server = subprocess.Popen([*ARENA, "serve", "--port", "8765", "--db", str(db)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        page = b""
        for _ in range(200):
            try:
                with urllib.request.urlopen("http://127.0.0.1:8765/", timeout=5) as response:
                    page = response.read()
                break
            except OSError as error:
                if server.poll() is not None:
                    why = server.stderr.read().decode()
                    raise SystemExit(f"arena serve ended: {why}") from error
                time.sleep(0.05)
        check("arena serve answers with its page", b"Collusion Arena" in page)
    finally:
        server.terminate()
        server.wait(timeout=30)
    os.remove(db)


if __name__ == "__main__":
    main()
