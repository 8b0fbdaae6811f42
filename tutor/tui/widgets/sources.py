"""The sources panel: the passages the current reply was grounded on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from tutor.engine.events import Citation

PASSAGE_CHARS = 700


def citation_text(number: int, citation: Citation) -> Text:
    text = Text()
    text.append(f"[{number}] ", style="bold")
    text.append(citation.label, style="bold")
    if citation.url:
        text.append("\n")
        # Not every source is a web page (a book chapter, a course handout):
        # only real URLs become links, and as a Style object, never a style string.
        is_url = "://" in citation.url and " " not in citation.url.strip()
        link = Style(underline=True, link=citation.url.strip()) if is_url else Style(italic=True)
        text.append(citation.url, style=link)
    passage = " ".join(citation.text.split())
    if passage:
        if len(passage) > PASSAGE_CHARS:
            passage = passage[:PASSAGE_CHARS].rsplit(" ", 1)[0] + " …"
        text.append("\n")
        text.append(passage)
    return text


class SourcesPanel(Vertical):
    """Shows one reply's citations; the app decides which reply is current."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.citations: list[Citation] = []
        self.border_title = "Sources"

    def compose(self) -> ComposeResult:
        yield Static("No sources for this reply yet.", classes="sources-empty")
        yield VerticalScroll(classes="sources-list")

    async def show(self, citations: list[Citation]) -> None:
        self.citations = list(citations)
        listing = self.query_one(".sources-list", VerticalScroll)
        await listing.remove_children()
        self.query_one(".sources-empty").display = not citations
        self.border_subtitle = f"{len(citations)}" if citations else ""
        await listing.mount_all(
            Static(citation_text(n, c), classes="citation") for n, c in enumerate(citations, 1)
        )
