"""Model configuration: the TOML file of model aliases, and how a `llm:` seat becomes a model spec.

```toml
[defaults]                  # optional, applies to every alias and to bare model strings
timeout_s = 30

[models.mini]
model = "openai/gpt-4o-mini"          # any litellm model string
api_key_env = "OPENAI_API_KEY"        # the NAME of the variable holding the key, never the key
temperature = 0.2
concurrency = 8
params = { top_p = 0.9 }              # extra provider parameters, passed through to litellm
input_usd_per_million_tokens = 0.15   # optional: the price, where litellm's list price is wrong
output_usd_per_million_tokens = 0.60
```

Keys come only from the environment: a key written into the file is refused.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG = Path("arena.toml")


class ConfigError(ValueError):
    """The model configuration cannot be used; the message names the file and the problem."""


class ModelSettings(BaseModel):
    """How to call one model and how its seat plays. Every field but `model` has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="litellm model string, e.g. openai/gpt-4o-mini")
    api_base: str | None = None
    api_key_env: str | None = Field(
        None, description="name of the environment variable that holds the key"
    )
    temperature: float | None = Field(0.7, ge=0, le=2)
    max_tokens: int | None = Field(400, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    retries: int = Field(1, ge=0, le=10, description="transport retries per call (litellm)")
    reasks: int = Field(2, ge=0, le=10, description="re-asks after an unusable answer")
    concurrency: int = Field(8, ge=1, description="calls in flight at once for this alias")
    response_schema: Literal["auto", "on", "off"] = "auto"
    memory: Literal["full", "summary", "none"] = "full"
    reflection: bool = False
    templates: str | None = Field(
        None, description="folder of prompt templates replacing the packaged ones, file by file"
    )
    params: dict[str, Any] = Field(default_factory=dict)
    # What the calls cost, when litellm's list price is not the right one (a server of one's own,
    # a negotiated rate): both or neither.
    input_usd_per_million_tokens: float | None = Field(None, ge=0)
    output_usd_per_million_tokens: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _both_prices_or_neither(self) -> ModelSettings:
        stated = [getattr(self, name) is not None for name in PRICE_FIELDS]
        if any(stated) and not all(stated):
            raise ValueError(
                "state both input_usd_per_million_tokens and output_usd_per_million_tokens "
                "(0 for a side that costs nothing), or neither"
            )
        return self

    @property
    def price(self) -> tuple[float, float] | None:
        """The stated USD per million (input, output) tokens, if the alias states a price."""
        if self.input_usd_per_million_tokens is None or self.output_usd_per_million_tokens is None:
            return None
        return (self.input_usd_per_million_tokens, self.output_usd_per_million_tokens)

    def public(self) -> dict[str, Any]:
        """What is stored with the seat: everything but where the key lives (and the price
        fields when no price is stated, so an unpriced alias is stored as it always was)."""
        unstated = {name for name in PRICE_FIELDS if getattr(self, name) is None}
        return self.model_dump(exclude={"api_key_env", *unstated})


PRICE_FIELDS = ("input_usd_per_million_tokens", "output_usd_per_million_tokens")


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    defaults: dict[str, Any] = Field(default_factory=dict)
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ModelsConfig:
    """The aliases of one configuration file (or none), resolving `llm:` seat values."""

    def __init__(
        self, aliases: dict[str, ModelSettings], defaults: dict[str, Any], source: str
    ) -> None:
        self.aliases = aliases
        self.defaults = defaults
        self.source = source

    def resolve(self, value: str, api_base: str | None = None) -> tuple[str, ModelSettings]:
        """The (display name, settings) of `llm:VALUE`: an alias, or any litellm model string
        (which has a provider prefix, e.g. `openai/gpt-4o`). `api_base` overrides the alias's."""
        if value in self.aliases:
            name, settings = value, self.aliases[value]
        elif "/" in value:
            name, settings = value, _settings({**self.defaults, "model": value}, self.source, value)
        else:
            known = ", ".join(self.aliases) or "none defined"
            raise ConfigError(
                f"llm:{value} is neither an alias in {self.source} (aliases: {known}) nor a "
                "litellm model string with a provider prefix such as openai/gpt-4o-mini"
            )
        if api_base is not None:
            if _has_credentials(api_base):
                raise ConfigError("--api-base has credentials in it; use api_key_env")
            settings = settings.model_copy(update={"api_base": api_base})
        return name, settings


# Parameter names that carry credentials: refused in the file, since everything in it but
# api_key_env is stored with the seat.
SECRET_WORDS = ("key", "token", "secret", "password", "authorization", "credential", "header")


def _has_credentials(url: str) -> bool:
    """`https://user:password@host/…`: the part before the host holds credentials."""
    return "@" in url.split("//", 1)[-1].split("/", 1)[0]


def _settings(fields: dict[str, Any], source: str, alias: str) -> ModelSettings:
    if "api_key" in fields:
        raise ConfigError(
            f"{source}: model {alias!r} has an api_key; keys come only from the environment: "
            'write api_key_env = "NAME_OF_THE_VARIABLE" instead'
        )
    params = fields.get("params")
    if isinstance(params, dict):
        for name in params:
            if any(word in name.lower() for word in SECRET_WORDS):
                raise ConfigError(
                    f"{source}: model {alias!r} has params.{name}, which can carry a credential; "
                    "keys come only from the environment (api_key_env), and params are stored "
                    "with every match"
                )
    base = fields.get("api_base")
    if isinstance(base, str) and _has_credentials(base):
        raise ConfigError(
            f"{source}: model {alias!r} has credentials in its api_base; use api_key_env"
        )
    try:
        return ModelSettings(**fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or alias}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"{source}: model {alias!r}: {problems}") from None


def load_models(path: Path | None) -> ModelsConfig:
    """Read `path`, or `arena.toml` in the working directory if it exists, or nothing."""
    if path is None:
        if not DEFAULT_CONFIG.exists():
            return ModelsConfig({}, {}, "the command line (no arena.toml here)")
        path = DEFAULT_CONFIG
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    try:
        parsed = ModelsFile(**raw)
    except ValidationError as error:
        where = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        raise ConfigError(
            f"{path}: unexpected or malformed section(s) {where} (expected [defaults] and "
            "[models.ALIAS] tables)"
        ) from None
    source = str(path)
    if "api_key" in parsed.defaults:
        raise ConfigError(f"{source}: [defaults] has an api_key; use api_key_env instead")
    aliases = {
        alias: _settings({**parsed.defaults, **fields}, source, alias)
        for alias, fields in parsed.models.items()
    }
    for alias, settings in aliases.items():  # a templates folder is relative to the file
        if settings.templates is not None and not Path(settings.templates).is_absolute():
            folder = str(path.parent / settings.templates)
            aliases[alias] = settings.model_copy(update={"templates": folder})
    return ModelsConfig(aliases, parsed.defaults, source)


def api_key(settings: ModelSettings) -> str | None:
    """The key from the environment variable the settings name (None: litellm's own lookup)."""
    if settings.api_key_env is None:
        return None
    key = os.environ.get(settings.api_key_env)
    if not key:
        raise ConfigError(
            f"model {settings.model}: the environment variable {settings.api_key_env} is not set"
        )
    return key
