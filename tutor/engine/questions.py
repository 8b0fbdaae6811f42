"""Recognise free questions that have a checkable answer the calculator can give.

"How many 1g.10gb fit on an A100-80GB?" has one right number; the learner is asked
to guess it before the calculator's result is revealed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.engine.plan import CalculatorKey
from tutor.mig.catalogue import MigError, find_model, find_profile, gpus, normalise

_PROFILE = re.compile(r"\b(\d+g\.\d+gb(?:\+me\.all|\+me|-me|\+gfx)?|\d+g)(?![\w.])", re.I)
_TIMESLICE = re.compile(
    r"(\d+)\s*(?:physical\s+)?(?:\w+\s+)?gpus?\b.*?(?:(?:x|×|times)\s*(\d+)|(\d+)\s*replicas?|"
    r"replicas?\s*(?:of|=|:)?\s*(\d+))",
    re.I,
)


@dataclass(frozen=True)
class CheckableQuestion:
    key: CalculatorKey
    summary: str
    """The question restated plainly, for the prediction prompt."""


def mentioned_gpu(text: str) -> str | None:
    """The catalogued GPU the text names, preferring the longest (most specific) alias."""
    flat = normalise(text)
    best: tuple[int, str] | None = None
    for gpu in gpus():
        for alias in (gpu.id, *gpu.aliases):
            key = normalise(alias)
            if len(key) >= 3 and key in flat and (best is None or len(key) > best[0]):
                best = (len(key), gpu.id)
    return best[1] if best else None


def mentioned_model(text: str) -> str | None:
    from tutor.mig.catalogue import catalogue

    flat = normalise(text)
    for name in sorted(catalogue().models, key=len, reverse=True):
        if normalise(name) in flat:
            return find_model(name)[0]
    return None


def _smallest_profile(gpu_id: str) -> str | None:
    from tutor.mig.catalogue import find_gpu

    plain = [p for p in find_gpu(gpu_id).profiles if not p.is_variant]
    if not plain:
        return None
    return min(plain, key=lambda p: (p.compute_slices, p.memory_gb)).name


def checkable(text: str) -> CheckableQuestion | None:
    low = text.lower()
    if ("time" in low and "slic" in low) or "replica" in low:
        match = _TIMESLICE.search(text)
        if match:
            gpus_n = int(match.group(1))
            replicas = int(next(g for g in match.groups()[1:] if g))
            return CheckableQuestion(
                CalculatorKey(
                    tool="mig_timeslice",
                    arguments={"gpus": gpus_n, "replicas": replicas},
                    field="count",
                    unit="logical GPUs",
                ),
                f"With time-slicing, {gpus_n} GPUs x {replicas} replicas advertise how many "
                "logical GPUs?",
            )
    gpu = mentioned_gpu(text)
    if gpu is None:
        return None
    profiles = []
    for raw in _PROFILE.findall(text):
        try:
            profiles.append(find_profile(gpu, raw).name)
        except MigError:
            continue
    model = mentioned_model(text)
    if model and re.search(r"\b(which|what|smallest)\b.*\b(profile|slice|instance|mig)\b", low):
        return CheckableQuestion(
            CalculatorKey(tool="mig_fit", arguments={"gpu": gpu, "model": model}, field="profile"),
            f"Which is the smallest MIG profile on the {gpu} that holds {model} (bf16)?",
        )
    if re.search(r"\bhow many\b", low):
        if len(profiles) == 1:
            return CheckableQuestion(
                CalculatorKey(
                    tool="mig_capacity",
                    arguments={"gpu": gpu, "profile": profiles[0]},
                    field="count",
                    unit="instances",
                ),
                f"How many {profiles[0]} instances fit on one {gpu}?",
            )
        smallest = _smallest_profile(gpu)
        if (
            not profiles
            and smallest
            and re.search(r"\b(instances?|slices?|partitions?|mig)\b", low)
        ):
            return CheckableQuestion(
                CalculatorKey(
                    tool="mig_capacity",
                    arguments={"gpu": gpu, "profile": smallest},
                    field="count",
                    unit="instances",
                ),
                f"How many of the smallest MIG instances ({smallest}) fit on one {gpu}?",
            )
    if len(profiles) >= 2 and re.search(r"\b(valid|fit|work|possible|allowed|can i)\b", low):
        return CheckableQuestion(
            CalculatorKey(
                tool="mig_check", arguments={"gpu": gpu, "profiles": profiles}, field="valid"
            ),
            f"Is {' + '.join(profiles)} a valid partition of one {gpu}? (yes or no)",
        )
    return None
