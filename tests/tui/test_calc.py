"""The app's calculator helpers: profiles parsing, number marking, slot drawing."""

from __future__ import annotations

from tutor.engine.events import ToolRecord
from tutor.tui.calc import (
    Segment,
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


def test_view_of_a_check_result_and_a_direct_check() -> None:
    record = ToolRecord(
        name="mig_check",
        arguments={"gpu": "A100-80GB", "profiles": ["3g.40gb", "2g.20gb"]},
        result={
            "gpu": "A100-80GB",
            "valid": True,
            "placements": [
                {"profile": "3g.40gb", "start": 4, "size": 4},
                {"profile": "2g.20gb", "start": 0, "size": 2},
            ],
        },
    )
    view = view_of(record)
    assert view.total == 8 and view.valid is True
    assert [s.start for s in view.segments] == [0, 4]
    direct = check_partition("A100-80GB", "7x1g.10gb")
    assert direct.valid is True and len(direct.segments) == 7
    assert check_partition("A100-80GB", "8x1g.10gb").valid is False


def test_slot_drawing_is_proportional_with_numbers_beneath() -> None:
    text = render_slots([Segment("3g.40gb", 0, 4), Segment("1g.10gb", 4, 1)], 8, 40)
    top, _, numbers = text.plain.split("\n")
    assert len(top) == 40 and top.startswith(" 3g.40gb")
    assert numbers.split() == [str(n) for n in range(8)]
    assert top.count("░") == 3 * 5, "three free slots of five cells"
