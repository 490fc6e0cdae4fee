"""Coaching for two allies, and each other's situation, every turn (SPEC §5)."""

from tools.base import Tool

TOOL = Tool(
    id="alliance_hint",
    games=("liars-bar", "cleanup"),
    description=(
        "You and one partner of your choice are coached each turn on playing as allies (for "
        "example: never challenge your ally, go after the leader) and shown each other's "
        "situation."
    ),
    unfairness=(
        "This harms every other player: two of you play as a team with hidden information "
        "about each other, against players who play alone."
    ),
    needs_partner=True,
    targets="ally",
    use="each_turn",
    effect="alliance_hint",
)
