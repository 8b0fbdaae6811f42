"""evals/suite.yaml: which cases run, the gates that fail a run, and the CI configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tutor.evals.cases import CaseError
from tutor.evals.scorers import DEFAULT_LENGTH, SCORERS


class CiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = "local/smollm2"
    judge_model: str = "local/smollm2"
    judge_sample: int = Field(6, ge=0, description="cases sent to the judge; 0 = no judge")
    corpus: bool = Field(False, description="retrieve passages (slower); else cite the plan")
    budget_seconds: float = Field(480, gt=0, description="warn when the run takes longer")
    tags: list[str] = Field(
        default_factory=list, description="run only cases with one of these tags; empty = all"
    )


class Gate(BaseModel):
    """A check that fails the run: a minimum pass rate over at least `min_cases` cases."""

    model_config = ConfigDict(extra="forbid")

    pass_rate: float = Field(ge=0, le=1, description="minimum share of applicable cases passing")
    min_cases: int = Field(
        1, ge=1, description="fewer applicable cases than this fails the gate (full suite runs)"
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `reveal_gate: 1.0` is a gate with the default minimum of one applicable case.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"pass_rate": value}
        return value


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: str = Field("cases/*.yaml", description="glob, relative to the suite file")
    gates: dict[str, Gate] = Field(
        default_factory=dict,
        description="scorer -> {pass_rate, min_cases} (or just the pass rate); a miss fails",
    )
    targets: dict[str, float] = Field(
        default_factory=dict, description="scorer or judge dimension -> goal; reported only"
    )
    length: dict[str, tuple[int, int]] = Field(default_factory=lambda: dict(DEFAULT_LENGTH))
    temperature: float = Field(0.0, ge=0, le=2)
    concurrency: int = Field(4, ge=1, le=64, description="hosted models; local runs one at a time")
    judge_sample: int | None = Field(None, ge=0, description="judge only this many cases")
    ci: CiConfig = Field(default_factory=lambda: CiConfig())

    @field_validator("gates")
    @classmethod
    def _known_scorers(cls, gates: dict[str, Gate]) -> dict[str, Gate]:
        for name in gates:
            if name not in SCORERS:
                raise ValueError(f"unknown scorer {name!r}; known: {', '.join(SCORERS)}")
        return gates


def load_suite(path: Path) -> Suite:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise CaseError(f"{path}: suite file not found") from exc
    except yaml.YAMLError as exc:
        raise CaseError(f"{path}: not valid YAML") from exc
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise CaseError(f"{path}: field '{where}': {msg}") from exc
