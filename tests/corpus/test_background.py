"""Fast starts: the plan's passages stored with the index, staged search, resumable builds."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from tutor.corpus import CorpusError, Retriever, build_index
from tutor.corpus import embedding as embedding_module
from tutor.corpus import index as index_module
from tutor.corpus import snapshot as snapshot_module
from tutor.corpus.build_worker import build_in_subprocess
from tutor.corpus.index import get_store, load_manifest, manifest_path
from tutor.corpus.retrieval import SearchIndex
from tutor.corpus.snapshot import plan_table_path, read_snapshot
from tutor.settings import ChromaSettings, Settings

QUERIES = ["GPU instance memory slices L2 cache", "time-sliced pods share memory"]


def _stored_ids(settings: Settings) -> set[str]:
    return set(get_store(settings).collection.get(include=[])["ids"])


def _manifest_ids(settings: Settings) -> set[str]:
    manifest = load_manifest(settings) or {}
    return {cid for entry in manifest["files"].values() for cid in entry["chunks"]}


@pytest.fixture
def planned(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The fixture corpus with a lesson plan citing QUERIES."""
    monkeypatch.setattr(snapshot_module, "plan_queries", lambda _settings: list(QUERIES))
    return settings


def _no_model(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("the embedding model was used")


def test_plan_passages_are_stored_at_build_and_served_without_the_model(
    planned: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index(planned)
    table = json.loads(plan_table_path(planned).read_text())
    assert set(table["passages"]) == set(QUERIES)
    snapshot = read_snapshot(planned)
    assert snapshot is not None and snapshot.vectors is not None
    live = SearchIndex.from_snapshot(snapshot)
    expected = {q: [h.id for h in live.search(q, 2, dense=True)] for q in QUERIES}

    monkeypatch.setattr(embedding_module, "embed_query", _no_model)
    monkeypatch.setattr(embedding_module, "get_model", _no_model)
    retriever = Retriever(planned, background=True, plan_queries=list(QUERIES))
    for query in QUERIES:
        hits = retriever.search(query, 2)
        assert [h.id for h in hits] == expected[query]
        assert retriever.last_mode == "plan" and all(h.mode == "plan" for h in hits)
    # A question the plan does not cite is answered by keywords while the model is away.
    hits = retriever.search("quartermaster zebra crossings", 3)
    assert hits and hits[0].doc == "plain-notes" and retriever.last_mode == "keyword"
    assert retriever.wait_settled(30) and retriever.error is not None  # the patched model


def test_a_changed_corpus_never_serves_the_old_plan_passages(planned: Settings) -> None:
    build_index(planned)
    old = json.loads(plan_table_path(planned).read_text())["corpus_digest"]
    assert old == index_module.index_digest(load_manifest(planned) or {})
    path = planned.corpus_dir / "time-slicing.md"
    path.write_text(path.read_text().replace("crash the\nothers", "starve every pod"))
    build_index(planned)
    new = json.loads(plan_table_path(planned).read_text())["corpus_digest"]
    assert new != old and new == index_module.index_digest(load_manifest(planned) or {})
    assert snapshot_module.read_plan_table(planned, QUERIES, old) is None
    retriever = Retriever(planned)
    hits = retriever.search(QUERIES[1], 5)
    assert retriever.last_mode == "plan" and any("starve every pod" in h.text for h in hits)


def test_free_questions_use_keywords_until_the_dense_search_is_ready(
    settings: Settings,
) -> None:
    gate = threading.Event()
    built: list[object] = []

    def slow_build(s: Settings, progress: Any) -> None:
        assert gate.wait(30), "the test never let the build run"
        built.append(build_index(s, progress=progress))

    messages: list[str] = []
    retriever = Retriever(
        settings, background=True, build=slow_build, progress=lambda m, _f: messages.append(m)
    ).start()
    # First run: no index at all yet, but the files themselves give a keyword index.
    hits = retriever.search("quartermaster zebra crossings", 3)
    assert hits and hits[0].doc == "plain-notes"
    assert retriever.last_mode == "keyword" and not retriever.dense_ready
    gate.set()
    assert retriever.wait_settled(60) and retriever.error is None and built
    hits = retriever.search("can one tenant's pods run another out of VRAM?", 2)
    assert str(retriever.last_mode) == "hybrid" and hits[0].mode == "hybrid"
    assert ("time-slicing", "No memory isolation") in {(h.doc, h.section) for h in hits}
    assert any("background" in m for m in messages) and "corpus search ready" in messages


def test_an_interrupted_build_resumes_where_it_stopped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "UPSERT_BATCH", 2)
    real = embedding_module.embed
    calls: list[int] = []

    def flaky(texts: Any, **kwargs: Any) -> Any:
        calls.append(len(texts))
        if len(calls) == 3:
            raise KeyboardInterrupt  # the learner closed the app mid-build
        return real(texts, **kwargs)

    monkeypatch.setattr(embedding_module, "embed", flaky)
    with pytest.raises(KeyboardInterrupt):
        build_index(settings)
    stored = len(_stored_ids(settings))
    assert stored == 4  # two batches of two made it to the index

    calls.clear()
    monkeypatch.setattr(embedding_module, "embed", real)
    stats = build_index(settings)
    assert not stats.rebuilt
    assert stats.chunks_added == stats.chunks - stored
    assert _stored_ids(settings) == _manifest_ids(settings)


def test_a_moved_data_folder_reuses_its_index(settings: Settings, tmp_path: Path) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    first = build_index(settings)
    fingerprint = json.dumps((load_manifest(settings) or {})["fingerprint"])
    assert str(settings.home) not in fingerprint
    index_module._forget_stores()
    SharedSystemClient.clear_system_cache()
    moved = tmp_path / "elsewhere"
    shutil.move(settings.home, moved)
    there = settings.model_copy(update={"home": moved})
    stats = build_index(there)
    assert not stats.rebuilt and stats.chunks_added == 0 and stats.chunks == first.chunks
    assert Retriever(there).search("noisy neighbour memory bandwidth")[0].doc == "mig-basics"


def test_a_manifest_naming_the_old_absolute_path_is_not_rebuilt(settings: Settings) -> None:
    build_index(settings)
    manifest = load_manifest(settings) or {}
    manifest["fingerprint"]["backend"] = f"local:{settings.index_dir / 'chroma'}"
    manifest["store_stamp"] = None
    manifest_path(settings).write_text(json.dumps(manifest))
    stats = build_index(settings)
    assert not stats.rebuilt and stats.chunks_added == 0


def test_a_build_in_a_child_process_reports_progress_and_stats(settings: Settings) -> None:
    messages: list[str] = []
    stats = build_in_subprocess(settings, lambda m, _f: messages.append(m))
    assert stats["chunks"] == stats["chunks_added"] > 0 and not stats["noop"]
    assert any(m.startswith("embedding") for m in messages)
    snapshot = read_snapshot(settings)
    assert snapshot is not None and len(snapshot.ids) == stats["chunks"]
    assert build_index(settings).noop  # what the child built is what this process sees


def test_a_failed_child_build_is_one_line(settings_factory: Any) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_factory(chroma=ChromaSettings(host="127.0.0.1", port=port, timeout_s=1.0))
    with pytest.raises(CorpusError) as err:
        build_in_subprocess(settings, lambda _m, _f: None)
    assert f"127.0.0.1:{port}" in str(err.value) and "\n" not in str(err.value)
