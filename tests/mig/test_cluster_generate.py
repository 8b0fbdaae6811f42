from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tutor.cli.mig import app
from tutor.mig.catalogue import MigError, find_gpu
from tutor.mig.cluster import (
    ClusterProfile,
    apply_timeslicing,
    cluster_from_yaml,
    cluster_to_yaml,
    default_cluster,
    gpu_from_smi,
    load_cluster,
    match_catalogue,
    parse_lgip,
    parse_lgipp,
    parse_timeslicing,
)
from tutor.mig.fit import fit
from tutor.mig.generate import mig_parted_config, timeslicing_configmap
from tutor.mig.placement import capacity, check, enumerate_partitions

runner = CliRunner()


def test_default_is_the_lesson_cluster() -> None:
    c = default_cluster()
    assert c.gpu == "H100-94GB"
    assert c.total_gpus == 4
    assert c.sharing == "time-slicing" and c.replicas == 5
    assert c.logical_gpus == 20
    assert c.mig_enabled is False
    big = c.workloads[0]
    assert big.needs_whole_gpu and big.params == 27_000_000_000
    assert fit(c.gpu, "Qwen3-8B").profile is not None
    assert load_cluster(None) == c


def test_yaml_round_trip(tmp_path: Path) -> None:
    c = default_cluster()
    again = cluster_from_yaml(cluster_to_yaml(c))
    assert again.model_dump(exclude={"source"}) == c.model_dump(exclude={"source"})


def test_yaml_errors_name_file_and_field(tmp_path: Path) -> None:
    f = tmp_path / "cluster.yaml"
    f.write_text("gpu: H100-94GB\nreplicas: -3\n")
    with pytest.raises(MigError, match=rf"{f}: field replicas"):
        load_cluster(f)
    f.write_text("gpu: H999\n")
    with pytest.raises(MigError, match="field gpu: unknown GPU"):
        load_cluster(f)
    f.write_text("sharing: mig\nmig_enabled: true\nmig_layout: [7g.94gb, 7g.94gb]\n")
    with pytest.raises(MigError, match="mig_layout is not a valid"):
        load_cluster(f)


def test_mig_cluster() -> None:
    c = ClusterProfile(
        sharing="mig",
        mig_enabled=True,
        mig_strategy="mixed",
        mig_layout=["3g.47gb", "2g.24gb", "1g.12gb", "1g.12gb"],
    )
    assert c.logical_gpus == 16


def test_import_timeslicing_configmap(fixtures: Path) -> None:
    cfg = parse_timeslicing((fixtures / "time-slicing-config.yaml").read_text())
    assert cfg.config_key == "any"
    assert cfg.resources[0].name == "nvidia.com/gpu" and cfg.resources[0].replicas == 5
    c = apply_timeslicing(ClusterProfile(sharing="none", replicas=1), cfg)
    assert c.sharing == "time-slicing" and c.logical_gpus == 20


def test_generated_configmap_round_trips() -> None:
    text = timeslicing_configmap(7, rename_by_default=True)
    doc = yaml.safe_load(text)
    assert doc["kind"] == "ConfigMap"
    cfg = parse_timeslicing(text)
    assert cfg.rename_by_default is True
    assert cfg.resources[0].replicas == 7


def test_configmap_errors() -> None:
    with pytest.raises(MigError):
        parse_timeslicing("kind: ConfigMap\ndata: {}\n")
    with pytest.raises(MigError):
        parse_timeslicing("::: not yaml")


def test_import_nvidia_smi(fixtures: Path) -> None:
    lgip = (fixtures / "a100-40gb-lgip.txt").read_text()
    lgipp = (fixtures / "a100-40gb-lgipp.txt").read_text()
    rows = parse_lgip(lgip)
    assert [r.name for r in rows][:3] == ["1g.5gb", "1g.5gb+me", "1g.10gb"]
    assert rows[-1].memory_gib == 39.25 and rows[-1].sms == 98
    assert parse_lgipp(lgipp)[0, 9] == ((0, 4), 4)
    assert match_catalogue(rows) == "A100-40GB"
    g = gpu_from_smi(lgip, lgipp)
    assert g.memory_slices == 8 and g.placements_known
    ref = find_gpu("A100-40GB")
    assert len(enumerate_partitions(g)) == len(enumerate_partitions(ref))
    for p in ref.profiles:
        assert capacity(g, p.name).count == capacity(ref, p.name).count


def test_import_lgip_without_lgipp_is_unknown(fixtures: Path) -> None:
    g = gpu_from_smi((fixtures / "h100-nvl-lgip.txt").read_text())
    assert "H100-94GB" in g.id
    res = check(g, ["2g.24gb", "1g.12gb"])
    assert res.valid is None
    # One profile within the -lgip "Instances Total" needs no start slots.
    same = check(g, ["1g.12gb", "1g.12gb"])
    assert same.valid is True
    assert same.basis == (
        "valid: your nvidia-smi -lgip output allows 7 instances of 1g.12gb; start slots not needed"
    )


def test_parsers_refuse_garbage() -> None:
    with pytest.raises(MigError):
        parse_lgip("hello")
    with pytest.raises(MigError):
        parse_lgipp("hello")


def test_mig_parted_config() -> None:
    text = mig_parted_config("H100 NVL", ["3g", "2g", "1g.12gb", "1g.12gb"], name="lesson")
    assert "nvidia.com/mig.config=lesson" in text
    doc = yaml.safe_load(text)
    layout = doc["mig-configs"]["lesson"][0]
    assert layout["mig-enabled"] is True
    assert layout["mig-devices"] == {"3g.47gb": 1, "2g.24gb": 1, "1g.12gb": 2}
    assert doc["mig-configs"]["all-disabled"][0]["mig-enabled"] is False
    with pytest.raises(MigError, match="not valid"):
        mig_parted_config("H100 NVL", ["7g", "1g.12gb"])
    warn = mig_parted_config("H200", ["3g.71gb", "1g.18gb", "1g.18gb"])
    assert "WARNING unknown" in warn
    same = mig_parted_config("H200", ["3g.71gb", "3g.71gb"])
    assert "# valid: NVIDIA's table allows 2 instances of 3g.71gb" in same
    with pytest.raises(MigError, match="not a valid Kubernetes label value"):
        mig_parted_config("H200", ["3g.71gb"], name="all-3g.71gb+me")


def test_configmap_with_several_keys_needs_a_key(fixtures: Path) -> None:
    text = (fixtures / "time-slicing-fine.yaml").read_text()
    with pytest.raises(MigError, match=r"2 keys \(a100-40gb, tesla-t4\); choose one with --key"):
        parse_timeslicing(text)
    t4 = parse_timeslicing(text, "tesla-t4")
    assert t4.config_key == "tesla-t4"
    assert [(r.name, r.replicas) for r in t4.resources] == [("nvidia.com/gpu", 4)]
    with pytest.raises(MigError, match="no key 'h100'"):
        parse_timeslicing(text, "h100")


def test_mig_resource_replicas_are_kept(fixtures: Path) -> None:
    cfg = parse_timeslicing((fixtures / "time-slicing-fine.yaml").read_text(), "a100-40gb")
    base = cluster_from_yaml(
        "gpu: A100-40GB\nnodes: 1\ngpus_per_node: 2\nsharing: mig\nmig_enabled: true\n"
        "mig_strategy: mixed\nmig_layout: [3g.20gb, 2g.10gb, 1g.5gb, 1g.5gb]\n"
    )
    cluster = apply_timeslicing(base, cfg)
    assert cluster.resource_replicas == {
        "nvidia.com/mig-1g.5gb": 2,
        "nvidia.com/mig-2g.10gb": 2,
        "nvidia.com/mig-3g.20gb": 3,
        "nvidia.com/mig-7g.40gb": 7,
    }
    # Per GPU: 3g x3 + 2g x2 + two 1g x2 each = 9 schedulable MIG slots; 2 GPUs.
    assert cluster.logical_gpus == 2 * (3 + 2 + 2 + 2)
    assert "time-slicing x2 on nvidia.com/mig-1g.5gb" in cluster.summary()


def test_cli_imports_one_configmap_key(fixtures: Path) -> None:
    res = runner.invoke(
        app,
        [
            "cluster",
            "--import-configmap",
            str(fixtures / "time-slicing-fine.yaml"),
            "--key",
            "tesla-t4",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["cluster"]["replicas"] == 4
    assert "key tesla-t4" in data["cluster"]["source"]
    both = runner.invoke(
        app, ["cluster", "--import-configmap", str(fixtures / "time-slicing-fine.yaml")]
    )
    assert both.exit_code == 2 and "choose one with --key" in both.stderr


def test_cluster_file_may_name_a_gpu_without_mig() -> None:
    t4 = cluster_from_yaml("gpu: Tesla T4\nnodes: 2\ngpus_per_node: 4\nreplicas: 4\n")
    assert t4.gpu == "T4" and t4.whole_gpus_only
    assert t4.logical_gpus == 32
    assert "no MIG: whole GPUs only" in t4.summary()[0]
    for gpu in ("L4", "L40S", "0x26B910DE"):
        assert cluster_from_yaml(f"gpu: '{gpu}'\n").whole_gpus_only
    with pytest.raises(MigError, match="T4 has no MIG"):
        cluster_from_yaml("gpu: T4\nmig_enabled: true\n")


def test_generated_configmap_round_trips_per_resource_replicas() -> None:
    text = timeslicing_configmap(
        4,
        resources=["nvidia.com/gpu", "nvidia.com/mig-1g.10gb=2"],
        mig_strategy="mixed",
    )
    cfg = parse_timeslicing(text)
    assert [(r.name, r.replicas) for r in cfg.resources] == [
        ("nvidia.com/gpu", 4),
        ("nvidia.com/mig-1g.10gb", 2),
    ]
    assert cfg.mig_strategy == "mixed"
    with pytest.raises(MigError, match="use mig strategy mixed"):
        timeslicing_configmap(2, resources=["nvidia.com/mig-1g.10gb=2"])
    with pytest.raises(MigError, match="NAME=N"):
        timeslicing_configmap(2, resources=["nvidia.com/gpu=two"])
    with pytest.raises(MigError, match="between"):
        timeslicing_configmap(2, resources=["nvidia.com/gpu=0"])
