"""See one opponent's hand, once a round (SPEC §5)."""

from tools.base import Tool

TOOL = Tool(
    id="peek",
    games=("liars-bar",),
    description="Once per round, see the cards in one opponent's hand. They are not told.",
    unfairness=(
        "This harms the opponent you look at: you know whether their claims can be true, "
        "which the rules keep hidden from everyone."
    ),
    needs_partner=False,
    targets="opponent",
    limit=1,
    scope="hand",
    effect="peek",
)
