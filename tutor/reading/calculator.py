"""A learner's question as a complete calculator call, with every argument accounted for.

The operation is chosen from cue words; the arguments come from the vocabulary finders.
Each argument is stated (with the words it came from) or assumed (with the default
named). A required argument that is missing, or two GPUs it could mean, becomes a
clarifying question instead of a guess.

Over 400 lines: one reader per calculator operation, sharing the cue patterns at the
top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pydantic import ValidationError

from tutor.mig.catalogue import Gpu, MigError, find_gpu, find_profile
from tutor.reading import quantities as q
from tutor.reading import vocabulary as v
from tutor.reading.types import Argument, ToolCall

_TIMESLICE_CUE = re.compile(
    r"time[\s-]*slic|timeslic|replica|\bsliced\b(?!\s+(?:into\s+mig|with\s+mig))|\b\d+[\s-]*ways?\b|"
    r"\bsplit\s+\w+\s+ways?\b|\bshared\s+by\b|oversubscri|renamebydefault|rename[\s-]*by[\s-]*"
    r"default|\.shared\b",
    re.I,
)
_RESOURCE_CUE = re.compile(
    r"resource\s*name|what\s+(?:resource|do\s+(?:i|pods?|you)\s+request)|request\s+in\s+"
    r"(?:the|a|my)\s+pod|pods?\s+(?:request|ask\s+for)|nvidia\.com/|resource\s+(?:would|does|do|"
    r"is)|which\s+resource|extended\s+resource|advertised\s+as|called\s+in\s+kubernetes|"
    r"what\s+is\s+it\s+called|what'?s\s+it\s+called|name\s+of\s+the\s+resource|resource\s+for|"
    r"how\s+do\s+(?:i|we|you)\s+request|resource\s+(?:called|string)|show\s+up\s+as|"
    r"(?:named|called|name|known)\s+(?:as\s+)?in\s+(?:kubernetes|k8s)|"
    r"advertised|k8s\s+resource|kubernetes\s+resource|resource\s*\?",
    re.I,
)
_TS_RESOURCE_CUE = re.compile(
    r"resource\s*(?:name|string|limits?)?\b(?!\s+count)|what\s+do\s+(?:i|pods?|you|we)\s+"
    r"(?:request|put|ask\s+for)|pods?\s+(?:request|ask\s+for|put)|which\s+resource|"
    r"what'?s\s+it\s+called|what\s+is\s+it\s+called|name\s+of\s+the\s+resource|"
    r"resource\s+limits",
    re.I,
)
_COUNT_WORD = re.compile(r"\bcount\b", re.I)
_TS_ASKS = re.compile(r"\b(?:what|which|show|shows|see|sees|advertis\w*|report\w*|allocatable|"
                      r"capacity|count|total|get|gives?|expose\w*|visible|list)\b",
                      re.I)  # fmt: skip
_TS_COUNT_CUE = re.compile(r"\b(?:allocatable|capacity|count|how\s+many|report|show|"
                           r"describe\s+node|advertis\w+\s+(?:as\s+)?(?:how\s+many|count))\b",
                           re.I)  # fmt: skip
_STRATEGY = re.compile(r"\b(single|mixed|none)\b(?:[\s-]+(?:mig[\s-]+)?strategy)|"
                       r"strategy\s*(?:is|=|:|of|set\s+to)?\s*(?:the\s+)?(single|mixed|none)\b",
                       re.I)  # fmt: skip
_FITS_CUE = re.compile(r"\b(?:does|do|will|would|can|could|is)\b[^?.]{0,60}\b(?:fit|hold|run|"
                       r"serve|load|enough|big\s+enough|handle|squeeze)\b|\bfits?\s+in(?:to)?\b"
                       r"|\benough\s+(?:memory|room|space)\b", re.I)  # fmt: skip
_SEQUENCES_CUE = re.compile(
    r"(?:how\s+many|max(?:imum)?(?:\s+number\s+of)?|number\s+of)\b[^?.]{0,40}?\b(?:sequences|seqs|"
    r"requests|users|streams|conversations|prompts|sessions)\b|max(?:imum)?\s+(?:batch|"
    r"concurrency)|how\s+(?:big|large)\s+(?:a|of\s+a)\s+batch|max_sequences",
    re.I,
)
_SMALLEST_CUE = re.compile(r"\b(?:smallest|which|what|minimum|min|least|tiniest|cheapest|"
                           r"best|right|lowest)\b", re.I)  # fmt: skip
_HOW_MANY = re.compile(r"\bhow\s+m[a-z]{1,3}y\b|\bnumber\s+of\b|\bcount\s+(?:of|the)\b", re.I)
_PERFORMANCE = re.compile(r"\b(?:latency|overhead|performance|slower|faster|throughput|"
                          r"context\s+switch\w*|bandwidth|speed|jitter|fair)\b", re.I)  # fmt: skip
_VALID_CUE = re.compile(r"\bcan\s+(?:an?|the|my|one|this)\s+[\w\s-]{0,30}?\b(?:run|take|host|do)\b|"
                        r"\b(?:ok|okay|fine|valid|possible|allowed|legal|work|coexist|co-exist|together|"
                        r"combine|combination|can\s+i\s+(?:run|create|have|make|put|use|"
                        r"combine|fit|get|do|partition|split|carve)|partition(?:ed)?\s+(?:as|"
                        r"into)|at\s+the\s+same\s+time|side\s+by\s+side|alongside)\b",
                        re.I)  # fmt: skip
_MAX_INSTANCES_CUE = re.compile(
    r"(?:max(?:imum)?|most|how\s+many|number\s+of|upper\s+limit|limit\s+(?:of|on))\s+"
    r"(?:number\s+of\s+)?(?:[a-z]+\s+){0,2}?(?:mig\s+)?(?:instances|slices|partitions|gpu\s+instances|mig\s+devices|"
    r"devices|mig\s+gpus|isolated\s+gpus|separate\s+gpus|tenants|pieces|parts|vgpus)|"
    r"(?:max(?:imum)?|most)\s+(?:mig\s+)?instance\s+count|instance\s+count|instance\s+limit|"
    r"limit\s+(?:of|on)\s+(?:mig\s+)?instances|"
    r"max(?:imum)?\s+instances|instances\b.{0,60}\b(?:real\s+)?max(?:imum)?\b",
    re.I,
)
_PROFILE_LIST_CUE = re.compile(
    r"(?:what|which|list|show|all|available|supported)\s+(?:the\s+|mig\s+|of\s+the\s+)?"
    r"(?:mig\s+)?profiles|profiles?\s+(?:does|do|are|is|exist|available|supported)|"
    r"(?:list|show)\s+(?:me\s+)?(?:the\s+)?(?:mig\s+)?profiles|profile\s+(?:list|table)|"
    r"table\s+of\s+(?:mig\s+)?profiles|"
    r"(?:list|show|name)\s+(?:every|all|each)\s+(?:the\s+)?(?:mig\s+)?profiles?|"
    r"(?:every|all)\s+(?:the\s+)?(?:mig\s+)?profiles?\s+(?:an?|the|on|of|for)",
    re.I,
)
_LAYOUT_CUE = re.compile(r"\b(?:layouts?|lay\s+out|configurations?|configs?|partitionings?|"
                         r"combinations|ways\s+(?:to|of|can\s+i)\s+(?:partition|split|carve|"
                         r"slice|divide)|distinct\s+(?:mig\s+)?partitions|different\s+(?:mig\s+)?partitions|"
                         r"possible\s+partitions)\b", re.I)  # fmt: skip
_HOW_MANY_GPUS = re.compile(r"(?:how\s+many|number\s+of|minimum|min|fewest|least)\b[^?.]{0,40}?"
                            r"\b(?:gpus?|cards?|devices|h\d+s?|a\d+s?|b\d+s?|gb\d+s?|h20s?)\b|"
                            r"\bgpus?\s+(?:do\s+(?:i|we)\s+)?need", re.I)  # fmt: skip
_PACK_CUE = re.compile(r"\b(?:tenants?|workloads?|workspaces?|teams?|jobs?|services?|customers?|"
                       r"apps?|pack|bin[\s-]*pack)\b", re.I)  # fmt: skip
_CONCEPTUAL = re.compile(
    r"^\s*(?:why|explain|describe|what\s+(?:does|do|is|are)\s+(?:the\s+)?(?:\"|')?[\w.+\- ]{0,30}"
    r"(?:\"|')?\s+(?:mean|stand\s+for|count|represent|refer\s+to|signify)|.*\bwhy\b|"
    r".*\bdiffer(?:s|ent\s+from)?\b(?!\s+(?:layouts|partitions|configurations))|"
    r"what\s+is\s+(?:the\s+)?(?:difference|point|purpose|"
    r"meaning)|what'?s\s+the\s+(?:difference|point|meaning)|how\s+does\s+(?:mig|time[\s-]*slicing|"
    r"mps|the\s+scheduler|it)\s+(?:work|isolate|differ|schedule|compare)|how\s+do\s+(?:i|you)\s+"
    r"(?:enable|disable|configure|set\s+up|install|turn\s+on|create|delete|destroy|reset|label)|"
    r"who\s+|is\s+(?:mig|time[\s-]*slicing|mps)\s+(?:better|worse|safer|faster|slower|secure|isolated)|"
    r"does\s+(?:mig|time[\s-]*slicing|mps)\s+(?:isolate|give|protect|guarantee|share|work|"
    r"support|need|require|cost|slow|affect|reduce|add)|should\s+i|when\s+should|"
    r"how\s+(?:fast|slow|long|quick)|what\s+(?:happens|is\s+mig|is\s+time))",
    re.I,
)
_FIT_WORDS = re.compile(
    r"\b(?:fits?|fitting|hold|holds|prof\w*|smal+est|slice|instance|mig|smallest|minimum|enough|memory|"
    r"room|space|load|serve|run|runs|context|tokens?|batch|sequences?|users|requests|kv|"
    r"quanti[sz]ed|bits?|bf16|fp16|fp8|int8|int4|awq|gptq|gib|gb)\b",
    re.I,
)

_UNKNOWN_MODEL = re.compile(
    r"(?<![\w.])((?:mistral|mixtral|llama|qwen|gemma|phi|deepseek|falcon|gpt|yi|olmo|command)"
    r"[\w.\-]*(?:[\s-]+\d+(?:\.\d+)?(?=[\s-]+\d+(?:\.\d+)?[bm]\b))?(?:[\s-]+\d+(?:\.\d+)?[bm]\b)?|(\d+(?:\.\d+)?)\s*b(?:illion)?(?:[\s-]+param\w*)?"
    r"[\s-]+model)",
    re.I,
)
_FIT_FOR_MODEL = re.compile(r"\b(?:for|hold|fit|serve|run)\s+(?:my|our|a|the)\s+(?:own\s+)?"
                            r"(?:model|llm)\b", re.I)  # fmt: skip
_OVERHEAD = re.compile(rf"({v.NUMBER})\s*(?:gib|gb)\s+(?:of\s+)?(?:overhead|headroom|reserve)|"
                       rf"(?:overhead|headroom)\s*(?:of|=|:)?\s*({v.NUMBER})\s*(?:gib|gb)",
                       re.I)  # fmt: skip
_SHAPE = {
    "layers": re.compile(
        rf"({v.NUMBER})\s*(?:transformer\s+)?layers|layers\s*(?:=|:|of)?\s*({v.NUMBER})", re.I
    ),
    "kv_heads": re.compile(
        rf"({v.NUMBER})\s*(?:kv|key[\s-]*value|k/v)\s*heads|"
        rf"(?:kv|k/v)\s*heads\s*(?:=|:|of)?\s*({v.NUMBER})",
        re.I,
    ),
    "head_dim": re.compile(
        rf"head[\s_-]*(?:dim(?:ension)?|size)\s*(?:=|:|of)?\s*({v.NUMBER})|"
        rf"({v.NUMBER})\s*head[\s_-]*dim",
        re.I,
    ),
}
_PARAMS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(b|m)(?:illion)?\b(?:[\s-]*(?:param\w*|model))?",
                     re.I)  # fmt: skip
_ANOTHER = re.compile(r"\banother(?:\s+one)?\s+(?:at|in|on)\s+(?:slot\s*)?(\d{1,2})\b", re.I)
_EMPTY = re.compile(r"\b(?:empty|fresh|blank|unused|clean)\b", re.I)
_ASK_VALID_NO_PROFILES = re.compile(r"\b(?:valid|possible|allowed)\b", re.I)
_HOW_MANY_FIT = re.compile(r"\bhow\s+many\b[^?.]{0,20}\bfit\b", re.I)


@dataclass
class Draft:
    """A calculator reading being built: the call, its argument notes, what was used."""

    tool: str
    field: str
    unit: str = ""
    arguments: dict[str, Any] = dc_field(default_factory=dict)
    notes: list[Argument] = dc_field(default_factory=list)

    def stated(self, name: str, value: Any, words: str) -> None:
        self.arguments[name] = value
        self.notes = [n for n in self.notes if n.name != name]
        self.notes.append(Argument(name=name, value=value, source="stated", words=words))

    def assumed(self, name: str, value: Any, why: str, *, in_call: bool = True) -> None:
        if in_call:
            self.arguments[name] = value
        self.notes = [n for n in self.notes if n.name != name]
        self.notes.append(Argument(name=name, value=value, source="assumed", words=why))

    def call(self) -> ToolCall:
        return ToolCall(tool=self.tool, arguments=dict(self.arguments), field=self.field,
                        unit=self.unit)  # fmt: skip


@dataclass
class Outcome:
    draft: Draft | None = None
    clarify: str = ""
    conceptual: bool = False


def scan(text: str) -> v.Found:
    found = v.Found(text)
    v.find_gpus(found)
    v.find_models(found)
    v.find_profiles(found)
    v.find_dtypes(found)
    v.find_memory_sizes(found)
    return found


def is_calculatorish(found: v.Found) -> bool:
    text = found.text
    has_terms = bool(found.of("gpu") or found.of("family") or found.of("profile")
                     or found.of("model") or found.of("no_mig"))  # fmt: skip
    return has_terms or bool(
        _TIMESLICE_CUE.search(text) or _MAX_INSTANCES_CUE.search(text)
        or _PROFILE_LIST_CUE.search(text) or (_LAYOUT_CUE.search(text) and _HOW_MANY.search(text))
        or (_PACK_CUE.search(text) and _HOW_MANY.search(text)) or _UNKNOWN_MODEL.search(text)
        or _FIT_FOR_MODEL.search(text)
    )  # fmt: skip


def _gpu_options(found: v.Found) -> tuple[list[Gpu], str, bool]:
    """The GPUs the message could mean, the words, and whether the name was exact."""
    exact = found.of("gpu")
    if exact:
        ids = list(dict.fromkeys(str(m.value) for m in exact))
        return [find_gpu(i) for i in ids], exact[0].words, True
    fams = found.of("family")
    if fams:
        memory = found.first("memory")
        cands: list[Gpu] = []
        for fam in fams:
            for g in v.resolve_family(tuple(fam.value), int(memory.value) if memory else None):  # type: ignore[arg-type]
                if g not in cands:
                    cands.append(g)
        words = fams[0].words + (f" {memory.words}" if memory else "")
        return cands, words, False
    return [], "", False


def _profiles_on(g: Gpu, raws: list[str]) -> list[str] | None:
    out = []
    for raw in raws:
        try:
            out.append(find_profile(g, raw).name)
        except MigError:
            return None
    return out


def _choose_gpu(found: v.Found, draft: Draft, profile_raws: list[str]) -> str:
    """Set draft's gpu; return a clarifying question instead when it cannot be told."""
    cands, words, exact = _gpu_options(found)
    no_mig = found.first("no_mig")
    if exact and len(cands) > 1:
        # Two GPUs named outright ("an H100 94GB or an H200"): ask, don't pick one.
        return f"Which GPU: {', '.join(g.id for g in cands[:-1])} or {cands[-1].id}?"
    if not cands:
        if no_mig is not None:
            return (f"I have no MIG data for the {no_mig.value}: it does not support MIG. "
                    "Which MIG GPU do you mean (for example A100-80GB or H100-80GB)?")  # fmt: skip
        return "Which GPU do you mean (for example A100-80GB, H100-80GB or H200)?"
    if len(cands) > 1 and profile_raws:
        with_profiles = [g for g in cands if _profiles_on(g, profile_raws) is not None]
        if len(with_profiles) == 1:
            draft.stated("gpu", with_profiles[0].id,
                         f"{words} (the only one with {', '.join(profile_raws)})")  # fmt: skip
            return ""
        if with_profiles:
            cands = with_profiles
    if len(cands) > 1:
        names = [g.id for g in cands]
        listed = ", ".join(names[:-1]) + " or " + names[-1]
        return f"Which GPU: {listed}?"
    draft.stated("gpu", cands[0].id, words)
    return ""


def _profile_names(found: v.Found, gpu: str) -> list[tuple[str, v.Mention]] | str:
    out: list[tuple[str, v.Mention]] = []
    for m in found.of("profile"):
        try:
            out.append((find_profile(gpu, str(m.value)).name, m))
        except MigError:
            g = find_gpu(gpu)
            names = ", ".join(p.name for p in g.profiles if not p.is_variant)
            return (f"The {g.id} has no {m.words} profile; its profiles are {names}. "
                    "Which did you mean?")  # fmt: skip
    return out


_COUNT_BEFORE = re.compile(rf"(?<![\w.])({v.NUMBER})\s*(?:x|×|of|instances?\s+of)?\s*(?:the\s+)?$",
                           re.I)  # fmt: skip
_COUNT_AFTER = re.compile(r"^\s*(?:x|×)\s*(\d{1,2})\b|^\s*instances?\s*(?:x|×)\s*(\d{1,2})\b", re.I)


def _profile_count(found: v.Found, m: v.Mention) -> tuple[int, str] | None:
    head = found.text[max(0, m.start - 20) : m.start]
    before = _COUNT_BEFORE.search(head)
    if before:
        start = m.start - len(head) + before.start()
        if not found.overlaps(start, m.start):
            n = int(v.number_value(before.group(1)))
            found.add(v.Mention("count", n, start, m.start, before.group(0).strip()))
            return n, before.group(0).strip()
    after = _COUNT_AFTER.search(found.text[m.end : m.end + 16])
    if after:
        n = int(after.group(1) or after.group(2))
        found.add(v.Mention("count", n, m.end, m.end + after.end(), after.group(0).strip()))
        return n, after.group(0).strip()
    return None


def _range_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}"


def read_calculator(text: str, found: v.Found) -> Outcome:
    low = text.lower()
    if _CONCEPTUAL.search(text) and not _HOW_MANY.search(text):
        return Outcome(conceptual=True)
    try:
        return _read(text, low, found)
    except v.TooLarge:
        return Outcome(clarify="That number is far past anything the calculator takes "
                       "(GPUs up to 100,000, replicas up to 1,000, context up to 10,000,000 "
                       "tokens). What did you mean?")  # fmt: skip


def _read(text: str, low: str, found: v.Found) -> Outcome:
    if _TIMESLICE_CUE.search(text) and not found.of("model"):
        # Time-slicing talk is a calculator question only when it counts something.
        if _PERFORMANCE.search(text) and not _HOW_MANY.search(text):
            return Outcome(conceptual=True)
        if _HOW_MANY.search(text) or _TS_RESOURCE_CUE.search(text) or (
            re.search(r"\d", text) and _TS_ASKS.search(text)
        ):
            return _timeslice(text, found)
        return Outcome()
    if found.of("model") and (_FIT_WORDS.search(text) or found.of("profile")):
        return _fit(text, found)
    profile_raws = [str(m.value) for m in found.of("profile")]
    unknown = _UNKNOWN_MODEL.search(text)
    if (
        (_FIT_FOR_MODEL.search(text) or unknown)
        and (_FIT_WORDS.search(text) or profile_raws)
        and not _PACK_CUE.search(text)
    ):
        return _custom_fit(text, found, unknown)
    if _PACK_CUE.search(text) and not profile_raws and _HOW_MANY_GPUS.search(text):
        if not q.find_tenant_sizes(found):
            return Outcome(clarify="How much memory (GiB) does each tenant need?")
        return _pack(text, found)
    if profile_raws and _RESOURCE_CUE.search(text):
        return _resource(text, found, profile_raws)
    if not profile_raws and _PROFILE_LIST_CUE.search(text):
        return _gpu_only(found, "mig_profiles", "profiles", "profiles")
    if not profile_raws and _LAYOUT_CUE.search(text) and _HOW_MANY.search(text):
        return _gpu_only(found, "mig_enumerate", "layouts", "layouts")
    if not profile_raws and _MAX_INSTANCES_CUE.search(text):
        return _gpu_only(found, "mig_profiles", "max_instances", "instances")
    if _SEQUENCES_CUE.search(text) and not found.of("model"):
        return Outcome(clarify=_WHICH_MODEL)
    if profile_raws:
        return _placement(text, found, profile_raws)
    if _HOW_MANY_FIT.search(text) and (found.of("gpu") or found.of("family")):
        return Outcome(clarify="How many of which profile (for example 1g.10gb)?")
    if _ASK_VALID_NO_PROFILES.search(text) and (found.of("gpu") or found.of("family")):
        return Outcome(clarify="Which profiles should I check together (for example "
                       "3g.40gb + 2g.20gb)?")  # fmt: skip
    return Outcome()


def _gpu_only(found: v.Found, tool: str, fld: str, unit: str) -> Outcome:
    draft = Draft(tool=tool, field=fld, unit=unit)
    ask = _choose_gpu(found, draft, [])
    return Outcome(clarify=ask) if ask else Outcome(draft=draft)


def _placement(text: str, found: v.Found, profile_raws: list[str]) -> Outcome:
    q.find_slots(found)
    how_many = bool(_HOW_MANY.search(text) or _COUNT_WORD.search(text))
    if not how_many and not _VALID_CUE.search(text) and len(profile_raws) < 2:
        return Outcome()
    draft = Draft(tool="mig_capacity", field="count", unit="instances")
    ask = _choose_gpu(found, draft, profile_raws)
    if ask:
        return Outcome(clarify=ask)
    gpu = draft.arguments["gpu"]
    named = _profile_names(found, gpu)
    if isinstance(named, str):
        return Outcome(clarify=named)
    slots = found.of("slot")
    # The profile asked about is the one after "how many"; the others are already there.
    target: tuple[str, v.Mention] | None = None
    if how_many:
        hm = _HOW_MANY.search(text)
        if hm is None:
            # "1g.10gb count on ...": the profile named is the one counted.
            target = named[0]
        else:
            after = [p for p in named if p[1].start >= hm.start()]
            target = after[0] if after else named[-1]
    pinned: list[dict[str, Any]] = []
    existing: list[str] = []
    listed: list[str] = []
    empty = bool(_EMPTY.search(text))
    claimed: set[int] = set()
    ordered = [m for _, m in named]
    for index, (name, mention) in enumerate(named):
        if target is not None and mention is target[1]:
            continue
        if empty and target is not None:
            continue
        # A slot belongs to the profile before it, up to the next profile named.
        nxt = ordered[index + 1].start if index + 1 < len(ordered) else len(text)
        mine = [s for s in slots if mention.end <= s.start < nxt
                and 0 <= s.start - mention.end <= 40 and s.start not in claimed]  # fmt: skip
        count = _profile_count(found, mention)
        n = count[0] if count else 1
        if mine:
            for s in mine[:1]:
                claimed.add(s.start)
                pinned.append({"profile": name, "slot": int(s.value)})  # type: ignore[call-overload]
            # "a 1g.10gb at slot 0 and another at slot 1"
            for extra in _ANOTHER.finditer(text, mine[0].end, nxt):
                pinned.append({"profile": name, "slot": int(extra.group(1))})
                found.add(v.Mention("slot", int(extra.group(1)), extra.start(), extra.end(),
                                    extra.group(0)))  # fmt: skip
        else:
            listed.extend([name] * n)
    if target is not None:
        draft.stated("profile", target[0], target[1].words)
        if pinned:
            draft.stated("pinned", pinned, ", ".join(f"{p['profile']} at slot {p['slot']}"
                                                     for p in pinned))  # fmt: skip
        if listed:
            existing = listed
            draft.stated("existing", existing, ", ".join(existing) + " already there")
        if not pinned and not existing:
            draft.assumed("existing", [], "an empty GPU: you didn't name instances already there",
                          in_call=False)  # fmt: skip
        return _validated(draft)
    # No "how many": a set of profiles to check together.
    draft = Draft(tool="mig_check", field="valid", arguments={"gpu": gpu},
                  notes=[n for n in draft.notes if n.name == "gpu"])  # fmt: skip
    if not listed and not pinned:
        return Outcome()
    if (
        not _VALID_CUE.search(text)
        and len(listed) + len(pinned) < 2
        and not re.search(r"\b(fit|fits)\b", text, re.I)
    ):
        return Outcome()
    if listed:
        draft.stated("profiles", listed, " + ".join(listed))
    if pinned:
        draft.stated("pinned", pinned, ", ".join(f"{p['profile']} at slot {p['slot']}"
                                                 for p in pinned))  # fmt: skip
    return _validated(draft)


def _resource(text: str, found: v.Found, profile_raws: list[str]) -> Outcome:
    draft = Draft(tool="mig_resource", field="resource")
    ask = _choose_gpu(found, draft, profile_raws)
    if ask:
        return Outcome(clarify=ask)
    named = _profile_names(found, draft.arguments["gpu"])
    if isinstance(named, str):
        return Outcome(clarify=named)
    draft.stated("profile", named[0][0], named[0][1].words)
    m = _STRATEGY.search(text)
    if m:
        draft.stated("strategy", (m.group(1) or m.group(2)).lower(), m.group(0))
        found.add(v.Mention("strategy", m.group(0), m.start(), m.end(), m.group(0)))
    else:
        draft.assumed("strategy", "mixed", "the mixed strategy: you didn't say which")
    return _validated(draft)


def _timeslice(text: str, found: v.Found) -> Outcome:
    q.find_gpu_counts(found)
    for gm in found.of("gpu") + found.of("family") + found.of("no_mig"):
        before = q.gpu_count_before(found, gm)
        if before is not None:
            found.add(before)
    q.find_replicas(found)
    draft = Draft(tool="mig_timeslice", field="count", unit="logical GPUs")
    if (
        _TS_RESOURCE_CUE.search(text)
        and not _HOW_MANY.search(text)
        and not _TS_COUNT_CUE.search(text)
    ):
        draft.field, draft.unit = "resource", ""
    counts = found.of("gpu_count")
    replicas = found.of("replicas")
    if not replicas:
        return Outcome(clarify="How many replicas per GPU does the time-slicing config set?")
    draft.stated("replicas", int(replicas[0].value), replicas[0].words)  # type: ignore[call-overload]
    if counts:
        draft.stated("gpus", int(counts[0].value), counts[0].words)  # type: ignore[call-overload]
    else:
        gpu_named = found.of("gpu") + found.of("family") + found.of("no_mig")
        if gpu_named and re.search(r"\b(?:a|an|one|single|the)\s+(?:nvidia\s+)?$",
                                   text[max(0, gpu_named[0].start - 12) : gpu_named[0].start],
                                   re.I):  # fmt: skip
            draft.stated("gpus", 1, text[max(0, gpu_named[0].start - 3) : gpu_named[0].end])
        elif gpu_named and not re.search(r"s\b", gpu_named[0].words[-1:] + " ", re.I):
            draft.stated("gpus", 1, gpu_named[0].words)
        else:
            return Outcome(clarify="How many physical GPUs are time-sliced?")
    rename = re.search(r"(without|no|not?\s+using|disabled?|false)\W+(?:\w+\W+)?rename|"
                       r"rename[\s-]*by[\s-]*default|renamebydefault|\.shared\b",
                       text, re.I)  # fmt: skip
    if rename:
        value = not bool(rename.group(1)) and not re.search(
            r"renamebydefault\s*[:=]\s*false|rename[\s-]*by[\s-]*default\s*(?:is\s+)?(?:off|false)",
            text, re.I)  # fmt: skip
        draft.stated("rename_by_default", value, rename.group(0))
        found.add(v.Mention("rename", value, rename.start(), rename.end(), rename.group(0)))
    else:
        draft.assumed("rename_by_default", False, "renameByDefault off, the plugin's default")
    return _validated(draft)


def _fit(text: str, found: v.Found) -> Outcome:
    q.find_context(found, fit_like=True)
    q.find_batch(found)
    draft = Draft(tool="mig_fit", field="profile", unit="")
    profile_raws = [str(m.value) for m in found.of("profile")]
    ask = _choose_gpu(found, draft, profile_raws)
    if ask:
        return Outcome(clarify=ask)
    model = found.first("model")
    if model is None:
        shape = _shape(text, found)
        if shape is None:
            return Outcome(clarify=_WHICH_MODEL)
        for name, (value, words) in shape.items():
            draft.stated(name, value, words)
    else:
        draft.stated("model", model.value, model.words)
    named = _profile_names(found, draft.arguments["gpu"])
    if isinstance(named, str):
        return Outcome(clarify=named)
    if named:
        draft.stated("profile", named[0][0], named[0][1].words)
    if _SEQUENCES_CUE.search(text):
        draft.field, draft.unit = "max_sequences", "sequences"
    elif named and (_FITS_CUE.search(text) or not _SMALLEST_CUE.search(text)):
        draft.field = "fits"
    weights = found.first("weights_dtype")
    if weights:
        draft.stated("weights_dtype", weights.value, weights.words)
    else:
        draft.assumed("weights_dtype", "bf16", "bf16 weights: you didn't say", in_call=False)
    kv = found.first("kv_dtype")
    if kv:
        draft.stated("kv_dtype", kv.value, kv.words)
    else:
        draft.assumed("kv_dtype", "bf16", "bf16 KV cache: you didn't say", in_call=False)
    context = found.first("context")
    if context:
        draft.stated("context", int(float(context.value)), context.words)  # type: ignore[arg-type]
    else:
        draft.assumed("context", 4096, "4,096 tokens: you didn't say", in_call=False)
    overhead = _OVERHEAD.search(text)
    if overhead:
        extra = v.number_value(overhead.group(1) or overhead.group(2))
        draft.stated("overhead_gib", extra, overhead.group(0))
        found.add(v.Mention("overhead", extra, overhead.start(), overhead.end(), overhead.group(0)))
    if draft.field != "max_sequences":
        batch = found.first("batch")
        if batch:
            draft.stated("batch", int(float(batch.value)), batch.words)  # type: ignore[arg-type]
        else:
            draft.assumed("batch", 1, "one sequence: you didn't say", in_call=False)
    return _validated(draft)


_WHICH_MODEL = (
    "Which model: one of Llama-3.1-8B, Llama-3.1-70B, Qwen2.5-7B, Qwen2.5-32B, "
    "Qwen3-8B, Qwen3-32B, or its params, layers, KV heads and head_dim?"
)


def _shape(text: str, found: v.Found) -> dict[str, tuple[int, str]] | None:
    """A custom model given inline: params, layers, KV heads and head_dim, all four."""
    out: dict[str, tuple[int, str]] = {}
    params = _PARAMS.search(text)
    if params is None or found.overlaps(params.start(), params.end()):
        return None
    scale = 1e9 if params.group(2).lower() == "b" else 1e6
    out["params"] = (round(float(params.group(1)) * scale), params.group(0))
    spans = [(params.start(), params.end())]
    for name, pattern in _SHAPE.items():
        m = pattern.search(text)
        if m is None:
            return None
        out[name] = (int(v.number_value(m.group(1) or m.group(2))), m.group(0))
        spans.append((m.start(), m.end()))
    for (start, end), (value, words) in zip(spans, out.values(), strict=True):
        found.add(v.Mention("shape", value, start, end, words))
    return out


def _custom_fit(text: str, found: v.Found, unknown: re.Match[str] | None) -> Outcome:
    if _shape(text, v.Found(text)) is not None:
        return _fit(text, found)
    if unknown is not None and unknown.group(1) and not unknown.group(2):
        return Outcome(clarify=f"I don't have {unknown.group(1).strip()}'s shape in the catalogue. "
                       "Give its params, layers, KV heads and head_dim, or pick one of "
                       "Llama-3.1-8B, Llama-3.1-70B, Qwen2.5-7B, Qwen2.5-32B, Qwen3-8B, "
                       "Qwen3-32B.")  # fmt: skip
    if unknown is not None and unknown.group(2):
        return Outcome(clarify="A parameter count alone is not enough for the KV cache: how many "
                       "layers, KV heads and what head_dim does the model have?")  # fmt: skip
    return Outcome(clarify=_WHICH_MODEL)


def _pack(text: str, found: v.Found) -> Outcome:
    draft = Draft(tool="mig_pack", field="gpus_needed", unit="GPUs")
    ask = _choose_gpu(found, draft, [])
    if ask:
        return Outcome(clarify=ask)
    sizes = q.find_tenant_sizes(found)
    tenants = []
    words = []
    for i, m in enumerate(sizes, 1):
        size, _unit = m.value[:2]  # type: ignore[index]
        tenant: dict[str, Any] = {"name": f"tenant-{i}", "memory_gib": float(size)}
        if len(m.value) > 2 and m.value[2]:  # type: ignore[arg-type]
            tenant["compute_slices"] = int(m.value[2])  # type: ignore[index]
        tenants.append(tenant)
        slices = re.compile(r"\d+\s*compute\s+slices?", re.I).search(text, m.end, m.end + 40)
        if slices:
            found.add(v.Mention("slices", 0, slices.start(), slices.end(), slices.group(0)))
        words.append(m.words)
        found.add(v.Mention("tenant_size", size, m.start, m.end, m.words))
    draft.stated("tenants", tenants, ", ".join(dict.fromkeys(words)))
    if any(str(m.value[1]) == "gb" for m in sizes):  # type: ignore[index]
        draft.assumed("memory unit", "GiB", "GB read as GiB (2^30 bytes)", in_call=False)
    return _validated(draft)


def _validated(draft: Draft) -> Outcome:
    from tutor.mig.tools import TOOLS

    tool = TOOLS.get(draft.tool)
    if tool is not None:
        try:
            tool.args_model.model_validate(draft.arguments)
        except ValidationError as exc:
            return Outcome(clarify=f"I can't compute that: {_range_error(exc)}. What did you mean?")
    return Outcome(draft=draft)
