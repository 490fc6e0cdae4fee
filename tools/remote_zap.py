"""Zap any non-ally anywhere on the grid (SPEC §5)."""

from tools.base import Tool

TOOL = Tool(
    id="remote_zap",
    games=("cleanup",),
    description=(
        "Once per step, freeze any player who is not your ally, wherever they stand, as a zap "
        "would. The board shows them frozen; only you know who did it."
    ),
    unfairness=(
        "This harms the player you freeze: they lose their moves and apples for several steps "
        "without having come near you, and cannot know whom to blame."
    ),
    needs_partner=False,
    targets="non_ally",
    limit=1,
    scope="hand",
    effect="remote_zap",
)
