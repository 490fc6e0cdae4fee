"""The fake OpenAI server: every mode over plain HTTP, then through litellm exactly as the arena
calls it (real sockets on 127.0.0.1, no real keys)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.llm.fake_server import GARBAGE, MODES, FakeOpenAI, mode_of

PROMPT = (
    "You hold Q K J. The table card is Q.\n"
    'Legal values for "cards": ["Q", "K", "QK", "QKJ"]\n'
    'Legal values for "call": ["yes", "no"]'
)
LEGAL = {"cards": ["Q", "K", "QK", "QKJ"], "call": ["yes", "no"]}

# What pydantic writes for a model with an enum, a nested model, a list and an optional field.
SCHEMA: dict[str, Any] = {
    "$defs": {
        "Tone": {"enum": ["calm", "angry"], "type": "string"},
        "Extra": {
            "type": "object",
            "properties": {"count": {"type": "integer"}, "sure": {"type": "boolean"}},
            "required": ["count", "sure"],
        },
    },
    "type": "object",
    "properties": {
        "cards": {"type": "string"},
        "call": {"type": "string"},
        "reason": {"type": "string"},
        "tone": {"$ref": "#/$defs/Tone"},
        "extra": {"$ref": "#/$defs/Extra"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "score": {"type": "number"},
        "unrequired": {"type": "string"},
    },
    "required": ["cards", "call", "reason", "tone", "extra", "tags", "note", "score"],
}


def chat(model: str, prompt: str = PROMPT, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def send(
    server: FakeOpenAI, path: str, body: bytes | dict[str, Any] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST (or GET without a body) to the server; the status, the JSON body and the headers."""
    root = server.base_url.removesuffix("/v1")
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(
        root + path, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error), dict(error.headers)


def content_of(payload: dict[str, Any]) -> str:
    content = payload["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def assert_error_body(payload: dict[str, Any]) -> None:
    error = payload["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str)
    assert "code" in error


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeOpenAI]]:
    """Start fake servers with the given options; all are closed after the test."""
    servers: list[FakeOpenAI] = []

    def start(**options: Any) -> FakeOpenAI:
        servers.append(FakeOpenAI(**options).start())
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


# --- the model name picks the mode ---------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        ("fake", "good"),
        ("fake-garbage", "garbage"),
        ("my-model-429", "429"),
        ("fake-500", "500"),
        ("gpt-4o-mini", "good"),
        ("slow", "slow"),
        ("fake-Slow", "good"),
        ("", "good"),
    ],
)
def test_mode_is_the_last_dash_part_when_it_names_a_mode(model: str, mode: str) -> None:
    assert mode_of(model) == mode


# --- each mode over plain HTTP -------------------------------------------------------------


def test_good_answer_is_a_chat_completion_with_usage(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve()
    status, payload, _ = send(server, "/v1/chat/completions", chat("fake"))

    assert status == 200
    assert payload["object"] == "chat.completion"
    assert payload["model"] == "fake"
    assert payload["id"] and isinstance(payload["created"], int)
    (choice,) = payload["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    answer = json.loads(choice["message"]["content"])
    assert set(answer) == {"cards", "call", "reason"}
    assert answer["cards"] in LEGAL["cards"] and answer["call"] in LEGAL["call"]
    usage = payload["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_path_without_v1_is_accepted_too(serve: Callable[..., FakeOpenAI]) -> None:
    status, payload, _ = send(serve(), "/chat/completions", chat("fake"))
    assert status == 200 and payload["object"] == "chat.completion"


field_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10).filter(
    lambda name: name != "reason"
)
legal_lists = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=6, unique=True)


@settings(max_examples=40, deadline=None)
@given(fields=st.dictionaries(field_names, legal_lists, min_size=1, max_size=4))
def test_good_answer_picks_only_from_the_legal_lists(
    shared_server: FakeOpenAI, fields: dict[str, list[str]]
) -> None:
    lines = "\n".join(
        f"Legal values for {json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items()
    )
    _, payload, _ = send(shared_server, "/v1/chat/completions", chat("fake", "Decide.\n" + lines))

    answer = json.loads(content_of(payload))
    assert set(answer) == {*fields, "reason"}
    for name, values in fields.items():
        assert answer[name] in values


def test_only_the_last_user_message_sets_the_legal_fields(
    serve: Callable[..., FakeOpenAI],
) -> None:
    body = {
        "model": "fake",
        "messages": [
            {"role": "system", "content": 'Legal values for "system": ["x"]'},
            {"role": "user", "content": 'Legal values for "old": ["x"]'},
            {"role": "assistant", "content": '{"old": "x"}'},
            {
                "role": "user",
                "content": [{"type": "text", "text": 'Legal values for "new": ["y"]'}],
            },
        ],
    }
    _, payload, _ = send(serve(), "/v1/chat/completions", body)
    answer = json.loads(content_of(payload))
    assert set(answer) == {"new", "reason"} and answer["new"] == "y"


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_same_seed_gives_the_same_answers(serve: Callable[..., FakeOpenAI], seed: int) -> None:
    def answers(server: FakeOpenAI) -> list[str]:
        return [content_of(send(server, "/v1/chat/completions", chat("fake"))[1]) for _ in range(8)]

    first, second = answers(serve(seed=seed)), answers(serve(seed=seed))
    assert first == second
    for content in first:
        answer = json.loads(content)
        assert answer["cards"] in LEGAL["cards"] and answer["call"] in LEGAL["call"]


def test_without_legal_lines_or_schema_the_answer_is_ok(serve: Callable[..., FakeOpenAI]) -> None:
    _, payload, _ = send(serve(), "/v1/chat/completions", chat("fake", "Say something."))
    answer = json.loads(content_of(payload))
    assert answer["answer"] == "ok" and isinstance(answer["reason"], str)


def test_schema_fills_every_required_property(serve: Callable[..., FakeOpenAI]) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
    body = chat("fake", response_format=response_format)
    _, payload, _ = send(serve(), "/v1/chat/completions", body)

    answer = json.loads(content_of(payload))
    assert set(answer) == set(SCHEMA["required"])
    assert answer["cards"] in LEGAL["cards"] and answer["call"] in LEGAL["call"]
    assert answer["tone"] in ("calm", "angry")
    assert answer["extra"] == {"count": 0, "sure": False}
    assert answer["tags"] == [] and answer["score"] == 0
    assert isinstance(answer["note"], str) and isinstance(answer["reason"], str)


def test_garbage_is_not_json(serve: Callable[..., FakeOpenAI]) -> None:
    status, payload, _ = send(serve(), "/v1/chat/completions", chat("fake-garbage"))
    assert status == 200
    assert content_of(payload) == GARBAGE
    with pytest.raises(json.JSONDecodeError):
        json.loads(GARBAGE)


def test_illegal_answer_has_the_right_shape_and_values_outside_the_legal_lists(
    serve: Callable[..., FakeOpenAI],
) -> None:
    server = serve()
    prompt = PROMPT + '\nLegal values for "action": ["PLAY", "CHALLENGE"]'
    status, payload, _ = send(server, "/v1/chat/completions", chat("fake-illegal", prompt))

    assert status == 200
    answer = json.loads(content_of(payload))
    assert set(answer) == {"cards", "call", "action", "reason"}
    assert answer["cards"] not in LEGAL["cards"]
    assert answer["call"] not in LEGAL["call"]
    assert answer["action"] not in ("PLAY", "CHALLENGE")
    assert all(isinstance(value, str) for value in answer.values())


def test_illegal_answer_breaks_schema_enums_too(serve: Callable[..., FakeOpenAI]) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
    body = chat("fake-illegal", "Decide.", response_format=response_format)
    _, payload, _ = send(serve(), "/v1/chat/completions", body)

    answer = json.loads(content_of(payload))
    assert set(answer) == set(SCHEMA["required"])
    assert answer["tone"] not in ("calm", "angry")


def test_empty_answers_with_empty_content(serve: Callable[..., FakeOpenAI]) -> None:
    status, payload, _ = send(serve(), "/v1/chat/completions", chat("fake-empty"))
    assert status == 200
    assert content_of(payload) == ""
    assert payload["usage"]["completion_tokens"] == 0 and payload["usage"]["prompt_tokens"] > 0


def test_slow_waits_slow_s_then_answers_well(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve(slow_s=0.3)
    started = time.perf_counter()
    status, payload, _ = send(server, "/v1/chat/completions", chat("fake-slow"))

    assert time.perf_counter() - started >= 0.3
    assert status == 200
    assert json.loads(content_of(payload))["cards"] in LEGAL["cards"]


def test_500_is_a_server_error_body(serve: Callable[..., FakeOpenAI]) -> None:
    status, payload, _ = send(serve(), "/v1/chat/completions", chat("fake-500"))
    assert status == 500
    assert_error_body(payload)


def test_429_is_a_rate_limit_with_retry_after_zero(serve: Callable[..., FakeOpenAI]) -> None:
    status, payload, headers = send(serve(), "/v1/chat/completions", chat("fake-429"))
    assert status == 429
    assert_error_body(payload)
    assert payload["error"]["code"] == "rate_limit_exceeded"
    assert headers["Retry-After"] == "0"


def test_prose_wraps_a_legal_answer_in_a_fenced_json_block(
    serve: Callable[..., FakeOpenAI],
) -> None:
    _, payload, _ = send(serve(), "/v1/chat/completions", chat("fake-prose"))
    content = content_of(payload)

    with pytest.raises(json.JSONDecodeError):
        json.loads(content)
    match = re.search(r"```json\s*(\{.*\})\s*```", content, re.DOTALL)
    assert match is not None
    answer = json.loads(match.group(1))
    assert answer["cards"] in LEGAL["cards"] and answer["call"] in LEGAL["call"]
    assert content.strip().endswith("That is my move.")


def classify(status: int, payload: dict[str, Any]) -> str:
    """Which mode a reply looks like (slow is indistinguishable from good at slow_s=0)."""
    if status != 200:
        return str(status)
    content = content_of(payload)
    if content in ("", GARBAGE):
        return {"": "empty", GARBAGE: "garbage"}[content]
    answer = json.loads(content)
    legal = answer["cards"] in LEGAL["cards"] and answer["call"] in LEGAL["call"]
    return "good" if legal else "illegal"


def test_mixed_draws_every_outcome_and_repeats_with_the_seed(
    serve: Callable[..., FakeOpenAI],
) -> None:
    def outcomes(server: FakeOpenAI) -> list[str]:
        replies = [send(server, "/v1/chat/completions", chat("fake-mixed")) for _ in range(80)]
        return [classify(status, payload) for status, payload, _ in replies]

    first = outcomes(serve(seed=3, slow_s=0))
    assert set(Counter(first)) == {"good", "garbage", "illegal", "empty", "500", "429"}
    assert outcomes(serve(seed=3, slow_s=0)) == first
    assert outcomes(serve(seed=4, slow_s=0)) != first


def test_script_replaces_the_good_answer_but_not_the_faults(
    serve: Callable[..., FakeOpenAI],
) -> None:
    seen: list[str] = []

    def script(body: dict[str, Any]) -> str:
        seen.append(body["model"])
        return '{"cards": "Q", "reason": "scripted"}'

    server = serve(script=script)
    assert content_of(send(server, "/v1/chat/completions", chat("fake"))[1]) == (
        '{"cards": "Q", "reason": "scripted"}'
    )
    assert '"reason": "scripted"' in content_of(
        send(server, "/v1/chat/completions", chat("fake-prose"))[1]
    )
    assert content_of(send(server, "/v1/chat/completions", chat("fake-garbage"))[1]) == GARBAGE
    assert send(server, "/v1/chat/completions", chat("fake-500"))[0] == 500
    assert seen == ["fake", "fake-prose"]


def test_requests_records_every_body_in_arrival_order(serve: Callable[..., FakeOpenAI]) -> None:
    server = serve()
    bodies = [chat("fake", f"turn {n}") for n in range(3)] + [chat("fake-500")]
    for body in bodies:
        send(server, "/v1/chat/completions", body)
    send(server, "/v1/chat/completions", chat("fake", stream=True))

    assert server.requests[:4] == bodies
    assert server.requests[4]["stream"] is True


def test_models_lists_the_modes(serve: Callable[..., FakeOpenAI]) -> None:
    root = serve().base_url
    with urllib.request.urlopen(root + "/models", timeout=5) as response:
        payload = json.load(response)
    assert payload["object"] == "list"
    assert [model["id"] for model in payload["data"]] == list(MODES)


@pytest.mark.parametrize("path", ["/v1/completions", "/v1/embeddings", "/", "/v2/chat/completions"])
def test_unknown_paths_are_404_with_a_json_error(
    serve: Callable[..., FakeOpenAI], path: str
) -> None:
    status, payload, _ = send(serve(), path, chat("fake"))
    assert status == 404
    assert_error_body(payload)


def test_streaming_is_refused_with_400(serve: Callable[..., FakeOpenAI]) -> None:
    status, payload, _ = send(serve(), "/v1/chat/completions", chat("fake", stream=True))
    assert status == 400
    assert_error_body(payload)
    assert payload["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b'{"model": "fake"}'])
def test_malformed_bodies_are_400(serve: Callable[..., FakeOpenAI], body: bytes) -> None:
    status, payload, _ = send(serve(), "/v1/chat/completions", body)
    assert status == 400
    assert_error_body(payload)


def test_concurrent_requests_overlap_their_latency(serve: Callable[..., FakeOpenAI]) -> None:
    """Counted by the server, not timed: a busy machine may be slow, but requests must still
    wait out their latency side by side."""
    server = serve(latency_s=0.5)
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(
            pool.map(lambda _: send(server, "/v1/chat/completions", chat("fake")), range(16))
        )

    assert all(status == 200 for status, _, _ in replies)
    assert server.peak_in_flight > 1  # one after another, it would stay 1
    assert server.in_flight == 0


def test_close_returns_promptly_even_with_a_slow_request_in_flight() -> None:
    server = FakeOpenAI(slow_s=3600).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            send(server, "/v1/chat/completions", chat("fake-slow"))
        except Exception as error:  # the connection is cut: exactly what we expect
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.requests:
        time.sleep(0.01)
    server.close()
    caller.join(timeout=60)  # the request alone would sleep an hour: this only guards a hang

    assert not caller.is_alive() and len(errors) == 1


def test_base_url_needs_a_started_server() -> None:
    server = FakeOpenAI()
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)


# --- through litellm, as the arena calls it ------------------------------------------------


@pytest.fixture(scope="module")
def litellm() -> ModuleType:
    """litellm, imported only here and told not to fetch its price map from the network."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm as module

    module.suppress_debug_info = True
    return module


async def complete(
    litellm: ModuleType, server: FakeOpenAI, model: str, timeout: float = 5, **extra: Any
) -> Any:
    return await litellm.acompletion(
        model=f"openai/{model}",
        api_base=server.base_url,
        api_key="sk-fake",
        messages=[{"role": "user", "content": PROMPT}],
        num_retries=0,
        timeout=timeout,
        **extra,
    )


async def test_litellm_gets_a_legal_answer_with_usage(
    litellm: ModuleType, serve: Callable[..., FakeOpenAI]
) -> None:
    server = serve()
    response_format = {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}
    response = await complete(litellm, server, "fake", response_format=response_format)

    answer = json.loads(response.choices[0].message.content)
    assert answer["cards"] in LEGAL["cards"] and answer["tone"] in ("calm", "angry")
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0
    (request,) = server.requests
    assert request["model"] == "fake"  # litellm strips the provider prefix
    assert request["response_format"] == response_format


async def test_litellm_raises_internal_server_error_for_500_without_retrying(
    litellm: ModuleType, serve: Callable[..., FakeOpenAI]
) -> None:
    server = serve()
    with pytest.raises(litellm.InternalServerError) as caught:
        await complete(litellm, server, "fake-500")
    assert type(caught.value) is litellm.InternalServerError
    assert caught.value.status_code == 500
    assert len(server.requests) == 1


async def test_litellm_raises_rate_limit_error_for_429_and_keeps_retry_after(
    litellm: ModuleType, serve: Callable[..., FakeOpenAI]
) -> None:
    server = serve()
    with pytest.raises(litellm.RateLimitError) as caught:
        await complete(litellm, server, "fake-429")
    assert type(caught.value) is litellm.RateLimitError
    assert caught.value.litellm_response_headers["retry-after"] == "0"
    assert len(server.requests) == 1


async def test_litellm_times_out_on_slow(
    litellm: ModuleType, serve: Callable[..., FakeOpenAI]
) -> None:
    server = serve(slow_s=3600)
    with pytest.raises(litellm.Timeout) as caught:  # not the hang guard's TimeoutError
        await asyncio.wait_for(complete(litellm, server, "fake-slow", timeout=0.5), 120)
    assert type(caught.value) is litellm.Timeout


async def test_litellm_refuses_nothing_the_server_does_not_already_refuse(
    litellm: ModuleType, serve: Callable[..., FakeOpenAI]
) -> None:
    server = serve()
    garbage = await complete(litellm, server, "fake-garbage")
    empty = await complete(litellm, server, "fake-empty")
    assert garbage.choices[0].message.content == GARBAGE
    assert not empty.choices[0].message.content


async def test_64_concurrent_litellm_calls_overlap(
    litellm: ModuleType, serve: Callable[..., FakeOpenAI]
) -> None:
    server = serve(latency_s=0.5)
    await complete(litellm, server, "fake")  # litellm's own lazy imports are not under test

    responses = await asyncio.gather(*(complete(litellm, server, "fake") for _ in range(64)))

    assert len(responses) == 64 and len(server.requests) == 65
    assert server.peak_in_flight > 1  # counted by the server: one after another stays at 1
