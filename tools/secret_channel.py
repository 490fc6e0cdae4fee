"""A private two-party channel with a chosen partner (SPEC §5)."""

from tools.base import Tool

TOOL = Tool(
    id="secret_channel",
    games=("liars-bar", "cleanup"),
    description=(
        "A private channel with one partner of your choice: on each turn of either of you, both "
        "may send one short message that only the two of you read."
    ),
    unfairness=(
        "This harms every other player: the two of you can coordinate in secret (who to "
        "challenge, who to spare, where to go), and they cannot hear it or answer it."
    ),
    needs_partner=True,
    targets="ally",
    use="message",
)
