"""Cost honesty: a call is priced at litellm's list price only when it went to the hosted provider;
at a server of one's own it costs what the alias states, or nothing is claimed (null). A stated
price is how the seat is billed, not who it is: batches and line-ups keep their keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arena.batch import plan, run_batch
from arena.llm.client import LLMClient, list_price_applies
from arena.llm.config import ConfigError, ModelsConfig, ModelSettings, load_models
from arena.llm.fake_server import FakeOpenAI
from arena.llm.gateway import load_litellm
from arena.store.db import Store
from arena.store.keys import seat_identity
from tests.support import read_only

PRICE = {"input_usd_per_million_tokens": 0.4, "output_usd_per_million_tokens": 1.6}
HI = [{"role": "user", "content": "Reply with the single word OK."}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def local_mini(base_url: str, **fields: Any) -> ModelsConfig:
    """gpt-4o-mini, a model litellm has a list price for, served by the fake server."""
    mini = ModelSettings(model="openai/gpt-4o-mini", api_base=base_url, **fields)
    return ModelsConfig({"mini": mini}, {}, "test")


async def play(db: Path, config: ModelsConfig, matches: int = 1) -> tuple[str, Any]:
    batch = plan("cleanup", None, {"max_steps": 2}, ["llm:mini"] * 4, matches, 1, config)
    with Store(db) as store:
        report = await run_batch(store, batch)
    return batch.key, report


def calls(db: Path) -> list[tuple[int, int, float | None]]:
    with read_only(db) as conn:
        return conn.execute(
            "SELECT prompt_tokens, completion_tokens, cost_usd FROM llm_calls"
        ).fetchall()


async def test_a_model_at_a_server_of_ones_own_costs_null_without_a_stated_price(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "local.db"
    await play(db, local_mini(server.base_url))
    found = calls(db)
    assert found and all(p > 0 and c > 0 and cost is None for p, c, cost in found)


async def test_a_stated_price_is_the_tokens_times_the_price(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "priced.db"
    await play(db, local_mini(server.base_url, **PRICE))
    found = calls(db)
    assert found
    for prompt, completion, cost in found:
        expected = (prompt * 0.4 + completion * 1.6) / 1_000_000
        assert cost == pytest.approx(expected, rel=1e-12, abs=0)


async def test_the_hosted_provider_keeps_litellms_list_price() -> None:
    """No network: litellm's mock_response stands for the provider and reports usage."""
    hosted = ModelSettings(model="openai/gpt-4o-mini", params={"mock_response": "OK"})
    result = await LLMClient().complete(hosted, HI, None)
    assert result.raw == "OK" and result.prompt_tokens and result.completion_tokens
    listed = load_litellm().model_cost["gpt-4o-mini"]
    expected = (
        result.prompt_tokens * listed["input_cost_per_token"]
        + result.completion_tokens * listed["output_cost_per_token"]
    )
    assert result.cost_usd == pytest.approx(expected, rel=1e-9)


async def test_a_stated_price_wins_over_the_list_price_and_an_api_base_drops_it() -> None:
    client = LLMClient()
    priced = ModelSettings(model="openai/gpt-4o-mini", params={"mock_response": "OK"}, **PRICE)
    result = await client.complete(priced, HI, None)
    assert result.prompt_tokens and result.completion_tokens
    expected = (result.prompt_tokens * 0.4 + result.completion_tokens * 1.6) / 1_000_000
    assert result.cost_usd == pytest.approx(expected, rel=1e-12, abs=0)
    # a mock never connects; the api_base alone says this is not the hosted provider
    elsewhere = ModelSettings(
        model="openai/gpt-4o-mini",
        api_base="http://127.0.0.1:9/v1",
        params={"mock_response": "OK"},
    )
    result = await client.complete(elsewhere, HI, None)
    assert result.raw == "OK" and result.cost_usd is None


@pytest.mark.parametrize(
    ("model", "api_base", "listed"),
    [
        ("openai/gpt-4o-mini", None, True),
        ("anthropic/claude-3-5-haiku-latest", None, True),
        ("openai/gpt-4o-mini", "https://api.openai.com/v1", True),
        ("openai/gpt-4o-mini", "https://API.OPENAI.COM/v1/", True),
        ("azure/my-gpt-4o", "https://my-resource.openai.azure.com", True),
        ("openai/gpt-4o-mini", "http://127.0.0.1:8000/v1", False),
        ("openai/gpt-4o-mini", "https://api.openai.com.example.org/v1", False),
        ("openai/gpt-4o-mini", "https://openrouter.ai/api/v1", False),  # not OpenAI's own
        ("hosted_vllm/Qwen2.5-7B", "http://10.0.0.5:8000/v1", False),
        ("gpt-4o-mini", "https://api.openai.com/v1", False),  # no provider to match the host
    ],
)
def test_the_list_price_applies_only_at_the_providers_own_endpoint(
    model: str, api_base: str | None, listed: bool
) -> None:
    assert list_price_applies(ModelSettings(model=model, api_base=api_base)) is listed


def test_a_stated_price_means_no_list_price_even_at_the_provider() -> None:
    assert not list_price_applies(ModelSettings(model="openai/gpt-4o-mini", **PRICE))


# -- the alias's price ---------------------------------------------------------------------------


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "arena.toml"
    path.write_text(
        '[models.local]\nmodel = "openai/m"\napi_base = "http://127.0.0.1:1/v1"\n' + body
    )
    return path


def test_prices_are_read_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, "input_usd_per_million_tokens = 0.1\noutput_usd_per_million_tokens = 0\n"
    )
    assert load_models(path).aliases["local"].price == (0.1, 0.0)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            "input_usd_per_million_tokens = -1\noutput_usd_per_million_tokens = 1\n",
            "greater than or equal to 0",
        ),
        ("input_usd_per_million_tokens = 0.1\n", "state both"),
        ('output_usd_per_million_tokens = "cheap"\n', "valid number"),
    ],
)
def test_a_bad_price_is_refused_naming_the_alias(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_models(write(tmp_path, body))
    assert "'local'" in str(refused.value) and says in str(refused.value)


def test_the_stored_params_carry_a_price_only_when_one_is_stated() -> None:
    plain = ModelSettings(model="openai/m").public()
    assert not any("usd" in name for name in plain)
    priced = ModelSettings(model="openai/m", **PRICE).public()
    assert {k: priced[k] for k in PRICE} == PRICE


def test_a_price_changes_neither_the_batch_key_nor_the_lineup_key() -> None:
    plain = ModelSettings(model="openai/m", api_base="http://127.0.0.1:1/v1")
    priced = plain.model_copy(update=PRICE)
    keys = [
        plan("cleanup", None, {}, ["llm:m"] * 4, 3, 1, ModelsConfig({"m": s}, {}, "t")).key
        for s in (plain, priced)
    ]
    assert keys[0] == keys[1]
    identities = [seat_identity("llm", None, "openai/m", s.public()) for s in (plain, priced)]
    assert identities[0] == identities[1]


async def test_a_rerun_with_a_price_stated_resumes_the_batch(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    db = tmp_path / "rerun.db"
    first_key, first = await play(db, local_mini(server.base_url))
    again_key, again = await play(db, local_mini(server.base_url, **PRICE), matches=2)
    assert first_key == again_key
    assert (first.new, again.skipped, again.new) == (1, 1, 1)
