"""The redactor and the control stripper on their own: keys of every shape, escape codes."""

from __future__ import annotations

import pytest

from tutor.redact import REDACTED, clean, clean_tree, redact, register_secret, strip_controls


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-" + "a1B2" * 10,
        "sk-ant-api03-" + "x9" * 20,
        "sk-" + "0123456789abcdefghij",
        "gsk_" + "Q" * 40,
        "hf_" + "abcdEFGH" * 4,
        "ghp_" + "z" * 36,
        "AIza" + "S" * 35,
        "AKIA" + "ABCDEFGHIJKLMNOP",
    ],
)
def test_key_shaped_tokens_are_redacted(secret: str) -> None:
    out = redact(f"401 Unauthorized: invalid key {secret} (check your settings)")
    assert secret not in out and REDACTED in out
    assert out == f"401 Unauthorized: invalid key {REDACTED} (check your settings)"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.signature",
        'headers: {"x-api-key": "abcdefghijklmnop1234"}',
        "url?api_key=abcdefghijklmnop1234&x=1",
    ],
)
def test_labelled_tokens_keep_their_label(text: str) -> None:
    out = redact(text)
    assert REDACTED in out
    assert "abcdefghijklmnop1234" not in out and "payload.signature" not in out


def test_configured_keys_of_any_shape_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plain-words-key-2024")
    monkeypatch.setenv("TUTOR_JUDGE__API_KEY", "another.plain.value")
    out = redact("got plain-words-key-2024 and another.plain.value back")
    assert "plain-words-key-2024" not in out and "another.plain.value" not in out
    register_secret("registered-at-run-time")
    assert "registered-at-run-time" not in redact("x registered-at-run-time y")


def test_ordinary_text_is_left_alone() -> None:
    text = "A100-80GB fits 7 instances of 1g.10gb; sk-learn is a library; ask-me-anything."
    assert redact(text) == text


def test_short_environment_values_are_not_treated_as_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOME_TOKEN", "true")
    assert redact("this is true") == "this is true"


@pytest.mark.parametrize(
    ("dirty", "expected"),
    [
        ("red \x1b[31mtext\x1b[0m", "red text"),
        ("title\x1b]0;owned\x07 after", "title after"),
        ("clip\x1b]52;c;ZXZpbA==\x1b\\ board", "clip board"),
        ("clear\x1b[2J\x1b[H screen", "clear screen"),
        ("bell\x07 and back\x08space", "bell and backspace"),
        ("line\r\nnext", "line\nnext"),
        ("over\rwrite", "overwrite"),
        ("rtl \u202egnp.exe", "rtl gnp.exe"),
        ("c1 \x9b31m csi", "c1  csi"),
        ("tabs\tand\nnewlines stay", "tabs\tand\nnewlines stay"),
        ("unterminated \x1b]0;title", "unterminated "),
    ],
)
def test_control_sequences_are_stripped(dirty: str, expected: str) -> None:
    assert strip_controls(dirty) == expected


def test_clean_tree_reaches_nested_strings() -> None:
    key = "sk-" + "k" * 30
    data = {"a": [f"x {key}", {"b": "\x1b[2Jy"}], "n": 3, "t": ("z",)}
    assert clean_tree(data) == {"a": [f"x {REDACTED}", {"b": "y"}], "n": 3, "t": ["z"]}
    assert clean(f"\x1b[1m{key}") == REDACTED
