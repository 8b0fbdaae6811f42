"""Incremental builds: no-op rebuilds, stale removal, user documents, damaged indexes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tutor.corpus import CorpusError, Retriever, add_documents, build_index, ensure_index
from tutor.corpus.index import get_store, load_manifest, manifest_path
from tutor.corpus.store import StoreUnavailable, chroma_dir
from tutor.settings import ChromaSettings, Settings


def _stored_ids(settings: Settings) -> set[str]:
    return set(get_store(settings).collection.get(include=[])["ids"])


def _manifest_ids(settings: Settings) -> set[str]:
    manifest = load_manifest(settings) or {}
    return {cid for entry in manifest["files"].values() for cid in entry["chunks"]}


def test_build_then_noop_rebuild(settings: Settings) -> None:
    first = build_index(settings)
    assert first.files == 4 and first.files_changed == 4
    assert first.chunks == first.chunks_added > 0
    assert _stored_ids(settings) == _manifest_ids(settings)

    started = time.perf_counter()
    second = build_index(settings)
    elapsed = time.perf_counter() - started
    assert second.noop and second.chunks == first.chunks
    assert second.chunks_added == second.chunks_removed == 0
    assert elapsed < 1.0

    # Touching a file without changing it hashes it again but embeds nothing.
    path = settings.corpus_dir / "mig-basics.md"
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    third = ensure_index(settings)
    assert third.noop and third.chunks == first.chunks


def test_edit_embeds_only_changed_passages_and_removes_stale(settings: Settings) -> None:
    build_index(settings)
    before = _stored_ids(settings)
    path = settings.corpus_dir / "time-slicing.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("crash the\nothers", "starve every other pod"),
        encoding="utf-8",
    )
    (settings.corpus_dir / "plain-notes.md").unlink()

    stats = build_index(settings)
    after = _stored_ids(settings)
    assert stats.files_changed == 1 and stats.files_removed == 1
    assert stats.chunks_added == 1  # only the edited section
    assert stats.chunks_removed == 2  # its old version and the deleted file's passage
    assert after == _manifest_ids(settings) and len(after) == len(before) - 1

    hits = Retriever(settings).search("quartermaster zebra crossings", k=10)
    assert all(h.doc != "plain-notes" for h in hits)
    texts = " ".join(h.text for h in Retriever(settings).search("starve every other pod"))
    assert "starve every other pod" in texts and "crash the" not in texts


def test_user_documents_are_copied_and_survive_rebuilds(settings: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "downloads"
    outside.mkdir()
    mine = outside / "my-cluster.md"
    mine.write_text("## Our nodes\n\nThe batch cluster has 12 nodes with H100 NVL cards.\n")
    result = add_documents(settings, [mine])
    assert result.added == [settings.user_docs_dir / "my-cluster.md"] and not result.skipped

    build_index(settings)
    mine.unlink()  # the user's original is gone; the copy must still serve answers
    build_index(settings, force=True)
    hits = Retriever(settings).search("how many nodes in the batch cluster", k=3)
    assert hits[0].doc == "user/my-cluster" and hits[0].kind == "user"

    # A different file with the same name never overwrites the earlier one.
    mine.write_text("## Our nodes\n\nNow 14 nodes.\n")
    again = add_documents(settings, [mine])
    assert again.added == [settings.user_docs_dir / "my-cluster-2.md"]
    assert "12 nodes" in (settings.user_docs_dir / "my-cluster.md").read_text()


def test_add_refuses_bad_files_with_one_line_reasons(settings: Settings, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    pdf = tmp_path / "deck.pdf"
    pdf.write_bytes(b"%PDF")
    result = add_documents(settings, [huge, pdf, tmp_path / "missing.md"])
    assert result.added == []
    assert len(result.skipped) == 3
    assert str(huge) in result.skipped[0] and "5 MB" in result.skipped[0]
    assert all("\n" not in s for s in result.skipped)


def test_bad_files_in_the_index_are_skipped_or_decoded_with_warnings(
    settings: Settings,
) -> None:
    user = settings.user_docs_dir
    user.mkdir(parents=True)
    (user / "latin1.txt").write_bytes("Caf\xe9 notes about MIG reset.".encode("latin-1"))
    with (user / "huge.md").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    stats = build_index(settings)
    assert any("latin1.txt" in w and "UTF-8" in w for w in stats.warnings)
    assert any("huge.md" in w and "MB" in w for w in stats.warnings)
    assert all("\n" not in w for w in stats.warnings)
    docs = {h.doc for h in Retriever(settings).search("Caf notes MIG reset", k=10)}
    assert "user/latin1" in docs and "user/huge" not in docs


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_missing_or_empty_corpus_folder(
    settings_factory: Callable[..., Settings], tmp_path: Path, state: str, embedding_model: Any
) -> None:
    folder = tmp_path / "no-corpus"
    if state == "empty":
        folder.mkdir()
    settings = settings_factory(corpus_dir=folder)
    stats = build_index(settings)
    assert stats.chunks == 0
    assert (state == "missing") == any("does not exist" in w for w in stats.warnings)
    assert Retriever(settings).search("anything at all") == []


def test_corrupt_chroma_directory_is_detected_and_rebuilt(settings: Settings) -> None:
    first = build_index(settings)
    from tutor.corpus import index as index_module
    from tutor.corpus.store import wipe_local

    index_module._forget_stores()
    wipe_local(settings)
    folder = chroma_dir(settings)
    folder.mkdir(parents=True)
    (folder / "chroma.sqlite3").write_bytes(b"this is not a sqlite database" * 100)

    stats = build_index(settings)
    assert stats.rebuilt and "cannot be opened" in stats.rebuilt and "\n" not in stats.rebuilt
    assert stats.chunks == first.chunks and stats.chunks_added == first.chunks
    assert Retriever(settings).search("noisy neighbour memory bandwidth")[0].doc == "mig-basics"


def test_manifest_from_another_chroma_version_forces_a_rebuild(settings: Settings) -> None:
    first = build_index(settings)
    path = manifest_path(settings)
    manifest = json.loads(path.read_text())
    manifest["fingerprint"]["chromadb"] = "0.4"
    path.write_text(json.dumps(manifest))
    stats = build_index(settings)
    assert stats.rebuilt and "another version" in stats.rebuilt
    assert stats.chunks == first.chunks
    assert _stored_ids(settings) == _manifest_ids(settings)


def test_collection_out_of_step_with_manifest_is_repaired(settings: Settings) -> None:
    first = build_index(settings)
    store = get_store(settings)
    store.collection.delete(ids=sorted(_manifest_ids(settings))[:2])
    # The cheap path trusts an untouched database file; force it to look.
    manifest = load_manifest(settings) or {}
    manifest["store_stamp"] = None
    manifest_path(settings).write_text(json.dumps(manifest))
    stats = build_index(settings)
    assert stats.repaired and "manifest lists" in stats.repaired and not stats.rebuilt
    # Only the two lost passages are embedded again, not the whole index.
    assert stats.chunks_added == 2
    assert _stored_ids(settings) == _manifest_ids(settings)
    assert len(_manifest_ids(settings)) == first.chunks


def test_chroma_server_down_fails_fast_in_one_line(
    settings_factory: Callable[..., Settings],
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_factory(chroma=ChromaSettings(host="127.0.0.1", port=port, timeout_s=1.0))
    started = time.perf_counter()
    with pytest.raises(StoreUnavailable) as err:
        build_index(settings)
    assert time.perf_counter() - started < 5
    assert isinstance(err.value, CorpusError)
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "chroma run" in message and "\n" not in message


def test_chroma_server_that_never_answers_times_out(
    settings_factory: Callable[..., Settings],
) -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never replies
        port = listener.getsockname()[1]
        settings = settings_factory(
            chroma=ChromaSettings(host="127.0.0.1", port=port, timeout_s=0.5)
        )
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable, match="not reachable"):
            build_index(settings)
        assert time.perf_counter() - started < 5
