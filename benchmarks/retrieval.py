"""Corpus benchmark: full build, no-op rebuild and warm query latency, each beside its goal.

The warm query is timed side by side with a raw Chroma dense query on the same
collection and model (embed the query, ask Chroma for the top 5), alternating one of
each so machine load hits both alike. Goal: the hybrid p50 within 1.5x of the raw one.

Run: .venv/bin/python benchmarks/retrieval.py [--queries 200]
Uses a temporary data home and the project's corpus/; never touches the real index.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

GOALS = {"build_s": 15.0, "noop_s": 1.0, "p50_ms": 20.0, "ratio": 1.5}


def _queries(evals_dir: Path, n: int) -> list[str]:
    from tutor.corpus.evaluate import load_questions

    base = [q.question for q in load_questions(evals_dir / "retrieval" / "questions.yaml")]
    if not base:
        base = ["what is a MIG GPU instance"]
    # Distinct strings, so no layer can answer from a cache of earlier queries.
    return [base[i % len(base)] + ("" if i < len(base) else f" ({i})") for i in range(n)]


def _line(name: str, value: float, unit: str, goal: float) -> str:
    mark = "ok" if value < goal else "OVER"
    return f"{name:<22} {value:9.2f} {unit:<3} goal < {goal:g} {unit}  {mark}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    from tutor.corpus import Retriever, build_index
    from tutor.corpus.embedding import get_model
    from tutor.settings import ChromaSettings, Settings

    with tempfile.TemporaryDirectory(prefix="tutor-bench-") as tmp:
        settings = Settings(home=Path(tmp), chroma=ChromaSettings())
        started = time.perf_counter()
        cpu_started = time.process_time()
        get_model()
        load_s = time.perf_counter() - started
        stats = build_index(settings)
        build_s = time.perf_counter() - started
        build_cpu = time.process_time() - cpu_started

        started = time.perf_counter()
        noop = build_index(settings)
        noop_s = time.perf_counter() - started
        assert noop.noop, "second build was expected to change nothing"

        from tutor.corpus.embedding import embed_query
        from tutor.corpus.index import get_store

        retriever = Retriever(settings)
        collection = get_store(settings).collection
        queries = _queries(settings.evals_dir, args.queries)
        for query in queries[:10]:  # warm-up: index load, BM25 build, first-call overheads
            retriever.search(query)
            collection.query(query_embeddings=[embed_query(query).tolist()], n_results=5)
        latencies = []
        cpu = []
        raw = []
        for query in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            retriever.search(query, k=5)
            latencies.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            t0 = time.perf_counter()
            collection.query(query_embeddings=[embed_query(query).tolist()], n_results=5)
            raw.append((time.perf_counter() - t0) * 1000)
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[18]
        raw_p50 = statistics.median(raw)

        print(f"corpus: {stats.files} files, {stats.chunks} passages; {len(queries)} queries")
        print(_line("full build (cold)", build_s, "s", GOALS["build_s"]))
        print(f"  of which model load    {load_s:9.2f} s")
        # On a shared machine wall time includes waiting for other processes; CPU time
        # shows what the code itself costs.
        print(f"  process CPU time       {build_cpu:9.2f} s")
        print(_line("no-op rebuild", noop_s, "s", GOALS["noop_s"]))
        print(_line("query p50 (warm)", p50, "ms", GOALS["p50_ms"]))
        print(f"query p95 (warm)       {p95:9.2f} ms")
        print(f"query p50 CPU time     {statistics.median(cpu):9.2f} ms")
        print(f"raw Chroma dense p50   {raw_p50:9.2f} ms  (same collection and model)")
        print(_line("hybrid / raw p50", p50 / raw_p50, "x", GOALS["ratio"]))
        print(f"load average           {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
