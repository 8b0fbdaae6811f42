"""Typed data files (YAML or JSON) validated by pydantic, with errors that name the spot.

Every data file of the project (the MIG catalogue, the lesson plan, eval cases and
suites, cluster profiles) loads through here, so every bad file gets the same kind of
one-line message: the file, the field (with list items named by their id), and what is
wrong with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class DataFileError(ValueError):
    """A data file is missing, unreadable or invalid; the message is one line."""


def read_data(path: Path, error: type[Exception] = DataFileError, what: str = "file") -> Any:
    """Parse a .json, .yaml or .yml file; raise `error` with a one-line reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: {what} not found") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from exc
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise error(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    import yaml

    # libyaml's loader reads the lesson plan about ten times faster than the pure-Python
    # one, and the plan is on the path to the first question.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise error(f"{path}: not valid YAML{line}") from exc


def describe_location(raw: Any, loc: tuple[int | str, ...]) -> str:
    """steps.2.options.1.text -> steps[step-3].options[B].text, using ids where items have them."""
    parts: list[str] = []
    node = raw
    for key in loc:
        label = str(key)
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            item = node[key]
            ident = None
            if isinstance(item, dict):
                for field in ("id", "key", "name"):
                    if isinstance(item.get(field), str):
                        ident = item[field]
                        break
            label = f"[{ident}]" if ident is not None else f"[{key}]"
            node = item
            if parts:
                parts[-1] += label
                continue
        elif isinstance(node, dict):
            node = node.get(key)
        parts.append(label)
    return ".".join(parts) or "(top level)"


def validation_message(path: Path, raw: Any, exc: ValidationError) -> str:
    err = exc.errors()[0]
    # Model-validator and union errors carry long prefixes; the first line is enough.
    msg = str(err["msg"]).removeprefix("Value error, ").splitlines()[0]
    return f"{path}: field {describe_location(raw, tuple(err['loc']))}: {msg}"


def load_model(
    path: Path,
    model: type[ModelT],
    *,
    error: type[Exception] = DataFileError,
    what: str = "file",
    default: Any = None,
) -> ModelT:
    """Read `path` and validate it as `model`; an empty file validates `default`."""
    raw = read_data(path, error, what)
    if raw is None:
        raw = default
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(validation_message(path, raw, exc)) from exc
