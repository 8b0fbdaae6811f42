"""`tutor corpus fetch`: download the pages named in corpus/sources.yaml as markdown."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tutor.corpus.errors import CorpusError
from tutor.corpus.index import Progress
from tutor.settings import Settings

MAX_PAGE_BYTES = 5 * 1024 * 1024


@dataclass
class FetchResult:
    total: int = 0
    saved: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    offline: str | None = None
    """One line saying the network is out of reach; existing pages were kept."""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    url: str
    title: str | None
    topics: tuple[str, ...]


def load_sources(path: Path) -> list[Source]:
    import yaml

    if not path.is_file():
        raise CorpusError(
            f"no sources list at {path}; create it as a YAML list of {{url, title, topics}}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CorpusError(
            f"{path} is not valid YAML ({type(exc).__name__}); fix it and retry"
        ) from exc
    if not isinstance(data, list):
        raise CorpusError(f"{path} must be a YAML list of {{url, title, topics}} entries")
    sources: list[Source] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            raise CorpusError(
                f"{path}: entry {i + 1} has no 'url'; each entry needs url, title, topics"
            )
        topics = item.get("topics") or []
        sources.append(
            Source(
                url=item["url"],
                title=str(item["title"]) if item.get("title") else None,
                topics=tuple(str(t) for t in topics) if isinstance(topics, list) else (),
            )
        )
    return sources


def page_filename(url: str) -> str:
    """A readable, stable file name for a URL (the URL itself is kept in the front matter)."""
    parsed = urlparse(url)
    path = re.sub(r"\.(html?|md)$", "", parsed.path.strip("/"))
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", f"{parsed.hostname or 'page'}-{path}").strip("-")
    slug = slug.lower()[:90].strip("-")
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{slug}-{digest}.md"


def _to_markdown(body: str, content_type: str) -> tuple[str, str | None]:
    from tutor.corpus.documents import html_to_markdown

    if "html" in content_type or body.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        markdown, title, _url = html_to_markdown(body)
        return markdown, title
    return body, None


def _render(source: Source, markdown: str, page_title: str | None) -> str:
    import yaml

    front: dict[str, Any] = {
        "title": source.title or page_title or source.url,
        "sources": [source.url],
        "topics": list(source.topics),
        "kind": "fetched",
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip()
    return f"---\n{header}\n---\n\n{markdown.strip()}\n"


def fetch_sources(
    settings: Settings,
    *,
    sources_file: Path | None = None,
    progress: Progress | None = None,
    timeout_s: float = 10.0,
) -> FetchResult:
    """Download every listed page; offline, say so once and keep what is already there."""
    import httpx

    sources = load_sources(sources_file or settings.corpus_dir / "sources.yaml")
    result = FetchResult(total=len(sources))
    folder = settings.fetched_dir
    with httpx.Client(
        timeout=timeout_s, follow_redirects=True, headers={"User-Agent": "tutor-corpus-fetch/1"}
    ) as client:
        for i, source in enumerate(sources):
            if progress:
                progress(f"fetching {source.url}", i / max(1, len(sources)))
            try:
                response = client.get(source.url)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
                if not result.saved and not result.unchanged:
                    # Nothing reached yet: the network is out, not this one page.
                    kept = len(list(folder.glob("*.md"))) if folder.is_dir() else 0
                    host = urlparse(source.url).hostname or source.url
                    result.offline = (
                        f"offline: cannot reach {host} ({type(exc).__name__}); kept the "
                        f"{kept} pages already in {folder}"
                    )
                    return result
                result.warnings.append(
                    f"{source.url}: cannot connect ({type(exc).__name__}); kept any earlier copy"
                )
                continue
            except httpx.HTTPError as exc:
                result.warnings.append(f"{source.url}: {type(exc).__name__}; kept any earlier copy")
                continue
            if response.status_code != 200:
                result.warnings.append(
                    f"{source.url}: HTTP {response.status_code}; kept any earlier copy"
                )
                continue
            if len(response.content) > MAX_PAGE_BYTES:
                result.warnings.append(
                    f"{source.url}: page is over {MAX_PAGE_BYTES // (1024 * 1024)} MB; skipped"
                )
                continue
            markdown, page_title = _to_markdown(
                response.text, response.headers.get("content-type", "")
            )
            text = _render(source, markdown, page_title)
            target = folder / page_filename(source.url)
            # Rewriting identical content would bump mtimes and defeat no-op rebuilds.
            if target.is_file() and target.read_text(encoding="utf-8", errors="replace") == text:
                result.unchanged.append(target)
                continue
            folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            result.saved.append(target)
    if progress:
        progress("fetched", 1.0)
    return result
