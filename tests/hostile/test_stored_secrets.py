"""A provider that echoes the API key: the key reaches no file under the data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.hostile.fake_openai import FakeServer
from tutor.cli.main import app

KEY = "sk-proj-ECHOED0123456789abcdefXYZ"


def test_an_echoed_key_is_in_no_result_cache_or_output(
    fake_server: FakeServer, _isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("TUTOR_MODEL__API_BASE", fake_server.base_url)
    monkeypatch.setenv("TUTOR_MODEL__RETRIES", "0")
    before = fake_server.requests["echo"]
    result = CliRunner().invoke(
        app, ["eval", "run", "--model", "openai/echo", "--no-judge", "--no-corpus", "--tag", "a30"]
    )
    assert fake_server.requests["echo"] > before, "the provider was asked and echoed the key"
    assert KEY not in result.output
    written = [p for p in _isolated_home.rglob("*") if p.is_file()]
    assert any(p.name == "results.jsonl" for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
    results = next(p for p in written if p.name == "results.jsonl").read_text(encoding="utf-8")
    assert "refused the API key" in results and "[redacted]" in results
