"""Keep secrets and terminal control codes out of everything the tutor prints or stores.

`redact` replaces the API keys configured in the environment (and any registered at run
time, such as `model.api_key` from a config file) and any token shaped like a key.
`strip_controls` removes escape sequences and control characters a model or a document
could use to rewrite the learner's terminal. Both run in time linear in the text.
"""

from __future__ import annotations

import os
import re
from typing import Any

REDACTED = "[redacted]"

# Environment variables whose values are secrets by name; their values are redacted
# wherever they appear, whatever their shape.
_SECRET_ENV = re.compile(r"(?:API_KEY|_KEY|_TOKEN|_SECRET|_PASSWORD)$|^TUTOR_.*API_KEY$", re.I)

# Shorter values are too likely to occur in ordinary text ("true", a port number).
_MIN_SECRET_LEN = 8

# Key shapes of the common providers. Each alternative starts with a literal prefix and
# repeats one character class, so matching stays linear.
_KEY_SHAPED = re.compile(
    r"\bsk-ant-[A-Za-z0-9_\-]{8,}"  # Anthropic
    r"|\bsk-[A-Za-z0-9_\-]{16,}"  # OpenAI and compatible servers
    r"|\bgsk_[A-Za-z0-9]{16,}"  # Groq
    r"|\bxai-[A-Za-z0-9]{16,}"  # xAI
    r"|\bhf_[A-Za-z0-9]{16,}"  # Hugging Face
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"  # GitHub
    r"|\bAIza[0-9A-Za-z_\-]{30,}"  # Google
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
)
# A long token after "Bearer" or "api_key=" is a secret whatever its shape (an echoed
# request header); the label stays so the message still reads.
_LABELLED = re.compile(
    r"(?i)(\bbearer\s+"
    r"|\b(?:x-)?api[_-]?key[\"']?\s*[:=]\s*[\"']?"
    r"|\baccess[_-]?token[\"']?\s*[:=]\s*[\"']?)"
    r"[A-Za-z0-9._~+/=\-]{12,}"
)

_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Redact this value from now on (e.g. a key read from config.toml, not the environment)."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _registered.add(value)


def _secrets() -> list[str]:
    found = set(_registered)
    for name, value in os.environ.items():
        if len(value) >= _MIN_SECRET_LEN and _SECRET_ENV.search(name):
            found.add(value)
    # Longest first, so a key that contains another is replaced whole.
    return sorted(found, key=len, reverse=True)


def redact(text: str) -> str:
    """The text with configured API keys and key-shaped tokens replaced by [redacted]."""
    if not text:
        return text
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _LABELLED.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_SHAPED.sub(REDACTED, text)


# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and the
# 8-bit CSI/OSC introducers. An OSC left open runs to the end of the text, as a terminal
# would swallow it.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
# Remaining C0 controls except tab and newline, DEL, C1 controls, and the Unicode
# bidirectional overrides that make text display in a different order than it reads.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """The text without escape sequences or control characters (tabs and newlines stay)."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def clean(text: str) -> str:
    """Both at once: what every printed or stored string from outside the tutor goes through.

    Controls go first, so an escape code cannot split a key and hide it from the redactor.
    """
    return redact(strip_controls(text))


def clean_tree(value: Any) -> Any:
    """`clean` applied to every string in nested dicts and lists (an event, a payload)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    return value
