"""`arena models --check`: ask every alias for a one-word reply, concurrently, with a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from arena.llm.client import LLMClient
from arena.llm.config import ModelSettings
from arena.llm.gateway import warm_up

PROBE = [{"role": "user", "content": "Reply with the single word OK."}]


async def probe(client: LLMClient, settings: ModelSettings, timeout_s: float) -> str:
    """ "ok (N ms)" or "ErrorClass: message" for one model."""
    quick = settings.model_copy(
        update={"timeout_s": timeout_s, "retries": 0, "max_tokens": 5, "concurrency": 1}
    )
    result = await client.complete(quick, PROBE, None)
    if result.raw is None:
        return f"{result.error_class}: {(result.error or '').splitlines()[0][:120]}"
    return f"ok ({result.latency_ms:.0f} ms)"


async def probe_all(aliases: Mapping[str, ModelSettings], timeout_s: float) -> dict[str, str]:
    await warm_up()
    client = LLMClient()
    answers = await asyncio.gather(
        *(probe(client, settings, timeout_s) for settings in aliases.values())
    )
    return dict(zip(aliases, answers, strict=True))
