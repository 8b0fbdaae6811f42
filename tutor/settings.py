"""Settings, read once from config.toml and TUTOR_* environment variables.

Order of precedence (highest first): keyword arguments, environment
(`TUTOR_MODEL__NAME=...`), `$XDG_CONFIG_HOME/tutor/config.toml` (or the file
named by `TUTOR_CONFIG`), defaults. `TUTOR_HOME` moves every data path.
"""

from __future__ import annotations

import difflib
import importlib.resources
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

LOCAL_MODEL = "local/smollm2"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """A folder the package ships (corpus, prompts, evals), checkout or installed alike.

    `tutor/data/<name>` links to the repository's top-level folder, and the wheel copies
    what the link points at (pyproject.toml's package data), so one lookup serves both.
    """
    resource = importlib.resources.files("tutor").joinpath("data", name)
    return Path(str(resource)).resolve()


def config_file() -> Path:
    explicit = os.environ.get("TUTOR_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tutor" / "config.toml"


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tutor"


class ModelSettings(BaseModel):
    """One model endpoint: the embedded local model or any litellm model string."""

    # A typo such as `timout_s` must be an error, not a silently kept default.
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        LOCAL_MODEL,
        description="litellm model string, e.g. 'local/smollm2', "
        "'openai/gpt-4o-mini', 'ollama/llama3.1', 'anthropic/claude-sonnet-4-5'",
    )
    api_base: str | None = Field(None, description="base URL for a llama.cpp or vLLM server")
    api_key: str | None = Field(None, description="key; normally taken from the provider's env var")
    gguf_path: Path | None = Field(None, description="another GGUF file for the local provider")
    n_ctx: int = Field(4096, ge=256, description="context window of the local model")
    n_threads: int | None = Field(None, ge=1, description="CPU threads for the local model")
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(384, ge=1)
    timeout_s: float = Field(
        120.0, gt=0, description="wall time for one reply, across all its reads"
    )
    retries: int = Field(2, ge=0, le=10)
    max_tool_args_chars: int = Field(
        8000, ge=2, description="a tool call with longer arguments is dropped, not run"
    )
    max_prompt_chars: int = Field(
        200_000, ge=1000, description="a longer prompt is refused before it is sent"
    )

    @property
    def is_local(self) -> bool:
        """The embedded model, run in process. A server on localhost (vLLM, Ollama, a
        llama.cpp server) is a hosted model like any other: it gets the tools."""
        return self.name.startswith("local/")


class ChromaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(None, description="Chroma server host; unset = on-disk index")
    port: int = Field(8000, ge=1, le=65535)
    collection: str = "tutor-corpus"
    timeout_s: float = Field(5.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TUTOR_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(default_factory=default_home, description="where all data lives")
    model: ModelSettings = Field(default_factory=lambda: ModelSettings())
    judge: ModelSettings = Field(default_factory=lambda: ModelSettings())
    chroma: ChromaSettings = Field(default_factory=lambda: ChromaSettings())
    corpus_dir: Path = Field(
        default_factory=lambda: shipped("corpus"), description="the project's own corpus"
    )
    prompts_dir: Path = Field(
        default_factory=lambda: shipped("prompts"), description="teacher-editable prompts"
    )
    evals_dir: Path = Field(default_factory=lambda: shipped("evals"))
    lesson_plan: Path | None = Field(
        None,
        description="the lesson plan (YAML) to teach; unset = the one plan in "
        "corpus_dir/lessons/",
    )
    cluster_file: Path | None = Field(None, description="the learner's cluster profile (YAML)")
    theme: str = "textual-dark"
    max_doc_passages: int = Field(
        500, ge=1, description="a document that splits into more passages is not indexed"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    @property
    def lesson_plan_file(self) -> Path:
        if self.lesson_plan is not None:
            return self.lesson_plan
        from tutor.engine.plan import default_plan_path

        return default_plan_path(self.corpus_dir)

    # Data paths all derive from `home`, so TUTOR_HOME moves every one of them.
    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def user_docs_dir(self) -> Path:
        return self.home / "documents"

    @property
    def fetched_dir(self) -> Path:
        return self.home / "fetched"

    @property
    def sessions_db(self) -> Path:
        return self.home / "sessions.sqlite"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.home / "eval-runs"


class SettingsError(Exception):
    """A config file or environment variable holds a value the settings refuse."""


def load_settings(**overrides: Any) -> Settings:
    """Load settings once; raise SettingsError naming the source (file or variable) and field."""
    from pydantic_settings import SettingsError as SourceError

    from tutor.redact import register_secret

    explicit = os.environ.get("TUTOR_CONFIG")
    if explicit and not Path(explicit).is_file():
        raise SettingsError(
            f"TUTOR_CONFIG names {explicit}, which is not a file; create it or unset TUTOR_CONFIG"
        )
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc.errors()[0], overrides)) from exc
    except SourceError as exc:
        # pydantic-settings wraps a bad JSON value in a TUTOR_* variable this way
        found = re.search(r'field "([^"]+)" from source "EnvSettingsSource"', str(exc))
        if found:
            cause = f" ({exc.__cause__})" if exc.__cause__ else ""
            raise SettingsError(
                f"TUTOR_{found.group(1).upper()} is not valid JSON{cause}; write an object such "
                f"as '{{\"name\": \"local/smollm2\"}}', or set one field with "
                f"TUTOR_{found.group(1).upper()}__NAME"
            ) from exc
        raise SettingsError(f"cannot read the settings: {exc}") from exc
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise SettingsError(f"cannot read {config_file()}: {exc}") from exc
    # A key given in config.toml is as secret as one in the environment.
    for model in (settings.model, settings.judge):
        register_secret(model.api_key)
    return settings


def _describe(error: Any, overrides: dict[str, Any]) -> str:
    """One line for a validation error: the field, its real source, and the fix."""
    loc = tuple(str(p) for p in error["loc"])
    field = ".".join(loc)
    source = _source(loc, overrides)
    if error.get("type") == "extra_forbidden":
        valid = _fields_at(loc[:-1])
        close = difflib.get_close_matches(loc[-1].lower(), valid, n=1, cutoff=0.6)
        if source.startswith("TUTOR_"):
            where = f"in the environment variable {source}"
            hint = f"; did you mean {_env_name((*loc[:-1], close[0]))}?" if close else ""
        else:
            where = f"in {source}"
            hint = f"; did you mean '{'.'.join((*loc[:-1], close[0]))}'?" if close else ""
        choices = "" if close else f"; valid keys here: {', '.join(sorted(valid))}"
        return f"unknown setting '{field}' {where}{hint}{choices}"
    where = f"the environment variable {source}" if source.startswith("TUTOR_") else source
    return f"bad setting '{field}' ({error['msg']}) in {where}; fix the value there"


def _env_name(loc: tuple[str, ...]) -> str:
    return "TUTOR_" + "__".join(p.upper() for p in loc)


def _source(loc: tuple[str, ...], overrides: dict[str, Any]) -> str:
    """Where a field's value came from, in precedence order: flags, environment, file."""
    if loc and loc[0] in overrides:
        return "a command-line option"
    env = {k.upper(): v for k, v in os.environ.items()}
    for depth in range(len(loc), 0, -1):
        name = _env_name(loc[:depth])
        if name not in env:
            continue
        if depth == len(loc):
            return name
        # a TUTOR_MODEL='{"timout_s": 5}' variable holds the rest of the path as JSON
        try:
            value: Any = json.loads(env[name])
        except ValueError:
            continue
        for part in loc[depth:]:
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return name
    path = config_file()
    try:
        data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path} or {_env_name(loc)}"
    for part in loc:
        if not isinstance(data, dict) or part not in data:
            return f"{path} or {_env_name(loc)}"
        data = data[part]
    return str(path)


def _fields_at(prefix: tuple[str, ...]) -> list[str]:
    """The valid keys of the settings section at this path (top level for ())."""
    cls: Any = Settings
    for part in prefix:
        info = getattr(cls, "model_fields", {}).get(part)
        annotation = getattr(info, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        cls = annotation
    return list(getattr(cls, "model_fields", {}))
