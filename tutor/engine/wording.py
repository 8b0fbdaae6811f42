"""The model's words under the guards: the only room that talks to the model.

A note is streamed sentence by sentence; a sentence reaches the learner only if it leaks
nothing pending, states no number its sources lack, is not an echo of the prompt and,
for the embedded model, is made mostly of the sources' own words. The first sentence
that fails ends the note.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from tutor.engine.events import ToolRecord
from tutor.engine.guards import AnswerKey, is_meta, note_leaks, supported, ungrounded_numbers
from tutor.engine.prompts import PromptSet
from tutor.engine.replies import SENTENCE_END
from tutor.gateway.types import ChatModel, Message

_ECHO_OPENING = re.compile(
    r"^\s*(?:the (?:right |correct )?answer is (?:right|correct) because|"
    r"(?:a )?(?:good|strong) answer:|remember:|in short,)\s*",
    re.I,
)


class Note:
    """What survived of the model's words in one turn."""

    def __init__(self) -> None:
        self.sentences: list[str] = []
        self.cut = False

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def tidy(sentence: str) -> str:
    """Turn a small model's echo of the prompt's labels into plain speech, or leave it."""
    clean = sentence.strip()
    match = _ECHO_OPENING.match(clean)
    if match is None:
        return clean
    label = match.group(0).strip().lower()
    rest = clean[match.end() :]
    if not rest:
        return clean
    if label.endswith("because"):
        return "That's because " + rest
    prefix = {"remember:": "Remember: ", "in short,": "In short, "}.get(label, "")
    return prefix + rest[0].upper() + rest[1:] if not prefix else prefix + rest


class Wording:
    def __init__(
        self, model: ChatModel, prompts: PromptSet, lesson_title: str, *, strict: bool
    ) -> None:
        self.model = model
        self.prompts = prompts
        self.lesson_title = lesson_title
        self.strict = strict
        self.rendered: list[str] = []
        """Prompt files rendered since the last `take_rendered`, for the turn's record."""

    def take_rendered(self) -> list[str]:
        rendered, self.rendered = self.rendered, []
        return rendered

    def messages(self, template: str, values: dict[str, str]) -> list[Message]:
        for name in ("system.md", f"{template}.md"):
            if name not in self.rendered:
                self.rendered.append(name)
        return [
            {
                "role": "system",
                "content": self.prompts.render("system", lesson_title=self.lesson_title),
            },
            {"role": "user", "content": self.prompts.render(template, **values)},
        ]

    async def note(
        self,
        note: Note,
        template: str,
        values: dict[str, str],
        *,
        key: AnswerKey | None,
        allowed: list[str],
        max_tokens: int,
        first_lead: str = "\n\n",
    ) -> AsyncIterator[str]:
        """Yield the text of each sentence that passes, ready to write into the turn.

        With strict wording only the ask invitation is the model's: a 135M model's
        explanations were seen to contradict the facts they were given (calling MIG
        "flexible"), so reveals, recall and answers stay with the plan and the sources.
        """
        if self.strict and template != "ask":
            return
        messages = self.messages(template, values)
        buffer = ""

        def accept(sentence: str) -> str | None:
            clean = tidy(sentence)
            if not clean or clean in note.sentences:
                return None
            # A sentence that only restates the question shown below it adds nothing.
            if template == "ask" and supported(clean, [values.get("question", "")], 0.9):
                return None
            note.sentences.append(clean)
            return (first_lead if len(note.sentences) == 1 else " ") + clean

        async for chunk in self.model.stream(messages, max_tokens=max_tokens):
            buffer += chunk.text
            *done, buffer = SENTENCE_END.split(buffer)
            for sentence in done:
                if not self.sentence_ok(tidy(sentence), key, allowed):
                    note.cut = True
                    return
                text = accept(sentence)
                if text is not None:
                    yield text
        if buffer.strip():
            if self.sentence_ok(tidy(buffer), key, allowed) and re.search(r"[.!?]\s*$", buffer):
                text = accept(buffer)
                if text is not None:
                    yield text
            else:
                note.cut = True

    def sentence_ok(self, sentence: str, key: AnswerKey | None, allowed: list[str]) -> bool:
        # Before a guess a sentence may neither give the key away nor lean toward any
        # option, right or wrong ("choose the option that is the most fair").
        if key is not None and note_leaks(sentence, key):
            return False
        if self.prompts.echoes(sentence):
            return False
        if ungrounded_numbers(sentence, allowed):
            return False
        # Echoes of the prompt, injected orders and run-on rambling are dropped.
        if is_meta(sentence) or len(sentence.split()) > 45:
            return False
        return not self.strict or supported(sentence, allowed)

    async def propose_call(self, question: str) -> tuple[str, dict[str, Any]] | None:
        """A hosted model's single calculator call for a question the reader could not
        complete; None when it proposes none or several."""
        from tutor.mig.tools import openai_tools

        values = dict(question=question, passages="", facts="")
        messages = self.messages("free", values)
        calls = []
        async for chunk in self.model.stream(messages, tools=openai_tools(), max_tokens=200):
            calls.extend(chunk.tool_calls)
        if len(calls) != 1:
            return None
        try:
            args = json.loads(calls[0].arguments or "{}")
        except json.JSONDecodeError:
            return None
        return (calls[0].name, args) if isinstance(args, dict) else None

    async def tool_round(
        self,
        values: dict[str, str],
        run_tool: Callable[[str, dict[str, Any]], ToolRecord],
    ) -> list[ToolRecord]:
        """A hosted model proposes calculator calls for a free question; code runs them."""
        from tutor.mig.tools import openai_tools

        messages = self.messages("free", values)
        records: list[ToolRecord] = []
        async for chunk in self.model.stream(messages, tools=openai_tools(), max_tokens=200):
            for call in chunk.tool_calls:
                try:
                    args = json.loads(call.arguments or "{}")
                except json.JSONDecodeError:
                    args = {"_raw": call.arguments}
                records.append(run_tool(call.name, args if isinstance(args, dict) else {}))
        return records
