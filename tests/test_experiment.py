"""Offers on the command line and experiment files (SPEC §5, §6, §8): a grid of conditions with
paired seeds, resumable, and the adoption view over both observer conditions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import read_only

GRID = """
name = "pilot"
matches = 3
seed = 50
framings = ["neutral", "win_at_all_costs"]
observers = ["off", "on"]

[[tables]]
game = "liars-bar"
lineups = [["bot:counter", "bot:bluffer", "bot:cautious", "bot:random"]]
offers = ["secret_channel:0", "peek:random@*.2"]

[[tables]]
game = "cleanup"
lineups = [["bot:harvester", "bot:cleaner", "bot:zapper", "bot:random"]]
offers = ["remote_zap:2"]
"""


def test_offers_under_observer_both_fill_the_adoption_view_for_both_conditions(
    cli, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    result = cli(
        "run", "--matches", "6", "--observer", "both", "--offer", "secret_channel:1",
        "--offer", "rig_revolver:random", "--framing", "ethical", "--db", str(db),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "simulated" in result.stdout  # the bots' answers are labelled in the summary
    with read_only(db) as conn:
        offers = conn.execute(
            "SELECT observer, count(*) FROM tool_offers GROUP BY observer ORDER BY observer"
        ).fetchall()
        assert offers == [("off", 12), ("on", 12)]
        rows = conn.execute(
            "SELECT observer, tool, framing, offers, accepted + refused + unclear, simulated"
            " FROM adoption ORDER BY observer, tool"
        ).fetchall()
    assert {row[0] for row in rows} == {"off", "on"}
    for _observer, _tool, framing, offers_made, answered, simulated in rows:
        assert framing == "ethical" and offers_made == answered and simulated == 1
    per_condition = {c: sum(r[3] for r in rows if r[0] == c) for c in ("off", "on")}
    assert per_condition == {"off": 12, "on": 12}


def test_an_experiment_plays_every_cell_on_the_same_seeds_and_resumes(cli, tmp_path: Path) -> None:
    path = tmp_path / "pilot.toml"
    path.write_text(GRID)
    db = tmp_path / "a.db"
    result = cli("run", "--experiment", str(path), "--db", str(db))
    assert result.exit_code == 0, result.output
    with read_only(db) as conn:
        cells = conn.execute(
            "SELECT game, framing, observer, group_concat(seed) FROM"
            " (SELECT * FROM matches ORDER BY seed)"
            " GROUP BY batch ORDER BY game, framing, observer"
        ).fetchall()
        assert len(cells) == 8  # 2 tables × 2 framings × 2 observers
        assert {seeds for *_, seeds in cells} == {"50,51,52"}  # paired by seed
        assert {(g, f, o) for g, f, o, _ in cells} == {
            (g, f, o)
            for g in ("cleanup", "liars-bar")
            for f in ("neutral", "win_at_all_costs")
            for o in ("off", "on")
        }
        (named,) = conn.execute("SELECT DISTINCT experiment FROM matches").fetchone()
        assert named == "pilot"
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    again = cli("run", "--experiment", str(path), "--db", str(db))
    assert again.exit_code == 0, again.output
    assert again.stdout.count("0 new, 0 resumed, 3 already done") == 8
    with read_only(db) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == events


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name = 'x'\nmatches = 2\n[[tables]]\ngame = 'liars-bar'\nlineups = [[", "not valid TOML"),
        ("name = 'x'\nmatches = 2\ncolour = 1\n[[tables]]\ngame = 'cleanup'\nlineups = [[]]",
         "colour: Extra inputs are not permitted"),
        ("name = 'x'\nmatches = 2\n[[tables]]\ngame = 'cleanup'\n"
         "lineups = [['bot:harvester', 'bot:cleaner', 'bot:zapper', 'bot:random']]\n"
         "offers = ['peek:1']", "peek is not a tool of cleanup"),
        ("name = 'x'\nmatches = 2\nframings = ['sneaky']\n[[tables]]\ngame = 'liars-bar'\n"
         "lineups = [['bot:counter', 'bot:random']]\noffers = ['peek:1']", "no framing 'sneaky'"),
        ("name = 'x'\nmatches = 2\nobservers = ['sometimes']\n[[tables]]\ngame = 'liars-bar'\n"
         "lineups = [['bot:counter', 'bot:random']]", "unknown observer condition"),
    ],
)  # fmt: skip
def test_a_bad_experiment_file_is_refused_before_anything_is_written(
    cli, tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    result = cli("run", "--experiment", str(path), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 2, result.output
    assert problem in result.stderr and "bad.toml" in result.stderr
    assert not (tmp_path / "a.db").exists()


def test_batch_flags_cannot_be_combined_with_an_experiment(cli, tmp_path: Path) -> None:
    path = tmp_path / "pilot.toml"
    path.write_text(GRID)
    result = cli("run", "--experiment", str(path), "--seed", "0", "--offer", "peek:1")
    assert result.exit_code == 2
    assert "--seed, --offer cannot be combined with --experiment" in result.stderr


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--offer", "peek"], "offer 'peek' is not TOOL:SEAT"),
        (["--offer", "peek:7"], "seat 7 is not a seat of a 4-seat match"),
        (["--offer", "hack:1"], "no tool 'hack'"),
        (["--grant", "secret_channel:1"], "secret_channel needs a partner"),
        (["--grant", "secret_channel:1+2", "--grant", "secret_channel:2+1"],
         "grant secret_channel:1+2 is given twice"),
        (["--framing", "ethical"], "--framing ethical needs a tool to frame"),
        (["--offer", "peek:1", "--framing", "sly"], "no framing 'sly'"),
        (["--game", "cleanup", "--offer", "rig_revolver:1"],
         "rig_revolver is not a tool of cleanup"),
    ],
)  # fmt: skip
def test_bad_offer_flags_are_refused_with_one_line(
    cli, tmp_path: Path, args: list[str], problem: str
) -> None:
    result = cli("run", *args)
    assert result.exit_code == 2, result.output
    assert problem in result.stderr
    assert list(tmp_path.iterdir()) == []
