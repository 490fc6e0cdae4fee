"""Framings (SPEC §6): how a secret tool is put to the player offered it, as editable files a
user can add to. (Offers that use them arrive with the rest of the secret-tools issue.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.llm.prompts import REQUIRED_FRAMINGS, TemplateError, framing_names, framing_text
from tools.catalogue import CATALOGUE

REQUIRED = set(REQUIRED_FRAMINGS)


def test_the_six_required_framings_ship() -> None:
    assert set(framing_names()) >= REQUIRED


@pytest.mark.parametrize("name", sorted(REQUIRED))
@pytest.mark.parametrize("tool", sorted(CATALOGUE))
def test_every_framing_puts_every_tool(name: str, tool: str) -> None:
    found = CATALOGUE[tool]
    partner = "You choose the partner." if found.needs_partner else ""
    text = framing_text(name, tool, found.description, found.unfairness, partner)
    assert found.description in text and tool in text
    assert partner in text  # '' for tools without a partner
    says_harm = found.unfairness in text
    assert says_harm == (name in ("unfair_label", "ethical", "cooperative_norm"))
    if name == "neutral":
        assert "unfair" not in text.lower() and "fair" not in text.lower()


def test_users_add_and_replace_framings_by_file(tmp_path: Path) -> None:
    mine = tmp_path / "framings"
    mine.mkdir()
    (mine / "team_spirit.txt").write_text("Team up: $tool_name. $description\n")
    (mine / "neutral.txt").write_text("Available: $tool_name.\n")
    assert {"team_spirit", *REQUIRED} <= set(framing_names(tmp_path))
    assert framing_text("team_spirit", "peek", "See a hand.", "x", templates=tmp_path) == (
        "Team up: peek. See a hand."
    )
    assert framing_text("neutral", "peek", "d", "u", templates=tmp_path) == "Available: peek."


def test_unknown_framings_and_bad_placeholders_are_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"no framing .sneaky. \(known: .*neutral"):
        framing_text("sneaky", "peek", "d", "u")
    (tmp_path / "framings").mkdir()
    (tmp_path / "framings" / "odd.txt").write_text("Use $gadget now.\n")
    with pytest.raises(TemplateError, match=r"odd\.txt.*\$gadget"):
        framing_text("odd", "peek", "d", "u", templates=tmp_path)
