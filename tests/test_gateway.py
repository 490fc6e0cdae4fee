"""The LLM gateway processes: litellm stays out of the playing process, and a gateway that dies
fails its calls (which become recorded fallbacks) and is replaced."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time

from arena.llm import gateway as gateways
from arena.llm.client import LLMClient
from arena.llm.config import ModelSettings
from arena.llm.fake_server import FakeOpenAI
from arena.llm.gateway import Gateway, GatewayError
from tests.support import REPO


def test_litellm_is_never_imported_by_the_playing_process(tmp_path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from pathlib import Path
        from arena.batch import plan, run_batch
        from arena.llm.config import ModelsConfig, ModelSettings
        from arena.llm.fake_server import FakeOpenAI
        from arena.store.db import Store

        async def main():
            with FakeOpenAI() as fake:
                alias = ModelSettings(model="openai/fake", api_base=fake.base_url)
                models = ModelsConfig({{"m": alias}}, {{}}, "test")
                batch = plan("cleanup", None, {{"max_steps": 2}}, ["llm:m"] * 4, 1, 1, models)
                with Store(Path({str(tmp_path / "g.db")!r})) as store:
                    await run_batch(store, batch)
        asyncio.run(main())
        print("litellm" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


async def test_calls_in_flight_fail_when_their_gateway_dies() -> None:
    with FakeOpenAI(slow_s=30) as fake:
        gateway = Gateway()
        try:
            await gateway.call(None)  # loaded and answering
            settings = ModelSettings(model="openai/fake-slow", api_base=fake.base_url)
            request = {
                "kwargs": {"model": settings.model, "messages": [], "api_base": fake.base_url,
                           "api_key": "no-key", "num_retries": 0},
                "response_schema": "off",
                "schema": None,
                "limit_s": 60,
            }  # fmt: skip
            call = asyncio.ensure_future(gateway.call(request))
            await asyncio.sleep(0.3)
            started = time.monotonic()
            gateway._proc.kill()
            try:
                await call
            except GatewayError as error:
                assert "ended" in str(error)
            else:
                raise AssertionError("the call must fail with its gateway")
            assert time.monotonic() - started < 5
            assert gateway.dead is not None
        finally:
            gateway.close()


async def test_a_dead_gateway_is_replaced_and_the_client_records_the_failure(monkeypatch) -> None:
    dead = Gateway()
    dead._proc.kill()
    dead._proc.wait()
    while dead.dead is None:  # the reply reader notices the end
        await asyncio.sleep(0.01)
    monkeypatch.setattr(gateways, "gateway", lambda: dead)
    monkeypatch.setattr("arena.llm.client.gateway", lambda: dead)
    settings = ModelSettings(model="openai/fake", api_base="http://127.0.0.1:9/v1")
    result = await LLMClient().complete(settings, [{"role": "user", "content": "hi"}], None)
    assert (result.raw, result.error_class) == (None, "GatewayError")
    monkeypatch.undo()
    monkeypatch.setattr(gateways, "_gateways", [dead] * gateways.GATEWAYS)
    fresh = [gateways.gateway() for _ in range(gateways.GATEWAYS)]
    try:
        assert all(g is not dead and g.dead is None for g in fresh)
        # each slot replaced once (in turn from wherever the turn stands after earlier calls)
        assert set(gateways._gateways) == set(fresh) and len(set(fresh)) == gateways.GATEWAYS
        await fresh[0].call(None)
    finally:
        for g in fresh:
            g.close()
