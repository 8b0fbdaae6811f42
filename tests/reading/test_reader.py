"""The reader over a learner's vocabulary: table tests, GPU names never read as counts,
corrections, guesses that need an explicit choice, and bounded time on hostile input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.mig.catalogue import gpus
from tutor.reading import Context, describe, read


def call(text: str, context: Context | None = None) -> tuple[str, str, dict[str, object]]:
    reading = read(text, context)
    assert reading.kind == "calculator", (text, reading.kind, reading.question)
    assert reading.call is not None
    return reading.call.tool, reading.call.field, reading.call.arguments


# The examples a new user tried, each a different calculation before.
def test_four_bit_weights_are_read_as_int4() -> None:
    tool, field, args = call("Which H100 80GB profile holds Qwen2.5-7B in 4-bit?")
    assert (tool, field) == ("mig_fit", "profile")
    assert args == {"gpu": "H100-80GB", "model": "Qwen2.5-7B", "weights_dtype": "int4"}
    line = describe(read("Which H100 80GB profile holds Qwen2.5-7B in 4-bit?"))
    assert "int4 weights" in line and "4,096 tokens (assumed" in line


def test_a_32k_context_window_is_32768_tokens() -> None:
    _, _, args = call(
        "Smallest H100-80GB profile for Llama-3.1-8B in bf16 with a 32k context window?"
    )
    assert args["context"] == 32768 and args["weights_dtype"] == "bf16"


def test_an_instance_already_at_a_slot_is_pinned_and_capacity_is_asked() -> None:
    tool, field, args = call(
        "If a 3g.40gb is already at slot 4 on an H100 80GB, how many 2g.20gb can I add?"
    )
    assert (tool, field) == ("mig_capacity", "count")
    assert args == {"gpu": "H100-80GB", "profile": "2g.20gb",
                    "pinned": [{"profile": "3g.40gb", "slot": 4}]}  # fmt: skip


def test_gpus_sliced_three_ways_is_a_time_slicing_count() -> None:
    tool, field, args = call(
        "We have 4 A30 GPUs sliced 3 ways. How many GPUs does Kubernetes show?"
    )
    assert (tool, field) == ("mig_timeslice", "count")
    assert args["gpus"] == 4 and args["replicas"] == 3


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("smallest h100 80gb profile for llama-3.1-8b in fp8", "weights_dtype", "fp8"),
        ("smallest h100 80gb profile for llama-3.1-8b with AWQ", "weights_dtype", "int4"),
        ("smallest h100 80gb profile for llama-3.1-8b GPTQ", "weights_dtype", "int4"),
        ("smallest h100 80gb profile for llama-3.1-8b Q8", "weights_dtype", "int8"),
        ("smallest h100 80gb profile for llama-3.1-8b in 8-bit", "weights_dtype", "int8"),
        ("smallest h100 80gb profile for llama-3.1-8b, fp8 KV cache", "kv_dtype", "fp8"),
        ("smallest h100 80gb profile for llama-3.1-8b with 8k context", "context", 8192),
        ("smallest h100 80gb profile for llama-3.1-8b, 32K tokens", "context", 32768),
        ("smallest h100 80gb profile for llama-3.1-8b, context of 32,768", "context", 32768),
        ("smallest h100 80gb profile for llama-3.1-8b, 128k context window", "context", 131072),
        ("smallest h100 80gb profile for llama-3.1-8b for 8 users", "batch", 8),
        ("smallest h100 80gb profile for llama-3.1-8b, batch of 4", "batch", 4),
    ],
)
def test_fit_vocabulary(text: str, key: str, value: object) -> None:
    _, _, args = call(text)
    assert args[key] == value


@pytest.mark.parametrize(
    ("text", "gpus", "replicas"),
    [
        ("two nodes with 4 H100s each, time-slicing with 5 replicas: how many GPUs?", 8, 5),
        ("8 GPUs x5 time-slicing, how many allocatable?", 8, 5),
        ("time-slicing 3 GPUs 5-way: how many GPUs does k8s advertise?", 3, 5),
        ("2 nodes, 4 gpus per node, replicas 3 => how many allocatable gpus total", 8, 3),
    ],
)
def test_gpu_node_and_replica_counts(text: str, gpus: int, replicas: int) -> None:
    _, _, args = call(text)
    assert (args["gpus"], args["replicas"]) == (gpus, replicas)


def test_rename_by_default_and_resource_strategy() -> None:
    _, field, args = call(
        "with renameByDefault, 2 GPUs time-sliced 4 ways: what resource name do pods request?"
    )
    assert field == "resource" and args["rename_by_default"] is True
    tool, _, args = call("What resource name does a 1g.10gb get on an A100 80GB, single strategy?")
    assert tool == "mig_resource" and args["strategy"] == "single"


@pytest.mark.parametrize(
    ("text", "profile"),
    [
        ("how many 1g.10gb+me fit on an A100 80GB?", "1g.10gb+me"),
        ("how many 1g.10gb.me fit on an A100 80GB?", "1g.10gb+me"),
        ("how many 1g10gb fit on an A100 80GB?", "1g.10gb"),
        ("how many 1g.24gb-me fit on an RTX PRO 6000?", "1g.24gb-me"),
        ("how many 1g.24gb+gfx fit on an RTX PRO 6000?", "1g.24gb+gfx"),
    ],
)
def test_profile_spellings(text: str, profile: str) -> None:
    _, _, args = call(text)
    assert args["profile"] == profile


def test_a_profile_the_gpu_lacks_is_asked_about() -> None:
    reading = read("how many 1g.10gb-me fit on an A100 80GB?")
    assert reading.kind == "clarify" and "has no 1g.10gb-me" in reading.question


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("How many 1g.10gb fit?", "Which GPU"),
        ("how many 1g instances fit on an H100?", "Which"),
        ("How many 1g.5gb fit on a T4?", "no MIG data for the T4"),
        ("Does Mistral-7B fit in a 2g.20gb on an H100 80GB?", "Mistral-7B"),
        ("time-slicing with 5 replicas: how many GPUs does Kubernetes advertise?", "physical GPUs"),
        ("1e12 GPUs with 4 replicas, how many does kubernetes show?", "100000"),
    ],
)
def test_clarifying_questions_instead_of_guesses(text: str, asks: str) -> None:
    reading = read(text)
    assert reading.kind == "clarify", reading
    assert asks in reading.question


def test_a_huge_number_is_refused_with_the_range_not_a_traceback() -> None:
    reading = read("With time-slicing, " + "9" * 3000 + " GPUs x 5 replicas: how many GPUs?")
    assert reading.kind == "clarify" and "calculator takes" in reading.question


@settings(max_examples=60, deadline=None)
@given(gpu=st.sampled_from([n for g in gpus() for n in (g.id, *g.aliases)]),
       lead=st.sampled_from(["", "hey, ", "on my ", "we have one "]))  # fmt: skip
def test_a_gpu_name_is_never_read_as_a_count(gpu: str, lead: str) -> None:
    reading = read(f"{lead}{gpu}: time-slicing with 3 replicas, how many GPUs does k8s show?")
    if reading.kind == "calculator":
        assert reading.call is not None
        assert reading.call.arguments["gpus"] == 1
        assert reading.call.arguments["replicas"] == 3
    else:
        assert reading.kind == "clarify"


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("no, 32k context", "context", 32768),
        ("make that 8 users", "batch", 8),
        ("with fp8 weights instead", "weights_dtype", "fp8"),
        ("I meant the 94GB one", "gpu", "H100-94GB"),
    ],
)
def test_a_correction_amends_the_previous_call(text: str, field: str, value: object) -> None:
    first = read("Smallest H100-80GB profile for Llama-3.1-8B in bf16?")
    ctx = Context(previous=first.call, previous_arguments=first.arguments)
    reading = read(text, ctx)
    assert reading.kind == "calculator" and reading.correction
    assert reading.call is not None and reading.call.arguments[field] == value
    assert reading.call.arguments["model"] == "Llama-3.1-8B"


OPTIONS = [("A", ["take turns"]), ("B", ["own SMs"]), ("C", ["only the memory"])]


@pytest.mark.parametrize(
    ("text", "guess"),
    [
        ("B", "B"), ("b.", "B"), ("I think B", "B"), ("option b", "B"), ("(c)", "C"),
        ("my guess is A because of turns", "A"), ("the second one", "B"),
        ("It's a trick question, isn't it", None), ("A hint please", None),
        ("a little help?", None), ("C.f. the guide", None), ("a", "A"),
    ],
)  # fmt: skip
def test_only_an_explicit_choice_commits_a_guess(text: str, guess: str | None) -> None:
    reading = read(text, Context(phase="ask", options=OPTIONS))
    assert reading.guess == guess, reading


def test_hints_and_demands_are_commands() -> None:
    ctx = Context(phase="ask", options=OPTIONS)
    assert read("A hint please", ctx).command == "hint"
    assert read("just tell me", ctx).command == "wants_answer"
    assert read("skip", Context(phase="recall")).command == "skip"


def test_unused_numbers_are_named_back() -> None:
    reading = read("How many 1g.10gb fit on an A100 80GB? I have 3 of them at home")
    assert reading.kind == "calculator" and "3" in reading.unused
    assert "Not used: 3" in describe(reading)


@pytest.mark.parametrize(
    "text",
    [
        "How does time slicing work with " + "1 gpu " * 170_000 + "?",
        "how many " + "1g.10gb " * 100_000 + "fit on an a100 80gb?",
        "a" * 1_000_000,
        ("x5 " * 300_000) + "replicas",
    ],
)
def test_hostile_input_reads_in_bounded_time(text: str) -> None:
    start = time.perf_counter()
    read(text, Context(phase="ask", options=OPTIONS))
    # Reading is capped and linear: a megabyte line must not freeze the event loop.
    assert time.perf_counter() - start < 2.0
