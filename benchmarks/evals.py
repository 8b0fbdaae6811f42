"""Eval-suite benchmark: deterministic scorer time per case, and cases per minute against
the embedded model with the whole CI suite's time estimated from it, each beside its goal.

It also looks at the compare report as a teacher would: two runs of the prompt cases
(prompts/ and a copy with ask.md edited) are compared, the HTML report is opened in headless
Chromium (Debian's `chromium` package), and the page as laid out must show the run matrix,
both bar charts and an expanded side-by-side wording diff. A screenshot is kept.

Run: .venv/bin/python benchmarks/evals.py [--sample 8] [--full] [--screenshot FILE]
`--full` times the whole CI suite (every case) instead of estimating it from a sample.
Nothing is read from or written to the response cache. Without Chromium the report check
fails with the command that installs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"scorers_ms": 5.0, "ci_suite_s": 600.0}


def _line(name: str, value: float, unit: str, goal: float) -> str:
    mark = "ok" if value < goal else "OVER"
    return f"{name:<26} {value:9.2f} {unit:<4} goal < {goal:g} {unit}  {mark}"


class _Quiet:
    """A scripted tutor model for the scorer timing: fixed short notes, no numbers."""

    name = "bench/scripted"
    is_local = True

    async def stream(self, messages: object, **kwargs: object) -> object:
        from tutor.gateway.types import Chunk

        yield Chunk(text="Take a moment and commit your guess.")

    async def complete_json(self, messages: object, schema: object) -> object:
        # The scorer timing runs with the judge off, so nothing should ask for JSON.
        raise RuntimeError("the eval benchmark's scripted model has no judge")


async def _solve_all(cases: list, options: object, factory: object) -> list:  # type: ignore[type-arg]
    from tutor.evals.cache import ResponseCache
    from tutor.evals.runner import run_cases

    return await run_cases(
        cases,
        options,  # type: ignore[arg-type]
        model_factory=factory,  # type: ignore[arg-type]
        cache=ResponseCache(Path(tempfile.gettempdir()), enabled=False),
    )


# Runs in the headless browser on a copy of the report (the report itself has no script):
# measures what is laid out, so a hidden matrix, an empty chart or a collapsed diff fails.
_PROBE = """
<script>
window.addEventListener('load', () => {
  const shown = (el) => { const r = el.getBoundingClientRect();
                          return r.width > 0 && r.height > 0 && el.offsetParent !== null; };
  const matrix = document.querySelector('#matrix + table');
  const charts = [...document.querySelectorAll('svg')];
  const bars = charts.map(svg => [...svg.querySelectorAll('rect')]
                                   .filter(r => r.getBBox().width > 0).length);
  const opened = document.querySelector('details[open]');
  const ins = opened ? [...opened.querySelectorAll('table.diff ins')].filter(shown) : [];
  const del = opened ? [...opened.querySelectorAll('table.diff del')].filter(shown) : [];
  const out = {
    matrix_rows: matrix && shown(matrix) ? matrix.querySelectorAll('tr').length - 1 : 0,
    charts: charts.filter(shown).length,
    bars: bars,
    diff_insertions: ins.length,
    diff_deletions: del.length,
    notices: [...document.querySelectorAll('.notice')].filter(shown).length,
  };
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit(
        "report check: Chromium is not installed; install it with "
        "`apt-get install -y chromium` (Debian) and run again"
    )


async def _report_runs(folder: Path) -> list:  # type: ignore[type-arg]
    """Two runs of the prompt cases, prompts/ and a variant whose ask.md asks to think first,
    with a scripted tutor that words its note from the prompt and a scripted judge."""
    from tutor.engine.plan import load_plan
    from tutor.engine.prompts import load_prompts
    from tutor.evals.cache import ResponseCache
    from tutor.evals.cases import load_cases
    from tutor.evals.runner import RunOptions, run_cases, summarise
    from tutor.evals.suite import load_suite
    from tutor.settings import load_settings

    class _Echo:
        is_local = False

        def __init__(self, name: str) -> None:
            self.name = name

        async def stream(self, messages: list, **kwargs: object) -> object:  # type: ignore[type-arg]
            from tutor.gateway.types import Chunk

            prompt = "\n".join(str(m.get("content", "")) for m in messages)
            words = "Think first, then commit your guess." if "Think first." in prompt else (
                "Take a moment and commit your guess.")  # fmt: skip
            yield Chunk(text=words)

        async def complete_json(self, messages: object, schema: type) -> object:
            warm = "Think first" in json.dumps(messages)
            labels = {d: "yes" for d in ("mistake_identification", "mistake_location",
                      "revealing_of_the_answer", "providing_guidance", "actionability",
                      "coherence", "tutor_tone", "human_likeness")}  # fmt: skip
            labels["human_likeness"] = "yes" if warm else "to some extent"
            return schema.model_validate(labels)  # type: ignore[attr-defined]

    settings = load_settings()
    suite = load_suite(settings.evals_dir / "suite.yaml")
    plan = load_plan(settings.lesson_plan_file)
    cases = load_cases(settings.evals_dir / "cases" / "prompts.yaml", plan)
    variant = folder / "prompts-think-first"
    shutil.copytree(settings.prompts_dir, variant)
    ask = variant / "ask.md"
    ask.write_text(ask.read_text(encoding="utf-8") + "\nThink first.\n", encoding="utf-8")
    runs = []
    for i, prompt_dir in enumerate((settings.prompts_dir, variant)):
        prompts = load_prompts(prompt_dir)
        options = RunOptions(model_name="bench/echo", prompts=prompts, plan=plan,
                             judge_name="bench/judge")  # fmt: skip
        results = await run_cases(
            cases, options, model_factory=lambda: _Echo("bench/echo"),  # type: ignore[arg-type,return-value]
            judge_factory=lambda: _Echo("bench/judge"),  # type: ignore[arg-type,return-value]
            cache=ResponseCache(folder / "cache", enabled=False),
        )  # fmt: skip
        summary = summarise(results, options, suite, run_id=f"run-{'ab'[i]}", started="",
                            seconds=0, subset=True)  # fmt: skip
        runs.append((summary.run_id, summary, results))
    return runs


def report_check(screenshot: Path | None) -> bool:
    """Render the compare report in headless Chromium; True when it shows what it should."""
    from tutor.evals.report import html_report

    browser = _chromium()
    folder = Path(tempfile.mkdtemp(prefix="tutor-report-"))
    runs = asyncio.run(_report_runs(folder))
    page = html_report(runs)
    (folder / "report.html").write_text(page, encoding="utf-8")
    probed = folder / "probed.html"
    probed.write_text(page.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--window-size=1280,2400", f"--user-data-dir={folder / 'profile'}"]  # fmt: skip
    started = time.perf_counter()
    dom = subprocess.run(
        [*common, "--virtual-time-budget=3000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    render_s = time.perf_counter() - started
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    if found is None:
        print(f"report check: Chromium printed no probe result ({dom.stderr.strip()[-300:]})")
        return False
    seen = json.loads(found.group(1).replace("&quot;", '"'))
    shot = screenshot or folder / "report.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", (folder / "report.html").as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    cases = len(runs[0][2])
    checks = {
        "matrix rows shown": (seen["matrix_rows"], cases),
        "bar charts shown": (seen["charts"], 2),
        "bars drawn (both charts)": (min(seen["bars"] or [0]), 2),
        "diff insertions shown": (seen["diff_insertions"], 1),
        "diff deletions shown": (seen["diff_deletions"], 1),
        "prompt notices shown": (seen["notices"], 1),
    }
    ok = True
    for name, (value, goal) in checks.items():
        mark = "ok" if value >= goal else "MISSING"
        ok = ok and value >= goal
        print(f"{name:<26} {value:9d}      goal >= {goal}  {mark}")
    print(f"{'report render':<26} {render_s:9.2f} s    screenshot: {shot}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=8, help="cases timed against the model")
    parser.add_argument("--full", action="store_true", help="time every case in the CI suite")
    parser.add_argument("--screenshot", type=Path, help="keep the report's screenshot here")
    args = parser.parse_args()
    os.environ.setdefault("TUTOR_HOME", tempfile.mkdtemp(prefix="tutor-bench-"))
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    if not report_check(args.screenshot):
        raise SystemExit("report check: the HTML report does not show what a teacher needs")

    from tutor.engine.plan import load_plan
    from tutor.engine.prompts import load_prompts
    from tutor.evals.cases import load_cases
    from tutor.evals.runner import RunOptions
    from tutor.evals.scorers import ScoreContext, score_all
    from tutor.evals.suite import load_suite
    from tutor.settings import load_settings

    settings = load_settings()
    suite = load_suite(settings.evals_dir / "suite.yaml")
    plan = load_plan(settings.lesson_plan_file)
    prompts = load_prompts(settings.prompts_dir)
    cases = load_cases(settings.evals_dir / suite.cases, plan)
    print(f"{len(cases)} cases")

    # Scorers: on transcripts from a scripted model, so only the scoring is timed.
    scripted = RunOptions(model_name="bench/scripted", prompts=prompts, plan=plan)
    results = asyncio.run(_solve_all(cases, scripted, _Quiet))
    ctx = ScoreContext(plan=plan, length=dict(suite.length))
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        for case, result in zip(cases, results, strict=True):
            score_all(case, result.transcript, ctx)
    per_case_ms = (time.perf_counter() - started) * 1000 / (rounds * len(cases))
    print(_line("scorers per case", per_case_ms, "ms", GOALS["scorers_ms"]))

    if args.sample <= 0 and not args.full:
        return
    # The embedded model: cases per minute, no cache, one case at a time like --ci.
    from tutor.gateway.gateway import Gateway
    from tutor.gateway.types import GatewayError

    model_settings = settings.model.model_copy(
        update={"name": suite.ci.model, "temperature": suite.temperature}
    )
    gateway = Gateway(model_settings)
    try:
        load_started = time.perf_counter()
        gateway.warmup()
        load_s = time.perf_counter() - load_started
    except GatewayError as exc:
        print(f"embedded model unavailable, skipped: {exc}")
        return
    print(f"{'model load':<26} {load_s:9.2f} s")
    timed = cases if args.full else _spread(cases, args.sample)
    options = RunOptions(
        model_name=suite.ci.model, prompts=prompts, plan=plan, temperature=suite.temperature
    )
    started = time.perf_counter()
    asyncio.run(_solve_all(timed, options, lambda: gateway))
    elapsed = time.perf_counter() - started
    per_minute = len(timed) * 60 / elapsed
    print(f"{'cases per minute':<26} {per_minute:9.2f}      ({len(timed)} cases in {elapsed:.1f}s)")
    turns = sum(len(c.turns) or 12 for c in cases) / max(1, sum(len(c.turns) or 12 for c in timed))
    estimate = elapsed * (1 if args.full else turns) + load_s
    label = "CI suite (measured)" if args.full else "CI suite (estimated)"
    print(_line(label, estimate, "s", GOALS["ci_suite_s"]))
    sys.stdout.flush()


def _spread(cases: list, n: int) -> list:  # type: ignore[type-arg]
    """Every k-th case, so the sample mixes single replies, numeric and persona cases."""
    if n >= len(cases):
        return cases
    step = len(cases) / n
    return [cases[int(i * step)] for i in range(n)]


if __name__ == "__main__":
    main()
