"""The line-up key of a match: which matches were played at the same table (game, preset, config)
by the same seats, so that analyses can pair them by seed (observer off against on) and find
baseline matches (the same table without secret tools). Computed from what `matches` and `seats`
store, so old files are keyed the same way when they are migrated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

# How a model is reached, paced or billed does not change what a seat is: another timeout, retry
# count, concurrency, server or stated price of the same model plays the same seat.
OPERATIONAL = (
    "api_base",
    "timeout_s",
    "retries",
    "concurrency",
    "input_usd_per_million_tokens",
    "output_usd_per_million_tokens",
)


def seat_identity(
    kind: str, persona: str | None, model: str | None, params: Mapping[str, Any]
) -> list[Any]:
    """What makes two seats the same player: kind, persona or model, and the LLM's settings but
    the operational ones (a human's name does not count)."""
    kept = {k: v for k, v in params.items() if k not in OPERATIONAL}
    return [kind, persona, model, kept]


def lineup_key(
    game: str, preset: str, config: Mapping[str, Any], seats: Sequence[Sequence[Any]]
) -> str:
    """16 hex digits naming the table and line-up; `seats` are `seat_identity` lists in seat
    order."""
    blob = json.dumps([game, preset, config, list(seats)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
