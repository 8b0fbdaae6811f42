from __future__ import annotations

import pytest

from tutor.mig.catalogue import MigError
from tutor.mig.sharing import compare, mixed_resource, resource_name, timeslice


def test_lesson_cluster_timeslicing() -> None:
    res = timeslice(4, 5)
    assert res.count == 20
    assert res.resource == "nvidia.com/gpu"
    assert "nvidia.com/gpu.replicas=5" in res.labels
    assert any(label.endswith("-SHARED") for label in res.labels)
    assert "no memory or fault isolation" in res.isolation


def test_rename_by_default() -> None:
    res = timeslice(8, 10, rename_by_default=True)
    assert res.count == 80
    assert res.resource == "nvidia.com/gpu.shared"


@pytest.mark.parametrize(("gpus", "replicas"), [(0, 5), (4, 0), (-1, 2), (4, 10_000)])
def test_timeslice_ranges(gpus: int, replicas: int) -> None:
    with pytest.raises(MigError, match="between"):
        timeslice(gpus, replicas)


def test_mixed_strategy_names() -> None:
    assert mixed_resource("1g.10gb+me") == "nvidia.com/mig-1g.10gb.me"
    res = resource_name("A100-80GB", "1g10gb+me", "mixed")
    assert res.resource == "nvidia.com/mig-1g.10gb.me"
    assert res.mig_config_label == "nvidia.com/mig.config=all-1g.10gb.me"


def test_single_strategy() -> None:
    res = resource_name("H100 NVL", "3g.47gb", "single")
    assert res.resource == "nvidia.com/gpu"
    assert "nvidia.com/gpu.product=<product>-MIG-3g.47gb" in res.labels
    assert any("same type" in c for c in res.constraints)


def test_bad_strategy() -> None:
    with pytest.raises(MigError):
        resource_name("H100 NVL", "3g.47gb", "double")


def test_compare_lesson_scenario() -> None:
    res = compare("H100-94GB", 20, gpus=4, replicas=5)
    modes = {r.mode: r for r in res.rows}
    assert modes["time-slicing"].tenants_served == 20
    assert modes["time-slicing"].guaranteed_memory_gib is None
    assert modes["time-slicing"].noisy_neighbour_risk == "high"
    assert modes["whole-gpu"].tenants_served == 4
    mig = modes["mig"]
    assert mig.tenants_served == 20  # 7 x 1g.12gb per GPU, 28 slots
    assert mig.guaranteed_memory_gib == 10.75
    assert mig.noisy_neighbour_risk == "none"


def test_compare_with_memory_need() -> None:
    res = compare("H100-94GB", 5, tenant_memory_gib=20)
    mig = next(r for r in res.rows if r.mode == "mig")
    assert mig.layout.endswith("1g.24gb per GPU")
    assert mig.tenants_served == 4
    assert mig.tenants_unserved == 1
