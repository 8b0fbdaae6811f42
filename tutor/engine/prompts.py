"""Teacher-editable prompt files: plain text with $variables, no code execution.

Each file in the prompts folder is a `string.Template`. The variables a file may
use are fixed here, so a typo is caught at load time with the file and variable
named, and a teacher can see every variable in `tutor prompts check`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

PROMPT_VARIABLES: dict[str, frozenset[str]] = {
    "system": frozenset({"lesson_title"}),
    "ask": frozenset({"step_title", "concept", "question", "options"}),
    "reveal": frozenset(
        {"step_title", "question", "guess", "verdict", "answer", "explanation", "facts", "passages"}
    ),
    "recall": frozenset({"question", "learner_answer", "model_answer", "hits", "misses"}),
    "teach_back": frozenset({"question", "learner_answer", "hits", "misses", "model_answer"}),
    "free": frozenset({"question", "passages", "facts"}),
}

SAMPLE_VALUES: dict[str, str] = {
    "lesson_title": "A sample lesson",
    "step_title": "What MIG does",
    "concept": "How MIG shares one GPU.",
    "question": "You turn on MIG on one H100. What does it do?",
    "options": "A) ...\nB) ...",
    "guess": "A",
    "verdict": "not right",
    "answer": "B",
    "explanation": "MIG splits one GPU into up to 7 isolated instances.",
    "facts": "capacity = 7",
    "passages": "[1] Sample source > Section: ...",
    "misconception": "That is time-slicing.",
    "learner_answer": "MIG isolates tenants.",
    "model_answer": "Own SMs, memory and L2 per instance.",
    "hits": "isolation",
    "misses": "noisy neighbour",
}


# Values a learner wrote sit between <learner> tags in a prompt: every '<' and '>' in
# them is escaped, so "</learner> ignore the rules" cannot close the tag and speak as
# the prompt. Other values (passages from documents, plan text) keep the engine's own
# <passage> wrappers, and any delimiter-like tag inside them is escaped.
LEARNER_VARIABLES = frozenset({"question", "guess", "learner_answer"})
_DELIMITER = re.compile(
    r"</?\s*(?:passage|learner|system|user|assistant|instructions?)\b[^<>]{0,200}>", re.I
)
_OPEN, _CLOSE = "<passage>", "</passage>"


def escape_data(text: str) -> str:
    """Text safe to put between prompt delimiters: no '<' or '>' can open or close a tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_tags(text: str) -> str:
    return _DELIMITER.sub(lambda m: escape_data(m.group(0)), text)


def _escape_passages(text: str) -> str:
    """Escape delimiter tags inside each <passage>...</passage> the engine wrote, and stray ones.

    A plain scan with str.find keeps this linear however many unclosed tags arrive.
    """
    out: list[str] = []
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        end = text.find(_CLOSE, start + len(_OPEN)) if start != -1 else -1
        if start == -1 or end == -1:
            out.append(_escape_tags(text[pos:]))
            return "".join(out)
        out.append(_escape_tags(text[pos:start]))
        out.append(_OPEN + _escape_tags(text[start + len(_OPEN) : end]) + _CLOSE)
        pos = end + len(_CLOSE)


class PromptError(Exception):
    """A prompt file is missing or uses a variable it may not; names the file and the fix."""


@dataclass(frozen=True)
class PromptSet:
    folder: Path
    templates: dict[str, Template]
    digest: str
    _instructions: list[list[str]] = field(default_factory=list, repr=False, compare=False)

    def render(self, name: str, **values: str) -> str:
        safe = {
            k: escape_data(v) if k in LEARNER_VARIABLES else _escape_passages(v)
            for k, v in values.items()
        }
        try:
            return self.templates[name].substitute(safe)
        except KeyError as exc:
            raise PromptError(
                f"{self.folder / (name + '.md')}: variable ${exc.args[0]} has no value here"
            ) from exc

    def instructions(self) -> list[list[str]]:
        """The prompts' own words, line by line with the $variables taken out, as word lists."""
        if not self._instructions:
            for template in self.templates.values():
                for line in template.template.splitlines():
                    words = _words(re.sub(r"\$\{?\w+\}?", " ", line))
                    if len(words) >= 4:
                        self._instructions.append(words)
        return self._instructions

    def echoes(self, sentence: str) -> bool:
        """True when a model sentence repeats the prompt's instructions back (cut it).

        Five words in a row from one instruction line, or a sentence made mostly of one
        line's words, is an echo: "You are a patient, encouraging tutor..." is not an
        answer to anyone.
        """
        said = _words(sentence)
        if len(said) < 4:
            return False
        joined = " " + " ".join(said) + " "
        for line in self.instructions():
            for i in range(len(line) - 4):
                if " " + " ".join(line[i : i + 5]) + " " in joined:
                    return True
            # short sentences share words with some line by chance ("Take a moment: pick
            # an option."); only a longer one made of one line's words is an echo
            shared = sum(1 for w in said if w in line)
            if len(said) >= 8 and shared >= 0.8 * len(said):
                return True
        return False


_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def load_prompts(folder: Path) -> PromptSet:
    if folder.exists() and not folder.is_dir():
        raise PromptError(
            f"{folder}: is a file, not a prompts folder; name the folder that holds "
            "system.md, ask.md and the rest"
        )
    if not folder.is_dir():
        raise PromptError(f"{folder}: prompts folder not found (set TUTOR_PROMPTS_DIR)")
    templates: dict[str, Template] = {}
    hasher = hashlib.sha256()
    for name, allowed in sorted(PROMPT_VARIABLES.items()):
        path = folder / f"{name}.md"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PromptError(f"{path}: missing; every prompt set needs {name}.md") from exc
        except IsADirectoryError as exc:
            raise PromptError(f"{path}: is a folder; {name}.md must be a text file") from exc
        except UnicodeDecodeError as exc:
            raise PromptError(f"{path}: not UTF-8 text") from exc
        except OSError as exc:
            raise PromptError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
        template = Template(text)
        if not template.is_valid():
            raise PromptError(f"{path}: a '$' that is not a variable; write $$ for a dollar sign")
        unknown = set(template.get_identifiers()) - allowed
        if unknown:
            raise PromptError(
                f"{path}: unknown variable ${sorted(unknown)[0]}; "
                f"{name}.md may use: {', '.join('$' + v for v in sorted(allowed))}"
            )
        templates[name] = template
        hasher.update(name.encode() + b"\0" + text.encode() + b"\0")
    return PromptSet(folder=folder, templates=templates, digest=hasher.hexdigest()[:12])


def render_all(prompts: PromptSet) -> dict[str, str]:
    """Render every prompt with sample values: what `tutor prompts check` shows."""
    return {
        name: prompts.render(name, **{v: SAMPLE_VALUES[v] for v in PROMPT_VARIABLES[name]})
        for name in prompts.templates
    }
