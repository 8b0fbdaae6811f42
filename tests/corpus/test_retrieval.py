"""Hybrid search: fusion order, filters, citations, and the CLI's search output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tutor.corpus import Hit, Retriever, build_index
from tutor.corpus.retrieval import min_max, score_fuse, tokenize
from tutor.engine.events import Citation
from tutor.settings import Settings

from .conftest import FIXTURE_DOCS, make_settings, write_docs


def test_score_fuse_rewards_agreement_over_a_single_first_place() -> None:
    fused = score_fuse([{"a": 1.0, "b": 0.9, "c": 0.2}, {"b": 1.0, "d": 0.8, "a": 0.1}])
    order = [item for item, _ in fused]
    assert order[:2] == ["b", "a"]  # both lists score them; 'b' sums higher
    assert set(order) == {"a", "b", "c", "d"}
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1.9)
    assert scores["c"] < scores["a"]


def test_score_fuse_weights_and_empty_lists() -> None:
    assert score_fuse([{}, {}]) == []
    fused = dict(score_fuse([{"x": 1.0}, {"y": 1.0}], weights=[0.6, 0.4]))
    assert fused["x"] == pytest.approx(0.6) and fused["y"] == pytest.approx(0.4)


def test_min_max_scales_between_floor_and_top() -> None:
    assert min_max({"a": 0.8, "b": 0.5, "c": 0.2}) == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})
    # With an explicit floor the weakest item keeps a share instead of dropping to zero.
    assert min_max({"a": 4.0, "b": 1.0}, low=0.0) == pytest.approx({"a": 1.0, "b": 0.25})
    assert min_max({"a": 3.0, "b": 3.0}) == {"a": 1.0, "b": 1.0}
    assert min_max({}) == {}


def test_tokenize_folds_domain_spellings() -> None:
    slicing = tokenize("time-slicing")
    assert tokenize("time slicing") == slicing and tokenize("timeslicing") == slicing
    assert "mig" in tokenize("Multi-Instance GPU")
    assert tokenize("noisy neighbor") == tokenize("noisy neighbour")
    assert tokenize("what's MIG vs MPS") == ["mig", "mps"]


def test_tokenize_keeps_profile_names_and_stems() -> None:
    tokens = tokenize("How many 1g.10gb partitions on nvidia-smi?")
    assert "1g.10gb" in tokens and "1g" in tokens and "10gb" in tokens
    assert "partit" in tokens and "nvidia-smi" in tokens
    assert tokenize("combine slicing isolates") == tokenize("combination slices isolation")
    assert "how" not in tokens and "on" not in tokens


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedding_model: Any) -> Settings:
    """One index for the read-only tests of this module."""
    root = tmp_path_factory.mktemp("retrieval")
    write_docs(root / "corpus", FIXTURE_DOCS)
    settings = make_settings(root, root / "corpus")
    build_index(settings)
    return settings


def test_keyword_only_match_comes_from_bm25(built: Settings) -> None:
    hits = Retriever(built).search("quartermaster zebra crossings", k=3)
    assert hits[0].doc == "plain-notes" and hits[0].section == ""
    assert hits[0].title == "plain notes"


def test_paraphrase_match_comes_from_dense_search(built: Settings) -> None:
    hits = Retriever(built).search("can one tenant's pods run another out of VRAM?", k=2)
    assert ("time-slicing", "No memory isolation") in {(h.doc, h.section) for h in hits}


def test_hits_carry_their_citation(built: Settings) -> None:
    hit = Retriever(built).search("nvidia-smi -mig 1 enable MIG mode", k=1)[0]
    assert isinstance(hit, Hit)
    assert (hit.doc, hit.title, hit.section) == ("mig-basics", "MIG basics", "Enabling MIG mode")
    assert hit.url == "https://example.test/mig-basics"
    assert hit.topics == ["mig", "concepts"] and hit.kind == "reference"
    assert "nvidia-smi -i 0 -mig 1" in hit.text and hit.score > 0
    citation = hit.to_citation()
    assert isinstance(citation, Citation)
    assert citation.model_dump() == {
        "id": hit.id,
        "title": "MIG basics",
        "section": "Enabling MIG mode",
        "url": "https://example.test/mig-basics",
        "text": hit.text,
        "score": hit.score,
        "added": False,
    }
    assert citation.label == "MIG basics > Enabling MIG mode"


def test_nested_sections_cite_the_full_path(built: Settings) -> None:
    hits = Retriever(built).search("compute instances subdivide streaming multiprocessors", k=1)
    assert hits[0].section == "GPU instances > Compute instances"


def test_scores_descend_and_k_is_respected(built: Settings) -> None:
    hits = Retriever(built).search("MIG GPU instance memory", k=3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.id for h in hits}) == 3


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        ({"kinds": ["lesson"]}, {"lesson-sharing"}),
        ({"topics": ["kubernetes"]}, {"time-slicing"}),
        ({"topics": ["concepts", "lesson"]}, {"mig-basics", "lesson-sharing"}),
        ({"kinds": ["reference"], "topics": ["mig"]}, {"mig-basics"}),
        ({"docs": ["time-slicing"]}, {"time-slicing"}),
    ],
)
def test_filters_limit_both_retrievers(
    built: Settings, filters: dict[str, Any], allowed: set[str]
) -> None:
    hits = Retriever(built).search("GPU instances memory replicas predict", k=10, **filters)
    assert hits and {h.doc for h in hits} <= allowed


def test_filter_matching_nothing_and_blank_query(built: Settings) -> None:
    retriever = Retriever(built)
    assert retriever.search("MIG", topics=["no-such-topic"]) == []
    assert retriever.search("   ") == []


def test_cli_search_json(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.cli.main import app

    monkeypatch.setenv("TUTOR_HOME", str(built.home))
    monkeypatch.setenv("TUTOR_CORPUS_DIR", str(built.corpus_dir))
    result = CliRunner().invoke(app, ["corpus", "search", "enable MIG mode", "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 2
    assert set(data[0]) == {"id", "text", "title", "section", "url", "score"}
    assert data[0]["section"] == "Enabling MIG mode"


def test_cli_build_stats_add(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from tutor.cli.main import app

    built = settings
    build_index(settings)
    monkeypatch.setenv("TUTOR_HOME", str(built.home))
    monkeypatch.setenv("TUTOR_CORPUS_DIR", str(built.corpus_dir))
    runner = CliRunner()
    result = runner.invoke(app, ["corpus", "build"])
    assert result.exit_code == 0 and "index up to date" in result.stdout

    note = tmp_path / "site-notes.txt"
    note.write_text("Rack 7 holds the H200 nodes.")
    result = runner.invoke(app, ["corpus", "add", str(note)])
    assert result.exit_code == 0, result.output
    assert "added" in result.stdout and "+1" in result.stdout

    result = runner.invoke(app, ["corpus", "stats", "--json"])
    stats = json.loads(result.stdout)
    assert stats["files"] == 5 and stats["by_kind"]["user"] == 1 and stats["pending"] == 0

    result = runner.invoke(app, ["corpus", "add", str(tmp_path / "nope.md")])
    assert result.exit_code == 2
    assert "nope.md does not exist" in result.output
