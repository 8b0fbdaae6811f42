"""What a learner answer claims about what: clauses, their subjects and their polarity.

The reader is a small set of rules over tokens, not a parser:

* **Clauses** end at sentence marks, ";", ":", "=", brackets, line breaks, at contrast and
  linking words ("but", "whereas", "while", "because", "which", "if", ...) and at a comma or
  "and" that starts a new subject ("MIG isolates, time-slicing takes turns").
* **Subjects** are the things the lesson speaks of (MIG, time-slicing, the learner's
  cluster). A clause's subject is the first one it names that is not marked as the other
  side of a comparison ("unlike time-slicing", "than MIG", "instead of", "from"); "it" and
  "they" take the previous clause's subject, "the other one" takes the other of MIG and
  time-slicing, "the former" / "the latter" the first / second named. A clause that names
  none carries on the previous one's subject, or the question's when it is the first.
* **Negation** ("no", "not", "n't", "without", "nothing", "neither ... nor", "lacks",
  "instead of", "loses", "gives up", "less", "weaker") flips what follows it up to the end
  of its scope: the clause end, a comma, or an "and" that starts a new verb.
* **Comparison**: "X isolates better than Y" says the opposite of Y; "X just as well as Y",
  "like Y" and "both X and Y" say the same of Y.

Over 400 lines: clause, subject and polarity rules interact; splitting them would hide
the order they run in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Literal

from tutor.engine.plan import Subject
from tutor.grading.text import Phrase, Tokens, match_at, tokenize

# The names of each subject, as phrases. "time slice" is tried before "slice" (MIG).
SUBJECT_NAMES: dict[Subject, tuple[str, ...]] = {
    "time-slicing": (
        "time slic*",
        "time shar*",
        "time share*",
        "replica",
        "replicas",
        "ts",
        "round robin",
        "slicing in time",
    ),
    "mig": (
        "multi instance gpu*",
        "multi instance",
        "mig*",
        "gpu instance*",
        "instance",
        "instances",
        "slice",
        "slices",
        "partitioned gpu",
    ),
    "cluster": (
        "we",
        "us",
        "our",
        "ours",
        "you",
        "your cluster",
        "my cluster",
        "the cluster",
        "our cluster",
        "cluster",
        "our setup",
    ),
}
_PRONOUNS = frozenset({"it", "its", "they", "them", "their", "theirs", "itself", "this"})
# Two-word references: "the other (one)", "the former", "the latter", "this one".
_OTHER_PAIR: dict[Subject, Subject] = {"mig": "time-slicing", "time-slicing": "mig"}
_OTHER_NOUNS = frozenset({"one", "mode", "approach", "option", "way", ""})
# Post-position negation: "isolation is lost", "isolation: missing".
POST_NEGATORS = frozenset({"lost", "missing", "absent", "gone", "lacking", "sacrificed"})
# "X when we need Y", "X if tenants need Y": the condition is a sign for X as well.
_CONDITIONS = frozenset({"when", "if", "unless"})

# Words that end a clause; the word itself belongs to neither side.
_BOUNDARY_WORDS = frozenset(
    {
        "but", "whereas", "while", "whilst", "although", "though", "however", "yet",
        "because", "since", "so", "which", "if", "unless", "when", "meanwhile", "therefore",
        "thus", "hence", "whereby", "otherwise", "also",
    }
)  # fmt: skip
_BOUNDARY_MARKS = frozenset({".", "!", "?", ";", ":", "=", "(", ")", "[", "]", '"'})
_RELATIVE_OPENERS = frozenset({"which", "so", "therefore", "thus", "hence", "whereby"})

NEGATORS = frozenset(
    {
        "no", "not", "never", "without", "nothing", "none", "neither", "nor", "lacks",
        "lack", "lacking", "lacked", "nobody", "zero", "loses", "lose", "lost", "losing",
        "sacrifice", "sacrifices", "sacrificed", "sacrificing", "less", "fewer", "little",
        "weak", "weaker", "poor", "poorer", "worse", "minimal", "forfeit", "forfeits",
        "absent", "costs", "prevent", "prevents", "prevented", "preventing",
        "avoid", "avoids", "avoided", "eliminate", "eliminates", "rules", "stop", "stops",
        "stopped", "stopping", "block", "blocks",
    }
)  # fmt: skip
# Two-word negators: the second word completes them ("give up", "trade away").
_NEGATOR_PAIRS = {
    ("give", "up"), ("gives", "up"), ("giving", "up"), ("gave", "up"), ("given", "up"),
    ("trade", "away"), ("trades", "away"), ("traded", "away"), ("trading", "away"),
    ("no", "longer"), ("instead", "of"), ("rather", "than"), ("free", "of"),
    ("cost", "of"), ("expense", "of"), ("price", "of"), ("more", "than"),
}  # fmt: skip
_SHARING = frozenset({"share", "shares", "shared", "sharing"})
# "people think instances share SMs, but ...": a belief reported, not the learner's claim.
_REPORTERS = frozenset({"people", "some", "many", "others", "folks", "everyone", "beginners"})
_BELIEVE = frozenset({"think", "thinks", "believe", "believes", "say", "says", "assume",
                      "assumes", "claim", "claims"})  # fmt: skip
_MYTH = frozenset({"myth", "misconception", "contrary", "wrongly", "mistakenly"})
_COST_PAIRS = frozenset({("cost", "of"), ("price", "of"), ("expense", "of")})
_COSTLY = frozenset(
    {"rigid", "rigidity", "fixed", "inflexible", "inflexibility", "losing", "less", "no",
     "giving", "some", "reduced", "fewer", "static", "coarse"}
)  # fmt: skip
# "not only", "not just": the sentence goes on to add, not to deny.
_NOT_NEGATING = frozenset({("not", "only"), ("not", "just"), ("no", "matter"), ("not", "all")})
# Words that alone do not make a claim: "unlike time-slicing, MIG isolates" is one clause.
_NOT_CONTENT = frozenset(
    {"both", "the", "either", ",", "unlike", "versus", "instead", "of", "rather", "than",
     "compared", "with", "over", "from", "contrast", "in", "opposed", "as", "to"}
)  # fmt: skip
# Words after which a named subject is the other side of a comparison.
_CONTRAST_BEFORE = frozenset({"unlike", "than", "versus", "over", "from", "not"})
_CONTRAST_PAIRS = frozenset(
    {("instead", "of"), ("rather", "than"), ("compared", "to"), ("compared", "with"),
     ("as", "opposed"), ("opposed", "to"), ("in", "contrast"), ("contrast", "to")}
)  # fmt: skip
_RELATIONAL = frozenset({"between", "among", "amongst", "across"})
_SAME_BEFORE = frozenset({"like", "as", "and", "both", "or", "nor"})
# Verbs and auxiliaries: an "and" followed by one starts a new predicate, ending a negation.
VERBS = frozenset(
    {
        "is", "are", "was", "were", "be", "has", "have", "had", "get", "gets", "got", "give",
        "gives", "gave", "take", "takes", "took", "share", "shares", "shared", "split",
        "splits", "let", "lets", "keep", "keeps", "can", "could", "will", "would", "should",
        "must", "may", "might", "does", "do", "did", "run", "runs", "offer", "offers",
        "provide", "provides", "guarantee", "guarantees", "isolate", "isolates", "pack",
        "packs", "allow", "allows", "oversubscribe", "oversubscribes", "switch", "switches",
        "use", "uses", "mean", "means", "make", "makes", "cause", "causes", "protect",
        "protects", "prevent", "prevents", "cost", "costs", "need", "needs", "want", "wants",
        "lose", "loses", "gain", "gains", "suffer", "suffers", "degrade", "degrades",
        "starve", "starves", "interfere", "interferes", "slow", "slows", "stays", "stay",
        "suit", "suits", "fit", "fits", "work", "works", "favour", "favours", "prefer",
        "prefers", "call", "calls", "point", "points", "go", "goes", "choose", "pick", "put",
        "lacks", "hurts", "hurt", "breaks", "break", "stops", "stop",
        "partitions", "carve", "carves", "divide", "divides", "rotate", "rotates",
    }
)  # fmt: skip
_AUXILIARIES = frozenset(
    {"can", "could", "will", "would", "does", "do", "did", "is", "are", "was", "were", "has",
     "have", "had", "should", "must", "may", "might", "shall"}
)  # fmt: skip
_KEEP_FROM = frozenset(
    {
        "keep",
        "keeps",
        "kept",
        "protect",
        "protects",
        "protected",
        "shield",
        "shields",
        "isolate",
        "isolates",
    }
)
# Inside one clause, phrases never span these.
STOPS = NEGATORS | {",", "but", "and", "or"}

Source = Literal["named", "pronoun", "carried", "default"]


@dataclass
class Mention:
    subject: Subject
    start: int
    end: int
    relation: int = 1
    """+1: the clause speaks of it; -1: it is the other side of a comparison."""
    named: bool = True


@dataclass
class Clause:
    """One clause of the answer: its tokens (a slice of the answer's), subject and polarity."""

    start: int
    end: int
    subject: Subject
    source: Source
    assertions: list[tuple[Subject, int]]
    """(subject, +1/-1): each subject the clause's predicates are said of, and with what sign."""
    polarity: list[int] = field(default_factory=list)
    """Per token of the clause: +1, or -1 where a negation covers it."""
    opener: str = ""
    """The linking word that opened the clause ("but", "whereas", ...), if any."""
    condition: bool = False
    """An "if" / "when" clause: it names a situation, not a property of its subject."""
    reported: bool = False
    """A belief the learner reports ("people think ...", "a myth that ..."), not claims."""

    def sign_at(self, index: int) -> int:
        return self.polarity[index - self.start]

    def sign_of(self, toks: list[str], start: int, end: int) -> int:
        """The sign of a phrase at toks[start:end]: negations before it, or one right after."""
        sign = self.sign_at(start)
        # A phrase that is the clause's own subject ("a noisy neighbour couldn't touch them")
        # is denied by the verb's negation after it.
        leads = not any(toks[j] in VERBS for j in range(self.start, start))
        for j in range(end, self.end):
            # "L2 that isn't shared": the negation is the relative clause's, not the L2's.
            if toks[j] in (",", "and", "but", "that", "which", "who"):
                break
            if toks[j] in POST_NEGATORS:
                return -sign
            if (
                leads
                and j - end <= 2
                and toks[j] in _AUXILIARIES
                and j + 1 < self.end
                and toks[j + 1] in ("not", "never")
            ):
                return -sign
            if toks[j] in VERBS and toks[j] not in _AUXILIARIES:
                break
        return sign


@dataclass
class Reading:
    tokens: Tokens
    clauses: list[Clause]

    def evidence(self, clause: Clause) -> str:
        return self.tokens.evidence(clause.start, clause.end)


_NAME_STOPS: frozenset[str] = frozenset()


@cache
def _name_phrases() -> list[tuple[Subject, Phrase]]:
    """Subject names, longest first: "time slice" wins over "slice", "your cluster" over "you"."""
    pairs = [(s, Phrase.parse(n)) for s, names in SUBJECT_NAMES.items() for n in names]
    return sorted(pairs, key=lambda sp: (-len(sp[1].terms), -len(sp[1].text)))


@cache
def _name_index() -> tuple[dict[str, list[tuple[Subject, Phrase]]], list[tuple[Subject, Phrase]]]:
    """Names by their first word (with its plurals), and the few that start with a prefix."""
    exact: dict[str, list[tuple[Subject, Phrase]]] = {}
    prefixed: list[tuple[Subject, Phrase]] = []
    for subject, phrase in _name_phrases():
        first = phrase.terms[0]
        if first.prefix:
            prefixed.append((subject, phrase))
            continue
        for form in (first.word, first.word + "s", first.word + "es"):
            exact.setdefault(form, []).append((subject, phrase))
    return exact, prefixed


def _mentions(toks: list[str]) -> list[Mention]:
    """Every subject name in the answer, the longest at each place. One pass: linear."""
    exact, prefixed = _name_index()
    found: list[Mention] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        candidates = exact.get(tok, []) + [sp for sp in prefixed if sp[1].terms[0].matches(tok)]
        best: tuple[Subject, int] | None = None
        for subject, phrase in candidates:
            if not phrase.terms[0].matches(tok):
                continue
            end = match_at(phrase, toks, i, _NAME_STOPS, len(toks))
            # Names are whole: "time slice", not "time" ... "slice" with words between.
            whole = end is not None and end - i == len(phrase.terms)
            if whole and end is not None and (best is None or end > best[1]):
                best = (subject, end)
        if best is None:
            i += 1
            continue
        found.append(Mention(best[0], i, best[1]))
        i = best[1]
    return found


def _is_boundary(toks: list[str], i: int) -> bool:
    tok = toks[i]
    if tok in _BOUNDARY_MARKS:
        return True
    return tok in _BOUNDARY_WORDS


def _starts_subject(toks: list[str], i: int, starts: dict[int, Mention]) -> bool:
    if i in starts:
        return True
    if i < len(toks) and toks[i] in _PRONOUNS:
        return True
    return i + 1 < len(toks) and toks[i] == "the" and toks[i + 1] in ("other", "former", "latter")


def _split(toks: list[str], mentions: list[Mention]) -> list[tuple[int, int, str]]:
    """Clause ranges (start, end, opening word)."""
    starts = {m.start: m for m in mentions}
    clauses: list[tuple[int, int, str]] = []
    begin, opener = 0, ""
    content = False  # the current clause has a word that is not a subject name
    i = 0
    while i < len(toks):
        tok = toks[i]
        split_here = _is_boundary(toks, i)
        if tok == "," and i + 1 < len(toks) and toks[i + 1] in ("and", "or", "but"):
            split_here = content
        if not split_here and tok in (",", "and", "or") and _starts_subject(toks, i + 1, starts):
            # "MIG and time-slicing both share" names two subjects; split only after a claim.
            split_here = content
        if split_here:
            if i > begin:
                clauses.append((begin, i, opener))
            begin, content = i + 1, False
            opener = tok if tok.isalpha() or tok in "()" else ""
        elif i in starts:
            i = starts[i].end
            continue
        elif tok not in _NOT_CONTENT:
            content = True
        i += 1
    if begin < len(toks):
        clauses.append((begin, len(toks), opener))
    return clauses


def _polarity(toks: list[str], start: int, end: int, mention_at: set[int]) -> list[int]:
    """Per token, -1 where an odd number of negations covers it."""
    signs: list[int] = []
    negations = 0
    keeping = False
    i = start
    while i < end:
        tok = toks[i]
        nxt = toks[i + 1] if i + 1 < end else ""
        if tok == "," or (tok in ("and", "or") and (nxt in VERBS or i + 1 in mention_at)):
            negations = 0
        signs.append(-1 if negations % 2 else 1)
        pair = (tok, nxt)
        if pair in _NOT_NEGATING:
            signs.append(signs[-1])
            i += 2
            continue
        after = toks[i + 2] if i + 2 < end else ""
        if pair in _COST_PAIRS and after in _COSTLY:
            # "at the price of rigid profiles": the price is what you get, not what you lose.
            signs.append(signs[-1])
            i += 2
            continue
        if pair in _NEGATOR_PAIRS and not (i + 2 < end and i + 2 in mention_at):
            negations += 1
            signs.append(signs[-1])
            i += 2
            continue
        if tok in _KEEP_FROM:
            keeping = True
        if tok in _SHARING and negations % 2:
            # "not sharing SMs with anyone": the SMs are its own.
            negations += 1
        elif tok == "from" and keeping:
            # "keeps a heavy job from hurting others": what follows "from" is denied.
            negations += 1
            keeping = False
        elif (
            tok in NEGATORS
            and i - 2 >= start
            and toks[i - 1] in ("or", "and")
            and (toks[i - 2] in NEGATORS)
        ):
            # "weak or no isolation": alternatives, not a double negation.
            pass
        elif tok in NEGATORS and tok != "nor":
            negations += 1
        elif tok == "nor":
            # "neither X nor Y": Y is denied too, not double-negated.
            negations = max(negations, 1)
        i += 1
    return signs


def _relation(toks: list[str], m: Mention, begin: int) -> int:
    before = toks[m.start - 1] if m.start - 1 >= begin else ""
    before2 = (toks[m.start - 2], before) if m.start - 2 >= begin else ("", before)
    if before in _CONTRAST_BEFORE or before2 in _CONTRAST_PAIRS:
        return -1
    if before2[0] in _CONTRAST_BEFORE and before == "the":
        return -1
    return 1


def read(text: str, default: Subject | None = None) -> Reading:
    """Read `text` into clauses; `default` is what a first clause naming nothing speaks of."""
    tokens = tokenize(text)
    toks = tokens.toks
    mentions = _mentions(toks)
    mention_at = {m.start for m in mentions}
    clauses: list[Clause] = []
    prev_subject: Subject = default or "answer"
    prev_source: Source = "default"
    order: list[Subject] = []  # distinct MIG / time-slicing names, in the order they came
    last_named: Subject | None = None
    outer: list[Subject] = []  # the subject before each open bracket
    cursor = 0
    for begin, end, opener in _split(toks, mentions):
        if opener == "(":
            outer.append(prev_subject)
        elif opener == ")" and outer:
            # After "(what we run)" the sentence is about its subject again, not "we".
            prev_subject = outer.pop()
        # Mentions are sorted and clauses come in order: one pointer keeps this linear.
        while cursor < len(mentions) and mentions[cursor].start < begin:
            cursor += 1
        own = []
        while cursor < len(mentions) and mentions[cursor].start < end:
            own.append(mentions[cursor])
            cursor += 1
        refs = _references(toks, begin, end, prev_subject, last_named, order)
        speaks: list[Mention] = []
        for m in sorted(own + refs, key=lambda m: m.start):
            if m.start > begin and toks[m.start - 1] in _RELATIONAL:
                # "isolation between replicas": the replicas are not what the clause is about.
                continue
            m.relation = _relation(toks, m, begin)
            speaks.append(m)
        primary = _primary(speaks, begin)
        if primary is not None:
            subject = primary.subject
            source: Source = "named" if primary.named else "pronoun"
        elif opener in _RELATIVE_OPENERS and last_named is not None:
            subject, source = last_named, "carried"
        elif opener in _CONDITIONS and prev_source == "default":
            # "We'd switch if tenants kept slowing each other": the condition is the
            # situation, not the question's subject.
            subject, source = "answer", "default"
        else:
            subject = prev_subject
            source = "default" if prev_source == "default" else "carried"
        assertions: list[tuple[Subject, int]] = [(subject, 1)]
        if (
            opener in _CONDITIONS
            and subject == "cluster"
            and prev_subject in _OTHER_PAIR
            and prev_source != "default"
        ):
            assertions.append((prev_subject, 1))
        for m in speaks:
            if m is primary or (m.subject, m.relation) in assertions:
                continue
            if m.relation == -1 or _same_side(toks, m, begin):
                assertions.append((m.subject, m.relation))
            elif m.subject == "cluster" and subject != "cluster":
                assertions.append(("cluster", 1))
        clauses.append(
            Clause(begin, end, subject, source, assertions,
                   _polarity(toks, begin, end, mention_at), opener)
        )  # fmt: skip
        for m in own:
            if m.subject != "cluster":
                last_named = m.subject
                if m.subject not in order:
                    order.append(m.subject)
        prev_subject, prev_source = subject, source
    _conditions_first(clauses, toks)
    _named_after(clauses, toks, mentions)
    _verdict_lists(clauses, toks, mentions)
    for clause in clauses:
        clause.reported = _is_reported(toks[clause.start : clause.end])
    return Reading(tokens, clauses)


def _is_reported(toks: list[str]) -> bool:
    if any(t in _MYTH for t in toks):
        return True
    pairs = pairwise(toks)
    return any(a in _REPORTERS and b in _BELIEVE for a, b in pairs) or (
        "used" in toks and "think" in toks
    )


def _verdict_lists(clauses: list[Clause], toks: list[str], mentions: list[Mention]) -> None:
    """ "Isolation: MIG yes, time-slicing no": the topic is said of each name, yes or no."""
    spans = {m.start: m for m in mentions}
    topic: Clause | None = None
    for clause in clauses:
        if clause.source != "named" and clause.end < len(toks) and toks[clause.end] == ":":
            topic = clause
            continue
        m = spans.get(clause.start)
        if topic is None or m is None or clause.end - m.end != 1:
            topic = None
            continue
        answer = toks[m.end]
        if answer in ("yes", "does", "has", "do", "y"):
            topic.assertions.append((m.subject, 1))
        elif answer in ("no", "not", "n", "never", "none"):
            topic.assertions.append((m.subject, -1))


def _named_after(clauses: list[Clause], toks: list[str], mentions: list[Mention]) -> None:
    """ "steady latency -> MIG": a clause that is only a name, after '=' or ':', names the
    clause before it when that one named nothing."""
    spans = {(m.start, m.end): m.subject for m in mentions}
    for before, here in pairwise(clauses):
        subject = spans.get((here.start, here.end))
        if subject is None or here.start < 1 or toks[here.start - 1] not in ("=", ":"):
            continue
        if before.source != "named":
            before.subject, before.source = subject, "named"
            before.assertions = [(subject, 1)]


def _conditions_first(clauses: list[Clause], toks: list[str]) -> None:
    """ "If it's bursty, time-slice": a condition that opens a sentence and names nothing
    speaks of its main clause's subject (not of the sentence before)."""
    for here, after in pairwise(clauses):
        opens = here.start < 2 or toks[here.start - 2] in (".", "!", "?", ";", ":")
        comma = here.end < len(toks) and toks[here.end] == ","
        unnamed = here.source != "named" and after.source == "named" and after.opener == ""
        if here.opener in _CONDITIONS and unnamed and opens and comma:
            here.subject, here.source = after.subject, "carried"
            here.assertions = [(after.subject, 1)]
    for clause in clauses:
        clause.condition = clause.opener in _CONDITIONS


def _primary(speaks: list[Mention], begin: int) -> Mention | None:
    """The first subject spoken of; MIG or time-slicing before "we" ("we use MIG for ...").

    "We" or "you" is the subject only at the head of its clause: in "any amount of memory
    you choose" the clause is still about what the question asked.
    """
    forward = [m for m in speaks if m.relation == 1]
    system = [m for m in forward if m.subject != "cluster"]
    if system:
        return system[0]
    heads = [m for m in forward if m.start - begin <= 1]
    return heads[0] if heads else None


def _same_side(toks: list[str], m: Mention, begin: int) -> bool:
    """'like Y', 'as Y', 'both X and Y': the clause says the same of Y."""
    before = toks[m.start - 1] if m.start - 1 >= begin else ""
    return before in _SAME_BEFORE


def _references(
    toks: list[str],
    begin: int,
    end: int,
    prev: Subject,
    last_named: Subject | None,
    order: list[Subject],
) -> list[Mention]:
    """Pronouns and 'the other one' / 'the former' / 'the latter', resolved."""
    refs: list[Mention] = []
    for i in range(begin, end):
        tok = toks[i]
        nxt = toks[i + 1] if i + 1 < end else ""
        prior = toks[i - 1] if i - 1 >= begin else ""
        if tok in _PRONOUNS:
            if tok == "this" and nxt != "one":
                continue
            target = prev if prev not in ("cluster", "answer") else last_named
            # With nothing named yet, "it" is what the question spoke of: the cluster.
            refs.append(Mention(target or "cluster", i, i + 1, named=False))
        elif tok == "other" and prior == "the" and (nxt in _OTHER_NOUNS or nxt in VERBS):
            base = prev if prev in _OTHER_PAIR else last_named
            if base in _OTHER_PAIR:
                refs.append(Mention(_OTHER_PAIR[base], i, i + 1, named=False))
        elif tok in ("former", "latter") and prior == "the" and len(order) >= 2:
            refs.append(Mention(order[0] if tok == "former" else order[1], i, i + 1, named=False))
    return refs
