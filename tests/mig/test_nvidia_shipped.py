"""The calculator held against what NVIDIA ships: mig-parted's and the GPU Operator's configs.

The files under fixtures/nvidia/ are NVIDIA's own, unchanged below a first line naming the
repository, path and commit they were copied from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tutor.cli.mig import app
from tutor.mig.catalogue import UnknownName, catalogue, find_gpu, find_gpu_by_pci
from tutor.mig.migparted import parse_config, validate
from tutor.mig.sharing import is_label_value, mig_config_name, resource_name

runner = CliRunner()
NVIDIA = Path(__file__).with_name("fixtures") / "nvidia"
SHIPPED_FILES = sorted(NVIDIA.glob("*.yaml"))


def _spec(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    if "data" in doc:
        inner: dict[str, Any] = yaml.safe_load(doc["data"]["config.yaml"])
        return inner
    return dict(doc)


def test_fixtures_name_their_source() -> None:
    assert len(SHIPPED_FILES) == 3
    for path in SHIPPED_FILES:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# Source: github NVIDIA/"), path.name


@pytest.mark.parametrize(
    ("gpu", "profile"),
    [(g.id, p.name) for g in catalogue().gpus for p in g.profiles],
)
def test_every_mig_config_name_is_a_kubernetes_label_value(gpu: str, profile: str) -> None:
    name = mig_config_name(profile)
    assert is_label_value(name), name
    assert "+" not in name
    res = resource_name(gpu, profile, "mixed")
    assert res.mig_config_label == f"nvidia.com/mig.config={name}"


def test_mig_config_names_match_nvidias() -> None:
    """Every one-profile config mig-parted ships is named as mig_config_name spells it."""
    spec = _spec(NVIDIA / "mig-parted-config-default.yaml")
    checked = 0
    for name, entries in spec["mig-configs"].items():
        profiles = {p for e in entries for p in (e.get("mig-devices") or {})}
        if name.startswith("all-") and len(profiles) == 1:
            assert mig_config_name(profiles.pop()) == name
            checked += 1
    assert checked >= 60
    assert mig_config_name("1g.10gb+me") == "all-1g.10gb.me"
    assert mig_config_name("1g.24gb+me.all") == "all-1g.24gb.me.all"
    assert mig_config_name("1g.24gb-me") == "all-1g.24gb-me"


@pytest.mark.parametrize(
    ("typed", "gpu_id"),
    [
        ("0x233010DE", "H100-80GB"),
        ("0x233010de", "H100-80GB"),
        ("233010DE", "H100-80GB"),
        ("0x2330", "H100-80GB"),
        ("0x233010DE:0x16C010DE", "H100-80GB"),
        ("0x20F610DE", "A800-40GB"),
        ("0x234810DE", "GH200-144GB"),
        ("0x20B610DE", "PG506-96GB"),
        ("0x233A10DE", "H800-NVL"),
        ("0x2BB510DE", "RTX-PRO-6000-Blackwell"),
    ],
)
def test_pci_ids_name_gpus(typed: str, gpu_id: str) -> None:
    assert find_gpu(typed).id == gpu_id


def test_unknown_pci_id_is_one_line() -> None:
    with pytest.raises(UnknownName, match=r"no catalogued GPU has PCI device ID 0x1DB610DE"):
        find_gpu("0x1DB610DE")
    # The T4 (0x1EB8) is catalogued as a GPU without MIG.
    with pytest.raises(UnknownName, match="T4 has no MIG"):
        find_gpu("0x1EB810DE")
    # A name made of hex digits is still a name, not an ID.
    with pytest.raises(UnknownName, match="ambiguous"):
        find_gpu("A100")


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_every_device_filter_nvidia_ships_is_catalogued(path: Path) -> None:
    spec = _spec(path)
    for entries in spec["mig-configs"].values():
        for e in entries:
            flt = e.get("device-filter") or []
            for device in [flt] if isinstance(flt, str) else flt:
                assert find_gpu_by_pci(device) is not None, device


def _targets(path: Path) -> set[str]:
    """The catalogued GPUs a file is shipped for: those its device-filters name anywhere."""
    spec = _spec(path)
    ids: set[str] = set()
    for entries in spec["mig-configs"].values():
        for e in entries:
            flt = e.get("device-filter") or []
            for device in [flt] if isinstance(flt, str) else flt:
                found = find_gpu_by_pci(device)
                assert found is not None
                ids.add(found.id)
    return ids


@pytest.mark.parametrize("inferred", [False, True], ids=["verified", "inferred"])
@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_every_shipped_layout_validates_or_is_unknown_for_a_reason(
    path: Path, inferred: bool
) -> None:
    report = validate(path.read_text(), source=path.name, allow_inferred=inferred)
    targets = _targets(path) or {g.id for g in catalogue().gpus}
    judged = 0
    for cfg in report.configs:
        for entry in cfg.entries:
            for v in entry.gpus:
                if v.gpu not in targets:
                    continue  # e.g. RTX PRO 5000: NVIDIA ships no layouts keyed on it
                judged += 1
                if v.verdict == "unknown":
                    assert v.reason is not None and v.reason.startswith("unknown:"), v
                else:
                    assert v.verdict == "valid", (cfg.name, v)
    assert judged >= 20


def test_known_shipped_layouts() -> None:
    report = validate((NVIDIA / "mig-parted-config-default.yaml").read_text())
    by_name = {c.name: c for c in report.configs}
    one_g = by_name["all-1g.10gb"]
    verdicts = {(v.gpu, v.pci_id): v for e in one_g.entries for v in e.gpus}
    a100 = verdicts["A100-40GB", "0x20B010DE"]
    assert a100.verdict == "valid" and len(a100.placements) == 4
    assert verdicts["A800-80GB", "0x20F310DE"].basis == (
        "valid: NVIDIA's mig-parted config allows 7 instances of 1g.10gb; start slots not needed"
    )
    balanced = {v.gpu: v for e in by_name["all-balanced"].entries for v in e.gpus}
    assert balanced["H100-94GB"].verdict == "valid"
    assert balanced["A30-24GB"].verdict == "valid"
    assert balanced["B200"].verdict == "unknown"
    inferred = validate(
        (NVIDIA / "mig-parted-config-default.yaml").read_text(), allow_inferred=True
    )
    with_slots = {
        v.gpu: v
        for c in inferred.configs
        if c.name == "all-balanced"
        for e in c.entries
        for v in e.gpus
    }
    # --inferred borrows H100-80GB's start slots for H200; GB200 has none to borrow.
    assert with_slots["H200-141GB"].verdict == "valid"
    assert "INFERRED" in with_slots["H200-141GB"].basis
    assert with_slots["GB200"].verdict == "unknown"
    # mig-parted keys the A800 and H800 boards with their A100 and H100 siblings.
    for gpu, donor in (
        ("A800-40GB", "A100-40GB"),
        ("H800-80GB", "H100-80GB"),
        ("H800-NVL", "H100-94GB"),
    ):
        assert with_slots[gpu].verdict == "valid", with_slots[gpu]
        assert f"copied from {donor}" in with_slots[gpu].basis
        assert balanced[gpu].verdict == "unknown"
    assert by_name["all-3g.95gb"].verdict == "not-applicable"


def test_gpu_operator_configmap_is_read_through_its_key() -> None:
    text = (NVIDIA / "gpu-operator-default-mig-parted-config.yaml").read_text()
    configs, key = parse_config(text)
    assert key == "config.yaml"
    assert "all-balanced" in configs
    with pytest.raises(ValueError, match="no ConfigMap key 'a100'"):
        parse_config(text, key="a100")


def test_validate_config_cli_json_and_exit_codes(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["validate-config", str(NVIDIA / "mig-parted-examples-config.yaml"), "--json"]
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["counts"]["invalid"] == 0
    assert {c["name"] for c in data["configs"]} >= {"all-disabled", "all-balanced"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: v1\nmig-configs:\n  too-big:\n    - devices: all\n      mig-enabled: true\n"
        '      device-filter: "0x233010DE"\n      mig-devices:\n        "4g.40gb": 1\n'
        '        "3g.40gb": 1\n        "1g.10gb": 1\n'
    )
    res = runner.invoke(app, ["validate-config", str(bad)])
    assert res.exit_code == 1
    assert "too-big: invalid" in res.stdout
    assert "H100-80GB (0x233010DE): invalid" in res.stdout
    only = runner.invoke(app, ["validate-config", str(bad), "--gpu", "A100-80GB", "--json"])
    assert only.exit_code == 0
    assert json.loads(only.stdout)["configs"][0]["verdict"] == "not-applicable"
    text = runner.invoke(app, ["validate-config", str(bad), "--gpu", "A100-80GB"])
    assert "its device-filter names none of the GPUs checked" in text.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: v2\nmig-configs: {a: [{devices: all, mig-enabled: false}]}\n", "version"),
        ("version: v1\nmig-configs: {a: [{devices: some, mig-enabled: true}]}\n", "devices"),
        ("version: v1\nmig-configs: {a: [{devices: all}]}\n", "mig-enabled"),
        ("version: v1\nmig-configs: {a: [{devices: all, mig-enabled: true, x: 1}]}\n", "'x'"),
        ("version: v1\nmig-configs: {a: []}\n", "at least one entry"),
        (
            "version: v1\nmig-configs: {a: [{devices: all, mig-enabled: true, "
            "device-filter: H100}]}\n",
            "not a PCI ID",
        ),
        ("hello: [\n", "not valid YAML"),
    ],
)
def test_validate_config_bad_files_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    res = runner.invoke(app, ["validate-config", str(path)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.stderr


def test_gpus_json_lists_pci_ids() -> None:
    res = runner.invoke(app, ["gpus", "--json"])
    data = {g["id"]: g for g in json.loads(res.stdout)}
    assert "0x233010DE" in data["H100-80GB"]["pci_ids"]
    assert data["RTX-PRO-5000-Blackwell"]["pci_ids"] == []
    every = [i for g in data.values() for i in g["pci_ids"]]
    assert len(every) == len(set(every))


def test_commands_accept_a_pci_id() -> None:
    res = runner.invoke(app, ["capacity", "0x233010DE", "1g.10gb", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["gpu"] == "H100-80GB"


def test_added_gpus_answer_from_sourced_values(shipped: dict[str, Any]) -> None:
    cat = catalogue()
    for gpu_id, ref in shipped["gpus"].items():
        g = find_gpu(gpu_id)
        assert g.sources and all(k in cat.sources for k in g.sources)
        assert g.pci_ids, gpu_id
        for p in g.profiles:
            assert p.sources, (gpu_id, p.name)
        assert g.placements_known is False
        assert [p.name for p in g.profiles] == [p["name"] for p in ref["profiles"]]
    gh = find_gpu("GH200 144GB")
    one = gh.profile("1g.18gb")
    assert (one.id, one.memory_gib, one.max_instances) == (19, 17.5, 7)
    assert find_gpu("PG506").profile("1g.12gb").max_instances is None
