"""The one exception family callers need to catch: every message is a single line."""

from __future__ import annotations


class CorpusError(Exception):
    """A corpus operation cannot go on; the message names the problem and the fix."""
