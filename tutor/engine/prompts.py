"""Teacher-editable prompt files: plain text with $variables, no code execution.

Each file in the prompts folder is a `string.Template`. The variables a file may
use are fixed here, so a typo is caught at load time with the file and variable
named, and a teacher can see every variable in `tutor prompts check`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from string import Template

PROMPT_VARIABLES: dict[str, frozenset[str]] = {
    "system": frozenset({"lesson_title"}),
    "ask": frozenset({"step_title", "concept", "question", "options"}),
    "reveal": frozenset(
        {"step_title", "question", "guess", "verdict", "answer", "explanation", "facts", "passages"}
    ),
    "feedback": frozenset({"guess", "answer", "misconception"}),
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


class PromptError(Exception):
    """A prompt file is missing or uses a variable it may not; names the file and the fix."""


@dataclass(frozen=True)
class PromptSet:
    folder: Path
    templates: dict[str, Template]
    digest: str

    def render(self, name: str, **values: str) -> str:
        try:
            return self.templates[name].substitute(values)
        except KeyError as exc:
            raise PromptError(
                f"{self.folder / (name + '.md')}: variable ${exc.args[0]} has no value here"
            ) from exc


def load_prompts(folder: Path) -> PromptSet:
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
        except UnicodeDecodeError as exc:
            raise PromptError(f"{path}: not UTF-8 text") from exc
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
