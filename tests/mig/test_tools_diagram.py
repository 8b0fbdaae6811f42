from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tutor.mig.catalogue import find_profile
from tutor.mig.diagram import render, segments
from tutor.mig.placement import check
from tutor.mig.tools import TOOLS, dispatch, openai_tools

REQUIRED = {
    "mig_check",
    "mig_capacity",
    "mig_fit",
    "mig_profiles",
    "mig_timeslice",
    "mig_resource",
    "mig_compare",
}


def test_tool_surface() -> None:
    assert set(TOOLS) >= REQUIRED
    schemas = openai_tools()
    assert len(schemas) == len(TOOLS)
    for s in schemas:
        assert s["type"] == "function"
        fn = s["function"]
        assert fn["name"] in TOOLS and fn["description"]
        assert fn["parameters"]["type"] == "object"
        assert "$defs" not in json.dumps(fn["parameters"])
    check_params = TOOLS["mig_check"].schema()["function"]["parameters"]
    assert check_params["required"] == ["gpu"]
    assert check_params["properties"]["gpu"]["description"]


def test_dispatch_check_with_diagram() -> None:
    out = dispatch(
        "mig_check",
        json.dumps(
            {"gpu": "a100 80gb", "profiles": ["3g.40gb", "2g.20gb"], "pinned": ["1g.10gb@6"]}
        ),
    )
    assert out.ok and out.result is not None
    assert out.result["valid"] is True
    assert out.diagram is not None and "3g.40gb" in out.diagram


def test_dispatch_errors_are_plain() -> None:
    assert dispatch("nope", {}).error == ("unknown tool 'nope'; available: " + ", ".join(TOOLS))
    bad_json = dispatch("mig_check", "{gpu:")
    assert not bad_json.ok and "not valid JSON" in (bad_json.error or "")
    unknown_gpu = dispatch("mig_profiles", {"gpu": "A100-81GB"})
    assert not unknown_gpu.ok and "closest: A100-80GB" in (unknown_gpu.error or "")
    invalid = dispatch("mig_fit", {"gpu": "H100 NVL", "model": "Qwen3-8B", "context": -1})
    assert not invalid.ok and "context" in (invalid.error or "")
    not_object = dispatch("mig_check", "[1, 2]")
    assert not not_object.ok


def test_dispatch_unknown_is_an_answer_not_an_error() -> None:
    out = dispatch("mig_capacity", {"gpu": "B200", "profile": "1g.23gb", "existing": ["2g.45gb"]})
    assert out.ok and out.result is not None
    assert out.result["count"] is None
    assert out.result["reason"].startswith("unknown: placements for B200")
    alone = dispatch("mig_capacity", {"gpu": "B200", "profile": "1g.23gb"})
    assert alone.ok and alone.result is not None
    assert alone.result["count"] == find_profile("B200", "1g.23gb").max_instances
    assert alone.result["decided_by"] == "instance-count"


def test_every_tool_runs() -> None:
    calls: dict[str, dict[str, Any]] = {
        "mig_gpus": {},
        "mig_profiles": {"gpu": "A30"},
        "mig_capacity": {"gpu": "A30", "profile": "1g.6gb"},
        "mig_fit": {"gpu": "A30", "model": "Qwen2.5-7B"},
        "mig_timeslice": {"gpus": 4, "replicas": 5},
        "mig_resource": {"gpu": "A30", "profile": "2g.12gb+me", "strategy": "mixed"},
        "mig_compare": {"gpu": "A30", "tenants": 3},
        "mig_enumerate": {"gpu": "A30"},
        "mig_pack": {"gpu": "A30", "tenants": [{"name": "a", "memory_gib": 5}]},
        "mig_check": {"gpu": "A30", "profiles": ["4g"]},
        "mig_validate_config": {
            "config": "version: v1\nmig-configs:\n  all-disabled:\n"
            "    - devices: all\n      mig-enabled: false\n"
        },
    }
    assert set(calls) == set(TOOLS)
    for name, args in calls.items():
        out = dispatch(name, args)
        assert out.ok, (name, out.error)
    assert dispatch("mig_timeslice", {"gpus": 4, "replicas": 5}).result["count"] == 20  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from([*TOOLS, "x"]),
    args=st.one_of(
        st.text(max_size=40),
        st.dictionaries(
            st.sampled_from(["gpu", "profile", "profiles", "pinned", "gpus", "replicas", "model"]),
            st.one_of(st.text(max_size=10), st.integers(-5, 50), st.lists(st.text(max_size=8))),
        ),
    ),
)
def test_dispatch_never_raises(name: str, args: str | dict[str, object]) -> None:
    out = dispatch(name, args)
    assert out.ok or out.error


def test_diagram_proportional() -> None:
    res = check("A100-80GB", ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"])
    text = render("A100-80GB", res.placements)
    bar, numbers = text.splitlines()
    assert bar.startswith("[") and bar.endswith("]")
    assert bar.count("|") == 3
    cells = bar[1:-1].split("|")
    widths = sorted(len(c) + 1 for c in cells)
    assert widths == [9, 9, 18, 36]  # 1 : 1 : 2 : 4 slots
    assert numbers.split() == [str(i) for i in range(8)]


def test_segments_cover_grid_with_free_runs() -> None:
    res = check("A100-80GB", [], [("1g.10gb", 6)])
    segs = segments("A100-80GB", res.placements)
    assert [(s.profile, s.start, s.size) for s in segs] == [
        (None, 0, 6),
        ("1g.10gb", 6, 1),
        (None, 7, 1),
    ]
    assert "free" in render("A100-80GB", res.placements)


def test_chat_diagram_draws_the_blocks_tutor_mig_diagram_draws() -> None:
    """The engine fences ToolOutcome.diagram in chat replies: it must be the full picture."""
    from typer.testing import CliRunner

    from tutor.cli.mig import app

    layout = ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]
    out = dispatch("mig_check", {"gpu": "A100-80GB", "profiles": layout})
    cli = CliRunner().invoke(app, ["diagram", "A100-80GB", *layout])
    assert cli.exit_code == 0
    assert out.diagram == cli.stdout.rstrip("\n")
    bar, numbers = (out.diagram or "").splitlines()
    assert bar.startswith("[") and bar.endswith("]") and bar.count("|") == 3
    for name in ("3g.40gb", "2g.20gb", "1g.10gb"):
        assert name in bar
    assert numbers.split() == [str(i) for i in range(8)]
    cap = dispatch(
        "mig_capacity", {"gpu": "H100 NVL", "profile": "1g.12gb", "pinned": ["3g.47gb@4"]}
    )
    assert cap.diagram is not None and cap.diagram.splitlines()[0].count("1g.12gb") == 4
    # Decided from the instance count alone: there are no start slots to draw.
    blind = dispatch("mig_check", {"gpu": "B200", "profiles": ["1g.23gb", "1g.23gb"]})
    assert blind.ok and blind.diagram is None


def test_validate_config_tool_explains_a_failing_layout() -> None:
    config = (
        "version: v1\nmig-configs:\n  mine:\n    - devices: all\n      mig-enabled: true\n"
        '      device-filter: ["0x233010DE"]\n      mig-devices: {"4g.40gb": 1, "3g.40gb": 1,'
        ' "1g.10gb": 1}\n  all-balanced:\n    - devices: all\n      mig-enabled: true\n'
        '      device-filter: "0x233010DE"\n      mig-devices: {"1g.10gb": 2, "2g.20gb": 1,'
        ' "3g.40gb": 1}\n'
    )
    out = dispatch("mig_validate_config", {"config": config, "name": "mine"})
    assert out.ok and out.result is not None
    (cfg,) = out.result["configs"]
    assert cfg["name"] == "mine" and cfg["verdict"] == "invalid"
    (verdict,) = cfg["entries"][0]["gpus"]
    assert verdict["gpu"] == "H100-80GB" and "compute slices" in verdict["reason"]
    whole = dispatch("mig_validate_config", {"config": config})
    assert whole.result is not None and whole.result["counts"]["valid"] == 1
    missing = dispatch("mig_validate_config", {"config": config, "name": "nope"})
    assert not missing.ok and "no config named 'nope'" in (missing.error or "")
    broken = dispatch("mig_validate_config", {"config": "version: v2\n"})
    assert not broken.ok and "version" in (broken.error or "")
