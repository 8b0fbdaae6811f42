"""The app's calculator helpers: profiles parsing, number marking, slot drawing."""

from __future__ import annotations

from tutor.engine.events import ToolRecord
from tutor.mig.diagram import Segment, segments
from tutor.mig.placement import Placement, capacity, check
from tutor.mig.tools import dispatch
from tutor.tui.calc import (
    calculator_numbers,
    check_partition,
    mark_numbers,
    parse_profiles,
    view_of,
)
from tutor.tui.widgets.calculator import render_slots


def test_parse_profiles_expands_counts() -> None:
    assert parse_profiles("3g.40gb, 2x1g.10gb 1g.10gb*2") == ["3g.40gb"] + ["1g.10gb"] * 4
    assert parse_profiles("1g.10gb+me") == ["1g.10gb+me"]


def test_marking_skips_code_links_and_profile_names() -> None:
    text, count = mark_numbers(
        "7 fit; 1g.10gb has 10 GB; `7` and [7](http://x/7) stay; 70.", {"7": 0, "10": 2}, offset=3
    )
    assert text == "[7](calc:3) fit; 1g.10gb has [10](calc:5) GB; `7` and [7](http://x/7) stay; 70."
    assert count == 2


def test_numbers_leave_out_slot_positions() -> None:
    record = ToolRecord(
        name="mig_check",
        arguments={"gpu": "A100-80GB"},
        result={"count": 3, "placements": [{"profile": "2g.20gb", "start": 4, "size": 2}]},
    )
    numbers = calculator_numbers([record])
    assert "3" in numbers and "4" not in numbers and "2" not in numbers


def _record(name: str, arguments: dict[str, object]) -> ToolRecord:
    """A tool record exactly as the engine makes one: from the calculator's dispatcher."""
    outcome = dispatch(name, arguments)
    assert outcome.ok, outcome.error
    return ToolRecord(
        name=name, arguments=outcome.arguments, result=outcome.result, diagram=outcome.diagram
    )


def test_a_check_record_is_drawn_with_the_diagrams_segments() -> None:
    record = _record("mig_check", {"gpu": "A100-80GB", "profiles": ["3g.40gb", "2g.20gb"]})
    view = view_of(record)
    expected = check("A100-80GB", ["3g.40gb", "2g.20gb"])
    assert view.valid is True and view.gpu == expected.gpu
    assert view.segments == segments("A100-80GB", expected.placements)
    in_order = sorted(expected.placements, key=lambda p: p.start)
    assert view.total == 8 and [s.profile for s in view.instances] == [p.profile for p in in_order]
    assert any(s.profile is None for s in view.segments), "the free slots are drawn too"


def test_a_capacity_record_and_a_record_without_placements() -> None:
    record = _record("mig_capacity", {"gpu": "A100-80GB", "profile": "1g.10gb"})
    view = view_of(record)
    expected = capacity("A100-80GB", "1g.10gb")
    assert len(view.instances) == expected.count
    assert view.segments == segments("A100-80GB", expected.placements)
    timeslice = view_of(_record("mig_timeslice", {"gpus": 4, "replicas": 5}))
    assert timeslice.segments == [] and timeslice.total is None


def test_direct_checks_use_the_calculator() -> None:
    direct = check_partition("A100-80GB", "7x1g.10gb")
    assert direct.valid is True and len(direct.instances) == 7
    refused = check_partition("A100-80GB", "8x1g.10gb")
    assert refused.valid is False and refused.segments == [] and refused.message
    unknown = check_partition("A100-80GB", "9g.99gb")
    assert unknown.valid is False and "9g.99gb" in unknown.message


def test_slot_drawing_is_proportional_with_numbers_beneath() -> None:
    drawn = segments("A100-80GB", [Placement(profile="3g.40gb", start=0, size=4),
                                   Placement(profile="1g.10gb", start=4, size=1)])  # fmt: skip
    assert drawn[-1] == Segment(profile=None, start=5, size=3)
    text = render_slots(drawn, 40)
    top, _, numbers = text.plain.split("\n")
    assert len(top) == 40 and top.startswith(" 3g.40gb")
    assert numbers.split() == [str(n) for n in range(8)]
    assert top.count("░") == 3 * 5, "three free slots of five cells"
