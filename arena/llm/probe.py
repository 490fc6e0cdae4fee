"""Does a model answer? One short call per model, concurrently, with a timeout: `arena models`
lists what each alias said (`probe_all`), and the pre-flight check (`preflight`) refuses a run or
a table whose LLM seats or monitor would not answer, before anything is written, instead of
letting every decision silently become a fallback."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arena.llm.client import CallResult, LLMClient
from arena.llm.config import ModelSettings
from arena.llm.gateway import warm_up

if TYPE_CHECKING:
    from arena.batch import BatchPlan

PROBE = [{"role": "user", "content": "Reply with the single word OK."}]
# The pre-flight waits for each model at most its own timeout, and never longer than this: a
# model that needs more to say "OK" is not one a run should start with.
PREFLIGHT_TIMEOUT_S = 30.0
REASON_CHARS = 160
# litellm's and the providers' prefixes before the message itself, e.g.
# "litellm.AuthenticationError: AuthenticationError: OpenAIException - ".
_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)(?::\s*|\s+-\s+))+")
_MESSAGE = re.compile(r'"message"\s*:\s*"((?:[^"\\]|\\.)*)"')


async def ask_once(client: LLMClient, settings: ModelSettings, timeout_s: float) -> CallResult:
    """One short request: no retries, a few tokens, no JSON schema."""
    quick = settings.model_copy(
        update={"timeout_s": timeout_s, "retries": 0, "max_tokens": 5, "concurrency": 1}
    )
    return await client.complete(quick, PROBE, None)


def answered(result: CallResult) -> bool:
    """A completion came back. Even an empty one counts: the model is reachable and the key
    works (a reasoning model may spend a probe's few tokens thinking and say nothing); whether
    its answers are usable is for the run's summary to tell."""
    return result.raw is not None


def reason_line(result: CallResult) -> str:
    """ "ErrorClass: the provider's message", its first meaningful line, cut short. The client
    has already removed anything that looks like a key."""
    lines = [line.strip() for line in (result.error or "").splitlines() if line.strip()]
    text = _PREFIX.sub("", lines[0]) if lines else ""
    found = _MESSAGE.search(text)  # a provider's JSON error body: its message is the reason
    if text.startswith("{") and found is not None:
        try:
            text = json.loads(f'"{found.group(1)}"')
        except json.JSONDecodeError:
            text = found.group(1)
    if len(text) > REASON_CHARS:
        text = text[: REASON_CHARS - 1].rstrip() + "…"
    error_class = result.error_class or "NoAnswer"
    return f"{error_class}: {text}" if text else error_class


async def probe(client: LLMClient, settings: ModelSettings, timeout_s: float) -> str:
    """ "ok (N ms)" or "ErrorClass: message" for one model."""
    result = await ask_once(client, settings, timeout_s)
    if not answered(result):
        return reason_line(result)
    return f"ok ({result.latency_ms:.0f} ms)"


async def probe_all(aliases: Mapping[str, ModelSettings], timeout_s: float) -> dict[str, str]:
    await warm_up()
    client = LLMClient()
    answers = await asyncio.gather(
        *(probe(client, settings, timeout_s) for settings in aliases.values())
    )
    return dict(zip(aliases, answers, strict=True))


# -- the pre-flight check ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModelProblem:
    """A model that did not answer the pre-flight call, and why."""

    name: str  # the alias or model string the seat (or --monitor) named
    settings: ModelSettings
    reason: str  # "AuthenticationError: Incorrect API key provided: [redacted]."

    @property
    def line(self) -> str:
        """One line for the user, e.g. "mini (openai/gpt-4o-mini) at http://…: Reason"."""
        model = self.settings.model
        where = self.name if self.name == model else f"{self.name} ({model})"
        if self.settings.api_base is not None:
            where += f" at {self.settings.api_base}"
        return f"{where}: {self.reason}"


def same_model(settings: ModelSettings) -> tuple[str, str | None, str | None]:
    """Aliases that differ only in how their seats play reach the same model: asked once."""
    return (settings.model, settings.api_base, settings.api_key_env)


def models_of(plans: Iterable[BatchPlan]) -> list[tuple[str, ModelSettings]]:
    """(name, settings) of every LLM seat and LLM monitor of the plans, in order."""
    found = []
    for each in plans:
        for spec in each.seats:
            if spec.kind == "llm" and spec.settings is not None:
                found.append((spec.value, spec.settings))
        if each.monitor_settings is not None and each.monitor is not None:
            found.append((each.monitor, each.monitor_settings))
    return found


async def preflight(
    models: Iterable[tuple[str, ModelSettings]], timeout_s: float | None = None
) -> list[ModelProblem]:
    """Ask each distinct model (by model, `api_base` and key variable) once, concurrently; the
    problems of those that did not answer, in the order they were named. `timeout_s` defaults
    to each model's own timeout, at most `PREFLIGHT_TIMEOUT_S`. Raises `GatewayError` if the
    LLM gateway cannot start."""
    distinct: dict[tuple[str, str | None, str | None], tuple[str, ModelSettings]] = {}
    for name, settings in models:
        distinct.setdefault(same_model(settings), (name, settings))
    if not distinct:
        return []
    await warm_up()
    client = LLMClient()

    async def check(name: str, settings: ModelSettings) -> ModelProblem | None:
        wait = timeout_s or min(settings.timeout_s, PREFLIGHT_TIMEOUT_S)
        result = await ask_once(client, settings, wait)
        return None if answered(result) else ModelProblem(name, settings, reason_line(result))

    found = await asyncio.gather(*(check(*named) for named in distinct.values()))
    return [problem for problem in found if problem is not None]


def check_models(
    models: Iterable[tuple[str, ModelSettings]], timeout_s: float | None = None
) -> list[ModelProblem]:
    """`preflight` for code without an event loop (the command line, a worker thread)."""
    return asyncio.run(preflight(models, timeout_s))
