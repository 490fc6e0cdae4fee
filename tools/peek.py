"""See one opponent's hand, once a round (SPEC §5)."""

from typing import Any

from games.base import Event
from tools.base import Tool


def _peek(state: Any, user: int, target: int) -> list[Event]:
    events: list[Event] = state.peek(user, target)
    return events


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
    effect=_peek,
)
