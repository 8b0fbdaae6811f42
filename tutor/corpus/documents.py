"""Reading source files into documents and splitting them into heading-aware chunks.

Pure Python (plus front-matter/YAML and, for HTML only, markdownify): nothing here
touches the embedding model or Chroma, so chunking is cheap to test exhaustively.

Over 400 lines: each source format's reader and the chunker it feeds, which share the
chunk ids the index depends on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Files larger than this are refused rather than chunked: a 50 MB log pasted into the
# corpus would take minutes to embed and drown every real passage in BM25 statistics.
MAX_FILE_BYTES = 5 * 1024 * 1024
# A document that splits into more passages than this is refused: 4,640 passages took
# 13 minutes to embed on 2 cores. The setting `max_doc_passages` overrides it.
MAX_DOC_PASSAGES = 500

# Documents the learner added (`tutor corpus add`) are untrusted: cited as added, never
# quoted while a guess is pending, never read as instructions.
ADDED_SOURCE_PREFIX = "user:"
ADDED_DOC_PREFIX = "user/"
ADDED_KIND = "user"


def is_added(doc_or_source: str) -> bool:
    """True for a learner-added document, by its doc name ('user/...') or source ('user:...')."""
    return doc_or_source.startswith((ADDED_DOC_PREFIX, ADDED_SOURCE_PREFIX))


SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")

# Bumped whenever chunk boundaries or ids change, so an old index is rebuilt, not mixed.
CHUNKER_VERSION = 4

# all-MiniLM-L6-v2 reads at most 256 word pieces (roughly 1,000 characters of English);
# passages beyond that would be silently truncated in the dense index.
TARGET_CHARS = 900
MAX_CHARS = 1200
MIN_CHARS = 40

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


class DocumentError(Exception):
    """A source file cannot be used; the message is one line naming the file and the fix."""


@dataclass(frozen=True)
class Document:
    source: str
    """Stable key of the file in the manifest, e.g. 'corpus:mig-basics.md'."""
    doc: str
    """Short name used in citations and labels: the file stem (prefixed for user files)."""
    title: str
    url: str | None
    kind: str
    topics: tuple[str, ...]
    body: str
    """Markdown (HTML is converted on read; plain text stays as it is)."""
    markdown: bool = True

    @property
    def added(self) -> bool:
        return is_added(self.source)


@dataclass(frozen=True)
class Chunk:
    id: str
    doc: str
    source: str
    title: str
    section: str
    """Heading path below the title, e.g. 'Profiles > Memory slices'; '' for the preamble."""
    text: str
    url: str | None
    kind: str
    topics: tuple[str, ...] = field(default_factory=tuple)

    @property
    def heading_path(self) -> str:
        return f"{self.title} > {self.section}" if self.section else self.title

    @property
    def added(self) -> bool:
        return is_added(self.doc) or is_added(self.source)

    def embedding_text(self) -> str:
        # Prefixing the heading path lets a passage that never repeats its topic
        # ("It cannot be changed while...") still match questions about that topic.
        return f"{self.heading_path}\n{self.text}"

    def metadata(self) -> dict[str, str | int | float | bool]:
        meta: dict[str, str | int | float | bool] = {
            "doc": self.doc,
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "url": self.url or "",
            "kind": self.kind,
            "topics": ",".join(self.topics),
        }
        # Chroma metadata holds scalars only; one boolean per topic makes topic
        # filters expressible as a `where` clause.
        for topic in self.topics:
            meta[f"t_{topic}"] = True
        return meta

    @classmethod
    def from_stored(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
        topics = tuple(t for t in str(meta.get("topics", "")).split(",") if t)
        return cls(
            id=chunk_id,
            doc=str(meta.get("doc", "")),
            source=str(meta.get("source", "")),
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            text=text,
            url=str(meta.get("url") or "") or None,
            kind=str(meta.get("kind", "")),
            topics=topics,
        )


def read_text(path: Path, warnings: list[str]) -> str:
    """Read a file as UTF-8, replacing undecodable bytes (and saying so) instead of failing."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DocumentError(
            f"{path} is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB "
            "limit for one document; split it into smaller files"
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        warnings.append(
            f"{path} is not valid UTF-8 (byte {exc.start}); undecodable bytes were replaced "
            "- re-save it as UTF-8 for exact text"
        )
        return data.decode("utf-8", errors="replace")


def _topics(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list | tuple):
        return ()
    out: list[str] = []
    for item in value:
        topic = re.sub(r"[^a-z0-9_-]+", "-", str(item).strip().lower()).strip("-")
        if topic and topic not in out:
            out.append(topic)
    return tuple(out)


def _first_url(meta: dict[str, Any]) -> str | None:
    for key in ("url", "source"):
        if isinstance(meta.get(key), str) and meta[key]:
            return str(meta[key])
    sources = meta.get("sources")
    if isinstance(sources, list) and sources:
        return str(sources[0])
    if isinstance(sources, str) and sources:
        return sources
    return None


def _split_front_matter(text: str, path: Path, warnings: list[str]) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    import frontmatter

    try:
        post = frontmatter.loads(text)
    except Exception as exc:  # YAML errors come in many classes; all mean the same here
        warnings.append(
            f"{path}: front matter is not valid YAML ({type(exc).__name__}); "
            "it was ignored - fix the block between the '---' lines"
        )
        end = text.find("\n---", 3)
        return {}, text[end + 4 :] if end != -1 else text
    return dict(post.metadata), post.content


def html_to_markdown(html: str) -> tuple[str, str | None, str | None]:
    """Convert a saved web page to markdown; returns (markdown, title, canonical url)."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    url: str | None = None
    canonical = soup.find("link", rel="canonical")
    og = soup.find("meta", attrs={"property": "og:url"})
    if canonical is not None and canonical.get("href"):
        url = str(canonical.get("href"))
    elif og is not None and og.get("content"):
        url = str(og.get("content"))
    # Navigation, scripts and footers repeat on every page of a documentation site and
    # would otherwise dominate keyword matches.
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "aside", "form"]):
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    markdown = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(root)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
    return markdown, title, url


def load_document(
    path: Path,
    *,
    source: str,
    doc: str,
    default_kind: str,
    warnings: list[str],
    max_passages: int | None = MAX_DOC_PASSAGES,
) -> Document:
    """Read one file of any supported type into a Document.

    A document over `max_passages` passages is refused with a DocumentError (None: no cap).
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{path} has an unsupported type '{suffix}'; use one of "
            + ", ".join(SUPPORTED_SUFFIXES)
        )
    text = read_text(path, warnings)
    meta: dict[str, Any] = {}
    markdown = True
    url: str | None = None
    html_title: str | None = None
    if suffix in (".html", ".htm"):
        text, html_title, url = html_to_markdown(text)
    elif suffix == ".txt":
        markdown = False
    else:
        meta, text = _split_front_matter(text, path, warnings)
    title = str(meta.get("title") or "").strip() or html_title or ""
    if not title and markdown:
        first_h1 = next(
            (m.group(2) for m in map(_HEADING.match, text.splitlines()) if m and m.group(1) == "#"),
            None,
        )
        title = first_h1 or ""
    if not title:
        title = path.stem.replace("_", " ").replace("-", " ").strip() or path.name
    kind = str(meta.get("kind") or default_kind).strip().lower()
    if is_added(source):
        # an added note's front matter cannot make it pass for a reference note
        kind = ADDED_KIND
    document = Document(
        source=source,
        doc=doc,
        title=title,
        url=_first_url(meta) or url,
        kind=kind,
        topics=_topics(meta.get("topics")),
        body=text,
        markdown=markdown,
    )
    if max_passages is not None:
        count = len(chunk_document(document))
        if count > max_passages:
            raise DocumentError(
                f"{path} splits into {count} passages, over the limit of {max_passages} for "
                "one document (setting max_doc_passages); split it into smaller files or "
                "raise max_doc_passages"
            )
    return document


@dataclass
class _Section:
    path: tuple[str, ...]
    lines: list[str]


def _sections(doc: Document) -> list[_Section]:
    """Split a body at headings (outside code fences), tracking the heading path."""
    sections = [_Section((), [])]
    if not doc.markdown:
        sections[0].lines = doc.body.splitlines()
        return sections
    stack: list[tuple[int, str]] = []
    fence: str | None = None
    title_seen = False
    for line in doc.body.splitlines():
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            sections[-1].lines.append(line)
            continue
        heading = None if fence else _HEADING.match(line)
        if heading is None:
            sections[-1].lines.append(line)
            continue
        level = len(heading.group(1))
        name = _clean_heading(heading.group(2))
        # The first H1 before any other heading is the document's title line, which every
        # citation already carries; making it a section would only repeat it.
        if level == 1 and not title_seen and not stack:
            title_seen = True
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
        sections.append(_Section(tuple(n for _, n in stack), []))
    return sections


def _clean_heading(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their words
    text = re.sub(r"[`*_]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _paragraphs(lines: list[str]) -> list[str]:
    """Blocks separated by blank lines; a fenced code block stays one block."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in lines:
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
        if not line.strip() and fence is None:
            if current:
                blocks.append("\n".join(current).strip("\n"))
                current = []
            continue
        current.append(line.rstrip())
    if current:
        blocks.append("\n".join(current).strip("\n"))
    return [b for b in blocks if b.strip()]


_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


def _split_table(block: str) -> list[str] | None:
    """Split a long markdown table into row groups that each repeat the header."""
    lines = block.splitlines()
    if len(lines) < 3 or not all(line.lstrip().startswith("|") for line in lines):
        return None
    head = lines[:2] if _TABLE_RULE.match(lines[1]) else lines[:1]
    header = "\n".join(head)
    out: list[str] = []
    rows: list[str] = []
    for row in lines[len(head) :]:
        if rows and len(header) + sum(len(r) + 1 for r in rows) + len(row) > TARGET_CHARS:
            out.append("\n".join([header, *rows]))
            rows = []
        rows.append(row)
    if rows:
        out.append("\n".join([header, *rows]))
    return out


def _hard_split(block: str) -> list[str]:
    """Split one oversized block at table rows, sentences, lines, then words."""
    if len(block) <= MAX_CHARS:
        return [block]
    table = _split_table(block)
    if table is not None and all(len(t) <= MAX_CHARS for t in table):
        return table
    pieces = re.split(r"(?<=[.!?])\s+|\n", block)
    out: list[str] = []
    current = ""
    for piece in pieces:
        while len(piece) > MAX_CHARS:
            cut = piece.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > MAX_CHARS // 2 else MAX_CHARS
            head, piece = piece[:cut], piece[cut:].lstrip()
            if current:
                out.append(current)
                current = ""
            out.append(head)
        if current and len(current) + 1 + len(piece) > TARGET_CHARS:
            out.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip() if current else piece
    if current:
        out.append(current)
    return [p for p in out if p.strip()]


def _pack(blocks: list[str]) -> list[str]:
    """Greedily pack paragraphs into passages near TARGET_CHARS, never over MAX_CHARS."""
    passages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _hard_split(block):
            if current and len(current) + 2 + len(piece) > TARGET_CHARS:
                passages.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        passages.append(current)
    # A runt at the end reads badly alone and embeds poorly; fold it into its neighbour.
    if len(passages) >= 2 and len(passages[-1]) < MIN_CHARS * 3:
        merged = f"{passages[-2]}\n\n{passages[-1]}"
        if len(merged) <= MAX_CHARS:
            passages[-2:] = [merged]
    return passages


def chunk_id(doc: Document, section: str, text: str) -> str:
    """Hash of everything stored with a passage, so an edit anywhere yields a new id."""
    parts = (
        str(CHUNKER_VERSION),
        doc.doc,
        doc.title,
        doc.url or "",
        doc.kind,
        ",".join(doc.topics),
        section,
        text,
    )
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def chunk_document(doc: Document) -> list[Chunk]:
    """Heading-aware chunks: each passage keeps its title > h2 > h3 path; ids hash content."""
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for section in _sections(doc):
        name = " > ".join(section.path)
        blocks = _paragraphs(section.lines)
        if not blocks:
            continue
        for passage in _pack(blocks):
            base = chunk_id(doc, name, passage)
            # Identical passages under one heading (e.g. a repeated warning) still need
            # distinct ids; the ordinal keeps them stable across rebuilds.
            n = seen.get(base, 0)
            seen[base] = n + 1
            cid = base if n == 0 else f"{base}-{n}"
            chunks.append(
                Chunk(
                    id=cid,
                    doc=doc.doc,
                    source=doc.source,
                    title=doc.title,
                    section=name,
                    text=passage,
                    url=doc.url,
                    kind=doc.kind,
                    topics=doc.topics,
                )
            )
    return chunks
