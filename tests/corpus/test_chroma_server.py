"""The index on a real `chroma run` server, reached through HttpClient."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tutor.corpus import Retriever, build_index
from tutor.settings import ChromaSettings, Settings

from .conftest import make_settings


def _chroma_binary() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    binary = _chroma_binary()
    if binary is None:
        pytest.skip("the 'chroma' CLI is not installed beside this Python (pip install chromadb)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = tmp_path / "chroma-server"
    proc = subprocess.Popen(
        [binary, "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run exited or did not answer on port {port}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_build_and_search_through_a_chroma_server(
    chroma_server: int, tmp_path: Path, corpus_dir: Path, embedding_model: object
) -> None:
    settings: Settings = make_settings(
        tmp_path, corpus_dir, chroma=ChromaSettings(host="127.0.0.1", port=chroma_server)
    )
    stats = build_index(settings)
    assert stats.backend == f"http://127.0.0.1:{chroma_server}"
    assert stats.chunks == stats.chunks_added > 0

    hit = Retriever(settings).search("noisy neighbour memory bandwidth", k=1)[0]
    assert (hit.doc, hit.section) == ("mig-basics", "GPU instances")

    again = build_index(settings)
    assert again.noop and again.chunks == stats.chunks

    # The server's data is separate from the local index: nothing was written there.
    assert not (settings.index_dir / "chroma").exists()
