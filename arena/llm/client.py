"""The one place litellm is called: lazily imported, bounded per model, and every outcome a value.

A call never raises for what a provider does (timeouts, HTTP errors, rate limits, empty answers):
it returns a `CallResult` saying what happened, so the player can record it and fall back. Keys are
passed from the environment and scrubbed from every error message before it leaves this module.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arena.llm.config import ModelSettings, api_key

_lock = threading.Lock()
_litellm: Any = None
# A call's hard limit beyond litellm's own timeout and retries, so a stuck connection cannot hang
# a match: each try may take timeout_s, plus this margin for backoff.
HANG_MARGIN_S = 5.0


def load_litellm() -> Any:
    """Import litellm once, offline (no price-map fetch) and quiet. Takes seconds: call it from a
    thread or before an event loop starts, never on a UI's loop."""
    global _litellm
    with _lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            _litellm = litellm
    return _litellm


@dataclass(frozen=True)
class CallResult:
    """What one request to a model gave."""

    raw: str | None  # the answer text; None when the call failed
    prompt_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None
    cost_usd: float | None  # None where litellm does not know the model's price
    latency_ms: float
    error_class: str | None  # e.g. Timeout, RateLimitError, InternalServerError
    error: str | None  # the provider's message, keys removed


# OpenAI-compatible servers of one's own (vLLM, LM Studio, the fake server) ignore the key, but
# the OpenAI client refuses to send a request without one.
PLACEHOLDER_KEY = "no-key"


def local_without_key(settings: ModelSettings) -> bool:
    """An `openai/` model at an `api_base` with no key configured or in OPENAI_API_KEY."""
    return (
        settings.api_base is not None
        and settings.api_key_env is None
        and settings.model.startswith("openai/")
        and not os.environ.get("OPENAI_API_KEY")
    )


def secrets(settings: ModelSettings) -> list[str]:
    """Values that must never be stored: the configured key and anything that looks like a key
    in the environment."""
    found = []
    for name, value in os.environ.items():
        upper = name.upper()
        is_named = name == settings.api_key_env
        if len(value) >= 8 and (is_named or upper.endswith(("_KEY", "_TOKEN", "_SECRET"))):
            found.append(value)
    return sorted(found, key=len, reverse=True)


def redact(text: str, settings: ModelSettings) -> str:
    for value in secrets(settings):
        text = text.replace(value, "[redacted]")
    return text


class LLMClient:
    """Calls models with a per-alias concurrency limit. One client per event loop."""

    def __init__(self) -> None:
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._schema_support: dict[str, bool] = {}
        self._unpriced: set[str] = set()  # models litellm has no price for: not asked again

    def wants_schema(self, settings: ModelSettings) -> bool:
        """Ask for JSON-schema output? `on`/`off` as configured; `auto` asks litellm."""
        if settings.response_schema != "auto":
            return settings.response_schema == "on"
        known = self._schema_support.get(settings.model)
        if known is None:
            try:
                known = bool(load_litellm().supports_response_schema(model=settings.model))
            except Exception:  # unknown model or provider: extract JSON from text instead
                known = False
            self._schema_support[settings.model] = known
        return known

    async def complete(
        self,
        alias: str,
        settings: ModelSettings,
        messages: Sequence[dict[str, str]],
        schema: dict[str, Any] | None,
    ) -> CallResult:
        limit = self._limits.setdefault(alias, asyncio.Semaphore(settings.concurrency))
        async with limit:
            return await self._call(settings, messages, schema)

    async def _call(
        self,
        settings: ModelSettings,
        messages: Sequence[dict[str, str]],
        schema: dict[str, Any] | None,
    ) -> CallResult:
        litellm = load_litellm()
        kwargs: dict[str, Any] = {
            **settings.params,
            "model": settings.model,
            "messages": list(messages),
            "timeout": settings.timeout_s,
            "num_retries": settings.retries,
        }
        if settings.temperature is not None:
            kwargs["temperature"] = settings.temperature
        if settings.max_tokens is not None:
            kwargs["max_tokens"] = settings.max_tokens
        if settings.api_base is not None:
            kwargs["api_base"] = settings.api_base
        if schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema},
            }
        started = time.perf_counter()
        limit_s = settings.timeout_s * (settings.retries + 1) + HANG_MARGIN_S
        try:
            kwargs_with_key = dict(kwargs)
            key = api_key(settings)
            if key is None and local_without_key(settings):
                key = PLACEHOLDER_KEY
            if key is not None:
                kwargs_with_key["api_key"] = key
            response = await asyncio.wait_for(litellm.acompletion(**kwargs_with_key), limit_s)
        except Exception as error:  # every provider failure is an outcome to record
            elapsed = (time.perf_counter() - started) * 1000
            name = "Timeout" if isinstance(error, TimeoutError) else type(error).__name__
            message = redact(str(error) or name, settings)[:2000]
            return CallResult(None, None, None, None, None, elapsed, name, message)
        elapsed = (time.perf_counter() - started) * 1000
        choice = response.choices[0] if response.choices else None
        raw = (choice.message.content if choice is not None else None) or ""
        usage = getattr(response, "usage", None)
        details = getattr(usage, "completion_tokens_details", None)
        cost: float | None = None
        if settings.model not in self._unpriced:
            try:
                cost = float(litellm.completion_cost(completion_response=response))
            except Exception:  # litellm raises for models it has no price for
                self._unpriced.add(settings.model)
        return CallResult(
            raw=raw,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            reasoning_tokens=getattr(details, "reasoning_tokens", None),
            cost_usd=cost,
            latency_ms=elapsed,
            error_class=None,
            error=None,
        )
