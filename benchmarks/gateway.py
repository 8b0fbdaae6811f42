"""Generation speed through the gateway vs raw llama.cpp, on the same model and prompt.

    .venv/bin/python benchmarks/gateway.py [--repeats 5] [--max-tokens 96] [--gguf PATH]

Both paths share one Llama object (the gateway's process-wide cache), are warmed
first, and run alternately so background load hits them alike. Reported:
generation tokens/s (tokens after the first, over the time from the first to
the last text token: the decode rate), end-to-end tokens/s (whole call), and
first-token latency for a ~600-token prompt with and without llama.cpp's
prompt-prefix reuse.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tutor.gateway import local, offline
from tutor.settings import ModelSettings

GOAL = 0.95
PROMPT = [
    {"role": "system", "content": "You are a patient tutor."},
    {
        "role": "user",
        "content": "Write a long, detailed story about a GPU that is split into seven "
        "smaller GPUs, and what each small GPU does all day.",
    },
]


_count: Any = None


def count_tokens(text: str) -> int:
    """Tokens in a reply; the gateway may merge tokens into one chunk, so count the text."""
    return len(_count(text.encode(), add_bos=False, special=False)) if text else 0


@dataclass
class Run:
    tokens: int
    first_s: float
    last_s: float
    total_s: float
    text: str

    @property
    def gen_tps(self) -> float:
        """Decode rate: tokens after the first over the time from first to last text."""
        span = self.last_s - self.first_s
        return (self.tokens - 1) / span if span > 0 and self.tokens > 1 else 0.0

    @property
    def e2e_tps(self) -> float:
        return self.tokens / self.total_s if self.total_s > 0 else 0.0


def raw_run(llama: Any, messages: list[dict[str, Any]], max_tokens: int) -> Run:
    start = time.perf_counter()
    first = last = 0.0
    pieces: list[str] = []
    for chunk in llama.create_chat_completion(
        messages=messages, stream=True, max_tokens=max_tokens, temperature=0.0
    ):
        text = chunk["choices"][0]["delta"].get("content")
        if text:
            if not pieces:
                first = time.perf_counter() - start
            pieces.append(text)
            last = time.perf_counter() - start
    total = time.perf_counter() - start
    text = "".join(pieces)
    return Run(count_tokens(text), first, last, total, text)


async def gateway_run(gateway: Any, messages: list[dict[str, Any]], max_tokens: int) -> Run:
    start = time.perf_counter()
    first = last = 0.0
    pieces: list[str] = []
    async for chunk in gateway.stream(messages, max_tokens=max_tokens):
        if chunk.text:
            if not pieces:
                first = time.perf_counter() - start
            pieces.append(chunk.text)
            last = time.perf_counter() - start
    total = time.perf_counter() - start
    text = "".join(pieces)
    return Run(count_tokens(text), first, last, total, text)


def long_prompt(tag: str) -> list[dict[str, Any]]:
    """About 600 tokens of tutoring context; `tag` makes the system prompt unique."""
    facts = " ".join(
        f"Fact {i}: a MIG slice on this GPU keeps its own memory and compute units."
        for i in range(28)
    )
    return [
        {"role": "system", "content": f"Session {tag}. You are a Socratic tutor. {facts}"},
        {"role": "user", "content": "How many slices can I make?"},
    ]


async def first_token_latency(gateway: Any, llama: Any, repeats: int) -> tuple[float, float, int]:
    """First-token latency for a ~600-token prompt: cold (fresh prefix) vs reused prefix."""
    cold: list[float] = []
    warm: list[float] = []
    n_prompt = 0
    for i in range(repeats):
        messages = long_prompt(f"{i}-{time.time_ns()}")
        cold.append((await gateway_run(gateway, messages, 1)).first_s)
        usage = llama.create_chat_completion(messages=messages, max_tokens=1)["usage"]
        n_prompt = int(usage["prompt_tokens"])
        # the next turn of the same conversation: the earlier prompt is a shared prefix
        follow = [
            *messages,
            {"role": "assistant", "content": "What do you predict?"},
            {"role": "user", "content": "Seven."},
        ]
        warm.append((await gateway_run(gateway, follow, 1)).first_s)
    return statistics.median(cold), statistics.median(warm), n_prompt


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--gguf", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    offline.apply()
    from tutor.gateway.gateway import Gateway

    name = "local/bench" if args.gguf else "local/smollm2"
    settings = ModelSettings(
        name=name, gguf_path=args.gguf, temperature=0.0, n_threads=args.threads
    )
    gateway = Gateway(settings)
    t0 = time.perf_counter()
    await gateway.awarmup()
    load_s = time.perf_counter() - t0
    llama = local.get_llama(gateway.local_spec())
    global _count
    _count = llama.tokenize
    print(f"model: {gateway.local_spec().path.name}  warmup {load_s:.1f}s")

    # warm both paths on the benchmark prompt
    raw_run(llama, PROMPT, 8)
    await gateway_run(gateway, PROMPT, 8)

    raw: list[Run] = []
    gw: list[Run] = []
    for _ in range(args.repeats):
        raw.append(raw_run(llama, PROMPT, args.max_tokens))
        gw.append(await gateway_run(gateway, PROMPT, args.max_tokens))
    same = all(r.text == g.text for r, g in zip(raw, gw, strict=True))

    raw_tps = statistics.median(r.gen_tps for r in raw)
    gw_tps = statistics.median(g.gen_tps for g in gw)
    raw_e2e = statistics.median(r.e2e_tps for r in raw)
    gw_e2e = statistics.median(g.e2e_tps for g in gw)
    ratio = gw_tps / raw_tps if raw_tps else 0.0
    e2e_ratio = gw_e2e / raw_e2e if raw_e2e else 0.0
    print(
        f"tokens per run: {raw[0].tokens} (max_tokens={args.max_tokens}, temperature 0, "
        f"{args.repeats} repeats, medians; same text both paths: {same})"
    )
    print(f"generation tok/s  raw {raw_tps:7.1f}   gateway {gw_tps:7.1f}")
    print(f"end-to-end tok/s  raw {raw_e2e:7.1f}   gateway {gw_e2e:7.1f}")
    verdict = "ok" if ratio >= GOAL else "BELOW GOAL"
    print(f"ratio gateway/raw: generation {ratio:.3f}  (goal >= {GOAL})  {verdict}")
    print(f"ratio gateway/raw: end-to-end {e2e_ratio:.3f}")

    cold, warm, n_prompt = await first_token_latency(gateway, llama, max(2, args.repeats // 2))
    print(
        f"first token, ~{n_prompt}-token prompt: no prefix reuse {cold * 1000:.0f} ms, "
        f"with prefix reuse {warm * 1000:.0f} ms"
    )
    # informational: a busy machine moves both numbers, so the verdict never fails a build
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
