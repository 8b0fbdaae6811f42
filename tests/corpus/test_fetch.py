"""`tutor corpus fetch` against a loopback HTTP server the test starts, and offline."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tutor.corpus import Retriever, build_index
from tutor.corpus.fetch import fetch_sources, page_filename
from tutor.settings import Settings

PAGE = """<!doctype html>
<html><head><title>Supported GPUs | NVIDIA Docs</title><script>track()</script></head>
<body><nav>Docs home</nav><article>
<h1>Supported GPUs</h1>
<h2>Hopper</h2><p>The H100 supports up to seven MIG instances with the flux capacitor.</p>
</article></body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "supported-gpus.html").write_text(PAGE, encoding="utf-8")
    (root / "notes.md").write_text("## Plain\n\nMarkdown served as text.\n", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _sources(settings: Settings, urls: list[str]) -> None:
    entries = [{"url": u, "title": None, "topics": ["mig", "supported-gpus"]} for u in urls]
    entries[0]["title"] = "MIG User Guide: Supported GPUs"
    (settings.corpus_dir / "sources.yaml").write_text(yaml.safe_dump(entries))


def test_fetch_converts_stores_and_indexes_pages(settings: Settings, site: str) -> None:
    page_url = f"{site}/supported-gpus.html"
    _sources(settings, [page_url, f"{site}/notes.md", f"{site}/missing.html"])
    result = fetch_sources(settings)
    assert result.offline is None and result.total == 3 and len(result.saved) == 2
    assert len(result.warnings) == 1 and "HTTP 404" in result.warnings[0]

    saved = settings.fetched_dir / page_filename(page_url)
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("---\n") and page_url in text and "kind: fetched" in text
    assert "## Hopper" in text and "track()" not in text and "Docs home" not in text

    build_index(settings)
    hit = Retriever(settings).search("flux capacitor H100", k=1)[0]
    assert hit.title == "MIG User Guide: Supported GPUs" and hit.section == "Hopper"
    assert hit.url == page_url and hit.kind == "fetched"
    assert hit.doc == f"fetched/{saved.stem}"

    again = fetch_sources(settings)  # unchanged pages are not rewritten
    assert again.saved == [] and len(again.unchanged) == 2
    assert build_index(settings).noop


def test_fetch_offline_says_so_and_keeps_pages(settings: Settings, site: str) -> None:
    _sources(settings, [f"{site}/supported-gpus.html"])
    fetch_sources(settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    _sources(settings, [f"http://127.0.0.1:{dead}/a.html", f"http://127.0.0.1:{dead}/b.html"])
    result = fetch_sources(settings, timeout_s=2)
    assert result.offline is not None and "\n" not in result.offline
    assert result.offline.startswith("offline: cannot reach 127.0.0.1")
    assert "kept the 1 pages" in result.offline
    assert len(list(settings.fetched_dir.glob("*.md"))) == 1


def test_cli_fetch_offline_is_one_line(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tutor.cli.main import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    _sources(settings, [f"http://127.0.0.1:{dead}/a.html"])
    monkeypatch.setenv("TUTOR_HOME", str(settings.home))
    monkeypatch.setenv("TUTOR_CORPUS_DIR", str(settings.corpus_dir))
    result = CliRunner().invoke(app, ["corpus", "fetch"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("offline: cannot reach 127.0.0.1")
