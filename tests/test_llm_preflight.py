"""The pre-flight check: each model a run or table would use is asked once, over real HTTP through
the gateway, and every model that does not answer comes back as one line naming it and saying
why, with no key in it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from arena.batch import plan
from arena.llm.client import CallResult
from arena.llm.config import ModelsConfig, ModelSettings
from arena.llm.fake_server import FakeOpenAI
from arena.llm.gateway import describe_failure
from arena.llm.probe import ModelProblem, check_models, models_of, preflight, reason_line

KEY = "sk-test-123456789-must-not-show"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on: bound, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def at(base_url: str, model: str, **fields: Any) -> ModelSettings:
    return ModelSettings(**{"model": model, "api_base": base_url, "timeout_s": 5, **fields})


async def test_a_model_that_answers_is_no_problem(server: FakeOpenAI) -> None:
    assert await preflight([("fake", at(server.base_url, "openai/fake"))]) == []


async def test_an_empty_answer_still_counts_as_answering(server: FakeOpenAI) -> None:
    assert await preflight([("quiet", at(server.base_url, "openai/fake-empty"))]) == []


async def test_a_refused_key_is_named_with_the_providers_reason_and_no_key(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARENA_TEST_KEY", KEY)
    settings = at(server.base_url, "openai/fake-401", api_key_env="ARENA_TEST_KEY")
    (problem,) = await preflight([("broken", settings)])
    assert problem.name == "broken"
    assert problem.line == (
        f"broken (openai/fake-401) at {server.base_url}: "
        "AuthenticationError: Incorrect API key provided: [redacted]."
    )
    assert KEY not in problem.line and "\n" not in problem.line


async def test_a_closed_port_is_a_connection_refused() -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    (problem,) = await preflight([("openai/x", at(base, "openai/x"))])
    assert problem.line.startswith(f"openai/x at {base}: APIConnectionError: Connection refused")
    assert "\n" not in problem.line


async def test_a_server_error_and_a_timeout_are_problems_too(server: FakeOpenAI) -> None:
    failing = at(server.base_url, "openai/fake-500")
    slow = at(server.base_url, "openai/fake-slow", timeout_s=0.2)
    problems = await preflight([("failing", failing), ("slow", slow)])
    assert [p.name for p in problems] == ["failing", "slow"]
    assert problems[0].reason.startswith("InternalServerError: The fake server had an error")
    assert problems[1].reason.startswith("Timeout: ")


async def test_each_model_is_asked_once_however_many_seats_name_it(server: FakeOpenAI) -> None:
    before = len(server.requests)
    warm = at(server.base_url, "openai/fake", temperature=1.0)
    cold = at(server.base_url, "openai/fake", temperature=0.0, memory="none")
    other = at(server.base_url, "openai/fake-prose")
    named = [("warm", warm), ("cold", cold), ("warm", warm), ("other", other)]
    assert await preflight(named) == []
    asked = [body["model"] for body in server.requests[before:]]
    assert sorted(asked) == ["fake", "fake-prose"]
    assert all(body["max_tokens"] == 5 for body in server.requests[before:])


def test_the_synchronous_wrapper_checks_the_seats_and_the_monitor_of_plans(
    server: FakeOpenAI,
) -> None:
    base = f"http://127.0.0.1:{closed_port()}/v1"
    aliases = {
        "good": at(server.base_url, "openai/fake"),
        "judge": at(base, "openai/judge"),
    }
    models = ModelsConfig(aliases, {}, "test")
    batch = plan("liars-bar", None, {}, ["llm:good", "bot:counter"], 1, 1, models, monitor="judge")
    named = models_of([batch])
    assert [name for name, _ in named] == ["good", "openai/judge"]
    (problem,) = check_models(named)
    assert problem.line.startswith(f"openai/judge at {base}: APIConnectionError:")


def test_bots_only_need_no_check() -> None:
    batch = plan("cleanup", None, {}, None, 1, 1)
    assert models_of([batch]) == []
    assert check_models([]) == []


# -- the reason line, from what the client returns ---------------------------------------------


def failed(error_class: str, error: str) -> CallResult:
    return CallResult(None, None, None, None, None, 1.0, error_class, error)


@pytest.mark.parametrize(
    ("error_class", "error", "reason"),
    [
        (
            "AuthenticationError",
            "litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API "
            "key provided: [redacted].",
            "AuthenticationError: Incorrect API key provided: [redacted].",
        ),
        (
            "Timeout",
            "litellm.Timeout: APITimeoutError - Request timed out.\nmore detail",
            "Timeout: Request timed out.",
        ),
        (
            "AuthenticationError",
            'litellm.AuthenticationError: AnthropicException - {"type":"error","error":'
            '{"type":"authentication_error","message":"invalid x-api-key"}}',
            "AuthenticationError: invalid x-api-key",
        ),
        (
            "ConfigError",
            "model openai/x: the environment variable X_KEY is not set",
            "ConfigError: model openai/x: the environment variable X_KEY is not set",
        ),
        ("GatewayError", "", "GatewayError"),
    ],
)
def test_the_reason_is_the_first_meaningful_line_of_the_providers_message(
    error_class: str, error: str, reason: str
) -> None:
    assert reason_line(failed(error_class, error)) == reason


def test_a_long_reason_is_cut() -> None:
    reason = reason_line(failed("BadRequestError", "x" * 1000))
    assert len(reason) < 200 and reason.endswith("…")


def test_a_problem_names_the_alias_and_its_model_unless_they_are_the_same() -> None:
    settings = ModelSettings(model="openai/gpt-4o-mini")
    assert ModelProblem("mini", settings, "R").line == "mini (openai/gpt-4o-mini): R"
    assert ModelProblem("openai/gpt-4o-mini", settings, "R").line == "openai/gpt-4o-mini: R"


def test_a_socket_error_under_a_providers_error_is_a_connection_error() -> None:
    class APIConnectionError(Exception):
        pass

    class InternalServerError(Exception):
        pass

    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
    try:
        try:
            try:
                raise refused
            except OSError as error:
                raise APIConnectionError("Connection error.") from error
        except APIConnectionError as error:
            raise InternalServerError("OpenAIException - Connection error.") from error
    except InternalServerError as error:
        name, text = describe_failure(error)
    assert name == "APIConnectionError"
    assert text.splitlines()[0].startswith("Connection refused (ConnectionRefusedError: ")
    assert text.splitlines()[1] == "OpenAIException - Connection error."
    assert describe_failure(InternalServerError("boom")) == ("InternalServerError", "boom")
