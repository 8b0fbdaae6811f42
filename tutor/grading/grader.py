"""Grade an answer against a rubric: which points it makes, which misconceptions it states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from tutor.engine.events import Contradiction, Graded, PointGrade
from tutor.engine.plan import Subject
from tutor.grading.reading import STOPS, Clause, Reading, read
from tutor.grading.rubric import ClaimSpec, MisconceptionSpec, PointSpec, Rubric
from tutor.grading.text import find_all, is_word

VerdictName = Literal["right", "partly", "contradicts", "cant_tell"]
Status = Literal["said", "missing", "contradicted", "unsure"]

# A recall answer is a line or two and a teach-back a paragraph; past this the grader would
# be guessing at an essay, so it hands the check to the learner (and stays fast on any input).
MAX_CHARS = 3000

# Words that carry no claim; an answer made only of these is too short to judge.
_FILLER = frozenset(
    {
        "a", "an", "the", "i", "think", "guess", "maybe", "um", "uh", "er", "hmm", "ok",
        "okay", "so", "well", "like", "just", "it", "is", "are", "and", "or", "of", "to",
        "yes", "no", "yeah", "sure", "thing", "things", "stuff", "something", "answer",
    }
)  # fmt: skip
# Words that make a string of terms into a claim: verbs, "own", "each", prepositions.
_CLAIM_WORDS = frozenset(
    {
        "own", "each", "per", "with", "without", "for", "of", "to", "in", "on", "by", "into",
        "between", "than", "no", "not", "its", "their", "every", "from", "when", "if",
        "because", "but", "whereas", "while", "unlike", "instead", "only", "all", "more",
        "less", "none", "nothing", "never", "through", "across", "at", "via", "dedicated",
        "private", "separate", "exclusive", "shared", "isolated",
    }
)  # fmt: skip
_SENTENCE = frozenset(
    {"it", "they", "we", "you", "i", "this", "that", "trade", "trades", "traded", "trading"}
)
_META = (
    ("do", "not", "know"), ("no", "idea"), ("not", "sure"), ("idk",), ("do", "not", "remember"),
    ("can", "not", "remember"), ("forgot",), ("dunno",), ("no", "clue"), ("pass",),
    ("skip",),
)  # fmt: skip


class PointResult(BaseModel):
    id: str
    description: str
    status: Status
    evidence: str = ""
    """The learner's clause the status rests on."""


class MisconceptionResult(BaseModel):
    id: str
    said: str
    correction: str
    source: str
    evidence: str = ""


class Grade(BaseModel):
    """The grader's verdict on one answer, point by point."""

    verdict: VerdictName
    points: list[PointResult] = Field(default_factory=list)
    contradictions: list[MisconceptionResult] = Field(default_factory=list)
    reason: str = ""
    """Why the verdict, in a few words ("too short to judge", "all 3 points")."""
    screened: bool = False
    """True when the answer was set aside unread (too long or short, a copy, a word list)."""

    @property
    def said(self) -> list[PointResult]:
        return [p for p in self.points if p.status == "said"]

    @property
    def missing(self) -> list[PointResult]:
        return [p for p in self.points if p.status != "said"]

    @property
    def self_check(self) -> bool:
        """True when the tutor hands the check to the learner instead of grading."""
        return self.verdict == "cant_tell"

    def to_event(self, step_id: str) -> Graded:
        return Graded(
            step_id=step_id,
            verdict=self.verdict,
            points=[
                PointGrade(
                    point_id=p.id, description=p.description, status=p.status,
                    evidence=p.evidence,
                )
                for p in self.points
            ],
            contradictions=[
                Contradiction(
                    claim_id=c.id, said=c.said, correction=c.correction, evidence=c.evidence,
                    source=c.source,
                )
                for c in self.contradictions
            ],
            self_check=self.self_check,
        )  # fmt: skip


@dataclass
class _Hits:
    said: str | None = None
    denied: str | None = None
    unsure: str | None = None
    denied_as: MisconceptionSpec | None = None
    """The misconception of the claim the learner denied, when it names its own."""


@dataclass
class _Scan:
    points: dict[str, _Hits] = field(default_factory=dict)
    stated: dict[str, str] = field(default_factory=dict)
    """Misconception id -> the learner's clause that states it."""


def grade(answer: str, rubric: Rubric) -> Grade:
    """Judge `answer` against `rubric`; deterministic, linear in the answer, a few ms."""
    if len(answer) > MAX_CHARS:
        return _unjudged(rubric, f"longer than {MAX_CHARS} characters: too long to judge")
    reading = read(answer, rubric.about)
    toks = reading.tokens.toks
    content = [t for t in toks if is_word(t) and t not in _FILLER]
    # One word can answer a question ("isolation"), so only an answer with none is too short.
    if not content:
        return _unjudged(rubric, "too short to judge")
    if _is_copy(content, rubric.question):
        return _unjudged(rubric, "a copy of the question")
    if _is_keyword_list(toks):
        return _unjudged(rubric, "a list of words with no claim")
    scan = _scan(reading, rubric)
    points = [_point_result(p, scan.points.get(p.id, _Hits())) for p in rubric.points]
    contradictions = _contradictions(rubric, scan)
    if contradictions:
        return Grade(verdict="contradicts", points=points, contradictions=contradictions,
                     reason="states a misconception")  # fmt: skip
    said = [p for p in points if p.status == "said"]
    unsure = [p for p in points if p.status == "unsure"]
    required = [p.id for p in rubric.points if p.required]
    said_ids = {p.id for p in said}
    if all(r in said_ids for r in required) and len(said) >= rubric.pass_mark:
        return Grade(verdict="right", points=points, reason=f"{len(said)} of {len(points)} points")
    if _is_meta(toks):
        return Grade(verdict="cant_tell", points=points, reason="the answer says it is unsure")
    if unsure:
        return Grade(verdict="cant_tell", points=points,
                     reason="cannot tell which mode the answer speaks of")  # fmt: skip
    if said:
        return Grade(verdict="partly", points=points,
                     reason=f"{len(said)} of {len(points)} points")  # fmt: skip
    return Grade(verdict="cant_tell", points=points, reason="makes none of the points")


def _unjudged(rubric: Rubric, reason: str) -> Grade:
    points = [PointResult(id=p.id, description=p.description, status="unsure")
              for p in rubric.points]  # fmt: skip
    return Grade(verdict="cant_tell", points=points, reason=reason, screened=True)


def _is_copy(content: list[str], question: str) -> bool:
    """Most of the answer's words are the question's own."""
    asked = set(read(question).tokens.toks)
    if len(content) < 3:
        return False
    echoed = sum(1 for w in content if w in asked)
    return echoed / len(content) >= 0.8


def _is_keyword_list(toks: list[str]) -> bool:
    """Terms with no verb, preposition or "own" between them: "isolation, turns, noisy"."""
    from tutor.grading.reading import NEGATORS, VERBS

    words = [t for t in toks if is_word(t)]
    if any(t in ("=", ":") for t in toks):
        return False
    # A pronoun or a verb makes a sentence of it: "it trades away flexibility".
    if any(w in VERBS or w in _CLAIM_WORDS or w in NEGATORS or w in _SENTENCE for w in words):
        return False
    separators = sum(1 for t in toks if t in (",", "and", ";", "/"))
    # "sm hbm l2 cache" is a list too; "hardware isolation" or "noisy neighbour risk" is not.
    return separators + 1 >= 3 or len(words) >= 4


def _is_meta(toks: list[str]) -> bool:
    for i in range(len(toks)):
        for pattern in _META:
            if tuple(toks[i : i + len(pattern)]) == pattern:
                return True
    return False


def _matches(
    claim: ClaimSpec, clause: Clause, toks: list[str]
) -> list[tuple[Literal["said", "denied", "unsure"], Subject]]:
    """How `clause` bears on `claim`: said, denied, or unsure (a subject it cannot place)."""
    out: list[tuple[Literal["said", "denied", "unsure"], Subject]] = []
    for phrase in claim.phrases:
        for start, end in find_all(phrase, toks, STOPS, clause.start, clause.end):
            sign = clause.sign_of(toks, start, end)
            for subject, relation in clause.assertions:
                if subject not in claim.about:
                    if subject == "answer":
                        out.append(("unsure", subject))
                    continue
                wanted = 1 if claim.polarity == "affirm" else -1
                if claim.polarity == "either" or sign * relation == wanted:
                    out.append(("said", subject))
                elif clause.condition and claim.polarity == "deny":
                    # "if tenants kept hurting each other, MIG ...": the condition names the
                    # problem the subject solves, which is the point, not its denial.
                    out.append(("said", subject))
                elif not clause.condition:
                    out.append(("denied", subject))
    return out


def _scan(reading: Reading, rubric: Rubric) -> _Scan:
    scan = _Scan()
    toks = reading.tokens.toks
    for clause in reading.clauses:
        if clause.reported:
            continue
        evidence = reading.evidence(clause).rstrip(",;:").strip()
        for point in rubric.points:
            hits = scan.points.setdefault(point.id, _Hits())
            for claim in point.claims:
                for kind, _subject in _matches(claim, clause, toks):
                    if getattr(hits, kind) is None:
                        setattr(hits, kind, evidence)
                        if kind == "denied":
                            hits.denied_as = claim.denied
        for m in rubric.contradictions:
            if m.id in scan.stated:
                continue
            for claim in m.claims:
                if any(kind == "said" for kind, _ in _matches(claim, clause, toks)):
                    scan.stated[m.id] = evidence
                    break
    return scan


def _point_result(point: PointSpec, hits: _Hits) -> PointResult:
    # A point the learner denied is contradicted even if another clause makes it: a tutor
    # that praised "MIG isolates; MIG does not isolate" would praise the wrong half.
    if hits.denied is not None:
        return PointResult(id=point.id, description=point.description, status="contradicted",
                           evidence=hits.denied)  # fmt: skip
    if hits.said is not None:
        return PointResult(id=point.id, description=point.description, status="said",
                           evidence=hits.said)  # fmt: skip
    if hits.unsure is not None:
        return PointResult(id=point.id, description=point.description, status="unsure",
                           evidence=hits.unsure)  # fmt: skip
    return PointResult(id=point.id, description=point.description, status="missing")


def _contradictions(rubric: Rubric, scan: _Scan) -> list[MisconceptionResult]:
    out: list[MisconceptionResult] = []
    for point in rubric.points:
        hits = scan.points.get(point.id)
        if hits is None or hits.denied is None:
            continue
        m = hits.denied_as or point.denied or _generic_denial(point, rubric)
        _add(out, _named(m, hits.denied))
    for m in rubric.contradictions:
        if m.id in scan.stated:
            _add(out, _named(m, scan.stated[m.id]))
    return out


def _add(out: list[MisconceptionResult], named: MisconceptionResult) -> None:
    if all(c.id != named.id for c in out):
        out.append(named)


def _generic_denial(point: PointSpec, rubric: Rubric) -> MisconceptionSpec:
    return MisconceptionSpec(
        id=f"not-{point.id}",
        said=f"the opposite of: {point.description}",
        correction=f"the lesson says {point.description}: {rubric.answer}",
        source="lesson-23-mig",
        claims=(),
    )


def _named(m: MisconceptionSpec, evidence: str) -> MisconceptionResult:
    return MisconceptionResult(id=m.id, said=m.said, correction=m.correction, source=m.source,
                               evidence=evidence)  # fmt: skip
