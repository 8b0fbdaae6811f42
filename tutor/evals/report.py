"""What a person reads: the run summary table, run-to-run changes and the HTML report.

Over 400 lines: the terminal table, the compare and the HTML report render the same run
data.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tutor.evals.judge import DIMENSIONS, LABEL_SCORE
from tutor.evals.runner import CaseResult, RunSummary

if TYPE_CHECKING:
    from rich.console import Console


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def print_summary(summary: RunSummary, console: Console) -> None:
    from rich.table import Table

    table = Table(title=f"eval run {summary.run_id}", title_justify="left")
    for column in ("scorer", "pass rate", "passed", "goal", "status"):
        table.add_column(column, justify="right" if column in ("pass rate", "passed") else "left")
    goals = {g.name: ("gate", g) for g in summary.gates} | {
        t.name: ("target", t) for t in summary.targets
    }
    for name, rate in summary.scorers.items():
        kind, check = goals.get(name, ("", None))
        goal = f"{kind} {_pct(check.threshold)}" if check else ""
        if check is None:
            status = ""
        elif check.passed:
            status = "[green]ok[/]"
        else:
            status = "[red]FAIL[/]" if kind == "gate" else "[yellow]below[/]"
        table.add_row(name, _pct(rate.rate), f"{rate.passed}/{rate.applicable}", goal, status)
    console.print(table)
    if summary.judge:
        jt = Table(
            title=f"judge ({summary.judge_model}); reported, not gated", title_justify="left"
        )
        for column in ("dimension", "n", "mean", "yes", "to some extent", "no"):
            jt.add_column(column, justify="left" if column == "dimension" else "right")
        for dim in DIMENSIONS:
            stat = summary.judge.get(dim)
            if stat is None:
                continue
            counts = [str(stat.counts.get(k, 0)) for k in ("yes", "to some extent", "no")]
            jt.add_row(dim, str(stat.n), f"{stat.mean:.2f}", *counts)
        console.print(jt)
    if summary.judge_errors:
        console.print(f"[yellow]judge failed on {summary.judge_errors} case(s)[/]")
    for name, ids in summary.failures.items():
        shown = ", ".join(ids[:8]) + (f" (+{len(ids) - 8})" if len(ids) > 8 else "")
        console.print(f"[dim]{name} failed:[/] {shown}")
    if summary.disagreements:
        console.print(
            "[yellow]the leak oracle and the engine's guard disagree; read these replies:[/]"
        )
        for case_id, detail in summary.disagreements.items():
            console.print(f"  {case_id}: {detail}")
    for gate in summary.gates:
        if gate.message:
            console.print(f"[red]{gate.message}[/]")
    verdict = "[green]PASSED[/]" if summary.passed else "[red]FAILED[/] (a gate was missed)"
    console.print(
        f"{summary.cases} cases ({summary.cached} from cache) in {summary.seconds:.1f}s: {verdict}"
    )


# ------------------------------------------------------------------ compare


@dataclass(frozen=True)
class Change:
    case_id: str
    check: str
    before: str
    after: str
    detail: str


Piece = tuple[str, str]
"""(op, words): op is 'same', 'del' (only in the first run) or 'ins' (only in the second)."""


@dataclass(frozen=True)
class WordingChange:
    """One reply whose words differ between two runs, with a word-level diff."""

    case_id: str
    turn: int
    learner: str
    before: str
    after: str
    left: list[Piece]
    right: list[Piece]
    checks_changed: bool


@dataclass(frozen=True)
class PromptNotice:
    """A prompt file that differs between the runs, and whether any case used it."""

    file: str
    rendered_before: int
    rendered_after: int
    text: str


def _status(result: CaseResult, name: str) -> tuple[str, str]:
    score = result.score(name)
    if score is None or score.passed is None:
        return "n/a", ""
    return ("pass" if score.passed else "FAIL"), score.detail


def compare_runs(a: list[CaseResult], b: list[CaseResult]) -> list[Change]:
    """Cases whose result changed between two runs, per scorer and judge dimension."""
    by_a = {r.case_id: r for r in a}
    by_b = {r.case_id: r for r in b}
    changes: list[Change] = []
    for case_id in [*by_a, *(i for i in by_b if i not in by_a)]:
        ra, rb = by_a.get(case_id), by_b.get(case_id)
        if ra is None or rb is None:
            changes.append(
                Change(
                    case_id,
                    "case",
                    "absent" if ra is None else "present",
                    "absent" if rb is None else "present",
                    "",
                )
            )
            continue
        names = dict.fromkeys([s.name for s in ra.scores] + [s.name for s in rb.scores])
        for name in names:
            sa, da = _status(ra, name)
            sb, db = _status(rb, name)
            if sa != sb:
                changes.append(Change(case_id, name, sa, sb, db or da))
        la = ra.judge.labels.as_dict() if ra.judge and ra.judge.labels else {}
        lb = rb.judge.labels.as_dict() if rb.judge and rb.judge.labels else {}
        if la and lb:
            for dim in DIMENSIONS:
                if la.get(dim) != lb.get(dim):
                    changes.append(
                        Change(case_id, f"judge.{dim}", la.get(dim, "-"), lb.get(dim, "-"), "")
                    )
    return changes


# A word with the whitespace after it: whitespace alone never matches across a change.
_TOKENS = re.compile(r"^\s+|\S+\s*")


def word_diff(before: str, after: str) -> tuple[list[Piece], list[Piece]]:
    """Side-by-side pieces: the first run's words with deletions marked, the second's with
    insertions marked; whitespace travels with the words so the text reads as written."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    left: list[Piece] = []
    right: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(("same", "".join(old[i1:i2])))
            right.append(("same", "".join(new[j1:j2])))
            continue
        if i2 > i1:
            left.append(("del", "".join(old[i1:i2])))
        if j2 > j1:
            right.append(("ins", "".join(new[j1:j2])))
    return left, right


def wording_changes(a: list[CaseResult], b: list[CaseResult]) -> list[WordingChange]:
    """Every reply whose words changed, turn by turn, whether or not a check changed."""
    by_b = {r.case_id: r for r in b}
    changed_checks = {c.case_id for c in compare_runs(a, b)}
    out: list[WordingChange] = []
    for ra in a:
        rb = by_b.get(ra.case_id)
        if rb is None:
            continue
        turns_a, turns_b = ra.transcript.turns, rb.transcript.turns
        for i in range(max(len(turns_a), len(turns_b))):
            ta = turns_a[i] if i < len(turns_a) else None
            tb = turns_b[i] if i < len(turns_b) else None
            before = ta.text if ta else ""
            after = tb.text if tb else ""
            if before == after:
                continue
            left, right = word_diff(before, after)
            shown = tb or ta
            learner = shown.learner if shown is not None else ""
            out.append(
                WordingChange(
                    ra.case_id,
                    i,
                    learner,
                    before,
                    after,
                    left,
                    right,
                    ra.case_id in changed_checks,
                )
            )
    return out


# Where the engine renders each prompt file: what a case must reach for an edit to matter.
PROMPT_SITUATIONS: dict[str, str] = {
    "system.md": "every model call",
    "ask.md": "a lesson question asked anew (the opening, or the next step after a reveal)",
    "reveal.md": "a reveal after a committed guess",
    "recall.md": "a recall answer being graded",
    "teach_back.md": "a teach-back being graded",
    "free.md": "a free question being answered",
}


# The prompt files the engine gives the embedded model (strict wording: the model words only
# the invitation to guess). The prompt-case test checks this against what the engine does.
EMBEDDED_WORDS = ("ask.md",)


def _rendered(results: list[CaseResult]) -> dict[str, int]:
    """Per prompt file, how many cases rendered it in at least one turn."""
    counts: dict[str, int] = {}
    for result in results:
        files = {p for t in result.transcript.turns for p in t.prompts_rendered}
        for name in files:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _why_unrendered(name: str, runs: list[tuple[RunSummary | None, list[CaseResult]]]) -> str:
    """Why no case rendered a prompt file, from what the runs did."""
    reasons: list[str] = []
    embedded = sorted({s.model for s, _ in runs if s is not None and s.model.startswith("local/")})
    if embedded:
        verb = "is" if len(EMBEDDED_WORDS) == 1 else "are"
        reasons.append(
            f"with the embedded model ({', '.join(embedded)}) only "
            f"{' and '.join(EMBEDDED_WORDS)} {verb} worded by the model"
        )
    starts = {r.start for _, res in runs for r in res}
    if name == "ask.md" and starts and "beginning" not in starts:
        reasons.append("these cases start at a resumed step")
    situation = PROMPT_SITUATIONS.get(name)
    if situation is None:
        reasons.append(f"the tutor renders {name} in no situation at present")
    elif not embedded:
        reasons.append(f"no case reached {situation}")
    return ", and ".join(reasons)


def prompt_notices(
    runs: list[tuple[RunSummary | None, list[CaseResult]]],
) -> list[PromptNotice]:
    """For each prompt file that differs between the first run and another, how many
    cases rendered it; when none did, a plain sentence saying so and why."""
    if len(runs) < 2 or runs[0][0] is None:
        return []
    base_summary, base_results = runs[0]
    assert base_summary is not None
    notices: list[PromptNotice] = []
    for summary, results in runs[1:]:
        if summary is None:
            continue
        files = sorted(set(base_summary.prompt_files) | set(summary.prompt_files))
        before, after = _rendered(base_results), _rendered(results)
        for name in files:
            if base_summary.prompt_files.get(name) == summary.prompt_files.get(name):
                continue
            nb, na = before.get(name, 0), after.get(name, 0)
            if nb == 0 and na == 0:
                why = _why_unrendered(name, [runs[0], (summary, results)])
                text = f"{name} differs, but no case rendered it" + (f": {why}" if why else "")
            else:
                text = (
                    f"{name} differs; {nb} case(s) rendered it in {base_summary.run_id} and "
                    f"{na} in {summary.run_id}"
                )
            notices.append(PromptNotice(name, nb, na, text))
    return notices


def _elide(words: str, keep: int = 8) -> str:
    """An unchanged stretch in the terminal: its first and last words around an ellipsis."""
    tokens = words.split(" ")
    if len(tokens) <= 2 * keep + 4:
        return words
    return " ".join(tokens[:keep]) + " … " + " ".join(tokens[-keep:])


def print_changes(
    changes: list[Change],
    name_a: str,
    name_b: str,
    console: Console,
    *,
    wording: list[WordingChange] | None = None,
    notices: list[PromptNotice] | None = None,
) -> None:
    from rich.table import Table
    from rich.text import Text

    for notice in notices or []:
        style = "yellow" if notice.rendered_before == notice.rendered_after == 0 else "cyan"
        console.print(Text(notice.text, style=style))
    wording = wording or []
    if not changes and not wording:
        console.print(f"No case changed between {name_a} and {name_b}.")
        return
    if wording:
        cases = len({w.case_id for w in wording})
        table = Table(
            title=f"{name_a} -> {name_b}: wording changed in {len(wording)} repl(ies) of "
            f"{cases} case(s)",
            title_justify="left",
            show_lines=True,
        )
        table.add_column("case / turn", overflow="fold", max_width=22)
        table.add_column(name_a[:32], overflow="fold", ratio=1)
        table.add_column(name_b[:32], overflow="fold", ratio=1)
        for w in wording:
            left, right = Text(), Text()
            # git's word-diff markers, so the change reads in a log without colour too.
            for op, words in w.left:
                if op == "del":
                    left.append(f"[-{words.rstrip()}-]{words[len(words.rstrip()):]}",
                                style="bold red")  # fmt: skip
                else:
                    left.append(_elide(words))
            for op, words in w.right:
                if op == "ins":
                    right.append(f"{{+{words.rstrip()}+}}{words[len(words.rstrip()):]}",
                                 style="bold green")  # fmt: skip
                else:
                    right.append(_elide(words))
            label = f"{w.case_id}\nturn {w.turn}" + (
                "\n(checks changed)" if w.checks_changed else ""
            )
            table.add_row(label, left, right)
        console.print(table)
    if not changes:
        console.print(f"Every check gave the same result in {name_a} and {name_b}.")
        return
    table = Table(title=f"{name_a} -> {name_b}: {len(changes)} change(s)", title_justify="left")
    for column in ("case", "check", name_a[:24], name_b[:24], "detail"):
        table.add_column(column, overflow="fold")
    for c in changes:
        after = c.after
        if c.after == "FAIL":
            after = "[red]FAIL[/]"
        elif c.after == "pass" and c.before == "FAIL":
            after = "[green]pass[/]"
        table.add_row(c.case_id, c.check, c.before, after, c.detail[:120])
    console.print(table)


# ------------------------------------------------------------------ HTML report

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d5d9e0;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f2f4f7}
.pass{background:#dff3e4}.fail{background:#f9dcdc;font-weight:600}.na{color:#98a}
.changed{outline:2px solid #e0a100}
details{margin:4px 0 10px}summary{cursor:pointer}
pre{white-space:pre-wrap;background:#f7f7f9;padding:8px;border-radius:4px;margin:4px 0}
.learner{border-left:3px solid #4a7bd0}.tutor{border-left:3px solid #3a9d5d}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
.muted{color:#667}
.notice{background:#fff4d6;border:1px solid #e0a100;padding:8px 12px;border-radius:4px;margin:6px 0}
.notice.used{background:#e8f1fd;border-color:#4a7bd0}
.wording{outline:2px dashed #4a7bd0}
table.diff{width:100%;table-layout:fixed}table.diff td{width:50%;white-space:pre-wrap;
font:13px/1.4 ui-monospace,monospace}
del{background:#f9c0c0;text-decoration:line-through}ins{background:#b9ecc5;text-decoration:none}
"""
_COLOURS = ["#4a7bd0", "#e08a00", "#3a9d5d", "#b84a9c", "#6b6f7a"]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _label(summary: RunSummary | None, results: list[CaseResult], fallback: str) -> str:
    if summary is not None:
        return f"{summary.run_id} ({summary.prompts_dir.rstrip('/').split('/')[-1]})"
    return fallback


def _judge_means(results: list[CaseResult]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for dim in DIMENSIONS:
        values = [
            LABEL_SCORE[r.judge.labels.as_dict()[dim]]
            for r in results
            if r.judge is not None and r.judge.labels is not None
        ]
        out[dim] = sum(values) / len(values) if values else None
    return out


def _scorer_rates(results: list[CaseResult]) -> dict[str, float | None]:
    names = dict.fromkeys(s.name for r in results for s in r.scores)
    out: dict[str, float | None] = {}
    for name in names:
        scored = [
            s.passed for r in results for s in r.scores if s.name == name and s.passed is not None
        ]
        out[name] = sum(bool(p) for p in scored) / len(scored) if scored else None
    return out


def _bars(title: str, series: list[dict[str, float | None]], labels: list[str]) -> str:
    """Grouped horizontal bars in inline SVG: one group per dimension, one bar per run."""
    keys = list(dict.fromkeys(k for s in series for k in s))
    bar_h, gap, left, width = 12, 10, 190, 360
    group_h = bar_h * len(series) + gap
    height = group_h * len(keys) + 10
    parts = [
        f'<svg width="{left + width + 70}" height="{height}" role="img" aria-label="{_esc(title)}">'
    ]
    for gi, key in enumerate(keys):
        y0 = 5 + gi * group_h
        parts.append(f'<text x="0" y="{y0 + bar_h}" font-size="12">{_esc(key)}</text>')
        for si, s in enumerate(series):
            value = s.get(key)
            y = y0 + si * bar_h
            w = 0 if value is None else round(width * value)
            colour = _COLOURS[si % len(_COLOURS)]
            tip = f"{_esc(labels[si])}: {_pct(value)}"
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h - 2}" '
                f'fill="{colour}"><title>{tip}</title></rect>'
            )
            parts.append(
                f'<text x="{left + w + 4}" y="{y + bar_h - 3}" font-size="10">{_pct(value)}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span style="background:{_COLOURS[i % len(_COLOURS)]}"></span>{_esc(label)}'
        for i, label in enumerate(labels)
    )
    return f'<h2>{_esc(title)}</h2><div class="legend">{legend}</div>' + "".join(parts)


def _transcript_html(result: CaseResult) -> str:
    rows = []
    for turn in result.transcript.turns:
        if turn.learner:
            rows.append(f'<pre class="learner"><b>learner:</b> {_esc(turn.learner)}</pre>')
        if turn.text:
            extra = ""
            if turn.citations:
                extra += " · cites " + ", ".join(_esc(c.label) for c in turn.citations)
            if turn.tool_calls:
                extra += " · calculator " + ", ".join(_esc(t.name) for t in turn.tool_calls)
            if turn.replaced:
                extra += " · a guard cut the model's note"
            if turn.prompts_rendered:
                extra += " · prompts " + ", ".join(_esc(p) for p in turn.prompts_rendered)
            tag = f"[{_esc(turn.phase or '')}{extra}]"
            rows.append(
                f'<pre class="tutor"><b>tutor</b> <span class="muted">{tag}</span>\n'
                f"{_esc(turn.text)}</pre>"
            )
        if turn.failed:
            rows.append(f'<pre class="fail">failed: {_esc(turn.failed)}</pre>')
    if result.transcript.error:
        rows.append(f'<pre class="fail">crashed: {_esc(result.transcript.error)}</pre>')
    failing = [f"{s.name}: {s.detail}" for s in result.scores if s.passed is False]
    judge = ""
    if result.judge and result.judge.labels:
        judge = "judge: " + ", ".join(f"{k}={v}" for k, v in result.judge.labels.as_dict().items())
    notes = "".join(f"<div class='fail'>{_esc(f)}</div>" for f in failing)
    if judge:
        notes += f"<div class='muted'>{_esc(judge)}</div>"
    return notes + "".join(rows)


def _diff_html(change: WordingChange, label_a: str, label_b: str) -> str:
    left = "".join(f"<del>{_esc(w)}</del>" if op == "del" else _esc(w) for op, w in change.left)
    right = "".join(f"<ins>{_esc(w)}</ins>" if op == "ins" else _esc(w) for op, w in change.right)
    said = f"<div class='muted'>learner: {_esc(change.learner)}</div>" if change.learner else ""
    return (
        f"<div><b>turn {change.turn}</b>{said}<table class='diff'><tr><th>{_esc(label_a)}</th>"
        f"<th>{_esc(label_b)}</th></tr><tr><td>{left}</td><td>{right}</td></tr></table></div>"
    )


def html_report(runs: list[tuple[str, RunSummary | None, list[CaseResult]]]) -> str:
    """A self-contained page: prompt notices, a prompts x cases matrix, bar charts, each
    changed reply as a side-by-side word diff, and every transcript, expandable."""
    labels = [_label(s, r, name) for name, s, r in runs]
    by_run = [{r.case_id: r for r in results} for _, _, results in runs]
    case_ids = list(dict.fromkeys(cid for m in by_run for cid in m))
    scorer_names = list(dict.fromkeys(s.name for m in by_run for r in m.values() for s in r.scores))
    base = runs[0][2]
    wording = {i: wording_changes(base, results) for i, (_, _, results) in enumerate(runs) if i}
    worded = {(i, w.case_id) for i, changes in wording.items() for w in changes}
    notices = prompt_notices([(s, r) for _, s, r in runs])
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>tutor eval report</title>",
        f"<style>{_CSS}</style></head><body><h1>tutor eval report</h1>",
    ]
    for notice in notices:
        unused = notice.rendered_before == notice.rendered_after == 0
        out.append(f"<div class='notice{'' if unused else ' used'}'>{_esc(notice.text)}</div>")
    disagree = [
        (label, r.case_id, s.detail)
        for (_, _, results), label in zip(runs, labels, strict=True)
        for r in results
        for s in r.scores
        if s.name == "leak_agreement" and s.passed is False
    ]
    if disagree:
        out.append(
            "<div class='notice'><b>The leak oracle and the engine's guard disagree on these "
            "replies; read them:</b><ul>"
        )
        out.extend(
            f"<li><a href='#case-{_esc(cid)}'>{_esc(cid)}</a> ({_esc(label)}): {_esc(detail)}</li>"
            for label, cid, detail in disagree
        )
        out.append("</ul></div>")
    out.append(
        "<p class='muted'>Columns are runs (one per prompt variant or model); a cell lists the "
        "checks a case failed. Solid outline: its checks changed from the first run; dashed: "
        "its wording changed. Open a case to read the changed replies side by side and its "
        "transcripts.</p>"
    )
    out.append(
        "<table><tr><th>run</th><th>model</th><th>prompts</th><th>hash</th>"
        "<th>cases</th><th>gates</th></tr>"
    )
    for (_, summary, results), label in zip(runs, labels, strict=True):
        if summary is None:
            out.append(f"<tr><td>{_esc(label)}</td><td colspan=5>{len(results)} cases</td></tr>")
            continue
        gates = "passed" if summary.passed else "FAILED"
        out.append(
            f"<tr><td>{_esc(summary.run_id)}</td><td>{_esc(summary.model)}</td>"
            f"<td>{_esc(summary.prompts_dir)}</td><td>{_esc(summary.prompt_hash)}</td>"
            f"<td>{summary.cases}</td><td>{gates}</td></tr>"
        )
    out.append("</table>")
    out.append(
        _bars("Deterministic checks: pass rate", [_scorer_rates(r) for _, _, r in runs], labels)
    )
    if any(r.judge and r.judge.labels for _, _, results in runs for r in results):
        out.append(
            _bars(
                "Judge (MRBench dimensions): mean label, yes = 100%",
                [_judge_means(r) for _, _, r in runs],
                labels,
            )
        )
    out.append("<h2 id='matrix'>Cases × runs</h2><table><tr><th>case</th>")
    out.extend(f"<th>{_esc(label)}</th>" for label in labels)
    out.append("</tr>")
    for cid in case_ids:
        out.append(f"<tr><td><a href='#case-{_esc(cid)}'>{_esc(cid)}</a></td>")
        first = by_run[0].get(cid)
        for i, m in enumerate(by_run):
            r = m.get(cid)
            if r is None:
                out.append("<td class='na'>absent</td>")
                continue
            failed = [s.name for s in r.scores if s.passed is False]
            changed = (
                first is not None
                and r is not first
                and failed != [s.name for s in first.scores if s.passed is False]
            )
            cls = ("fail" if failed else "pass") + (" changed" if changed else "")
            cls += " wording" if (i, cid) in worded else ""
            out.append(f"<td class='{cls}'>{_esc(', '.join(failed) or 'all pass')}</td>")
        out.append("</tr>")
    out.append("</table><h2>Cases</h2>")
    opened = False
    for cid in case_ids:
        diffs = [(i, w) for i, changes in wording.items() for w in changes if w.case_id == cid]
        # The first case with changed wording opens by itself: what a teacher looks for.
        attr = " open" if diffs and not opened else ""
        opened = opened or bool(diffs)
        out.append(f"<details id='case-{_esc(cid)}'{attr}><summary><b>{_esc(cid)}</b>")
        any_result = next((m[cid] for m in by_run if cid in m), None)
        if any_result is not None and any_result.description:
            out.append(f" <span class='muted'>{_esc(any_result.description)}</span>")
        if diffs:
            out.append(f" <span class='muted'>· wording changed in {len(diffs)} repl(ies)</span>")
        out.append("</summary>")
        for i, change in diffs:
            out.append(_diff_html(change, labels[0], labels[i]))
        for m, label in zip(by_run, labels, strict=True):
            r = m.get(cid)
            if r is None:
                continue
            out.append(f"<details><summary>{_esc(label)}</summary>{_transcript_html(r)}</details>")
        out.append("</details>")
    out.append(
        f"<p class='muted'>{len(case_ids)} cases; checks: {_esc(', '.join(scorer_names))}</p>"
    )
    out.append("</body></html>")
    return "\n".join(out)
