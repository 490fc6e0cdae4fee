"""A fake OpenAI-compatible chat server on 127.0.0.1, for tests and benchmarks.

It speaks real HTTP, so litellm talks to it exactly as to a provider:
`litellm.acompletion(model="openai/fake-slow", api_base=server.base_url, api_key="sk-fake")`.
Every request first sleeps `latency_s` in its own thread (concurrent requests overlap). The
requested model name picks the behaviour, so one server can serve seats with different faults at
once: the mode is the part after the last `-` (or the whole name if it has no `-`) when that is a
mode below, else `good`.

| mode      | reply                                                                        |
|-----------|------------------------------------------------------------------------------|
| `good`    | 200, a legal JSON answer (see below)                                         |
| `garbage` | 200, text that is not JSON                                                   |
| `illegal` | 200, JSON of the right shape whose constrained fields hold values not allowed |
| `empty`   | 200, content `""`                                                            |
| `slow`    | sleeps `slow_s` more, then answers like `good`                               |
| `500`     | 500 with an OpenAI-style error body                                          |
| `429`     | 429 rate-limit error body with `Retry-After: 0`                              |
| `401`     | 401 whose message repeats the key it was sent (for tests that keys are kept) |
| `prose`   | 200, the legal answer inside prose and a fenced json block                   |
| `mixed`   | each request one of good, garbage, illegal, empty, slow, 500, 429 (seeded)   |

The legal answer: every line `Legal values for "FIELD": [...]` in the last user message makes
FIELD one of those values (picked at random, seeded by the server's seed and the request's
model and messages, so a prompt always gets the same answer); `"reason"` is added; then every
required property of a `json_schema` response format that is still missing gets a plausible value.
A line `Keys for "FIELD": [...]` makes FIELD an object with a short text for each key (a
reflection's opinions). Without such lines or schema the answer is `{"reason": ..., "answer":
"ok"}`. A `script` callable,
if given, writes the good answer instead (faults still apply).

Run `python -m arena.llm.fake_server --port 8765 --latency 0.1` to try the arena offline.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any

MODES = ("good", "garbage", "illegal", "empty", "slow", "500", "429", "401", "prose", "mixed")
MIXED_MODES = ("good", "garbage", "illegal", "empty", "slow", "500", "429")

GARBAGE = "I think I will do something clever."
REASON = "a move picked by the fake server"
_LEGAL_LINE = re.compile(r'^\s*Legal values for "([^"]+)":\s*(\[.*\])\s*$', re.MULTILINE)
_KEYS_LINE = re.compile(r'^\s*Keys for "([^"]+)":\s*(\[.*\])\s*$', re.MULTILINE)
# Values that look like answers but are never legal; the field name picks a familiar one.
_ILLEGAL_BY_FIELD = {"cards": "QQQQQ", "action": "FLY", "call": "maybe"}
_FALLBACK_FIELD = ("answer", ["ok"])


def mode_of(model: str) -> str:
    """The behaviour a model name asks for: its last `-`-separated part if that is a mode."""
    suffix = model.rsplit("-", 1)[-1]
    return suffix if suffix in MODES else "good"


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: about four characters per token."""
    return math.ceil(len(text) / 4)


def message_text(message: Any) -> str:
    """The text of one chat message, whether its content is a string or a list of parts."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def _listed(pattern: re.Pattern[str], messages: list[Any]) -> dict[str, list[Any]]:
    """FIELD -> the JSON list, for each line of the last user message matching `pattern`."""
    last_user = next(
        (m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None
    )
    fields: dict[str, list[Any]] = {}
    for match in pattern.finditer(message_text(last_user)):
        try:
            values = json.loads(match.group(2))
        except json.JSONDecodeError:
            continue
        if isinstance(values, list):
            fields[match.group(1)] = values
    return fields


def legal_fields(messages: list[Any]) -> dict[str, list[Any]]:
    """The `Legal values for "FIELD": [...]` lines of the last user message, in order."""
    return {name: values for name, values in _listed(_LEGAL_LINE, messages).items() if values}


def keyed_fields(messages: list[Any]) -> dict[str, list[str]]:
    """The `Keys for "FIELD": [...]` lines of the last user message: FIELD is an object with
    those keys (a reflection's opinions of the other players)."""
    return {
        name: [str(key) for key in keys] for name, keys in _listed(_KEYS_LINE, messages).items()
    }


def response_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of an OpenAI `json_schema` response format, if the request has one."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    wrapper = response_format.get("json_schema")
    schema = wrapper.get("schema") if isinstance(wrapper, dict) else None
    return schema if isinstance(schema, dict) else None


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """A property schema with local `$ref`s followed and `anyOf`/`oneOf` narrowed to their first
    non-null branch (pydantic writes enums and optionals that way)."""
    for _ in range(32):  # a bound, in case of self-referencing schemas
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for key in ref[2:].split("/"):
                target = target.get(key, {}) if isinstance(target, dict) else {}
            schema = target
            continue
        branches = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(branches, list) and branches:
            non_null = [
                b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")
            ]
            schema = (non_null or branches)[0]
            continue
        return schema
    return {}


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _value_for(schema: dict[str, Any], root: dict[str, Any], rng: random.Random) -> Any:
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    kind = _schema_type(schema)
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object" or "properties" in schema:
        return fill_required({}, schema, root, rng)
    if kind == "null":
        return None
    return REASON


def fill_required(
    obj: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], rng: random.Random
) -> dict[str, Any]:
    """`obj` with every required property of `schema` that it lacks set to a plausible value."""
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, dict) or not isinstance(required, list):
        return obj
    for name in required:
        if isinstance(name, str) and name not in obj:
            obj[name] = _value_for(_resolve(properties.get(name, {}), root), root, rng)
    return obj


def constrained_fields(body: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose answer must come from a fixed list: the `Legal values` lines, then the
    schema's required top-level enums, else the fallback `answer` (which must be `ok`)."""
    messages = body.get("messages")
    fields = legal_fields(messages if isinstance(messages, list) else [])
    schema = response_schema(body)
    if schema is not None:
        properties = schema.get("properties")
        required = schema.get("required")
        if isinstance(properties, dict) and isinstance(required, list):
            for name in required:
                enum = _resolve(properties.get(name, {}), schema).get("enum")
                if isinstance(name, str) and name not in fields and isinstance(enum, list) and enum:
                    fields[name] = enum
    if not fields and schema is None:
        name, values = _FALLBACK_FIELD
        fields[name] = values
    return fields


def legal_answer(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The `good` answer to a chat request, as an object."""
    answer: dict[str, Any] = {
        name: rng.choice(values) for name, values in constrained_fields(body).items()
    }
    for name, keys in keyed_fields(body.get("messages", [])).items():
        answer[name] = {key: f"a short opinion of {key}" for key in keys}
    answer.setdefault("reason", REASON)
    schema = response_schema(body)
    if schema is not None:
        fill_required(answer, schema, schema, rng)
    return answer


def illegal_value(field: str, legal: list[Any]) -> str:
    """A plausible-looking value for `field` that is not in `legal`."""
    value = _ILLEGAL_BY_FIELD.get(field, "FLY")
    while value in legal:
        value += "!"
    return value


def illegal_answer(body: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The legal answer with every constrained field set to a value outside its list."""
    answer = legal_answer(body, rng)
    for name, values in constrained_fields(body).items():
        answer[name] = illegal_value(name, values)
    return answer


def in_prose(content: str) -> str:
    return f"Let me think about this carefully.\n\n```json\n{content}\n```\n\nThat is my move."


def error_body(message: str, kind: str, code: str | None) -> dict[str, Any]:
    """An OpenAI-style error object."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


@dataclass(frozen=True)
class Reply:
    """What the server sends back for one request."""

    status: int
    payload: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


def _not_found(method: str, path: str) -> Reply:
    return Reply(404, error_body(f"Invalid URL ({method} {path})", "invalid_request_error", None))


def _bad_request(message: str, code: str) -> Reply:
    return Reply(400, error_body(message, "invalid_request_error", code))


class FakeOpenAI:
    """A fake OpenAI-compatible chat server on 127.0.0.1; see the module docstring for modes.

    Use as a context manager (`with FakeOpenAI(latency_s=0.1) as server: ...`) or call `start()`
    and `close()`. `requests` holds every chat-completion body received, in arrival order;
    `peak_in_flight`, the most requests that were in their `latency_s` at once.
    """

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        slow_s: float = 30.0,
        seed: int = 0,
        script: Callable[[dict[str, Any]], str] | None = None,
        port: int = 0,
    ) -> None:
        self.latency_s = latency_s
        self.slow_s = slow_s
        self.seed = seed
        self.script = script
        self.port = port
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0  # requests being answered now
        self.peak_in_flight = 0  # the most answered at once so far
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closing = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/v1`, the `api_base` to give litellm."""
        if self._httpd is None:
            raise RuntimeError("FakeOpenAI has no address until start() is called")
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def start(self) -> FakeOpenAI:
        """Bind and serve in a background thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("FakeOpenAI is already started")
        self._closing.clear()
        self._httpd = _HTTPServer(("127.0.0.1", self.port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, cut open connections and wake sleeping handlers. Idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._closing.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def reply(self, method: str, path: str, raw: bytes, key: str = "") -> Reply | None:
        """Answer one request (this is where the sleeping happens); None if closed meanwhile."""
        path = path.split("?", 1)[0].rstrip("/")
        body: Any = None
        parse_error: str | None = None
        is_chat = method == "POST" and path in ("/v1/chat/completions", "/chat/completions")
        if is_chat:
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                parse_error = f"We could not parse the JSON body of your request: {error}"
            else:
                if isinstance(body, dict):
                    with self._lock:
                        self.requests.append(body)
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            awake = self._sleep(self.latency_s)
        finally:
            with self._lock:
                self.in_flight -= 1
        if not awake:
            return None
        if method == "GET" and path in ("/v1/models", "/models"):
            return Reply(200, self._models())
        if not is_chat:
            return _not_found(method, path)
        if parse_error is not None:
            return _bad_request(parse_error, "invalid_json")
        if not isinstance(body, dict):
            return _bad_request("The request body must be a JSON object.", "invalid_json")
        if not isinstance(body.get("messages"), list):
            return _bad_request("'messages' must be a list of messages.", "invalid_messages")
        if body.get("stream"):
            return _bad_request("This fake server does not stream; send stream=false.", "stream")
        return self._chat(body, key)

    def _chat(self, body: dict[str, Any], key: str = "") -> Reply | None:
        model = body.get("model")
        model = model if isinstance(model, str) else ""
        mode = mode_of(model)
        if mode == "mixed":
            with self._lock:
                mode = self._rng.choice(MIXED_MODES)
        if mode == "401":  # as careless providers do: the key, back in the error text
            message = f"Incorrect API key provided: {key}."
            return Reply(401, error_body(message, "invalid_request_error", "invalid_api_key"))
        if mode == "500":
            message = "The fake server had an error while processing your request."
            return Reply(500, error_body(message, "server_error", "internal_error"))
        if mode == "429":
            message = "Rate limit reached for the fake server. Please retry after 0s."
            payload = error_body(message, "requests", "rate_limit_exceeded")
            return Reply(429, payload, (("Retry-After", "0"),))
        if mode == "slow" and not self._sleep(self.slow_s):
            return None
        if mode == "garbage":
            content = GARBAGE
        elif mode == "empty":
            content = ""
        elif mode == "illegal":
            content = json.dumps(illegal_answer(body, self._rng_for(body)))
        else:
            content = self._good_content(body)
            if mode == "prose":
                content = in_prose(content)
        return Reply(200, self._completion(model, body["messages"], content))

    def _good_content(self, body: dict[str, Any]) -> str:
        if self.script is not None:
            return self.script(body)
        return json.dumps(legal_answer(body, self._rng_for(body)))

    def _rng_for(self, body: dict[str, Any]) -> random.Random:
        """The answer's randomness, from the seed, the model and the messages alone: the same
        prompt gets the same answer whatever else is in flight, so a match replays identically
        however many run at once. (Which fault `mixed` picks follows arrival order instead.)"""
        text = json.dumps([self.seed, body.get("model"), body.get("messages")], sort_keys=True)
        return random.Random(hashlib.sha256(text.encode()).digest())

    def _completion(self, model: str, messages: list[Any], content: str) -> dict[str, Any]:
        prompt_tokens = estimate_tokens("".join(message_text(m) for m in messages))
        if messages:
            prompt_tokens = max(1, prompt_tokens)
        completion_tokens = estimate_tokens(content)
        return {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": mode, "object": "model", "created": 0, "owned_by": "fake-openai"}
                for mode in MODES
            ],
        }

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server closes first; True if still open."""
        if seconds > 0:
            self._closing.wait(seconds)
        return not self._closing.is_set()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops bursts of connections, which then wait a second to retry.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], fake: FakeOpenAI) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall without DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut kept-alive connections, whose handler threads would otherwise keep serving."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or go away are normal here, not worth a traceback.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the
    # client's delayed ACK, about 40 ms a call on Linux.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        reply = self.server.fake.reply(method, self.path, raw, key)
        if reply is None:
            self.close_connection = True
            return
        data = json.dumps(reply.payload).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks want a quiet server


def main(argv: list[str] | None = None) -> None:
    """Run the fake server in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m arena.llm.fake_server",
        description="A fake OpenAI-compatible chat server on 127.0.0.1 (modes by model suffix: "
        + ", ".join(MODES)
        + ").",
    )
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every request waits")
    parser.add_argument("--slow", type=float, default=30.0, help="extra seconds for -slow models")
    parser.add_argument("--seed", type=int, default=0, help="seed of the answer RNG")
    args = parser.parse_args(argv)
    server = FakeOpenAI(latency_s=args.latency, slow_s=args.slow, seed=args.seed, port=args.port)
    with server:
        print(server.base_url, flush=True)
        print(
            f'e.g. model "openai/fake" or "openai/fake-mixed", api_base {server.base_url}, '
            "any api_key; Ctrl-C stops.",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
