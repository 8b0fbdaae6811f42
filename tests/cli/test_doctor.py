"""`tutor doctor`: versions, data paths under TUTOR_HOME, and the embedded model loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor import __version__
from tutor.cli.main import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"tutor {__version__}"


def test_doctor_json_paths_follow_tutor_home(_isolated_home: Path) -> None:
    result = runner.invoke(app, ["doctor", "--json", "--no-model"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["tutor"] == __version__
    assert data["packages"]["litellm"] and data["packages"]["chromadb"]
    for key in ("home", "index", "sessions", "documents"):
        assert data["paths"][key].startswith(str(_isolated_home)), key
    assert data["index_exists"] is False
    assert data["model"] is None


@pytest.mark.slow
def test_doctor_reports_the_embedded_model_loads() -> None:
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)["model"]
    assert model["name"] == "local/smollm2" and model["is_local"]
    assert model["loads"] is True and model["error"] is None
    assert model["path"].endswith(".gguf")


def test_doctor_reports_a_model_that_cannot_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_MODEL__NAME", "local/missing")
    monkeypatch.setenv("TUTOR_MODEL__GGUF_PATH", "/nonexistent/model.gguf")
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    model = json.loads(result.output)["model"]
    assert model["loads"] is False and "/nonexistent/model.gguf" in model["error"]
