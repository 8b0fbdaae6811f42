"""Opening the Chroma collection: on disk under the index folder, or on a `chroma run` server."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.corpus.errors import CorpusError
from tutor.settings import Settings

# Chroma refuses a few default settings combinations silently; pinning the space
# keeps distances comparable across rebuilds and servers.
COLLECTION_METADATA = {"hnsw:space": "cosine"}
# Server-side batches above this are rejected by Chroma's max_batch_size on small hosts.
UPSERT_BATCH = 256


class StoreError(CorpusError):
    """The vector store cannot be used; the message is one line naming the fix."""


class StoreUnavailable(StoreError):
    """The configured Chroma server does not answer."""


class StoreCorrupt(StoreError):
    """The on-disk index cannot be opened and must be rebuilt from the corpus."""


@dataclass
class Store:
    client: Any
    collection: Any
    backend: str
    """'local:<path>' or 'http://host:port'; a manifest from another backend is not reused."""


def chroma_dir(settings: Settings) -> Path:
    return settings.index_dir / "chroma"


def backend_id(settings: Settings) -> str:
    if settings.chroma.host:
        return f"http://{settings.chroma.host}:{settings.chroma.port}"
    return f"local:{chroma_dir(settings)}"


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaConfig

    return ChromaConfig(anonymized_telemetry=False, allow_reset=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _probe_server(settings: Settings) -> None:
    """Fail fast with a short timeout: Chroma's own HTTP client waits forever."""
    import httpx

    url = backend_id(settings)
    try:
        with httpx.Client(timeout=settings.chroma.timeout_s, trust_env=False) as http:
            response = http.get(f"{url}/api/v2/heartbeat")
    except httpx.HTTPError as exc:
        raise StoreUnavailable(
            f"Chroma server at {url} is not reachable ({_first_line(exc)}); start it with "
            f"'chroma run --port {settings.chroma.port}' or unset chroma.host to use the "
            "on-disk index"
        ) from exc
    if response.status_code != 200:
        raise StoreUnavailable(
            f"Chroma server at {url} answered HTTP {response.status_code} to a heartbeat; "
            "check that it is a Chroma 1.x server"
        )


def _bound_client_timeout(client: Any, settings: Settings) -> None:
    # Chroma's FastAPI client builds its httpx session with timeout=None; a server that
    # accepts connections but never answers would hang the tutor, so bound it.
    import httpx

    server = getattr(client, "_server", None)
    session = getattr(server, "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(
            max(30.0, settings.chroma.timeout_s * 6), connect=settings.chroma.timeout_s
        )


def open_store(settings: Settings) -> Store:
    """Open (creating if needed) the collection; raise StoreCorrupt/StoreUnavailable."""
    import chromadb

    name = settings.chroma.collection
    if settings.chroma.host:
        _probe_server(settings)
        try:
            client = chromadb.HttpClient(
                host=settings.chroma.host, port=settings.chroma.port, settings=_chroma_settings()
            )
            _bound_client_timeout(client, settings)
            collection = client.get_or_create_collection(
                name, metadata=COLLECTION_METADATA, embedding_function=None
            )
            collection.count()
        except Exception as exc:
            raise StoreUnavailable(
                f"Chroma server at {backend_id(settings)} failed ({_first_line(exc)}); "
                "check its log, or unset chroma.host to use the on-disk index"
            ) from exc
        return Store(client, collection, backend_id(settings))

    path = chroma_dir(settings)
    path.mkdir(parents=True, exist_ok=True)
    try:
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        collection = client.get_or_create_collection(
            name, metadata=COLLECTION_METADATA, embedding_function=None
        )
        collection.count()
    except Exception as exc:  # sqlite, rust bindings and migrations all raise differently
        raise StoreCorrupt(f"the index at {path} cannot be opened ({_first_line(exc)})") from exc
    return Store(client, collection, backend_id(settings))


def wipe_local(settings: Settings) -> None:
    """Delete the on-disk index (derived data only: the corpus and user files stay)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    # Chroma caches one system per path; a stale one would keep the deleted files open.
    SharedSystemClient.clear_system_cache()
    shutil.rmtree(chroma_dir(settings), ignore_errors=True)


def reset_collection(store: Store, settings: Settings) -> Store:
    """Drop and recreate the collection (used when its contents no longer match the manifest)."""
    # Absent already is the state we want, so any failure to delete is ignored.
    with contextlib.suppress(Exception):
        store.client.delete_collection(settings.chroma.collection)
    collection = store.client.get_or_create_collection(
        settings.chroma.collection, metadata=COLLECTION_METADATA, embedding_function=None
    )
    return Store(store.client, collection, store.backend)
