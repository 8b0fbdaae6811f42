"""Heading-aware chunking, read paths for every file type, and refusal of bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.corpus.documents import (
    MAX_CHARS,
    MAX_FILE_BYTES,
    Document,
    DocumentError,
    chunk_document,
    load_document,
)


def _doc(body: str, *, markdown: bool = True, title: str = "Doc") -> Document:
    return Document(
        source="test:doc.md",
        doc="doc",
        title=title,
        url="https://example.test/doc",
        kind="reference",
        topics=("mig",),
        body=textwrap.dedent(body).lstrip(),
        markdown=markdown,
    )


CASES = [
    pytest.param(
        """
        # Doc

        Intro paragraph that stands before any section heading.

        ## Alpha

        Alpha text.

        ### Beta

        Beta text.

        ## Gamma

        Gamma text.
        """,
        True,
        [
            ("", "Intro paragraph"),
            ("Alpha", "Alpha text."),
            ("Alpha > Beta", "Beta text."),
            ("Gamma", "Gamma text."),
        ],
        id="title-h2-h3-path",
    ),
    pytest.param(
        "Just words, no heading anywhere.\n\nA second paragraph.\n",
        True,
        [("", "Just words, no heading anywhere.\n\nA second paragraph.")],
        id="no-headings",
    ),
    pytest.param(
        """
        ## Shell

        ```bash
        # not a heading, a comment
        nvidia-smi mig -lgip
        ```
        """,
        True,
        [("Shell", "```bash\n# not a heading, a comment\nnvidia-smi mig -lgip\n```")],
        id="hash-inside-code-fence",
    ),
    pytest.param(
        "## Empty\n\n## Full\n\nBody.\n",
        True,
        [("Full", "Body.")],
        id="empty-section-dropped",
    ),
    pytest.param(
        "# Not parsed\n\nPlain text keeps its hash line.\n",
        False,
        [("", "# Not parsed\n\nPlain text keeps its hash line.")],
        id="plain-text",
    ),
    pytest.param(
        "## A `code` and [link](http://x) heading ##\n\nText.\n",
        True,
        [("A code and link heading", "Text.")],
        id="heading-markup-cleaned",
    ),
    pytest.param(
        "## H2\n\n#### Deep\n\nDeep text.\n\n### H3\n\nH3 text.\n",
        True,
        [("H2 > Deep", "Deep text."), ("H2 > H3", "H3 text.")],
        id="deeper-levels-pop-correctly",
    ),
]


@pytest.mark.parametrize(("body", "markdown", "expected"), CASES)
def test_chunking_keeps_heading_path(
    body: str, markdown: bool, expected: list[tuple[str, str]]
) -> None:
    chunks = chunk_document(_doc(body, markdown=markdown))
    got = [(c.section, c.text) for c in chunks]
    assert len(got) == len(expected)
    for (section, text), (want_section, want_start) in zip(got, expected, strict=True):
        assert section == want_section
        assert text.startswith(want_start)
    for chunk in chunks:
        assert chunk.title == "Doc"
        assert chunk.url == "https://example.test/doc"
        assert chunk.heading_path.startswith("Doc")


def test_long_section_is_split_under_the_limit_and_keeps_its_path() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(30))
    sentence_wall = "Sentence. " * 400  # one paragraph far over the limit
    chunks = chunk_document(_doc(f"## Long\n\n{paragraphs}\n\n{sentence_wall}\n"))
    assert len(chunks) > 5
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert all(c.section == "Long" for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert "Paragraph 0 " in joined and "Paragraph 29 " in joined


def test_long_table_is_split_with_its_header_repeated() -> None:
    rows = "\n".join(f"| 1g.{i}gb | {i} | slot {i} |" for i in range(80))
    body = f"## Profiles\n\n| Profile | Memory | Placement |\n|---|---|---|\n{rows}\n"
    chunks = chunk_document(_doc(body))
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text.startswith("| Profile | Memory | Placement |\n|---|---|---|")


def test_ids_hash_content_stable_and_distinct() -> None:
    body = "## A\n\nSame text.\n\n## B\n\nOther text.\n"
    first = [c.id for c in chunk_document(_doc(body))]
    again = [c.id for c in chunk_document(_doc(body))]
    edited = [c.id for c in chunk_document(_doc(body.replace("Other", "Changed")))]
    assert first == again
    assert first[0] == edited[0] and first[1] != edited[1]
    retitled = [c.id for c in chunk_document(_doc(body, title="New title"))]
    assert set(retitled).isdisjoint(first)


def test_repeated_passage_under_one_heading_gets_distinct_ids() -> None:
    block = "Warning: reset the GPU. " * 50
    chunks = chunk_document(_doc(f"## W\n\n{block}\n\n{block}\n"))
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)) >= 2


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_front_matter_sets_title_url_topics_kind(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "x.md",
        """
        ---
        title: "Front title"
        sources: [https://a.test/1, https://a.test/2]
        topics: [MIG, Kubernetes]
        kind: lesson
        ---

        # Front title

        ## Part

        Words.
        """,
    )
    warnings: list[str] = []
    doc = load_document(path, source="s", doc="x", default_kind="reference", warnings=warnings)
    assert (doc.title, doc.url, doc.kind, doc.topics) == (
        "Front title",
        "https://a.test/1",
        "lesson",
        ("mig", "kubernetes"),
    )
    assert [c.section for c in chunk_document(doc)] == ["Part"]
    assert warnings == []


def test_title_falls_back_to_h1_then_file_name(tmp_path: Path) -> None:
    warnings: list[str] = []
    h1 = _write(tmp_path / "h1.md", "# Heading title\n\nText.\n")
    bare = _write(tmp_path / "saved-notes_v2.txt", "Text only.\n")
    assert (
        load_document(h1, source="s", doc="h1", default_kind="user", warnings=warnings).title
        == "Heading title"
    )
    doc = load_document(bare, source="s", doc="b", default_kind="user", warnings=warnings)
    assert doc.title == "saved notes v2" and doc.kind == "user"


def test_html_page_becomes_markdown_without_scripts(tmp_path: Path) -> None:
    page = _write(
        tmp_path / "page.html",
        """
        <html><head><title>MIG User Guide</title>
        <link rel="canonical" href="https://docs.example.test/mig.html">
        <script>var tracking = 1;</script></head>
        <body><nav>Home | Products</nav><main>
        <h1>MIG User Guide</h1><h2>Supported GPUs</h2><p>A100 and <b>H100</b> support MIG.</p>
        </main></body></html>
        """,
    )
    doc = load_document(page, source="s", doc="page", default_kind="user", warnings=[])
    chunks = chunk_document(doc)
    assert doc.title == "MIG User Guide"
    assert doc.url == "https://docs.example.test/mig.html"
    assert [c.section for c in chunks] == ["Supported GPUs"]
    assert "**H100**" in chunks[0].text
    assert "tracking" not in doc.body and "Products" not in doc.body


def test_non_utf8_file_is_decoded_with_a_warning_naming_it(tmp_path: Path) -> None:
    raw = "## Caf\xe9\n\nPr\xe9dire le r\xe9sultat.\n".encode("latin-1")
    path = _write(tmp_path / "latin1.md", raw)
    warnings: list[str] = []
    doc = load_document(path, source="s", doc="l", default_kind="user", warnings=warnings)
    assert len(warnings) == 1 and str(path) in warnings[0] and "UTF-8" in warnings[0]
    assert "\n" not in warnings[0]
    assert "\ufffd" in doc.body and chunk_document(doc)


def test_oversized_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as fh:  # sparse: 50 MB on paper, nothing on disk
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(DocumentError) as err:
        load_document(path, source="s", doc="h", default_kind="user", warnings=[])
    message = str(err.value)
    assert str(path) in message and f"{MAX_FILE_BYTES // (1024 * 1024)} MB" in message
    assert "\n" not in message


def test_unsupported_type_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "slides.pdf", b"%PDF-1.4")
    with pytest.raises(DocumentError, match=r"unsupported type '\.pdf'"):
        load_document(path, source="s", doc="p", default_kind="user", warnings=[])


def test_broken_front_matter_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.md", "---\ntitle: [unclosed\n---\n\n## Part\n\nText.\n")
    warnings: list[str] = []
    doc = load_document(path, source="s", doc="bad", default_kind="user", warnings=warnings)
    assert warnings and str(path) in warnings[0]
    assert [c.section for c in chunk_document(doc)] == ["Part"]
