"""Bad config files and variables: one line naming the real source, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tutor.cli.main import app
from tutor.settings import SettingsError, load_settings


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "tutor" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused() -> str:
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("toml", "field", "suggestion"),
    [
        ("[model]\ntimout_s = 5\n", "model.timout_s", "model.timeout_s"),
        ("[judge]\nnmae = 'x'\n", "judge.nmae", "judge.name"),
        ("[chroma]\nprot = 8001\n", "chroma.prot", "chroma.port"),
        ("[modle]\nname = 'x'\n", "modle", "model"),
        ("them = 'x'\n", "them", "theme"),
    ],
)
def test_a_typo_in_any_section_is_an_error_with_the_closest_key(
    _isolated_home: Path, toml: str, field: str, suggestion: str
) -> None:
    path = write_config(_isolated_home, toml)
    message = refused()
    assert f"unknown setting '{field}'" in message
    assert str(path) in message
    assert f"did you mean '{suggestion}'" in message


def test_an_unknown_key_with_no_close_match_lists_the_valid_ones(_isolated_home: Path) -> None:
    write_config(_isolated_home, "[chroma]\nzzzzzz = 1\n")
    message = refused()
    assert "chroma.zzzzzz" in message and "valid keys here" in message and "port" in message


def test_a_typo_in_an_environment_variable_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTOR_MODEL__TIMOUT_S", "5")
    message = refused()
    assert "TUTOR_MODEL__TIMOUT_S" in message and "TUTOR_MODEL__TIMEOUT_S" in message
    assert "config.toml" not in message


def test_bad_json_in_a_variable_is_blamed_on_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTOR_MODEL", "{not json")
    message = refused()
    assert message.startswith("TUTOR_MODEL is not valid JSON")
    assert "config.toml" not in message


def test_a_bad_value_in_a_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_MODEL__TIMEOUT_S", "-1")
    message = refused()
    assert "model.timeout_s" in message and "TUTOR_MODEL__TIMEOUT_S" in message


def test_a_bad_value_in_the_file_names_the_file(_isolated_home: Path) -> None:
    path = write_config(_isolated_home, "[model]\ntimeout_s = -1\n")
    message = refused()
    assert "model.timeout_s" in message and str(path) in message


def test_a_missing_tutor_config_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("TUTOR_CONFIG", str(missing))
    message = refused()
    assert "TUTOR_CONFIG" in message and str(missing) in message


def test_a_typo_through_the_cli_is_one_line_and_exit_2(_isolated_home: Path) -> None:
    write_config(_isolated_home, "[model]\ntimout_s = 5\n")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "did you mean 'model.timeout_s'" in lines[0]
    assert "Traceback" not in result.output


def test_a_key_set_in_the_file_is_redacted_from_then_on(_isolated_home: Path) -> None:
    from tutor.redact import redact

    secret = "plain-looking-key-42-xyz"
    write_config(_isolated_home, f"[model]\napi_key = '{secret}'\n")
    load_settings()
    assert secret not in redact(f"401: bad key {secret}")
