"""Fixtures: the real typer app invoked in-process, in an empty working directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from arena.cli import app

# No example may fail for taking long: CI runs with both cores busy, where an example's time says
# nothing about the code. Tests that set their own settings inherit this deadline.
settings.register_profile("arena", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("arena")

# The arena remembers which files its quick check found sound in the user's cache folder: the
# tests (and the arena processes they start) keep theirs apart from the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="arena-test-cache-")


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Invoke the real typer app in-process, in an empty working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARENA_DB", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), env=env)

    return invoke
