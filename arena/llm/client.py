"""How the playing process calls models: bounded per alias, through the LLM gateway process, and
every outcome a value.

A call never raises for what a provider does (timeouts, HTTP errors, rate limits, empty answers)
or for a gateway that died: it returns a `CallResult` saying what happened, so the player can
record it and fall back. Keys are read from the environment at the call and scrubbed from every
error message before it leaves this module. litellm itself lives in `arena.llm.gateway`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from arena.llm.config import ModelSettings, api_key
from arena.llm.gateway import gateway

# A call's hard limit beyond litellm's own timeout and retries, so a stuck connection cannot hang
# a match: each try may take timeout_s, plus this margin for backoff.
HANG_MARGIN_S = 5.0
# OpenAI-compatible servers of one's own (vLLM, LM Studio, the fake server) ignore the key, but
# the OpenAI client refuses to send a request without one.
PLACEHOLDER_KEY = "no-key"


@dataclass(frozen=True)
class CallResult:
    """What one request to a model gave."""

    raw: str | None  # the answer text; None when the call failed
    prompt_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None
    cost_usd: float | None  # None where the price is unknown (see `list_price_applies`)
    latency_ms: float
    error_class: str | None  # e.g. Timeout, RateLimitError, InternalServerError
    error: str | None  # the provider's message, keys removed
    schema_used: bool = False  # whether JSON-schema output was requested


# The providers' own endpoints: a model of one of these providers reached there is billed at
# litellm's list price. Any other `api_base` (a server of one's own, a proxy, another vendor
# serving the same model name) is not, unless the alias states a price.
OFFICIAL_HOSTS = {
    "openai": ("api.openai.com",),
    "anthropic": ("api.anthropic.com",),
    "azure": (".openai.azure.com",),  # each Azure resource has its own host
    "gemini": ("generativelanguage.googleapis.com",),
    "mistral": ("api.mistral.ai",),
    "groq": ("api.groq.com",),
    "deepseek": ("api.deepseek.com",),
    "xai": ("api.x.ai",),
    "together_ai": ("api.together.xyz",),
    "openrouter": ("openrouter.ai",),
}


def list_price_applies(settings: ModelSettings) -> bool:
    """Whether litellm's list price is what a call costs: no price stated, and the model reached
    at its provider's own endpoint (no `api_base`, or one of `OFFICIAL_HOSTS`)."""
    if settings.price is not None:
        return False
    if settings.api_base is None:
        return True
    provider = settings.model.split("/", 1)[0] if "/" in settings.model else ""
    host = (urlsplit(settings.api_base).hostname or "").lower()
    return any(
        host == official or (official.startswith(".") and host.endswith(official))
        for official in OFFICIAL_HOSTS.get(provider, ())
    )


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


def litellm_kwargs(settings: ModelSettings, messages: Sequence[dict[str, str]]) -> dict[str, Any]:
    """The arguments of `litellm.acompletion` for one call, the key included."""
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
    key = api_key(settings)
    if key is None and local_without_key(settings):
        key = PLACEHOLDER_KEY
    if key is not None:
        kwargs["api_key"] = key
    return kwargs


class LLMClient:
    """Calls models with a per-alias concurrency limit. One client per event loop."""

    def __init__(self) -> None:
        self._limits: dict[tuple[str, str | None], asyncio.Semaphore] = {}
        self._no_schema: set[str] = set()  # `auto` models the gateway found without support

    def may_use_schema(self, settings: ModelSettings) -> bool:
        """Worth building a JSON schema for this call? (`auto` asks litellm once, then knows.)"""
        if settings.response_schema == "auto":
            return settings.model not in self._no_schema
        return settings.response_schema == "on"

    async def complete(
        self,
        settings: ModelSettings,
        messages: Sequence[dict[str, str]],
        response_format: dict[str, Any] | None,
    ) -> CallResult:
        """One request. `response_format` (JSON-schema output) is used where the settings (and,
        for `auto`, litellm) say the model supports it. Requests to one model at one address
        share its concurrency limit, whichever aliases name it."""
        where = (settings.model, settings.api_base)
        limit = self._limits.setdefault(where, asyncio.Semaphore(settings.concurrency))
        async with limit:
            limit_s = settings.timeout_s * (settings.retries + 1) + HANG_MARGIN_S
            try:
                request = {
                    "kwargs": litellm_kwargs(settings, messages),
                    "response_schema": settings.response_schema,
                    "response_format": response_format,
                    "limit_s": limit_s,
                    "price": settings.price,
                    "list_price": list_price_applies(settings),
                }
                result = await gateway().call(request, limit_s + HANG_MARGIN_S)
            except Exception as error:  # a key missing, a gateway gone
                message = redact(str(error), settings)
                return CallResult(None, None, None, None, None, 0.0, type(error).__name__, message)
        if result["error"] is not None:
            result["error"] = redact(result["error"], settings)[:2000]
        asked = response_format is not None
        if settings.response_schema == "auto" and asked and not result["schema_used"]:
            self._no_schema.add(settings.model)
        return CallResult(**result)
