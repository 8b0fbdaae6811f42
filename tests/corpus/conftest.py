"""Fixtures for corpus tests: a small fixture corpus and one embedding model per session."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tutor.settings import ChromaSettings, Settings

FIXTURE_DOCS: dict[str, str] = {
    "mig-basics.md": """
        ---
        title: "MIG basics"
        sources: [https://example.test/mig-basics]
        topics: [mig, concepts]
        kind: reference
        ---

        # MIG basics

        Multi-Instance GPU splits one physical GPU into isolated instances.

        ## GPU instances

        A GPU instance owns a fixed set of memory slices and compute slices. Each has its
        own L2 cache share and memory bandwidth, so a noisy neighbour cannot slow it down.

        ### Compute instances

        Inside a GPU instance, compute instances subdivide the streaming multiprocessors
        while sharing the instance's memory.

        ## Enabling MIG mode

        Run `nvidia-smi -i 0 -mig 1` as root, then reset the GPU before creating instances.
        """,
    "time-slicing.md": """
        ---
        title: "Time-slicing in Kubernetes"
        sources: [https://example.test/time-slicing]
        topics: [kubernetes, time-slicing]
        kind: reference
        ---

        # Time-slicing in Kubernetes

        ## How replicas work

        The device plugin advertises each physical GPU as several replicas. Pods that
        receive replicas of the same GPU take turns on it.

        ## No memory isolation

        Time-sliced workloads share all GPU memory: one pod can exhaust it and crash the
        others. There is no fault isolation either.
        """,
    "lesson-sharing.md": """
        ---
        title: "Lesson: sharing a GPU"
        topics: [mig, lesson]
        kind: lesson
        ---

        # Lesson: sharing a GPU

        ## Step 1 — predict

        Guess how many 1g.10gb instances fit on an A100 80GB before reading on. The
        answer is seven, one per compute slice.
        """,
    "plain-notes.md": """
        Notes without any heading at all. The quartermaster counts the zebra crossings
        near the data centre every Tuesday, which has nothing to do with GPUs.
        """,
}


def write_docs(folder: Path, docs: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def make_settings(tmp_path: Path, corpus_dir: Path | None = None, **extra: Any) -> Settings:
    return Settings(
        home=tmp_path / "home",
        corpus_dir=corpus_dir if corpus_dir is not None else tmp_path / "corpus",
        evals_dir=tmp_path / "evals",
        chroma=extra.pop("chroma", ChromaSettings()),
        **extra,
    )


@pytest.fixture(scope="session")
def embedding_model() -> Any:
    """Loading the model costs seconds; every test that embeds shares this one load."""
    from tutor.corpus.embedding import get_model

    return get_model()


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write_docs(folder, FIXTURE_DOCS)
    return folder


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path, embedding_model: Any) -> Settings:
    return make_settings(tmp_path, corpus_dir)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    return lambda **kw: make_settings(tmp_path, **kw)
