"""`arena run` with LLM seats and `arena models`, as a user meets them, against the fake server."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from arena.llm.fake_server import FakeOpenAI
from tests.support import arena_process, read_only


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(seed=5) as fake:
        yield fake


def test_run_with_llm_seats_from_the_command_line(cli, server: FakeOpenAI, tmp_path: Path) -> None:
    result = cli(
        "run", "--game", "cleanup", "--matches", "2", "--set", "max_steps=4",
        "--seat", "llm:openai/fake", "--seat", "llm:openai/fake",
        "--seat", "bot:harvester", "--seat", "bot:random",
        "--api-base", server.base_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "openai/fake-1" in result.stdout and "harvester" in result.stdout
    with read_only(tmp_path / "saves" / "arena.db") as conn:
        (calls,) = conn.execute("SELECT count(*) FROM llm_calls WHERE valid = 1").fetchone()
        (llm_decisions,) = conn.execute(
            "SELECT count(*) FROM decisions d JOIN seats s"
            " ON s.match_id = d.match_id AND s.seat = d.seat WHERE s.kind = 'llm'"
        ).fetchone()
        params = json.loads(conn.execute("SELECT params FROM seats WHERE seat = 0").fetchone()[0])
    assert calls == llm_decisions == 2 * 4 * 2  # matches × steps × LLM seats
    assert params["api_base"] == server.base_url


def test_run_with_aliases_from_a_config_file(cli, server: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "arena.toml").write_text(
        f'[defaults]\napi_base = "{server.base_url}"\ntimeout_s = 5\n\n'
        '[models.steady]\nmodel = "openai/fake"\nmemory = "summary"\nreflection = true\n\n'
        '[models.broken]\nmodel = "openai/fake-500"\nretries = 0\n'
    )
    args = ["run", "--matches", "1", "--set", "max_rounds=3",
            "--seat", "llm:steady", "--seat", "llm:broken", "--seat", "bot:counter"]  # fmt: skip
    # A model that does not answer stops the run before anything is written...
    refused = cli(*args)
    assert refused.exit_code == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: no answer from broken (openai/fake-500) at http://127.0.0.1:")
    assert "InternalServerError" in line and "steady" not in line
    assert not (tmp_path / "saves").exists()
    # ...unless asked not to check: then the summary says how often each LLM fell back, and why.
    result = cli(*args, "--no-check-models")
    assert result.exit_code == 0, result.output
    broken_line = re.search(r"seat 1 broken \(openai/fake-500\): (\d+) decisions, (\d+) fallbacks "
                            r"\(100%\) · InternalServerError ×(\d+)", result.stdout)  # fmt: skip
    assert broken_line is not None, result.stdout
    assert broken_line[1] == broken_line[2] == broken_line[3]
    assert re.search(r"seat 0 steady \(openai/fake\): \d+ decisions, 0 fallbacks", result.stdout)
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("warning: seat 1 openai/fake-500 fell back on 100% of its decisions")
    with read_only(tmp_path / "saves" / "arena.db") as conn:
        by_seat = dict(
            conn.execute(
                "SELECT seat, group_concat(DISTINCT source) FROM decisions GROUP BY seat"
            ).fetchall()
        )
        reflections = conn.execute(
            "SELECT count(*), sum(valid) FROM llm_calls WHERE purpose = 'reflection'"
        ).fetchone()
        broken = conn.execute("SELECT DISTINCT error_class FROM llm_calls WHERE seat = 1")
        broken_classes = [c for (c,) in broken]
    assert by_seat == {0: "player", 1: "fallback", 2: "player"}
    assert broken_classes == ["InternalServerError"]
    # the steady seat reflected after each finished round it saw, and the answers were usable
    assert reflections[0] >= 1 and reflections[0] == reflections[1]


def test_models_lists_aliases_and_checks_each(cli, server: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "arena.toml").write_text(
        f'[defaults]\napi_base = "{server.base_url}"\n\n'
        '[models.good]\nmodel = "openai/fake"\n\n'
        '[models.down]\nmodel = "openai/fake-500"\n'
    )
    result = cli("models", "--timeout", "5")
    assert result.exit_code == 1  # one alias does not answer
    assert "good: ok (" in result.stdout
    assert "down: InternalServerError" in result.stdout
    listed = cli("models", "--no-check")
    assert listed.exit_code == 0
    assert "openai/fake-500" in listed.stdout and "down:" not in listed.stdout


def test_models_without_aliases_says_where_it_looked(cli) -> None:
    result = cli("models")
    assert result.exit_code == 2
    assert "no model aliases" in result.stderr


def test_an_alias_can_use_its_own_templates(cli, server: FakeOpenAI, tmp_path: Path) -> None:
    """`templates` is a folder relative to the configuration file (not to where arena runs)."""
    mine = tmp_path / "conf" / "mine" / "cleanup"
    mine.mkdir(parents=True)
    packaged = Path(__file__).resolve().parent.parent / "arena/llm/templates/cleanup/system.txt"
    (mine / "system.txt").write_text("HOUSE RULES FIRST.\n" + packaged.read_text())
    config = tmp_path / "conf" / "models.toml"
    config.write_text(
        f'[models.house]\nmodel = "openai/fake"\napi_base = "{server.base_url}"\n'
        'templates = "mine"\n'
    )
    args = ["run", "--config", str(config), "--game", "cleanup", "--matches", "1"]
    args += ["--set", "max_steps=2"]
    seats = ["--seat", "llm:house", "--seat", "bot:cleaner", "--seat", "bot:zapper"]
    result = cli(*args, *seats, "--seat", "bot:random")
    assert result.exit_code == 0, result.output
    with read_only(tmp_path / "saves" / "arena.db") as conn:
        (messages,) = conn.execute("SELECT messages FROM llm_calls LIMIT 1").fetchone()
    assert json.loads(messages)[0]["content"].startswith("HOUSE RULES FIRST.")

    (mine / "system.txt").write_text("You are $nobody.\n")
    again = cli(*args, "--seed", "2", *seats, "--seat", "bot:random")
    assert again.exit_code == 2
    assert "system.txt" in again.stderr and "$nobody" in again.stderr

    # a decision template is checked too, before anything is written
    (mine / "system.txt").unlink()
    (mine / "decision_act.txt").write_text("Step $step. $mood\n")
    third = cli(*args, "--seed", "3", *seats, "--seat", "bot:random")
    assert third.exit_code == 2
    assert "decision_act.txt" in third.stderr and "$mood" in third.stderr
    with read_only(tmp_path / "saves" / "arena.db") as conn:
        assert conn.execute("SELECT count(*) FROM matches").fetchone() == (1,)


def gateway_pids() -> set[int]:
    pids = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"arena.llm.gateway" in cmdline.read_bytes().split(b"\0"):
                pids.add(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
@pytest.mark.parametrize("check", [False, True])
def test_ctrl_c_stops_an_llm_batch_and_its_gateways(tmp_path: Path, check: bool) -> None:
    """Calls in flight (a model that answers in an hour) do not hold up Ctrl-C, during the
    batch or during the check of the models before it (then nothing is written)."""
    before = gateway_pids()
    db = tmp_path / "c.db"
    with FakeOpenAI(slow_s=3600) as fake:
        proc = arena_process(
            "run", "--game", "cleanup", "--db", str(db),
            "--seat", "llm:openai/fake-slow", "--seat", "llm:openai/fake",
            "--seat", "bot:harvester", "--seat", "bot:random", "--api-base", fake.base_url,
            "--check-models" if check else "--no-check-models", new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not fake.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.requests, "the batch must have called the model"
        ours = gateway_pids() - before
        assert ours
        os.killpg(proc.pid, signal.SIGINT)
        # Waiting for the call would take an hour: this only guards against a hang.
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    if check:
        assert "interrupted while asking the models: nothing was written" in stderr
        assert not db.exists()
    else:
        assert "interrupted: rerun the same command" in stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 60
    while ours & gateway_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not ours & gateway_pids()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_killed_llm_batch_resumes_without_duplicate_calls(tmp_path: Path) -> None:
    """SIGKILL mid-match, rerun: every match finishes once, every decision has its calls, and no
    call row is written twice."""
    db = tmp_path / "k.db"
    with FakeOpenAI(latency_s=0.02, slow_s=0.3) as fake:
        # fake-mixed fails some calls on purpose, so it could fail the check of the models
        args = ["run", "--matches", "3", "--concurrency", "3", "--db", str(db),
                "--set", "max_rounds=4", "--seat",
                "llm:openai/fake", "--seat", "llm:openai/fake-mixed", "--seat", "bot:counter",
                "--api-base", fake.base_url, "--no-check-models"]  # fmt: skip
        proc = arena_process(*args, new_session=True)
        deadline = time.monotonic() + 60
        while len(fake.requests) < 25 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: player, writer and gateways
        proc.communicate()
        with read_only(db) as conn:
            unfinished = conn.execute("SELECT count(*) FROM matches WHERE status = 'running'")
            assert unfinished.fetchone()[0] > 0, "the kill must land mid-batch"
        rerun = arena_process(*args)
        _, stderr = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, stderr
    with read_only(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        statuses = conn.execute("SELECT status, count(*) FROM matches GROUP BY 1").fetchall()
        assert statuses == [("finished", 3)]
        orphans = conn.execute(
            "SELECT count(*) FROM llm_calls c LEFT JOIN decisions d"
            " ON d.match_id = c.match_id AND d.seq = c.decision_seq WHERE d.seq IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        unasked = conn.execute(
            "SELECT count(*) FROM decisions d JOIN seats s"
            " ON s.match_id = d.match_id AND s.seat = d.seat"
            " WHERE s.kind = 'llm' AND NOT EXISTS (SELECT 1 FROM llm_calls c"
            " WHERE c.match_id = d.match_id AND c.decision_seq = d.seq)"
        ).fetchone()[0]
        assert unasked == 0


def test_an_llm_batch_whose_gateway_cannot_load_litellm_stops_cleanly(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    (broken / "litellm").mkdir(parents=True)
    (broken / "litellm" / "__init__.py").write_text('raise ImportError("litellm is broken here")\n')
    db = tmp_path / "never.db"
    proc = arena_process(
        "run", "--seat", "llm:openai/fake", "--seat", "bot:counter",
        "--api-base", "http://127.0.0.1:9/v1", "--db", str(db),
        env={"PYTHONPATH": str(broken)},
    )  # fmt: skip
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "LLM gateway" in lines[0] and "litellm is broken here" in lines[0]
    assert not db.exists()  # the models are checked before the file is made


def test_litellm_printing_to_stdout_does_not_garble_the_gateway(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    """litellm can print (here: its logging payload, asked for by an environment variable);
    the gateway's replies travel on a private descriptor, so the batch is unaffected."""
    db = tmp_path / "print.db"
    proc = arena_process(
        "run", "--game", "cleanup", "--matches", "1", "--set", "max_steps=2", "--db", str(db),
        "--seat", "llm:openai/fake", "--seat", "llm:openai/fake",
        "--seat", "bot:harvester", "--seat", "bot:random", "--api-base", server.base_url,
        env={"LITELLM_PRINT_STANDARD_LOGGING_PAYLOAD": "1"},
    )  # fmt: skip
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    with read_only(db) as conn:
        assert conn.execute("SELECT count(*), sum(valid) FROM llm_calls").fetchone() == (4, 4)


def test_the_demo_checks_its_models_before_anything_is_written(
    cli, server: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "demo.db"
    refused = cli("demo", "observability", "openai/fake-401", "--api-base", server.base_url,
                  "--matches", "2", "--db", str(db))  # fmt: skip
    assert refused.exit_code == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: no answer from openai/fake-401 at http://127.0.0.1:")
    assert "AuthenticationError" in line
    assert not db.exists()
