from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tutor.cli.mig import app

runner = CliRunner()


def run_json(*args: str) -> Any:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def run_error(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_gpus(reference: dict[str, Any]) -> None:
    data = run_json("gpus")
    assert {g["id"] for g in data} == set(reference["gpus"])
    assert set(data[0]) == {"id", "name", "aliases", "memory_gb", "max_instances", "pci_ids"}


def test_profiles(reference: dict[str, Any]) -> None:
    data = run_json("profiles", "h100 nvl")
    keys = {
        "name",
        "id",
        "memory_gb",
        "memory_gib",
        "compute_slices",
        "memory_slices",
        "max_instances",
        "placements",
        "media_extensions",
    }
    assert set(data[0]) == keys
    ref = reference["gpus"]["H100-94GB"]["profiles"]
    assert [p["memory_gib"] for p in data] == [p["memory_gib_lgip"] for p in ref]


def test_check_and_pins() -> None:
    data = run_json("check", "A100-80GB", "3g.40gb", "2g.20gb", "1g10gb", "--at", "1g.10gb@3")
    assert data["valid"] is True
    assert {(p["profile"], p["start"]) for p in data["placements"]} >= {("1g.10gb", 3)}
    bad = run_json("check", "A100-80GB", "3g.40gb", "--at", "1g.10gb@2", "--at", "1g.10gb@5")
    assert bad["valid"] is False and "slot 0 or 4" in bad["reason"]


def test_check_unknown_placements() -> None:
    data = run_json("check", "B200", "1g.23gb", "2g.45gb")
    assert data["valid"] is None
    assert data["reason"].startswith("unknown: placements for B200")


def test_check_homogeneous_on_unverified_gpu_states_its_basis() -> None:
    data = run_json("check", "B200", "1g.23gb", "1g.23gb")
    assert data["valid"] is True
    assert data["decided_by"] == "instance-count"
    assert data["basis"] == (
        "valid: NVIDIA's table allows 7 instances of 1g.23gb; start slots not needed"
    )
    res = runner.invoke(app, ["check", "B200", *["1g.23gb"] * 7])
    assert res.exit_code == 0
    assert "valid: NVIDIA's table allows 7 instances of 1g.23gb" in res.stdout
    too_many = run_json("check", "B200", *["1g.23gb"] * 8)
    assert too_many["valid"] is False


def test_capacity() -> None:
    assert run_json("capacity", "A100-80GB", "1g.10gb")["count"] == 7
    assert run_json("capacity", "H100-94GB", "1g.12gb", "--at", "3g.47gb@4")["count"] == 4


def test_fit() -> None:
    data = run_json("fit", "--gpu", "H100 NVL", "--model", "Llama-3.1-8B", "--context", "8192")
    assert data["profile"] == "1g.24gb"
    assert data["max_sequences"] == 6
    for key in ("weights_gib", "kv_gib", "total_gib"):
        assert key in data
    # Llama-3.1-8B: 2 x 32 layers x 8 KV heads x 128 x 2 B (bf16) per token.
    assert data["kv_bytes_per_token"] == 131_072
    assert data["kv_bytes"] == 131_072 * 8192
    from tutor.mig.catalogue import find_model

    assert data["weights_bytes"] == find_model("Llama-3.1-8B")[1].params * 2
    custom = run_json(
        "fit",
        "--gpu",
        "A30",
        "--params",
        "70B",
        "--layers",
        "80",
        "--kv-heads",
        "8",
        "--head-dim",
        "128",
    )
    assert custom["profile"] is None


def test_timeslice_and_resource() -> None:
    ts = run_json("timeslice", "--gpus", "4", "--replicas", "5", "--rename-by-default")
    assert ts["resource"] == "nvidia.com/gpu.shared" and ts["count"] == 20
    r = run_json("resource", "A100-80GB", "1g.10gb+me", "--strategy", "mixed")
    assert r["resource"] == "nvidia.com/mig-1g.10gb.me"
    r = run_json("resource", "A100-80GB", "7g", "--strategy", "single")
    assert r["resource"] == "nvidia.com/gpu"


def test_human_output() -> None:
    res = runner.invoke(app, ["diagram", "H100 NVL", "3g", "2g", "1g.12gb", "1g.12gb"])
    assert res.exit_code == 0 and "3g.47gb" in res.stdout
    res = runner.invoke(app, ["compare", "H100 NVL", "--tenants", "20", "--gpus", "4"])
    assert res.exit_code == 0 and "time-slicing" in res.stdout
    res = runner.invoke(app, ["enumerate", "A30"])
    assert res.exit_code == 0 and "17 maximal partitions" in res.stdout


def test_cluster_and_generate(tmp_path: Path, fixtures: Path) -> None:
    data = run_json("cluster")
    assert data["logical_gpus"] == 20
    out = tmp_path / "c.yaml"
    res = runner.invoke(
        app,
        [
            "cluster",
            "--import-configmap",
            str(fixtures / "time-slicing-config.yaml"),
            "--save",
            str(out),
        ],
    )
    assert res.exit_code == 0 and out.exists()
    res = runner.invoke(app, ["generate", "mig-parted", "A30", "2g", "2g"])
    assert res.exit_code == 0 and "2g.12gb: 2" in res.stdout
    res = runner.invoke(app, ["generate", "timeslicing", "--replicas", "5"])
    assert res.exit_code == 0 and "replicas: 5" in res.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["check", "A100-81GB", "1g.10gb"], "closest: A100-80GB"),
        (["profiles", "H10O NVL"], "unknown GPU"),
        (["check", "A100-80GB", "5g.10gb"], "closest:"),
        (["capacity", "A100-80GB", "3g.41gb"], "closest: 3g.40gb"),
        (["check", "A100-80GB", "1g"], "ambiguous"),
        (
            ["fit", "--gpu", "H100 NVL", "--model", "Qwen3-8B", "--context", "-5"],
            "--context must be between 1 and",
        ),
        (
            ["fit", "--gpu", "H100 NVL", "--model", "Qwen3-8B", "--batch", "1000000000"],
            "--batch must be between 1 and",
        ),
        (
            [
                "fit",
                "--gpu",
                "H100 NVL",
                "--params",
                "-7B",
                "--layers",
                "1",
                "--kv-heads",
                "1",
                "--head-dim",
                "1",
            ],
            "between 1 and",
        ),
        (["timeslice", "--gpus", "0", "--replicas", "5"], "gpus must be between 1 and"),
        (["check", "A100-80GB", "--at", "3g.40gb@-1"], "slot must be between 0 and 15"),
        (["fit", "--gpu", "H100 NVL", "--model", "Llama-9"], "unknown model"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], needle: str) -> None:
    line = run_error(*args)
    assert line.startswith("error: ")
    assert needle in line


def test_import_lgip_refuses_an_endless_file() -> None:
    line = run_error("cluster", "--import-lgip", "/dev/zero")
    assert "larger than 1,000,000 bytes" in line


def test_profiles_tool_states_the_gpu_instance_limit() -> None:
    from tutor.mig.tools import dispatch

    out = dispatch("mig_profiles", {"gpu": "H100 NVL"})
    assert out.ok and out.result is not None
    assert out.result["max_instances"] == 7
    unverified = dispatch("mig_profiles", {"gpu": "PG506-96GB"})
    assert unverified.result is not None and unverified.result["max_instances"] is None


def test_diagram_needs_start_slots() -> None:
    line = run_error("diagram", "B200", "1g.23gb", "1g.23gb")
    assert line.startswith("error: valid: NVIDIA's table allows 7 instances of 1g.23gb")
    assert "nothing to draw" in line


def test_inferred_geometry_of_a_sibling_board_is_drawn_and_labelled() -> None:
    res = runner.invoke(app, ["diagram", "A800-40GB", "3g.20gb", "2g.10gb", "1g.5gb", "--inferred"])
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("[") and "3g.20gb" in res.stdout
    check = runner.invoke(app, ["check", "H800 NVL", "3g.47gb", "2g.24gb", "--inferred"])
    assert "INFERRED, not verified: start slots copied from H100-94GB" in check.stdout
    same = run_json("enumerate", "H800-NVL", "--inferred")
    assert same == run_json("enumerate", "H100-94GB")


def test_cluster_file_read_is_capped() -> None:
    line = run_error("cluster", "--file", "/dev/zero")
    assert "larger than 1,000,000 bytes" in line


def test_profiles_text_names_the_limit_and_pci_ids() -> None:
    res = runner.invoke(app, ["profiles", "H100 NVL"])
    assert res.exit_code == 0
    assert "at most 7 instances" in res.stdout
    assert "PCI device IDs: 0x232110DE" in res.stdout
