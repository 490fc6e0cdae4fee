"""The LLM gateway: one process that imports litellm and makes every model call of this program.

litellm costs 2–4 ms of CPU per call (its logging, cost and parameter work, and for `openai/`
models the OpenAI client's request transform); 64 Liar's Bar matches against a 100 ms server make
about 300 calls a second, more than one Python process can pay beside playing the matches
(bench/README.md). So the playing process sends each call, pickled, down a pipe to a gateway
process (one per core, in turn), which awaits its calls concurrently on its own event loop and
sends back plain results.
It also keeps litellm's 3–4 s import off the playing process entirely: a user interface never
waits on it.

Protocol: frames of a 4-byte little-endian length and a pickle, both ways. Requests are
`(id, request)`, a request being a dict of `kwargs` for `litellm.acompletion` (the key included:
it crosses the pipe, never the disk), `response_schema` (auto/on/off), `response_format`,
`limit_s`, and how the call is priced: `price` (the alias's stated USD per million input and
output tokens, or None) and `list_price` (whether litellm's list price applies; see
`arena.llm.client.list_price_applies`);
`(id, None)` is a ping, answered once litellm is loaded. Replies are `(id, result)`, a result
being the fields of `arena.llm.client.CallResult` with the provider's raw error text. The
gateway ignores Ctrl-C (the playing process decides) and ends at end of input, after the calls
in flight; the playing process stops it if that takes more than a second. This module imports
litellm only in the gateway process.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import IO, Any

_litellm: Any = None
_import_lock = threading.Lock()
CLOSE_WAIT_S = 1.0
MAX_FRAME = 64 * 1024 * 1024


def load_litellm() -> Any:
    """Import litellm once, offline (no price-map fetch) and quiet. Takes seconds."""
    global _litellm
    with _import_lock:
        if _litellm is None:
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            _litellm = litellm
    return _litellm


class GatewayError(RuntimeError):
    """The gateway process is gone; the message says what it last printed."""


def _read_frame(source: IO[bytes]) -> Any:
    """The next pickled frame, or None at end of input (a cut frame counts as the end)."""
    head = source.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "little")
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes")
    body = source.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def _frame(value: Any) -> bytes:
    body = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(4, "little") + body


# -- the playing side -------------------------------------------------------------------------


class Gateway:
    """The playing process's handle on the gateway process. Calls may come from any thread and
    event loop; each is answered on the loop that made it."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "arena.llm.gateway"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        )
        self._stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
        self._ids = itertools.count()
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._lock = threading.Lock()
        self._stderr: deque[str] = deque(maxlen=20)  # the last lines, to explain a death
        self.dead: GatewayError | None = None
        threading.Thread(target=self._read_replies, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    async def call(self, request: dict[str, Any] | None, limit_s: float | None = None) -> Any:
        """Send one request (None: a ping) and await its result, at most `limit_s` (then the
        gateway is presumed stuck: it is stopped, and replaced on the next call)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            if self.dead is not None:
                raise self.dead
            ident = next(self._ids)
            self._pending[ident] = future
            try:
                self._stdin.write(_frame((ident, request)))
                self._stdin.flush()
            except (BrokenPipeError, ValueError):
                self._pending.pop(ident, None)
                raise GatewayError("the LLM gateway process is gone") from None
        try:
            return await asyncio.wait_for(future, limit_s)
        except TimeoutError:
            self._proc.kill()  # its reader then fails every other call in flight
            raise GatewayError(f"the LLM gateway gave no answer within {limit_s:.0f} s") from None

    def close(self) -> None:
        """End of input; a gateway still busy a moment later is stopped: its answers would
        have nobody to go to."""
        self.end_input()
        self.stop(time.monotonic() + CLOSE_WAIT_S)

    def end_input(self) -> None:
        with self._lock, contextlib.suppress(BrokenPipeError, ValueError):
            self._stdin.close()

    def stop(self, deadline: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def _read_replies(self) -> None:
        stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]
        garbled = ""
        try:
            while (reply := _read_frame(stdout)) is not None:
                ident, result = reply
                with self._lock:
                    future = self._pending.pop(ident, None)
                if future is not None:
                    _settle_from_thread(future, result, None)
        except Exception as error:  # not our frames: the gateway cannot be trusted any more
            garbled = f"unreadable reply ({type(error).__name__}); "
            self._proc.kill()
        code = self._proc.wait()
        why = garbled + (" / ".join(self._stderr) or f"exit code {code}")
        with self._lock:
            self.dead = GatewayError(f"the LLM gateway process ended: {why}")
            pending, self._pending = self._pending, {}
        for future in pending.values():
            _settle_from_thread(future, None, self.dead)

    def _read_stderr(self) -> None:
        stderr: IO[bytes] = self._proc.stderr  # type: ignore[assignment]
        for line in stderr:
            text = line.decode(errors="replace").strip()
            if text:
                self._stderr.append(text)


def _settle_from_thread(
    future: asyncio.Future[Any], result: Any, error: BaseException | None
) -> None:
    """Resolve `future` on its own loop; nothing to do if that loop has already closed (the
    run that asked ended, e.g. on Ctrl-C)."""
    with contextlib.suppress(RuntimeError):
        future.get_loop().call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# One gateway saturates a core at a few hundred calls a second; calls are spread over as many
# gateways as there are cores (at most 4), each started on first use and again if it died.
GATEWAYS = max(1, min(4, os.cpu_count() or 1))
_gateways: list[Gateway | None] = [None] * GATEWAYS
_turn = itertools.count()
_gateways_lock = threading.Lock()


def gateway() -> Gateway:
    """A gateway for the next call, in turn."""
    with _gateways_lock:
        index = next(_turn) % GATEWAYS
        found = _gateways[index]
        if found is None or found.dead is not None:
            found = _gateways[index] = Gateway()
        return found


@atexit.register
def close_all() -> None:
    """End every gateway's input at once, then give them one shared second to finish."""
    running = [g for g in _gateways if g is not None]
    for g in running:
        g.end_input()
    deadline = time.monotonic() + CLOSE_WAIT_S
    for g in running:
        g.stop(deadline)


WARM_UP_S = 120.0


async def warm_up() -> None:
    """Start every gateway and wait until each has loaded litellm (seconds, off this loop).
    Raises GatewayError, saying why, if one cannot."""
    await asyncio.gather(*(gateway().call(None, WARM_UP_S) for _ in range(GATEWAYS)))


# -- the gateway process ----------------------------------------------------------------------

_schema_support: dict[str, bool] = {}
_unpriced: set[str] = set()  # models litellm has no price for: not asked again


def _wants_schema(litellm: Any, model: str, mode: str) -> bool:
    if mode != "auto":
        return mode == "on"
    known = _schema_support.get(model)
    if known is None:
        try:
            known = bool(litellm.supports_response_schema(model=model))
        except Exception:  # an unknown model or provider: extract JSON from text instead
            known = False
        _schema_support[model] = known
    return known


async def call_litellm(request: dict[str, Any]) -> dict[str, Any]:
    """One completion; every failure is a result, never an exception."""
    litellm = load_litellm()
    kwargs = dict(request["kwargs"])
    model = kwargs["model"]
    response_format = request.get("response_format")
    use_schema = response_format is not None and _wants_schema(
        litellm, model, request.get("response_schema", "auto")
    )
    if use_schema:
        kwargs["response_format"] = response_format
    result: dict[str, Any] = {
        "raw": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "reasoning_tokens": None,
        "cost_usd": None,
        "error_class": None,
        "error": None,
        "schema_used": use_schema,
    }
    started = time.perf_counter()
    try:
        response = await asyncio.wait_for(litellm.acompletion(**kwargs), request["limit_s"])
    except Exception as error:  # every provider failure is an outcome to record
        name, text = describe_failure(error)
        result.update(error_class=name, error=text)
        result["latency_ms"] = (time.perf_counter() - started) * 1000
        return result
    result["latency_ms"] = (time.perf_counter() - started) * 1000
    choice = response.choices[0] if response.choices else None
    result["raw"] = (choice.message.content if choice is not None else None) or ""
    usage = getattr(response, "usage", None)
    details = getattr(usage, "completion_tokens_details", None)
    result["prompt_tokens"] = getattr(usage, "prompt_tokens", None)
    result["completion_tokens"] = getattr(usage, "completion_tokens", None)
    result["reasoning_tokens"] = getattr(details, "reasoning_tokens", None)
    result["cost_usd"] = call_cost(litellm, response, request, result)
    return result


def call_cost(
    litellm: Any, response: Any, request: dict[str, Any], result: dict[str, Any]
) -> float | None:
    """The call's cost in USD: the tokens at the alias's stated price if it states one, else
    litellm's list price where it applies (the hosted provider), else unknown."""
    price = request.get("price")
    if price is not None:
        prompt, completion = result["prompt_tokens"], result["completion_tokens"]
        if prompt is None or completion is None:
            return None
        per_input, per_output = price
        return float(prompt * per_input + completion * per_output) / 1_000_000
    model = request["kwargs"]["model"]
    if not request.get("list_price", False) or model in _unpriced:
        return None
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:  # litellm raises for models it has no price for
        _unpriced.add(model)
        return None


def describe_failure(error: BaseException) -> tuple[str, str]:
    """(error class, message) of a failed call. A server that could not be reached is an
    `APIConnectionError` whose first line says why, e.g. "Connection refused (…)" (litellm
    reports an `openai/` model's as an InternalServerError saying only "Connection error.");
    litellm's own text follows on the next line."""
    if isinstance(error, TimeoutError):
        return "Timeout", str(error) or "Timeout"
    name, text = type(error).__name__, str(error) or type(error).__name__
    chain = _chain(error)
    if name == "Timeout" or not any(type(e).__name__ == "APIConnectionError" for e in chain):
        return name, text
    sockets = [e for e in chain if isinstance(e, OSError) and not isinstance(e, TimeoutError)]
    if not sockets:
        return "APIConnectionError", text
    cause = sockets[-1]  # the deepest: the socket's own error
    errno = cause.errno if isinstance(cause.errno, int) and cause.errno > 0 else None
    why = os.strerror(errno) if errno is not None else cause.strerror or "cannot connect"
    return "APIConnectionError", f"{why} ({type(cause).__name__}: {cause})\n{text}"


def _chain(error: BaseException) -> list[BaseException]:
    """`error` and the exceptions it was raised from, outermost first."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and all(link is not seen for seen in chain):  # chains can loop
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


def serve(source: IO[bytes], replies: IO[bytes]) -> None:
    """Answer requests from `source` until its end and the end of the calls in flight. Requests
    are read from the start, so the playing process never blocks on a full pipe while litellm
    loads."""
    loop = asyncio.new_event_loop()
    in_flight: set[asyncio.Task[None]] = set()
    ended = asyncio.Event()

    async def answer(ident: int, request: dict[str, Any] | None) -> None:
        result = None if request is None else await call_litellm(request)
        with contextlib.suppress(BrokenPipeError, ValueError):  # the playing process is gone
            replies.write(_frame((ident, result)))
            replies.flush()

    def start(frame: Any) -> None:
        if frame is None:
            ended.set()
            return
        task = loop.create_task(answer(*frame))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)

    def read() -> None:
        while True:
            frame = _read_frame(source)
            loop.call_soon_threadsafe(start, frame)
            if frame is None:
                return

    threading.Thread(target=read, daemon=True).start()
    load_litellm()  # requests wait in the loop's queue meanwhile

    async def main() -> None:
        await ended.wait()
        while in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)

    loop.run_until_complete(main())
    loop.close()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Replies go out on a private copy of stdout; anything printed (litellm can print) goes to
    # stderr instead, where it cannot garble the frames.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)
    replies.flush()
    os._exit(0)  # not sys.exit: the reader thread may still be blocked on the pipe
