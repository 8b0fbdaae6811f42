"""Write the configs a cluster needs for a chosen layout: mig-parted and time-slicing.

Layouts are checked by the placement engine first, so a generated mig-parted config is
one the driver accepts (or the caller is told plainly that it is unverified).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import yaml

from tutor.mig.catalogue import Gpu, MigError, find_gpu, find_profile
from tutor.mig.placement import check
from tutor.mig.sharing import mig_config_label, timeslice


class _Literal(str):
    """A YAML block scalar, so the embedded device-plugin config stays readable."""


def _literal(dumper: yaml.SafeDumper, data: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def mig_parted_config(
    gpu: Gpu | str,
    layout: Sequence[str],
    *,
    name: str = "custom",
    devices: str | list[int] = "all",
) -> str:
    """A mig-parted config with all-disabled plus `name` = the layout on `devices`."""
    g = find_gpu(gpu)
    if not layout:
        raise MigError("give at least one profile for the layout")
    profiles = [find_profile(g, p).name for p in layout]
    res = check(g, profiles)
    if res.valid is False:
        raise MigError(f"layout is not valid on {g.id}: {res.reason}")
    header = f"# mig-parted config for {g.id}; apply with: kubectl label node <node> "
    header += f"{mig_config_label(name)} --overwrite\n"
    if res.valid is None:
        header += f"# WARNING {res.reason}\n"
    elif res.decided_by == "instance-count":
        header += f"# {res.basis}\n"
    else:
        order = ", ".join(f"{p.profile}@{p.start}" for p in res.placements)
        header += f"# one valid placement: {order}\n"
    counts = dict(Counter(profiles))
    doc = {
        "version": "v1",
        "mig-configs": {
            "all-disabled": [{"devices": "all", "mig-enabled": False}],
            name: [{"devices": devices, "mig-enabled": True, "mig-devices": counts}],
        },
    }
    return header + yaml.dump(doc, Dumper=_Dumper, sort_keys=False)


def timeslicing_configmap(
    replicas: int,
    *,
    name: str = "time-slicing-config",
    namespace: str = "gpu-operator",
    key: str = "any",
    rename_by_default: bool = False,
    fail_requests_greater_than_one: bool = False,
    resources: Sequence[str] = ("nvidia.com/gpu",),
    mig_strategy: str = "none",
) -> str:
    """The device-plugin ConfigMap that time-slices each resource into `replicas`.

    A resource may carry its own count as NAME=N (nvidia.com/mig-1g.10gb=2), as the
    device plugin allows per resource.
    """
    timeslice(1, replicas)  # same range checks as the calculator
    if mig_strategy not in ("none", "single", "mixed"):
        raise MigError(f"mig strategy must be none, single or mixed, got {mig_strategy!r}")
    entries = []
    for r in resources:
        resource, sep, count = r.partition("=")
        n = replicas
        if sep:
            if not count.strip().isdigit():
                raise MigError(
                    f"resource {r!r} must look like NAME=N, e.g. nvidia.com/mig-1g.10gb=2"
                )
            n = int(count)
            timeslice(1, n)
        resource = resource.strip()
        if resource.startswith("nvidia.com/mig-") and mig_strategy != "mixed":
            # MIG resources are named per profile only under the mixed strategy.
            raise MigError(f"{resource} is a mixed-strategy MIG resource: use mig strategy mixed")
        entries.append({"name": resource, "replicas": n})
    inner = {
        "version": "v1",
        "flags": {"migStrategy": mig_strategy},
        "sharing": {
            "timeSlicing": {
                "renameByDefault": rename_by_default,
                "failRequestsGreaterThanOne": fail_requests_greater_than_one,
                "resources": entries,
            }
        },
    }
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {key: _Literal(yaml.safe_dump(inner, sort_keys=False))},
    }
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False)
