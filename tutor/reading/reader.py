"""Read one learner message into one typed Reading; the engine's only view of their text.

Order matters and is the policy: an explicit command, then a guess for what is pending,
then a correction of the last calculator reading, then a calculator question, then an
answer (recall, teach-back), then a free question.

Over 400 lines: the reading policy, corrections and the "I read this as" wording, which
must agree with each other.
"""

from __future__ import annotations

import re

from tutor.mig.catalogue import Gpu
from tutor.reading import calculator as calc
from tutor.reading import intents
from tutor.reading import quantities as q
from tutor.reading import vocabulary as v
from tutor.reading.types import Argument, Context, Reading, ToolCall

MAX_CHARS = 4000
"""The part of a message that is read; the engine refuses longer messages before this."""

_CORRECTION = re.compile(
    r"^\s*(?:no[,.!]?\s|nope|nah|actually|sorry|wait|oops|i\s+meant|i\s+mean|meant|make\s+(?:that|it)|"
    r"change\s+(?:that|it)|what\s+about|how\s+about|what\s+if|and\s|with\s|for\s|on\s+(?:an?\s+|the\s+)?|"
    r"instead|same\s+(?:but|with|for|question)|now\s+(?:with|for|on)|try\s+(?:with|it\s+with)|"
    r"let'?s\s+say|use\s|at\s)",
    re.I,
)
_HAS_DIGIT = re.compile(r"\d")
_FRESH_QUESTION = re.compile(
    r"\bhow\s+m[a-z]{1,3}y\b|\b(?:which|smallest|valid|list|why|what\s+is)\b", re.I
)
_IMPERATIVE = re.compile(r"^\s*(?:please\s+)?(?:list|show|give|tell|count|calculate|compute|find|"
                         r"check|work\s+out|figure\s+out|name)\b|\bplease\s*[.!]?\s*$|"
                         r"\b(?:what'?s|what\s+is)\b", re.I)  # fmt: skip
_NUMERIC_FIELDS = {"count", "max_sequences", "max_instances", "profiles", "layouts",
                   "gpus_needed"}  # fmt: skip


def read(text: str, context: Context | None = None) -> Reading:
    ctx = context or Context()
    clipped = text.strip()[:MAX_CHARS]
    if not clipped:
        return Reading(kind="other", text="")
    words = len(clipped.split())
    cmd = intents.command(clipped)
    if cmd == "hint" and words > 6 and not re.search(r"\b(?:hint|clue)\b", clipped, re.I):
        cmd = None
    if cmd in ("skip", "back", "repeat"):
        return Reading(kind="command", text=clipped, command=cmd)
    if ctx.clarifying and cmd is None and words <= 16:
        answered = _answer_to_clarify(clipped, ctx)
        if answered is not None:
            return answered
        ctx = ctx.model_copy(update={"clarifying": None})
    guess = _guess(clipped, ctx)
    if guess is not None:
        return Reading(kind="guess", text=clipped, guess=guess)
    short_amendment = words <= 8 and not _FRESH_QUESTION.search(clipped)
    if ctx.previous is not None and (_CORRECTION.match(clipped) or short_amendment) and words <= 16:
        corrected = _correct(clipped, ctx)
        if corrected is not None:
            return corrected
    asking = (intents.looks_like_question(clipped) or bool(_IMPERATIVE.search(clipped))
              or bool(_FRESH_QUESTION.search(clipped)))  # fmt: skip
    if ctx.phase in ("recall", "teach_back") and not asking:
        return Reading(kind="answer", text=clipped)
    found = calc.scan(clipped)
    if calc.is_calculatorish(found) and (asking or _HAS_DIGIT.search(clipped)):
        # "How many ...? Just tell me." is still the question: the gate answers the demand.
        outcome = calc.read_calculator(clipped, found)
        if outcome.draft is not None:
            return _calculator_reading(clipped, found, outcome.draft)
        if outcome.clarify and cmd is None and asking:
            return Reading(kind="clarify", text=clipped, question=outcome.clarify,
                           clarified=clipped)  # fmt: skip
    if cmd is not None:
        return Reading(kind="command", text=clipped, command=cmd)
    if ctx.phase in ("recall", "teach_back") and (
        not intents.looks_like_question(clipped) or words > 12
    ):
        return Reading(kind="answer", text=clipped)
    if intents.looks_like_question(clipped) or ctx.phase == "done":
        return Reading(kind="free", text=clipped)
    return Reading(kind="other", text=clipped)


def _answer_to_clarify(text: str, ctx: Context) -> Reading | None:
    """The learner's answer to the tutor's clarifying question, read as the question it
    completes: "80gb" after "Which GPU: A100-40GB or A100-80GB?". None when the message
    does not complete it (nor move it on to another question), so it is read on its own.
    A complete question of its own is read on its own too."""
    pending = ctx.clarifying
    assert pending is not None
    fresh = Context(phase=ctx.phase, options=ctx.options, numeric=ctx.numeric,
                    free_field=ctx.free_field)  # fmt: skip
    alone = read(text, fresh)
    if alone.kind == "calculator":
        return None
    asked = read(pending, fresh).question
    combined = fold_answer(pending, _with_unit(text, asked))
    reading = read(combined, fresh)
    if reading.kind == "calculator":
        return reading
    if reading.kind == "clarify" and reading.question != asked:
        return reading
    return None


# A bare number answering "How many ...?" means that many of what was asked about.
_BARE_NUMBER = re.compile(rf"^\s*(?:about\s+|maybe\s+|say\s+)?({v.NUMBER})\s*[.!]?\s*$", re.I)
_ASKED_UNITS = (
    (re.compile(r"\breplicas\b", re.I), "replicas"),
    (re.compile(r"\bphysical GPUs\b", re.I), "GPUs"),
    (re.compile(r"\bmemory \(GiB\)", re.I), "GiB"),
)


def _with_unit(answer: str, asked: str) -> str:
    bare = _BARE_NUMBER.match(answer)
    if bare is None:
        return answer
    if asked.startswith("Which GPU:"):
        # "80" when asked "Which GPU: A100-40GB or A100-80GB?": the memory size.
        return f"{bare.group(1)}GB"
    for pattern, unit in _ASKED_UNITS:
        if pattern.search(asked):
            return f"{bare.group(1)} {unit}"
    return answer


def fold_answer(question: str, answer: str) -> str:
    """The question with the answer's GPU, profile or model in place of the one asked
    about, and the rest of the answer after it."""
    before, said = calc.scan(question), calc.scan(answer)
    cuts: list[tuple[int, int, str]] = []
    kept = answer
    gpuish = ("gpu", "family", "memory", "no_mig")
    if said.first("gpu") or said.first("family") or said.first("no_mig"):
        cuts += [(m.start, m.end, "") for k in gpuish for m in before.of(k)]
    elif said.first("memory") is not None:
        memory = said.first("memory")
        assert memory is not None
        exact = before.first("gpu")
        if exact is not None:
            # "the 80gb one" after a question about the A100-40GB: the same family.
            other = _corrected_gpu(said, str(exact.value))
            if other is not None:
                cuts.append((exact.start, exact.end, other))
                kept = answer[: memory.start] + answer[memory.end :]
        else:
            cuts += [(m.start, m.end, "") for m in before.of("memory")]
    if said.of("profile") and len(before.of("profile")) == 1:
        only = before.of("profile")[0]
        cuts.append((only.start, only.end, ""))
    if said.first("model") is not None:
        cuts += [(m.start, m.end, "") for m in before.of("model")]
        cuts += [(m.start(1), m.end(1), "") for m in calc._UNKNOWN_MODEL.finditer(question)
                 if not before.overlaps(m.start(1), m.end(1))]  # fmt: skip
    out = question
    for start, end, new in sorted(set(cuts), reverse=True):
        out = out[:start] + new + out[end:]
    out = re.sub(r"[ \t]{2,}", " ", out).strip()
    kept = kept.strip()
    return f"{out} {kept}" if kept else out


def _guess(text: str, ctx: Context) -> str | None:
    if ctx.free_field is not None:
        return guess_for_field(text, ctx.free_field)
    if ctx.phase != "ask":
        return None
    if ctx.options:
        return intents.option_guess(text, ctx.options)
    if ctx.numeric:
        return intents.number_guess(text)
    return None


def guess_for_field(text: str, fld: str) -> str | None:
    """A guess at a calculator answer of this kind, or None when the text is not one."""
    if intents.looks_like_question(text) and not re.match(
        r"^\s*(?:i\s+think|maybe|probably|i\s+guess)", text, re.I
    ):
        return None
    if fld in _NUMERIC_FIELDS:
        return intents.number_guess(text)
    if fld in ("valid", "fits"):
        return intents.yes_no_guess(text)
    if fld == "profile":
        return intents.profile_guess(text)
    if fld == "resource":
        return intents.resource_guess(text)
    return None


def _calculator_reading(text: str, found: v.Found, draft: calc.Draft,
                        correction: bool = False) -> Reading:  # fmt: skip
    call = draft.call()
    unused = _unused(found, draft)
    return Reading(
        kind="calculator",
        text=text,
        call=call,
        arguments=draft.notes,
        unused=unused,
        correction=correction,
        summary=summary(call),
    )


def _unused(found: v.Found, draft: calc.Draft) -> list[str]:
    """Catalogue terms and numbers the call does not use, to be named back to the learner."""
    args = draft.arguments
    gpu = args.get("gpu")
    profiles = {args.get("profile"), *args.get("profiles", []), *args.get("existing", []),
                *(p["profile"] for p in args.get("pinned", []))}  # fmt: skip
    out: list[str] = []
    for m in found.mentions:
        used = True
        if m.kind == "gpu":
            used = draft.tool == "mig_timeslice" or m.value == gpu
        elif m.kind == "family":
            used = draft.tool == "mig_timeslice" or gpu in m.value  # type: ignore[operator]
        elif m.kind == "no_mig":
            used = draft.tool == "mig_timeslice"
        elif m.kind == "memory":
            used = draft.tool == "mig_pack" or (gpu is not None and _memory_of(str(gpu)) == m.value)
        elif m.kind == "profile":
            used = _profile_used(str(m.value), gpu, profiles)
        elif m.kind == "model":
            used = args.get("model") == m.value
        elif m.kind in ("weights_dtype", "kv_dtype", "context"):
            used = draft.tool == "mig_fit" and args.get(m.kind) == (
                int(float(m.value)) if m.kind == "context" else m.value  # type: ignore[arg-type]
            )
        elif m.kind == "batch":
            used = draft.tool == "mig_fit" and draft.field != "max_sequences"
        elif m.kind == "count":
            used = draft.tool in ("mig_check", "mig_capacity")
        if not used:
            out.append(m.words)
    out.extend(q.free_numbers(found))
    return out


def _memory_of(gpu: str) -> int | None:
    from tutor.mig.catalogue import find_gpu

    g = find_gpu(gpu)
    return round(g.memory_gb) if g.memory_gb is not None else None


def _profile_used(raw: str, gpu: object, profiles: set[object]) -> bool:
    from tutor.mig.catalogue import MigError, find_profile

    if gpu is None:
        return False
    try:
        return find_profile(str(gpu), raw).name in profiles
    except MigError:
        return False


def _correct(text: str, ctx: Context) -> Reading | None:
    """Amend the previous calculator call with what this message states."""
    prev = ctx.previous
    assert prev is not None
    found = calc.scan(text)
    draft = calc.Draft(tool=prev.tool, field=prev.field, unit=prev.unit,
                       arguments=dict(prev.arguments),
                       notes=[a.model_copy() for a in ctx.previous_arguments])  # fmt: skip
    changed = False
    gpu_now = draft.arguments.get("gpu")
    no_mig = found.first("no_mig")
    if no_mig is not None and prev.tool != "mig_timeslice":
        return Reading(kind="clarify", text=text, correction=True,
                       question=f"I have no MIG data for the {no_mig.value}: it does not support "
                       "MIG. Which MIG GPU do you mean?")  # fmt: skip
    exact = found.first("gpu")
    memory = found.first("memory")
    if exact is not None or found.first("family") is not None or (memory and gpu_now):
        new_gpu = _corrected_gpu(found, str(gpu_now) if gpu_now else None)
        if new_gpu is None:
            return None
        if new_gpu != gpu_now:
            words = exact.words if exact else (memory.words if memory else "")
            draft.stated("gpu", new_gpu, words)
            missing = _missing_profiles(draft, new_gpu)
            if missing:
                from tutor.mig.catalogue import find_gpu

                names = ", ".join(p.name for p in find_gpu(new_gpu).profiles if not p.is_variant)
                return Reading(kind="clarify", text=text, correction=True,
                               question=f"The {new_gpu} has no {', '.join(missing)}; its profiles "
                               f"are {names}. Which did you mean?")  # fmt: skip
            changed = True
    if prev.tool == "mig_fit":
        q.find_context(found, fit_like=True)
        q.find_batch(found)
        for kind in ("weights_dtype", "kv_dtype"):
            m = found.first(kind)
            if m:
                draft.stated(kind, m.value, m.words)
                changed = True
        model = found.first("model")
        if model:
            draft.stated("model", model.value, model.words)
            changed = True
        ctxm = found.first("context")
        if ctxm:
            draft.stated("context", int(float(ctxm.value)), ctxm.words)  # type: ignore[arg-type]
            changed = True
        batch = found.first("batch")
        if batch:
            draft.stated("batch", int(float(batch.value)), batch.words)  # type: ignore[arg-type]
            changed = True
    if prev.tool == "mig_timeslice":
        q.find_gpu_counts(found)
        q.find_replicas(found)
        rep = found.first("replicas")
        if rep:
            draft.stated("replicas", int(rep.value), rep.words)  # type: ignore[call-overload]
            changed = True
        cnt = found.first("gpu_count")
        if cnt:
            draft.stated("gpus", int(cnt.value), cnt.words)  # type: ignore[call-overload]
            changed = True
        if re.search(r"rename|\.shared", text, re.I):
            value = not re.search(r"\b(without|no|not|off|false)\b", text, re.I)
            draft.stated("rename_by_default", value, "renameByDefault")
            changed = True
    q.find_slots(found)
    pins = list(draft.arguments.get("pinned", []))
    if pins and found.of("slot") and found.of("profile"):
        # "no, the 3g.40gb is at slot 0": move that pin.
        gpu = str(draft.arguments.get("gpu"))
        named = calc._profile_names(found, gpu)
        slot = found.first("slot")
        if isinstance(named, list) and named and slot is not None:
            moved = [dict(p, slot=int(slot.value)) if p["profile"] == named[0][0] else p  # type: ignore[call-overload]
                     for p in pins]  # fmt: skip
            if moved != pins:
                draft.stated("pinned", moved, f"{named[0][1].words} {slot.words}")
                return _calculator_reading(text, found, draft, correction=True)
    if prev.tool in ("mig_capacity", "mig_resource", "mig_fit") and found.of("profile"):
        gpu = str(draft.arguments.get("gpu"))
        named = calc._profile_names(found, gpu)
        if isinstance(named, str):
            return Reading(kind="clarify", text=text, question=named, correction=True)
        if named:
            draft.stated("profile", named[0][0], named[0][1].words)
            changed = True
    if prev.tool == "mig_resource":
        strat = calc._STRATEGY.search(text) or re.search(r"\b(single|mixed)\b", text, re.I)
        if strat:
            chosen = next(g for g in strat.groups() if g).lower()
            draft.stated("strategy", chosen, strat.group(0))
            found.add(v.Mention("strategy", chosen, strat.start(), strat.end(), strat.group(0)))
            changed = True
    if not changed:
        return None
    outcome = calc._validated(draft)
    if outcome.clarify:
        return Reading(kind="clarify", text=text, question=outcome.clarify, correction=True)
    return _calculator_reading(text, found, draft, correction=True)


def _corrected_gpu(found: v.Found, current: str | None) -> str | None:

    exact = found.first("gpu")
    if exact is not None:
        return str(exact.value)
    memory = found.first("memory")
    fam = found.first("family")
    if fam is not None:
        cands = v.resolve_family(tuple(fam.value), int(memory.value) if memory else None)  # type: ignore[arg-type]
        return cands[0].id if len(cands) == 1 else None
    if memory is not None and current is not None:
        # "I meant the 94GB one": the same family, another memory size.
        family = re.sub(r"-\d+GB.*$", "", current)
        same = [g for g in _all_gpus() if g.id.startswith(family)
                and g.memory_gb is not None and round(g.memory_gb) == memory.value]  # fmt: skip
        if len(same) == 1:
            return same[0].id
    return None


def _all_gpus() -> list[Gpu]:
    from tutor.mig.catalogue import gpus

    return list(gpus())


def _missing_profiles(draft: calc.Draft, gpu: str) -> list[str]:
    """Profiles of the call that the newly named GPU does not have."""
    from tutor.mig.catalogue import MigError, find_profile

    names = [draft.arguments.get("profile"), *draft.arguments.get("profiles", []),
             *draft.arguments.get("existing", []),
             *(p["profile"] for p in draft.arguments.get("pinned", []))]  # fmt: skip
    missing = []
    for name in names:
        if name is None:
            continue
        try:
            find_profile(gpu, str(name))
        except MigError:
            missing.append(str(name))
    return list(dict.fromkeys(missing))


# ---------------------------------------------------------------- a hosted model's proposal

_FIELD_OF_TOOL = {
    "mig_capacity": ("count", "instances"),
    "mig_check": ("valid", ""),
    "mig_fit": ("profile", ""),
    "mig_timeslice": ("count", "logical GPUs"),
    "mig_resource": ("resource", ""),
    "mig_profiles": ("max_instances", "instances"),
    "mig_enumerate": ("layouts", "layouts"),
    "mig_pack": ("gpus_needed", "GPUs"),
}


def from_proposal(text: str, tool: str, arguments: dict[str, object], model: str) -> Reading:
    """A tool call a hosted model proposed for a question the reader could not complete,
    validated like any call and shown the same way; every argument is marked as the
    model's reading, so the learner can correct it."""
    from pydantic import ValidationError

    from tutor.mig.tools import TOOLS

    if tool not in _FIELD_OF_TOOL or tool not in TOOLS:
        return Reading(kind="clarify", text=text,
                       question="I couldn't read that as a calculator question: which GPU, "
                       "profile or model do you mean?")  # fmt: skip
    try:
        TOOLS[tool].args_model.model_validate(arguments)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return Reading(kind="clarify", text=text,
                       question=f"I can't compute that: {where}: {first['msg']}. What did you "
                       "mean?")  # fmt: skip
    fld, unit = _FIELD_OF_TOOL[tool]
    call = ToolCall(tool=tool, arguments=dict(arguments), field=fld, unit=unit)
    notes = [Argument(name=k, value=v_, source="assumed", words=f"read by {model}")
             for k, v_ in arguments.items()]  # fmt: skip
    return Reading(kind="calculator", text=text, call=call, arguments=notes, summary=summary(call))


# ---------------------------------------------------------------- showing the reading

_LABELS = {
    "gpu": "on the {v}",
    "model": "{v}",
    "weights_dtype": "{v} weights",
    "kv_dtype": "{v} KV cache",
    "context": "{v:,} tokens",
    "batch": "batch {v}",
    "profile": "{v}",
    "gpus": "{v} GPUs",
    "replicas": "{v} replicas each",
    "rename_by_default": "renameByDefault {v}",
    "strategy": "{v} strategy",
}


def _arg_text(a: Argument) -> str:
    value = a.value
    if a.name == "rename_by_default":
        text = "renameByDefault on" if value else "renameByDefault off"
    elif a.name == "pinned":
        text = ", ".join(f"{p['profile']} pinned at slot {p['slot']}" for p in value)
    elif a.name in ("existing", "profiles"):
        text = (" + ".join(value) if a.name == "profiles" else
                "beside " + " + ".join(value) if value else "an empty GPU")  # fmt: skip
    elif a.name == "tenants":
        text = "tenants of " + ", ".join(f"{t['memory_gib']:g} GiB" for t in value)
    elif a.name in _LABELS:
        try:
            text = _LABELS[a.name].format(v=value)
        except (ValueError, TypeError):
            text = f"{a.name} {value}"
    else:
        text = f"{a.name} {value}"
    if a.source == "assumed":
        text += " (assumed: " + a.words.split(":", 1)[-1].strip() + ")" if ":" in a.words else (
            f" (assumed: {a.words})")  # fmt: skip
    return text


def describe(reading: Reading) -> str:
    """The "I read this as ..." line."""
    if reading.call is None:
        return ""
    order = ["model", "weights_dtype", "kv_dtype", "context", "batch", "profile", "pinned",
             "existing", "profiles", "tenants", "gpus", "replicas", "rename_by_default",
             "strategy", "memory unit", "gpu"]  # fmt: skip
    notes = sorted(reading.arguments, key=lambda a: order.index(a.name) if a.name in order else 99)
    parts = [_arg_text(a) for a in notes]
    what = _WHAT.get((reading.call.tool, reading.call.field), reading.call.field)
    head = "I read this as: " + what + ", "
    line = head + ", ".join(parts) + "."
    if reading.unused:
        line += " Not used: " + ", ".join(reading.unused) + " (tell me if it matters)."
    return line


_WHAT = {
    ("mig_capacity", "count"): "how many fit",
    ("mig_check", "valid"): "is this a valid layout",
    ("mig_fit", "profile"): "the smallest profile that holds it",
    ("mig_fit", "fits"): "does it fit",
    ("mig_fit", "max_sequences"): "how many sequences fit",
    ("mig_timeslice", "count"): "how many GPUs Kubernetes advertises with time-slicing",
    ("mig_timeslice", "resource"): "the resource name pods request with time-slicing",
    ("mig_resource", "resource"): "the Kubernetes resource name",
    ("mig_profiles", "max_instances"): "the most MIG instances at once",
    ("mig_profiles", "profiles"): "how many MIG profiles",
    ("mig_enumerate", "layouts"): "how many distinct layouts",
    ("mig_pack", "gpus_needed"): "how many GPUs the tenants need",
}


def summary(call: ToolCall) -> str:
    """The question restated plainly, for the prediction prompt."""
    a = call.arguments
    gpu = a.get("gpu", "")
    if call.tool == "mig_capacity":
        beside = ""
        if a.get("pinned"):
            beside += " with " + ", ".join(
                f"a {p['profile']} at slot {p['slot']}" for p in a["pinned"]
            )
        if a.get("existing"):
            beside += (
                (" with " if not beside else " and ") + " + ".join(a["existing"]) + " already there"
            )
        more = " more" if beside else ""
        return f"How many{more} {a['profile']} instances fit on one {gpu}{beside}?"
    if call.tool == "mig_check":
        parts = list(a.get("profiles", [])) + [
            f"{p['profile']}@{p['slot']}" for p in a.get("pinned", [])
        ]
        return f"Is {' + '.join(parts)} a valid partition of one {gpu}? (yes or no)"
    if call.tool == "mig_fit":
        model = a.get("model", "the model")
        extra = []
        if a.get("weights_dtype", "bf16") != "bf16":
            extra.append(f"{a['weights_dtype']} weights")
        if a.get("kv_dtype", "bf16") != "bf16":
            extra.append(f"{a['kv_dtype']} KV cache")
        ctx = a.get("context", 4096)
        extra.append(f"{ctx:,} tokens")
        if call.field != "max_sequences":
            extra.append(f"batch {a.get('batch', 1)}")
        spec = f"{model} ({', '.join(extra)})"
        if call.field == "fits":
            return f"Does {spec} fit in a {a['profile']} on the {gpu}? (yes or no)"
        if call.field == "max_sequences":
            where = (
                f"a {a['profile']}" if a.get("profile") else "the smallest profile that holds it"
            )
            return f"How many sequences of {ctx:,} tokens of {model} fit in {where} on the {gpu}?"
        return f"Which is the smallest MIG profile on the {gpu} that holds {spec}?"
    if call.tool == "mig_timeslice":
        shared = " with renameByDefault" if a.get("rename_by_default") else ""
        if call.field == "resource":
            return (f"With time-slicing ({a.get('replicas')} replicas{shared}), what resource "
                    "name do pods request?")  # fmt: skip
        return (f"With time-slicing, {a.get('gpus', 1)} GPUs x {a.get('replicas')} replicas"
                f"{shared}: how many GPUs does Kubernetes advertise?")  # fmt: skip
    if call.tool == "mig_resource":
        return (f"Under the {a.get('strategy', 'mixed')} strategy, what resource name does a pod "
                f"request for a {a['profile']} on the {gpu}?")  # fmt: skip
    if call.tool == "mig_profiles":
        if call.field == "max_instances":
            return f"At most how many MIG instances can one {gpu} run at once?"
        return f"How many MIG profiles (variants included) does the {gpu} offer?"
    if call.tool == "mig_enumerate":
        return f"How many distinct maximal MIG layouts does the {gpu} have?"
    if call.tool == "mig_pack":
        sizes = ", ".join(f"{t['memory_gib']:g}" for t in a.get("tenants", []))
        return f"How many {gpu} GPUs do tenants of {sizes} GiB need with MIG?"
    return "What does the calculator say?"
