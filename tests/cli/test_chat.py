"""`tutor chat --plain --jsonl`, `tutor ask`, sessions and prompts through the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fakes import ScriptedModel
from tutor.cli import chat as chat_cli
from tutor.cli.main import app
from tutor.engine import factory
from tutor.mig.tools import dispatch
from tutor.settings import load_settings

runner = CliRunner()


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    real = factory.build_engine

    def fake_build(settings: Any, **kwargs: Any) -> Any:
        kwargs["model"] = ScriptedModel("Have a go.")
        kwargs["use_corpus"] = False
        return real(settings, **kwargs)

    monkeypatch.setattr(factory, "build_engine", fake_build)


def turns(output: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [e for e in events if e["type"] == "turn_done"]


async def test_plain_jsonl_asks_then_reveals_from_the_calculator(scripted: None) -> None:
    out = io.StringIO()
    inp = io.StringIO("How many 1g.10gb instances fit on an A100-80GB? Just tell me.\nI think 4\n")
    code = await chat_cli.run_plain(load_settings(), jsonl=True, resume=False, inp=inp, out=out)
    assert code == 0
    done = turns(out.getvalue())
    expected = dispatch("mig_capacity", {"gpu": "A100-80GB", "profile": "1g.10gb"}).result
    assert expected is not None
    opening, ask, reveal = done
    assert opening["phase"] == "ask"
    assert ask["phase"] == "ask" and f"{expected['count']} instances" not in ask["text"]
    assert reveal["phase"] == "reveal" and f"**{expected['count']} instances**" in reveal["text"]
    assert reveal["tool_calls"][0]["name"] == "mig_capacity"
    assert reveal["tool_calls"][0]["result"]["count"] == expected["count"]
    assert set(reveal) >= {"type", "phase", "text", "citations", "tool_calls"}


def test_ask_with_a_guess(scripted: None) -> None:
    result = runner.invoke(
        app, ["ask", "With time-slicing, 4 GPUs x 5 replicas: how many GPUs?", "--guess", "20",
              "--jsonl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    reveal = turns(result.output)[-1]
    assert reveal["phase"] == "reveal"
    # The reading comes first, then the verdict on the guess.
    assert reveal["text"].startswith("I read this as: ")
    assert "4 GPUs, 5 replicas each" in reveal["text"]
    assert "**Right!**" in reveal["text"]


def test_ask_rejects_an_empty_question() -> None:
    result = runner.invoke(app, ["ask", "  "])
    assert result.exit_code == 2
    assert "empty" in result.output


def test_sessions_list_and_export(scripted: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["chat", "--plain", "--jsonl"], input="B\n")
    assert result.exit_code == 0, result.output
    listing = runner.invoke(app, ["sessions", "list", "--json"])
    sessions = json.loads(listing.output)
    assert len(sessions) == 1
    target = tmp_path / "t.md"
    exported = runner.invoke(
        app, ["sessions", "export", sessions[0]["id"], "--format", "md", "-o", str(target)]
    )
    assert exported.exit_code == 0, exported.output
    text = target.read_text()
    assert "### You\n" in text and "| step-1 | guess | B | right |" in text
    missing = runner.invoke(app, ["sessions", "export", "nope"])
    assert missing.exit_code == 2 and "no session" in missing.output


def test_prompts_check_names_a_bad_variable(tmp_path: Path) -> None:
    good = runner.invoke(app, ["prompts", "check", "-q"])
    assert good.exit_code == 0 and "ok: 6 prompts" in good.output
    variant = tmp_path / "variant"
    variant.mkdir()
    for f in Path("prompts").iterdir():
        (variant / f.name).write_text(f.read_text())
    (variant / "ask.md").write_text("Ask about $question and $answer_key")
    bad = runner.invoke(app, ["prompts", "check", str(variant)])
    assert bad.exit_code == 2
    assert "ask.md" in bad.output and "$answer_key" in bad.output


def test_bad_config_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[model]\ntemperature = 'hot'\n")
    monkeypatch.setenv("TUTOR_CONFIG", str(config))
    result = runner.invoke(app, ["prompts", "check", "-q"])
    assert result.exit_code == 2
    assert "model.temperature" in result.output and str(config) in result.output


def test_setup_failures_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUTOR_PROMPTS_DIR", str(tmp_path / "missing"))
    result = runner.invoke(app, ["ask", "What is MIG?"])
    assert result.exit_code == 2
    assert "prompts folder not found" in result.output
    assert "Traceback" not in result.output
    monkeypatch.delenv("TUTOR_PROMPTS_DIR")
    monkeypatch.setenv("TUTOR_MODEL__NAME", "local/x")
    monkeypatch.setenv("TUTOR_MODEL__GGUF_PATH", str(tmp_path / "nope.gguf"))
    result = runner.invoke(app, ["chat", "--plain"], input="B\n")
    assert result.exit_code == 2
    assert "nope.gguf does not exist" in result.output


def test_corrupt_sessions_database_is_one_line(_isolated_home: Path) -> None:
    (_isolated_home / "sessions.sqlite").write_text("not a database")
    result = runner.invoke(app, ["sessions", "list"])
    assert result.exit_code == 2
    assert "cannot open the sessions database" in result.output
    assert (_isolated_home / "sessions.sqlite").read_text() == "not a database"
