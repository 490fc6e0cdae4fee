"""Model configuration and `llm:` seats: aliases, defaults, and every way a config can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.llm.client import redact
from arena.llm.config import ConfigError, load_models
from arena.seats import SeatError, parse_seats


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "arena.toml"
    path.write_text(text)
    return path


def test_aliases_inherit_defaults_and_override_them(tmp_path: Path) -> None:
    models = load_models(
        write(
            tmp_path,
            """
            [defaults]
            timeout_s = 12
            temperature = 0.3

            [models.mini]
            model = "openai/gpt-4o-mini"
            temperature = 0.9
            params = { top_p = 0.5 }
            """,
        )
    )
    name, mini = models.resolve("mini")
    assert (name, mini.model, mini.timeout_s, mini.temperature) == (
        "mini",
        "openai/gpt-4o-mini",
        12,
        0.9,
    )
    assert mini.params == {"top_p": 0.5}
    # a bare model string takes the defaults too
    _, bare = models.resolve("anthropic/claude-x")
    assert (bare.model, bare.timeout_s, bare.temperature) == ("anthropic/claude-x", 12, 0.3)
    # --api-base applies to the seat
    _, local = models.resolve("mini", api_base="http://127.0.0.1:9/v1")
    assert local.api_base == "http://127.0.0.1:9/v1"


def test_without_a_file_only_model_strings_resolve(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no arena.toml here
    models = load_models(None)
    assert models.resolve("openai/x")[1].model == "openai/x"
    with pytest.raises(ConfigError, match="neither an alias"):
        models.resolve("mini")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[models.a]\nmodel = "openai/x"\napi_key = "sk-123"',
            "keys come only from the environment",
        ),
        ('[defaults]\napi_key = "sk-123"', "api_key_env instead"),
        ('[models.a]\nmodel = "openai/x"\nparams = { api_key = "sk-1" }', "params.api_key"),
        ('[models.a]\nmodel = "o/x"\nparams = { extra_headers = { A = "B" } }', "credential"),
        ('[models.a]\nmodel = "o/x"\napi_base = "https://u:pw@h/v1"', "in its api_base"),
        ('[models.a]\nmodel = "openai/x"\ntemperatur = 1', "temperatur: Extra inputs"),
        ('[models.a]\nmodel = "openai/x"\ntemperature = 7', "temperature: Input should be less"),
        ("[models.a]\ntemperature = 1", "model: Field required"),
        ("[models\nbroken", "is not valid TOML"),
        ('[model.a]\nmodel = "openai/x"', "unexpected or malformed section"),
    ],
)
def test_a_bad_config_names_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as error:
        load_models(path)
    assert str(path) in str(error.value)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_models(tmp_path / "nope.toml")


def test_llm_seats_are_named_by_alias_and_numbered_when_repeated(tmp_path: Path) -> None:
    models = load_models(write(tmp_path, '[models.mini]\nmodel = "openai/m"'))
    specs = parse_seats(
        ["llm:mini", "llm:mini", "bot:counter", "llm:openai/o"], "liars-bar", models
    )
    assert [s.name for s in specs] == ["mini-1", "mini-2", "counter", "openai/o"]
    described = specs[0].describe()
    assert described["model"] == "openai/m"
    assert "api_key_env" not in described["params"]
    with pytest.raises(SeatError, match="neither an alias"):
        parse_seats(["llm:nosuch"], "liars-bar", models)


def test_redact_removes_keys_found_in_the_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MY_PROVIDER_KEY", "sk-secret-123456")
    models = load_models(
        write(tmp_path, '[models.a]\nmodel = "openai/x"\napi_key_env = "MY_PROVIDER_KEY"')
    )
    _, settings = models.resolve("a")
    text = "Incorrect API key provided: sk-secret-123456 (see docs)"
    assert redact(text, settings) == "Incorrect API key provided: [redacted] (see docs)"


def test_the_batch_key_ignores_how_a_model_is_reached(tmp_path: Path) -> None:
    """Rerunning with another timeout, retries, concurrency or server resumes the batch; another
    temperature or other template files make another batch."""
    from arena.batch import plan

    def key(text: str) -> str:
        models = load_models(write(tmp_path, text))
        return plan("liars-bar", None, {}, ["llm:m", "bot:counter"], 1, 1, models).key

    base = '[models.m]\nmodel = "openai/x"\n'
    first = key(base)
    assert (
        key(base + 'timeout_s = 5\nretries = 3\nconcurrency = 2\napi_base = "http://h/v1"\n')
        == first
    )
    assert key(base + "temperature = 0.1\n") != first
    (tmp_path / "tpl").mkdir()
    with_templates = key(base + 'templates = "tpl"\n')
    (tmp_path / "tpl" / "reask.txt").write_text("Try again: $reason\n")
    assert key(base + 'templates = "tpl"\n') != with_templates
