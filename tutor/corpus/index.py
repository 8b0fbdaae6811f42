"""Incremental index builds: a manifest of file hashes decides what to embed, upsert and delete.

Over 400 lines: the manifest, resumable builds, repair and the plan-passage table are
one build's steps.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tutor.corpus.documents import (
    CHUNKER_VERSION,
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    Chunk,
    DocumentError,
    chunk_document,
    load_document,
)
from tutor.corpus.embedding import MODEL_NAME
from tutor.corpus.errors import CorpusError as CorpusError
from tutor.corpus.store import (
    UPSERT_BATCH,
    Store,
    StoreCorrupt,
    backend_id,
    chroma_dir,
    open_store,
    reset_collection,
    wipe_local,
)
from tutor.settings import Settings

MANIFEST_FORMAT = 1
EMBED_BATCH = 16

Progress = Callable[[str, float | None], None]
"""Called as progress(message, fraction done or None) during long steps."""

_stores: dict[str, Store] = {}


@dataclass(frozen=True)
class SourceFile:
    key: str
    path: Path
    doc: str
    default_kind: str


@dataclass
class BuildStats:
    files: int = 0
    files_changed: int = 0
    files_removed: int = 0
    chunks: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0
    rebuilt: str | None = None
    """Why the whole index was rebuilt from scratch, if it was."""
    repaired: str | None = None
    """Why passages the manifest lists were embedded again, if any were."""
    backend: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def noop(self) -> bool:
        return not (
            self.files_changed
            or self.files_removed
            or self.chunks_added
            or self.chunks_removed
            or self.rebuilt
            or self.repaired
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "noop": self.noop}


def manifest_path(settings: Settings) -> Path:
    return settings.index_dir / "manifest.json"


def _fingerprint() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "format": MANIFEST_FORMAT,
        "chunker": CHUNKER_VERSION,
        "model": MODEL_NAME,
        # Chroma's on-disk layout changes between minor versions; treat a different
        # major.minor as a different index rather than trust the migration path.
        "chromadb": ".".join(version("chromadb").split(".")[:2]),
    }


def _backend_key(settings: Settings) -> str:
    # The on-disk index always lives under the data folder, so its absolute path says
    # nothing about the vectors: a moved TUTOR_HOME must not re-embed everything.
    return "local" if not settings.chroma.host else backend_id(settings)


def index_fingerprint(settings: Settings) -> dict[str, Any]:
    """What must match for an index to be reused: versions, model, backend, collection."""
    return {
        **_fingerprint(),
        "backend": _backend_key(settings),
        "collection": settings.chroma.collection,
    }


def _portable(fingerprint: Any) -> Any:
    """A fingerprint from before the backend key dropped the path reads as 'local'."""
    if isinstance(fingerprint, dict) and str(fingerprint.get("backend", "")).startswith("local:"):
        return {**fingerprint, "backend": "local"}
    return fingerprint


def index_digest(manifest: dict[str, Any]) -> str:
    """The index's content: its passage ids hash everything stored with each passage."""
    files: dict[str, Any] = manifest.get("files") or {}
    ids = sorted(cid for entry in files.values() for cid in entry.get("chunks", []))
    fingerprint = _portable(manifest.get("fingerprint")) or {}
    head = json.dumps(
        {k: fingerprint.get(k) for k in ("format", "chunker", "model")}, sort_keys=True
    )
    return hashlib.sha256("\n".join([head, *ids]).encode()).hexdigest()[:32]


def load_manifest(settings: Settings) -> dict[str, Any] | None:
    path = manifest_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_manifest(settings: Settings, manifest: dict[str, Any]) -> None:
    path = manifest_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _store_stamp(settings: Settings) -> list[Any] | None:
    """Size of Chroma's database and its segment folders, to skip opening it when unchanged.

    Not the mtime: Chroma touches the file on every open, even for a read-only search.
    """
    if settings.chroma.host:
        return None
    folder = chroma_dir(settings)
    try:
        size = (folder / "chroma.sqlite3").stat().st_size
        segments = sorted(p.name for p in folder.iterdir() if p.is_dir())
    except OSError:
        return None
    return [size, segments]


def discover(settings: Settings, warnings: list[str]) -> list[SourceFile]:
    """Every file that belongs in the index: project notes, fetched pages, user documents."""
    found: list[SourceFile] = []
    corpus = settings.corpus_dir
    if corpus.is_dir():
        for path in sorted(corpus.glob("*.md")):
            if path.name.lower() == "readme.md":
                continue
            found.append(SourceFile(f"corpus:{path.name}", path, path.stem, "reference"))
    else:
        warnings.append(
            f"corpus folder {corpus} does not exist; indexing only fetched pages and your "
            "documents - set corpus_dir to the project's corpus/ folder"
        )
    fetched = settings.fetched_dir
    if fetched.is_dir():
        for path in sorted(fetched.glob("*.md")):
            found.append(
                SourceFile(f"fetched:{path.name}", path, f"fetched/{path.stem}", "fetched")
            )
    user = settings.user_docs_dir
    if user.is_dir():
        for path in sorted(user.rglob("*")):
            if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
                rel = path.relative_to(user)
                doc = "user/" + rel.with_suffix("").as_posix()
                found.append(SourceFile(f"user:{rel.as_posix()}", path, doc, "user"))
    return found


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _get_store(settings: Settings) -> Store:
    key = backend_id(settings) + "|" + settings.chroma.collection
    store = _stores.get(key)
    if store is None:
        store = open_store(settings)
        _stores[key] = store
    return store


def _forget_stores() -> None:
    _stores.clear()


def get_store(settings: Settings) -> Store:
    """The process-wide Store for these settings; corrupt local indexes are rebuilt first."""
    try:
        return _get_store(settings)
    except StoreCorrupt:
        build_index(settings)
        return _get_store(settings)


def _open_or_wipe(settings: Settings, stats: BuildStats) -> Store:
    try:
        return _get_store(settings)
    except StoreCorrupt as exc:
        stats.rebuilt = f"{exc}; rebuilt it from the corpus"
        stats.warnings.append(stats.rebuilt)
        _forget_stores()
        wipe_local(settings)
        try:
            return _get_store(settings)
        except StoreCorrupt as again:
            raise CorpusError(
                f"{again}; delete {chroma_dir(settings)} by hand and run 'tutor corpus build'"
            ) from again


def _batched(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def _build_lock(settings: Settings) -> Iterator[None]:
    # The app's background build and a 'tutor corpus build' writing one Chroma folder at
    # once would corrupt it; the second builder waits for the first instead.
    import fcntl

    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with (settings.index_dir / ".build.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass
class _Plan:
    """What a build has to do, worked out from the manifest and file stats alone."""

    sources: list[SourceFile]
    manifest: dict[str, Any] | None
    old_files: dict[str, Any]
    unchanged: dict[str, Any]
    candidates: list[tuple[SourceFile, os.stat_result]]
    vanished: list[str]


def _survey(settings: Settings, stats: BuildStats, force: bool) -> _Plan:
    sources = discover(settings, stats.warnings)
    stats.files = len(sources)
    fingerprint = index_fingerprint(settings)
    manifest = load_manifest(settings)
    old_files: dict[str, Any] = {}
    if manifest is None:
        if manifest_path(settings).exists():
            stats.rebuilt = f"manifest {manifest_path(settings)} was unreadable"
    elif _portable(manifest.get("fingerprint")) != fingerprint:
        stats.rebuilt = "the index was built by another version or backend"
    elif force:
        stats.rebuilt = "a rebuild was forced"
    else:
        old_files = dict(manifest.get("files") or {})

    # Cheap pass: stat every file; only those whose size or mtime moved get hashed.
    unchanged: dict[str, Any] = {}
    candidates: list[tuple[SourceFile, os.stat_result]] = []
    for source in sources:
        try:
            st = source.path.stat()
        except OSError as exc:
            stats.warnings.append(f"{source.path}: cannot read ({exc.strerror}); skipped")
            continue
        entry = old_files.get(source.key)
        if entry and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            unchanged[source.key] = entry
        else:
            candidates.append((source, st))
    keys = {s.key for s in sources}
    vanished = [key for key in old_files if key not in keys]
    return _Plan(sources, manifest, old_files, unchanged, candidates, vanished)


def _sidecars_current(settings: Settings, manifest: dict[str, Any]) -> bool:
    from tutor.corpus.snapshot import plan_table_current, snapshot_digest

    digest = index_digest(manifest)
    return snapshot_digest(settings) == digest and plan_table_current(settings, digest)


def _is_current(settings: Settings, stats: BuildStats, plan: _Plan) -> bool:
    manifest = plan.manifest
    return (
        manifest is not None
        and not stats.rebuilt
        and not plan.candidates
        and not plan.vanished
        and manifest.get("store_stamp") is not None
        and manifest.get("store_stamp") == _store_stamp(settings)
        and _sidecars_current(settings, manifest)
    )


def index_current(settings: Settings) -> bool:
    """True when a build would do nothing: only stats files and reads the manifest.

    Opens neither Chroma nor the embedding model, so the app can ask at start-up.
    """
    stats = BuildStats(backend=backend_id(settings))
    return _is_current(settings, stats, _survey(settings, stats, force=False))


def build_index(
    settings: Settings, *, progress: Progress | None = None, force: bool = False
) -> BuildStats:
    """Bring the index in line with the files: embed new chunks, delete stale ones.

    With nothing changed this only stats files and returns; with `force` everything is
    re-embedded. Unreadable files are skipped with a warning, never fatal. An
    interrupted build resumes: passages already stored are kept, not embedded again.
    """
    with _build_lock(settings):
        return _build(settings, progress=progress, force=force)


def _build(settings: Settings, *, progress: Progress | None, force: bool) -> BuildStats:
    started = time.perf_counter()
    stats = BuildStats(backend=backend_id(settings))
    plan = _survey(settings, stats, force)
    if _is_current(settings, stats, plan):
        stats.chunks = sum(len(e.get("chunks", [])) for e in plan.unchanged.values())
        stats.seconds = time.perf_counter() - started
        return stats

    sources = plan.sources
    old_files, unchanged = plan.old_files, plan.unchanged
    candidates, vanished = plan.candidates, plan.vanished
    store = _open_or_wipe(settings, stats)
    if stats.rebuilt:
        # Another model, chunker or backend: nothing stored can be trusted.
        if store.collection.count():
            store = reset_collection(store, settings)
            _stores[backend_id(settings) + "|" + settings.chroma.collection] = store
        old_files, unchanged = {}, {}
        candidates = [(s, s.path.stat()) for s in sources if s.path.exists()]
        vanished = []

    present = set(store.collection.get(include=[])["ids"])
    # Passages the manifest lists but the collection lacks: their files are read again.
    lost = [key for key, e in unchanged.items() if not set(e.get("chunks", [])) <= present]
    if lost:
        expected = sum(len(e.get("chunks", [])) for e in old_files.values())
        stats.repaired = (
            f"the collection holds {len(present)} chunks but the manifest lists {expected}; "
            "embedded the missing ones again"
        )
        stats.warnings.append(stats.repaired)
        by_key = {s.key: s for s in sources}
        for key in lost:
            del unchanged[key]
            if by_key[key].path.exists():
                candidates.append((by_key[key], by_key[key].path.stat()))

    new_files: dict[str, Any] = dict(unchanged)
    to_add: dict[str, Chunk] = {}
    keep_ids: set[str] = set()
    for entry in unchanged.values():
        keep_ids.update(entry.get("chunks", []))
    for i, (source, st) in enumerate(candidates):
        if progress:
            progress(f"reading {source.path.name}", i / len(candidates))
        entry = old_files.get(source.key)
        if st.st_size <= MAX_FILE_BYTES:
            digest = _hash_file(source.path)
            if entry and entry.get("sha256") == digest and set(entry.get("chunks", [])) <= present:
                new_files[source.key] = {**entry, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
                keep_ids.update(entry.get("chunks", []))
                continue
        else:
            digest = ""
        try:
            document = load_document(
                source.path,
                source=source.key,
                doc=source.doc,
                default_kind=source.default_kind,
                warnings=stats.warnings,
                max_passages=settings.max_doc_passages,
            )
        except (DocumentError, OSError) as exc:
            stats.warnings.append(
                str(exc)
                if isinstance(exc, DocumentError)
                else f"{source.path}: cannot read ({exc}); skipped"
            )
            continue
        chunks = chunk_document(document)
        if not chunks:
            stats.warnings.append(f"{source.path} has no text to index; skipped")
        stats.files_changed += 1
        new_files[source.key] = {
            # Relative to the folder it was found in: the data folder may move.
            "path": source.key.split(":", 1)[1],
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": digest,
            "doc": document.doc,
            "title": document.title,
            "kind": document.kind,
            "chunks": [c.id for c in chunks],
        }
        for chunk in chunks:
            to_add[chunk.id] = chunk
    if progress and candidates:
        progress("read the corpus", 1.0)

    new_ids = keep_ids | set(to_add)
    # Content-hashed ids: a passage whose text did not change keeps its id and vector,
    # and so does one an interrupted build already stored.
    embed_chunks = [c for cid, c in to_add.items() if cid not in present]
    stale = sorted(present - new_ids)
    stats.files_removed = len(vanished) + sum(
        1 for key in old_files if key not in new_files and key not in vanished
    )

    if embed_chunks:
        _embed_and_store(store, embed_chunks, progress)
    for batch in _batched(stale, UPSERT_BATCH):
        store.collection.delete(ids=batch)

    stats.chunks_added = len(embed_chunks)
    stats.chunks_removed = len(stale)
    stats.chunks = sum(len(e.get("chunks", [])) for e in new_files.values())
    manifest_now: dict[str, Any] = {
        "fingerprint": index_fingerprint(settings),
        "files": new_files,
        "built_at": time.time(),
        "store_stamp": None,
    }
    _write_manifest(settings, manifest_now)
    _write_sidecars(settings, store, manifest_now, stats, progress)
    # Stamp last, after Chroma has flushed, so the next no-op build can trust it.
    manifest_now["store_stamp"] = _store_stamp(settings)
    _write_manifest(settings, manifest_now)
    stats.seconds = time.perf_counter() - started
    return stats


def _embed_and_store(store: Store, chunks: list[Chunk], progress: Progress | None) -> None:
    from tutor.corpus.embedding import embed

    done = 0
    message = f"embedding {len(chunks)} passages"
    # Batches of passages of like length: the model pads each batch to its longest,
    # and on the shipped corpus sorting cuts the padded tokens by about a quarter.
    chunks = sorted(chunks, key=lambda c: len(c.embedding_text()))
    # Each batch is stored as soon as it is embedded: an interrupted build keeps it.
    for batch in _batched(chunks, UPSERT_BATCH):
        vectors: list[Any] = []
        for small in _batched(batch, EMBED_BATCH):
            if progress:
                progress(message, done / len(chunks))
            vectors.extend(embed([c.embedding_text() for c in small]))
            done += len(small)
        store.collection.upsert(
            ids=[c.id for c in batch],
            embeddings=vectors,
            documents=[c.text for c in batch],
            metadatas=[c.metadata() for c in batch],
        )
    if progress:
        progress(message, 1.0)


def _write_sidecars(
    settings: Settings,
    store: Store,
    manifest: dict[str, Any],
    stats: BuildStats,
    progress: Progress | None,
) -> None:
    """The snapshot of every passage and vector, then the plan's cited passages."""
    from tutor.corpus.retrieval import SearchIndex
    from tutor.corpus.snapshot import (
        PLAN_TABLE_K,
        Snapshot,
        as_matrix,
        plan_queries,
        write_plan_table,
        write_snapshot,
    )

    digest = index_digest(manifest)
    got = store.collection.get(include=["documents", "metadatas", "embeddings"])
    ids = list(got["ids"])
    texts = [t or "" for t in (got["documents"] or [])]
    metas = [dict(m or {}) for m in (got["metadatas"] or [])]
    embeddings = got["embeddings"]
    vectors = [list(v) for v in embeddings] if embeddings is not None and len(ids) else []
    write_snapshot(settings, digest, ids, texts, metas, vectors)

    queries = plan_queries(settings)
    if not queries:
        return
    if progress:
        progress("resolving the lesson's passages", None)
    matrix = as_matrix(vectors, len(ids))
    index = SearchIndex.from_snapshot(Snapshot(digest, ids, texts, metas, matrix))
    table = {
        query: [hit.to_stored() for hit in index.search(query, PLAN_TABLE_K, dense=True)]
        for query in queries
    }
    write_plan_table(settings, queries, digest, table)


def ensure_index(settings: Settings, progress: Progress | None = None) -> BuildStats:
    """Build the index if it is missing or stale; a fresh index costs only a few stats."""
    return build_index(settings, progress=progress)


@dataclass
class AddResult:
    added: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _unique_target(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while target.exists():
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target


def add_documents(settings: Settings, paths: Iterable[Path]) -> AddResult:
    """Copy the user's files into the user documents folder so rebuilds keep them.

    A file already there with the same name and different content is never
    overwritten: the new one gets a numbered name.
    """
    result = AddResult()
    folder = settings.user_docs_dir
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            files.append(path)
    for path in files:
        if not path.is_file():
            result.skipped.append(f"{path} does not exist or is not a file")
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            result.skipped.append(
                f"{path} has an unsupported type '{path.suffix}'; use one of "
                + ", ".join(SUPPORTED_SUFFIXES)
            )
            continue
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            result.skipped.append(
                f"{path} is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB "
                "limit for one document; split it into smaller files"
            )
            continue
        try:  # refused now, not on every later start: a document over the passage cap
            load_document(
                path, source=f"user:{path.name}", doc=f"user/{path.stem}", default_kind="user",
                warnings=[], max_passages=settings.max_doc_passages,
            )  # fmt: skip
        except DocumentError as exc:
            result.skipped.append(str(exc))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        existing = folder / path.name
        if existing.exists() and existing.read_bytes() == path.read_bytes():
            result.added.append(existing)
            continue
        target = _unique_target(folder, path.name)
        shutil.copy2(path, target)
        result.added.append(target)
    return result


def index_summary(settings: Settings) -> dict[str, Any]:
    """What the manifest says about the index, without opening Chroma or the model."""
    import datetime as dt

    manifest = load_manifest(settings) or {}
    files: dict[str, Any] = manifest.get("files") or {}
    by_kind: dict[str, int] = {}
    for entry in files.values():
        kind = str(entry.get("kind", "?"))
        by_kind[kind] = by_kind.get(kind, 0) + len(entry.get("chunks", []))
    warnings: list[str] = []
    sources = discover(settings, warnings)
    pending = 0
    for source in sources:
        entry = files.get(source.key)
        try:
            st = source.path.stat()
        except OSError:
            continue
        if not entry or entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns:
            pending += 1
    pending += sum(1 for key in files if key not in {s.key for s in sources})
    built = manifest.get("built_at")
    return {
        "backend": backend_id(settings),
        "collection": settings.chroma.collection,
        "manifest": str(manifest_path(settings)),
        "built_at": dt.datetime.fromtimestamp(built).isoformat(timespec="seconds")
        if isinstance(built, int | float)
        else None,
        "files": len(files),
        "chunks": sum(len(e.get("chunks", [])) for e in files.values()),
        "by_kind": by_kind,
        "documents": sorted({str(e.get("doc")) for e in files.values()}),
        "pending": pending,
        "corpus_dir": str(settings.corpus_dir),
        "user_docs_dir": str(settings.user_docs_dir),
        "fetched_dir": str(settings.fetched_dir),
    }
