"""Questions in a learner's words through `tutor chat --plain --jsonl` and `tutor ask`
with the embedded model: each becomes the right calculation, the reading is shown before
the result, and a correction recomputes without a second prediction."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tutor.cli import chat as chat_cli
from tutor.cli.main import app
from tutor.engine import factory
from tutor.mig.tools import dispatch
from tutor.settings import load_settings

runner = CliRunner()


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real embedded model; the corpus index is left out to keep the test short."""
    real = factory.build_engine

    def build(settings: Any, **kwargs: Any) -> Any:
        # Loaded before the turn, not behind it: no loader thread outlives the test.
        kwargs["use_corpus"] = False
        kwargs["background"] = False
        return real(settings, **kwargs)

    monkeypatch.setattr(factory, "build_engine", build)


async def _chat(lines: list[str]) -> list[dict[str, Any]]:
    out = io.StringIO()
    code = await chat_cli.run_plain(load_settings(), jsonl=True, resume=False,
                                    inp=io.StringIO("\n".join(lines) + "\n"), out=out)  # fmt: skip
    assert code == 0, out.getvalue()[-2000:]
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


def _turns(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    turns: list[list[dict[str, Any]]] = [[]]
    for event in events:
        turns[-1].append(event)
        if event["type"] in ("turn_done", "turn_failed"):
            turns.append([])
    return [t for t in turns if t]


OPERATIONS = [
    ("Which H100 80GB profile holds Qwen2.5-7B in 4-bit?", "1g.10gb", "mig_fit", "profile",
     {"gpu": "H100-80GB", "model": "Qwen2.5-7B", "weights_dtype": "int4"}),
    ("Smallest H100-80GB profile for Llama-3.1-8B in bf16 with a 32k context window?",
     "1g.20gb", "mig_fit", "profile",
     {"gpu": "H100-80GB", "model": "Llama-3.1-8B", "weights_dtype": "bf16", "context": 32768}),
    ("If a 3g.40gb is already at slot 4 on an H100 80GB, how many 2g.20gb can I add?", "2",
     "mig_capacity", "count",
     {"gpu": "H100-80GB", "profile": "2g.20gb", "pinned": [{"profile": "3g.40gb", "slot": 4}]}),
    ("We have 4 A30 GPUs sliced 3 ways. How many GPUs does Kubernetes show?", "12",
     "mig_timeslice", "count", {"gpus": 4, "replicas": 3, "rename_by_default": False}),
    ("Is 3g.40gb + 2g.20gb + 2g.20gb a valid layout on an A100 80GB?", "yes", "mig_check",
     "valid", {"gpu": "A100-80GB", "profiles": ["3g.40gb", "2g.20gb", "2g.20gb"]}),
    ("Does Llama-3.1-70B fit in a 1g.10gb on an A100 80GB?", "no", "mig_fit", "fits",
     {"gpu": "A100-80GB", "model": "Llama-3.1-70B", "profile": "1g.10gb"}),
    ("How many 8k sequences of Llama-3.1-8B fit in a 3g.40gb on an H100 80GB?", "10",
     "mig_fit", "max_sequences",
     {"gpu": "H100-80GB", "model": "Llama-3.1-8B", "profile": "3g.40gb", "context": 8192}),
    ("With renameByDefault, 2 GPUs time-sliced 4 ways: what resource name do pods request?",
     "nvidia.com/gpu.shared", "mig_timeslice", "resource",
     {"gpus": 2, "replicas": 4, "rename_by_default": True}),
    ("What resource name does a 1g.10gb get on an A100 80GB with the single strategy?",
     "nvidia.com/gpu", "mig_resource", "resource",
     {"gpu": "A100-80GB", "profile": "1g.10gb", "strategy": "single"}),
    ("What's the max number of MIG instances on an H200?", "7", "mig_profiles",
     "max_instances", {"gpu": "H200-141GB"}),
    ("How many distinct MIG layouts does an A30 have?", "5", "mig_enumerate", "layouts",
     {"gpu": "A30-24GB"}),
    ("I have tenants needing 10, 20 and 35 GiB on H100 80GB GPUs. How many GPUs?", "1",
     "mig_pack", "gpus_needed",
     {"gpu": "H100-80GB", "tenants": [{"name": "tenant-1", "memory_gib": 10.0},
                                       {"name": "tenant-2", "memory_gib": 20.0},
                                       {"name": "tenant-3", "memory_gib": 35.0}]}),
]  # fmt: skip


@pytest.mark.parametrize(("question", "guess", "tool", "field", "arguments"), OPERATIONS,
                         ids=[f"{o[2]}.{o[3]}" for o in OPERATIONS])  # fmt: skip
async def test_each_operation_is_read_gated_and_computed(
    embedded: None, question: str, guess: str, tool: str, field: str, arguments: dict[str, Any]
) -> None:
    _opening, ask, reveal = _turns(await _chat([question, guess]))[:3]
    reading = next(e for e in ask if e["type"] == "reading")
    assert reading["kind"] == "calculator" and reading["tool"] == tool
    assert reading["arguments"] == arguments
    asked = ask[-1]
    assert asked["type"] == "turn_done" and asked["phase"] == "ask"
    assert reading["text"].startswith("I read this as:") and reading["text"] in asked["text"]
    assert not [e for e in ask if e["type"] in ("verdict", "tool_result")], "prediction first"
    verdict = next(e for e in reveal if e["type"] == "verdict")
    done = reveal[-1]
    expected = dispatch(tool, arguments).result
    assert done["tool_calls"][0]["name"] == tool
    assert done["tool_calls"][0]["result"] == expected
    # The reading is stated before the result, and a yes/no answer is worded as asked.
    assert done["text"].index("I read this as:") < done["text"].index(verdict["answer"])
    if field == "fits":
        assert verdict["answer"] in ("yes, it fits", "no, it does not fit")


async def test_a_correction_recomputes_without_a_second_prediction(embedded: None) -> None:
    turns = _turns(await _chat([
        "Smallest H100-80GB profile for Llama-3.1-8B in bf16?", "1g.10gb", "no, 128k context",
    ]))  # fmt: skip
    first, corrected = turns[2], turns[3]
    assert next(e for e in first if e["type"] == "verdict")
    reading = next(e for e in corrected if e["type"] == "reading")
    assert reading["correction"] and reading["arguments"]["context"] == 131072
    verdict = next(e for e in corrected if e["type"] == "verdict")
    assert verdict["guess"] == "1g.10gb"
    done = corrected[-1]
    assert done["phase"] == "reveal" and "Recomputed with your correction" in done["text"]
    expected = dispatch("mig_fit", {**reading["arguments"]}).result
    assert done["tool_calls"][0]["result"] == expected
    assert not [e for e in corrected if e["type"] == "prediction_requested"
                and e["step_id"] == "free"]  # fmt: skip


async def test_a_missing_gpu_gets_one_short_question(embedded: None) -> None:
    ask = _turns(await _chat(["How many 1g.10gb instances fit?"]))[1]
    reading = next(e for e in ask if e["type"] == "reading")
    assert reading["kind"] == "clarify" and "Which GPU" in ask[-1]["text"]
    assert not [e for e in ask if e["type"] == "tool_result"]


async def test_the_answer_to_that_question_completes_the_calculation(embedded: None) -> None:
    turns = _turns(await _chat(["How many 1g.10gb instances fit on an A100?", "the 80GB one",
                                "7"]))  # fmt: skip
    asked, answered, revealed = turns[1], turns[2], turns[3]
    assert "Which GPU: A100-40GB or A100-80GB?" in asked[-1]["text"]
    reading = next(e for e in answered if e["type"] == "reading")
    assert reading["kind"] == "calculator"
    assert reading["arguments"] == {"gpu": "A100-80GB", "profile": "1g.10gb"}
    assert "on the A100-80GB" in answered[-1]["text"]
    # Predict first, as for any calculator question; then the calculator's count.
    assert [e for e in answered if e["type"] == "prediction_requested" and e["step_id"] == "free"]
    assert not [e for e in answered if e["type"] == "tool_result"]
    verdict = next(e for e in revealed if e["type"] == "verdict")
    expected = dispatch("mig_capacity", {"gpu": "A100-80GB", "profile": "1g.10gb"}).result
    assert verdict["answer"] == f"{expected['count']} instances" and verdict["correct"]


async def test_a_new_topic_leaves_the_question_asked_back(embedded: None) -> None:
    turns = _turns(await _chat(["How many 1g.10gb instances fit on an A100?",
                                "What is a MIG slice?", "80gb"]))  # fmt: skip
    free, later = turns[2], turns[3]
    assert next(e for e in free if e["type"] == "reading")["kind"] == "free"
    # The question asked back is gone: "80gb" alone completes nothing.
    assert not [e for e in later if e["type"] == "tool_result"]
    assert not [e for e in later if e["type"] == "reading" and e["kind"] == "calculator"]


def test_tutor_ask_with_a_guess_shows_the_reading_then_the_result(embedded: None) -> None:
    result = runner.invoke(app, ["ask", "Which H100 80GB profile holds Qwen2.5-7B in 4-bit?",
                                 "--guess", "1g.10gb", "--jsonl"])  # fmt: skip
    assert result.exit_code == 0, result.output
    events = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    done = [e for e in events if e["type"] == "turn_done"][-1]
    assert done["text"].startswith("I read this as:") and "int4 weights" in done["text"]
    assert "**Right!**" in done["text"]
