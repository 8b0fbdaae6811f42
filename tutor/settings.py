"""Settings, read once from config.toml and TUTOR_* environment variables.

Order of precedence (highest first): keyword arguments, environment
(`TUTOR_MODEL__NAME=...`), `$XDG_CONFIG_HOME/tutor/config.toml` (or the file
named by `TUTOR_CONFIG`), defaults. `TUTOR_HOME` moves every data path.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
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
    timeout_s: float = Field(120.0, gt=0)
    retries: int = Field(2, ge=0, le=10)

    @property
    def is_local(self) -> bool:
        return self.name.startswith("local/") or bool(
            self.api_base and ("127.0.0.1" in self.api_base or "localhost" in self.api_base)
        )


class ChromaSettings(BaseModel):
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
    """Load settings once; raise SettingsError naming the file and field on bad input."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise SettingsError(
            f"bad setting '{field}' ({first['msg']}); check {config_file()} "
            f"or TUTOR_{field.upper().replace('.', '__')}"
        ) from exc
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise SettingsError(f"cannot read {config_file()}: {exc}") from exc
