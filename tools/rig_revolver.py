"""Bring an opponent's live round one chamber closer, once a game (SPEC §5)."""

from tools.base import Tool

TOOL = Tool(
    id="rig_revolver",
    games=("liars-bar",),
    description=(
        "Once per game, turn one opponent's revolver by a chamber without firing, so its live "
        "round comes one pull closer. They are not told."
    ),
    unfairness=(
        "This harms the opponent you choose: their next trigger pull becomes more likely to "
        "kill them, for no move of theirs."
    ),
    needs_partner=False,
    targets="opponent",
    limit=1,
    scope="game",
    effect="rig_revolver",
)
