"""The tutor's reply to a graded answer, per verdict, and reading the learner's self-check."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tutor.grading.grader import Grade, MisconceptionResult
from tutor.grading.rubric import Rubric
from tutor.grading.text import tokenize


def feedback(grade: Grade, rubric: Rubric, sources: Mapping[str, str] | None = None) -> str:
    """The Markdown reply body for `grade`. `sources` maps corpus file stems to titles."""
    teach = rubric.kind == "teach_back"
    said = [p.description for p in grade.said]
    missing = [rubric.point(p.id) for p in grade.missing]
    if grade.verdict == "right":
        head = "**Strong explanation.**" if teach else "**Right.**"
        lines = [f"{head} You made every point: {'; '.join(said)}."]
        lines.append(f"A strong answer, to compare: {rubric.answer}")
        return "\n\n".join(lines)
    if grade.verdict == "partly":
        lines = [f"**Partly there.** You said: {'; '.join(said)}."]
        if missing:
            strongest = next((p for p in missing if p.required), missing[0])
            if teach:
                lines.append(f"The strongest point to add: {strongest.description}.")
                rest = [p.description for p in missing if p is not strongest]
                if rest:
                    lines.append("Also missing: " + "; ".join(rest) + ".")
            else:
                lines.append("Missing: " + "; ".join(p.description for p in missing) + ".")
        lines.append(f"A strong answer: {rubric.answer}")
        return "\n\n".join(lines)
    if grade.verdict == "contradicts":
        lines = ["**Not quite: part of that contradicts the lesson.**"]
        # Two claims can rest on one correction ("share the SMs", "only the memory"): the
        # learner reads it once.
        seen: set[str] = set()
        for c in grade.contradictions:
            if c.correction not in seen:
                seen.add(c.correction)
                lines.append(_named(c, sources))
        if said:
            lines.append("What you got right: " + "; ".join(said) + ".")
        if teach and missing:
            strongest = next((p for p in missing if p.required), missing[0])
            lines.append(f"The strongest point to add: {strongest.description}.")
        lines.append(f"A strong answer: {rubric.answer}")
        return "\n\n".join(lines)
    return self_check_prompt(rubric)


def source_titles(corpus_dir: Path) -> dict[str, str]:
    """Corpus file stem -> the title in its front matter, for naming a correction's source."""
    titles: dict[str, str] = {}
    for path in sorted(corpus_dir.glob("*.md")):
        head = path.read_text(encoding="utf-8").split("\n---", 1)[0]
        for line in head.splitlines():
            if line.startswith("title:"):
                titles[path.stem] = line.removeprefix("title:").strip().strip('"')
                break
    return titles


def self_check_prompt(rubric: Rubric) -> str:
    """Can't tell: the strong answer point by point, and one yes/no question per point."""
    lines = [
        "**I can't tell from that whether you've got it**, so check it yourself against a "
        "strong answer:",
        "",
    ]
    lines += [f"{i}. {p.description}" for i, p in enumerate(rubric.points, 1)]
    lines += ["", "Now your answer, point by point:", ""]
    lines += [f"{i}. {p.check} (yes/no)" for i, p in enumerate(rubric.points, 1)]
    example = " ".join("yes" if i % 2 == 0 else "no" for i in range(len(rubric.points)))
    lines += ["", f"Reply with one yes or no per point, for example `{example}`."]
    return "\n".join(lines)


def self_check_summary(answers: list[bool], rubric: Rubric) -> str:
    """The reply to a self-check: what the learner says they had, and what to look at again."""
    had = [p.description for p, ok in zip(rubric.points, answers, strict=True) if ok]
    lacked = [p.description for p, ok in zip(rubric.points, answers, strict=True) if not ok]
    if not lacked:
        return f"Noted: yours had all {len(had)} points."
    text = f"Noted: yours had {len(had)} of {len(answers)} points."
    return text + " Worth another look: " + "; ".join(lacked) + "."


def _named(c: MisconceptionResult, sources: Mapping[str, str] | None) -> str:
    correction = c.correction.strip()
    joiner = "; " if correction[:1].islower() else ". "
    title = (sources or {}).get(c.source, c.source)
    return f"You said {c.said}{joiner}{correction} (source: {title})"


# ---------------------------------------------------------------------- the learner's yes/no

_YES = frozenset({"yes", "y", "yeah", "yep", "yup", "yea", "ya", "correct", "right", "true",
                  "did", "had", "has", "included", "ok", "sure", "aye", "affirmative"})  # fmt: skip
_NO = frozenset({"no", "n", "nope", "nah", "not", "wrong", "false", "missed", "nay", "neg",
                 "negative", "lacked", "missing"})  # fmt: skip
_ORDINALS = {
    "first": 0, "1st": 0, "one": 0, "second": 1, "2nd": 1, "two": 1, "third": 2, "3rd": 2,
    "three": 2, "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4, "five": 4,
}  # fmt: skip
_COUNTS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
_ALL = frozenset({"all", "every", "each", "everything", "both"})
_REST = frozenset({"rest", "others", "other", "remaining"})


_FILLERS = frozenset({"to", "the", "for", "point", "points", "and", "but", "then", "i", "my",
                      "mine", "it", "one", "ones", "of", "them", "answer", "said", "is", "was",
                      "on", "say", "says", "a", "so", "question", "questions", "are",
                      "those", "these", "were", "number", "part", "parts", "except"})  # fmt: skip


def read_self_check(text: str, n_points: int) -> list[bool] | None:
    """The learner's yes/no per point, or None when the reply cannot be read as one.

    Reads "yes", "y n y", "yes, no, yes", "all yes", "no to all", "1 yes 2 no 3 yes",
    "yes to the first two, no to the last", "first yes, the rest no". A single yes or no
    answers every point; a reply that leaves a point unanswered, answers one twice or is
    mostly other words is None, so the tutor asks again instead of guessing.
    """
    if n_points < 1:
        return None
    kinds: list[tuple[str, object]] = []  # ("V", bool) or ("T", list[int] | "rest")
    unknown = 0
    toks = tokenize(text).toks
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if t in ("did", "had", "has", "does", "do", "is") and nxt == "not":
            kinds.append(("V", False))
            i += 2
            continue
        if t in ("first", "last") and nxt in _COUNTS:
            k = min(_COUNTS[nxt], n_points)
            kinds.append(
                ("T", list(range(k)) if t == "first" else list(range(n_points - k, n_points)))
            )
            i += 2
            continue
        if t in ("none", "neither"):
            kinds += [("T", list(range(n_points))), ("V", False)]
        elif t in _YES:
            kinds.append(("V", True))
        elif t in _NO:
            kinds.append(("V", False))
        elif t in _ALL:
            kinds.append(("T", list(range(n_points))))
        elif t in _REST:
            kinds.append(("T", "rest"))
        elif t == "last":
            kinds.append(("T", [n_points - 1]))
        elif t == "middle" and n_points == 3:
            kinds.append(("T", [1]))
        elif t in _ORDINALS and t not in ("one",):
            kinds.append(("T", [_ORDINALS[t]]))
        elif t.isdigit():
            if not 1 <= int(t) <= n_points:
                return None
            kinds.append(("T", [int(t) - 1]))
        elif t.isalpha() and t not in _FILLERS:
            unknown += 1
        i += 1
    values = [v for k, v in kinds if k == "V"]
    if not values or unknown > 2:
        return None
    if all(k == "V" for k, _ in kinds):
        flags = [bool(v) for v in values]
        if len(flags) == n_points:
            return flags
        # "yes, I did": one answer said twice.
        return [flags[0]] * n_points if len(set(flags)) == 1 else None
    everything = list(range(n_points))
    if all(v == everything for k, v in kinds if k == "T") and len(set(values)) == 1:
        # "no, none", "yes to all, yes": one answer for every point.
        return [bool(values[0])] * n_points
    return _grouped(kinds, n_points)


def _grouped(kinds: list[tuple[str, object]], n: int) -> list[bool] | None:
    """Pair targets with values: "1 yes 2 no" (targets first) or "yes to 1, no to 2"."""
    targets_first = kinds[0][0] == "T"
    groups: list[tuple[list[object], bool | None]] = [([], None)]
    for kind, value in kinds:
        targets, val = groups[-1]
        if kind == "V":
            if val is not None and (targets_first or targets):
                groups.append(([], bool(value)))
            elif val is None:
                groups[-1] = (targets, bool(value))
            else:
                return None
        else:
            if targets_first and val is not None:
                groups.append(([value], None))
            else:
                targets.append(value)
    answers: dict[int, bool] = {}
    rest: bool | None = None
    for targets, val in groups:
        if val is None or not targets:
            return None
        for target in targets:
            if target == "rest":
                if rest is not None:
                    return None
                rest = val
                continue
            assert isinstance(target, list)
            for index in target:
                if index in answers:
                    return None
                answers[index] = val
    if rest is not None:
        for index in range(n):
            answers.setdefault(index, rest)
    if sorted(answers) != list(range(n)):
        return None
    return [answers[index] for index in range(n)]
