"""`tutor mig ...`: the MIG calculator from the shell. Tables by default, --json for scripts.

Over 400 lines: one thin command per calculator operation, each a table and a --json
form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from tutor.cli.common import fail, get_settings, print_json

app = typer.Typer(help="MIG profile calculator: profiles, placements, fit.", no_args_is_help=True)

T = TypeVar("T")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")
AtOpt = typer.Option(
    [], "--at", help="Pin an instance to a start slot, e.g. --at 3g.40gb@4 (repeatable)."
)
InferredOpt = typer.Option(
    False, "--inferred", help="Use start slots inferred from a sibling GPU where unverified."
)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _run(action: Callable[[], T]) -> T:
    """User mistakes become one line on stderr and exit 2, never a traceback."""
    from tutor.mig.catalogue import MigError

    try:
        return action()
    except MigError as exc:
        fail(str(exc))


def _pins(values: list[str]) -> list[tuple[str, int]]:
    out = []
    for v in values:
        m = re.fullmatch(r"\s*([^@\s]+)\s*@\s*(-?\d+)\s*", v)
        if not m:
            fail(f"--at {v!r} must look like PROFILE@SLOT, e.g. 3g.40gb@4")
        slot = int(m.group(2))
        if not 0 <= slot <= 15:
            fail(f"--at {v!r}: slot must be between 0 and 15")
        out.append((m.group(1), slot))
    return out


def _validated(schema: type[BaseModel], /, **values: Any) -> Any:
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        if not loc:
            fail(err["msg"].removeprefix("Value error, "))
        opt = "--" + loc[0].replace("_", "-")
        prop = schema.model_json_schema().get("properties", {}).get(loc[0], {})
        bounds = prop.get("anyOf", [prop])[0]
        low = bounds.get("minimum", bounds.get("exclusiveMinimum"))
        high = bounds.get("maximum", bounds.get("exclusiveMaximum"))
        if low is not None and high is not None:
            fail(f"{opt} must be between {low:,} and {high:,}, got {err.get('input')}")
        fail(f"{opt}: {err['msg'].removeprefix('Value error, ')}")


def _dump(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, list):
        return [_dump(o) for o in obj]
    return obj


@app.command("gpus")
def gpus_cmd(as_json: bool = JsonOpt) -> None:
    """List the MIG-capable GPUs and the names they answer to."""
    from tutor.mig.tools import gpu_list

    data = gpu_list().gpus
    if as_json:
        print_json(
            [
                {
                    "id": g.id,
                    "name": g.name,
                    "aliases": g.aliases,
                    "memory_gb": g.memory_gb,
                    "max_instances": g.max_instances,
                    "pci_ids": g.pci_ids,
                }
                for g in data
            ]
        )
        return
    table = Table("id", "name", "memory GB", "max inst.", "placements", "aliases")
    for g in data:
        table.add_row(
            g.id,
            g.name,
            _num(g.memory_gb),
            _num(g.max_instances),
            g.placements,
            ", ".join(g.aliases[:4]) + (" ..." if len(g.aliases) > 4 else ""),
        )
    _console().print(table)


def _num(v: float | int | None) -> str:
    return "unknown" if v is None else f"{v:g}"


@app.command("profiles")
def profiles_cmd(gpu: str = typer.Argument(..., help="GPU name"), as_json: bool = JsonOpt) -> None:
    """List a GPU's profiles: ID, memory, slices, instances, start slots."""
    from tutor.mig.tools import profile_list

    data = _run(lambda: profile_list(gpu))
    if as_json:
        print_json([p.model_dump(mode="json", exclude={"sources"}) for p in data.profiles])
        return
    con = _console()
    con.print(
        f"{data.name}: {_num(data.slots)} memory slots, at most {_num(data.max_instances)} "
        f"instances; placements {data.placements_basis}",
        markup=False,
    )
    if data.pci_ids:
        con.print(f"PCI device IDs: {', '.join(data.pci_ids)}", markup=False)
    table = Table(
        "profile", "ID", "GB", "-lgip GiB", "compute", "mem slots", "max", "starts", "+me"
    )
    for p in data.profiles:
        table.add_row(
            p.name,
            _num(p.id),
            _num(p.memory_gb),
            _num(p.memory_gib),
            str(p.compute_slices),
            _num(p.memory_slices),
            _num(p.max_instances),
            "unknown" if p.placements is None else ",".join(map(str, p.placements)),
            "yes" if p.media_extensions else "",
        )
    con.print(table)
    for n in data.notes:
        con.print(f"note: {n}")


def _check_json(res: Any) -> dict[str, Any]:
    out: dict[str, Any] = res.model_dump(mode="json")
    return out


@app.command("check")
def check_cmd(
    gpu: str = typer.Argument(..., help="GPU name"),
    profiles: Annotated[
        list[str] | None, typer.Argument(help="Profiles to place anywhere valid.")
    ] = None,
    at: list[str] = AtOpt,
    inferred: bool = InferredOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Can these profiles share one GPU? Shows one valid placement or the reason."""
    from tutor.mig.diagram import render
    from tutor.mig.placement import check

    pins = _pins(at)
    res = _run(lambda: check(gpu, profiles or [], pins, allow_inferred=inferred))
    if as_json:
        print_json(_check_json(res))
        return
    con = _console()
    if res.decided_by == "instance-count":
        # The basis sentence already says "valid: ..." and why no slots are shown.
        con.print(f"{res.gpu}: {res.basis}", markup=False)
        return
    verdict = {True: "valid", False: "invalid", None: "unknown"}[res.valid]
    con.print(f"{res.gpu}: {verdict}" + (f" - {res.reason}" if res.reason else ""), markup=False)
    if res.valid and (res.placements or not profiles):
        con.print(render(res.gpu, res.placements), markup=False)
    con.print(f"placements: {res.basis}", markup=False)


@app.command("capacity")
def capacity_cmd(
    gpu: str = typer.Argument(..., help="GPU name"),
    profile: str = typer.Argument(..., help="Profile to count"),
    at: list[str] = AtOpt,
    with_: Annotated[
        list[str] | None, typer.Option("--with", help="Other instances wanted, any slot.")
    ] = None,
    inferred: bool = InferredOpt,
    as_json: bool = JsonOpt,
) -> None:
    """How many more instances of PROFILE fit beside the pinned ones."""
    from tutor.mig.diagram import render
    from tutor.mig.placement import capacity

    pins = _pins(at)
    res = _run(lambda: capacity(gpu, profile, pins, with_ or [], allow_inferred=inferred))
    if as_json:
        print_json(res.model_dump(mode="json"))
        return
    con = _console()
    if res.count is None:
        con.print(f"{res.gpu} {res.profile}: {res.reason}")
        return
    con.print(f"{res.gpu}: {res.count} more x {res.profile} fit", markup=False)
    if res.limit:
        con.print(f"why not more: {res.limit}", markup=False)
    if res.decided_by == "instance-count":
        con.print(res.basis, markup=False)
    if res.placements:
        con.print(render(res.gpu, res.placements), markup=False)


@app.command("fit")
def fit_cmd(
    gpu: str = typer.Option(..., "--gpu", help="GPU name"),
    model: str = typer.Option(None, "--model", help="Catalogued model, e.g. Llama-3.1-8B"),
    params: str = typer.Option(None, "--params", help="Parameter count, e.g. 27B or 8e9"),
    layers: int = typer.Option(None, "--layers"),
    kv_heads: int = typer.Option(None, "--kv-heads"),
    head_dim: int = typer.Option(None, "--head-dim"),
    weights_dtype: str = typer.Option("bf16", "--weights-dtype"),
    kv_dtype: str = typer.Option("bf16", "--kv-dtype"),
    context: int = typer.Option(4096, "--context", help="Tokens per sequence"),
    batch: int = typer.Option(1, "--batch", help="Sequences held at once"),
    profile: str = typer.Option(None, "--profile", help="Evaluate this profile"),
    overhead_gib: float = typer.Option(0.0, "--overhead-gib", help="Extra GiB (default 0)"),
    as_json: bool = JsonOpt,
) -> None:
    """Smallest profile that holds a model (weights + KV cache), with the arithmetic."""
    from tutor.mig.fit import FitRequest, dtype_name, fit_request, parse_count

    count = _run(lambda: parse_count(params)) if params is not None else None
    req = _validated(
        FitRequest,
        gpu=gpu,
        model=model,
        params=count,
        layers=layers,
        kv_heads=kv_heads,
        head_dim=head_dim,
        weights_dtype=_run(lambda: dtype_name(weights_dtype)),
        kv_dtype=_run(lambda: dtype_name(kv_dtype)),
        context=context,
        batch=batch,
        profile=profile,
        overhead_gib=overhead_gib,
    )
    res = _run(lambda: fit_request(req))
    if as_json:
        print_json(res.model_dump(mode="json"))
        return
    con = _console()
    for line in res.lines:
        con.print(line, markup=False)


@app.command("timeslice")
def timeslice_cmd(
    gpus: int = typer.Option(..., "--gpus", help="Physical GPUs"),
    replicas: int = typer.Option(..., "--replicas", help="Replicas per GPU"),
    rename_by_default: bool = typer.Option(False, "--rename-by-default"),
    resource: str = typer.Option("nvidia.com/gpu", "--resource"),
    as_json: bool = JsonOpt,
) -> None:
    """What device-plugin time-slicing advertises, and what it does not isolate."""
    from tutor.mig.sharing import timeslice

    res = _run(
        lambda: timeslice(gpus, replicas, rename_by_default=rename_by_default, resource=resource)
    )
    if as_json:
        print_json(res.model_dump(mode="json"))
        return
    con = _console()
    con.print(f"{res.count} x {res.resource}")
    for line in (*res.labels, *res.notes):
        con.print(f"- {line}", markup=False)


@app.command("resource")
def resource_cmd(
    gpu: str = typer.Argument(...),
    profile: str = typer.Argument(...),
    strategy: str = typer.Option("mixed", "--strategy", help="none, single or mixed"),
    as_json: bool = JsonOpt,
) -> None:
    """The Kubernetes resource name for a MIG profile under a MIG strategy."""
    from tutor.mig.sharing import resource_name

    res = _run(lambda: resource_name(gpu, profile, strategy))
    if as_json:
        print_json(res.model_dump(mode="json"))
        return
    con = _console()
    con.print(f"{res.strategy}: request {res.resource}: 1", markup=False)
    con.print(f"node label to set: {res.mig_config_label}", markup=False)
    for line in (*res.labels, *res.constraints):
        con.print(f"- {line}", markup=False)


@app.command("diagram")
def diagram_cmd(
    gpu: str = typer.Argument(...),
    profiles: Annotated[list[str] | None, typer.Argument(help="Profiles to draw.")] = None,
    at: list[str] = AtOpt,
    inferred: bool = InferredOpt,
) -> None:
    """Draw one valid placement of the profiles as a slot diagram."""
    from tutor.mig.diagram import render
    from tutor.mig.placement import check

    pins = _pins(at)
    res = _run(lambda: check(gpu, profiles or [], pins, allow_inferred=inferred))
    if not res.valid:
        fail(res.reason or "not a valid layout")
    if res.decided_by == "instance-count":
        fail(
            f"{res.basis}, but nothing to draw: placements for {res.gpu} are not verified "
            "(--inferred uses a sibling GPU's start slots where the catalogue has them)"
        )
    typer.echo(_run(lambda: render(res.gpu, res.placements)))


@app.command("enumerate")
def enumerate_cmd(
    gpu: str = typer.Argument(...),
    inferred: bool = InferredOpt,
    placements: bool = typer.Option(False, "--placements", help="Every placement, not counts."),
    as_json: bool = JsonOpt,
) -> None:
    """Every maximal layout of a GPU."""
    from tutor.mig.catalogue import find_gpu
    from tutor.mig.diagram import render
    from tutor.mig.placement import distinct_layouts, enumerate_partitions

    parts = _run(lambda: enumerate_partitions(gpu, allow_inferred=inferred))
    layouts = _run(lambda: distinct_layouts(gpu, allow_inferred=inferred))
    parts_gpu = _run(lambda: find_gpu(gpu))
    if as_json:
        if placements:
            print_json([[p.model_dump() for p in part] for part in parts])
        else:
            print_json(layouts)
        return
    con = _console()
    con.print(f"{len(parts)} maximal partitions, {len(layouts)} distinct profile mixes")
    if placements:
        for part in parts:
            con.print(render(parts_gpu, part), markup=False)
    else:
        for lay in layouts:
            con.print(" + ".join(f"{n}x {p}" for p, n in lay.items()), markup=False)


@app.command("compare")
def compare_cmd(
    gpu: str = typer.Argument(...),
    tenants: int = typer.Option(..., "--tenants"),
    gpus: int = typer.Option(1, "--gpus"),
    replicas: int = typer.Option(None, "--replicas"),
    profile: str = typer.Option(None, "--profile"),
    tenant_gib: float = typer.Option(None, "--tenant-gib", help="GiB each tenant needs"),
    as_json: bool = JsonOpt,
) -> None:
    """MIG vs time-slicing vs whole GPU for a tenant scenario."""
    from tutor.mig.sharing import compare

    res = _run(
        lambda: compare(
            gpu,
            tenants,
            gpus=gpus,
            replicas=replicas,
            profile=profile,
            tenant_memory_gib=tenant_gib,
        )
    )
    if as_json:
        print_json(res.model_dump(mode="json"))
        return
    table = Table("", *(r.mode for r in res.rows))
    fields = [
        ("layout", "layout"),
        ("tenants served", "tenants_served"),
        ("memory per tenant", "guaranteed_memory"),
        ("compute per tenant", "guaranteed_compute"),
        ("isolation", "isolation"),
        ("noisy neighbour", "noisy_neighbour_risk"),
        ("resource", "resource"),
    ]
    for label, attr in fields:
        table.add_row(label, *(str(getattr(r, attr)) for r in res.rows))
    _console().print(table)


@app.command("pack")
def pack_cmd(
    gpu: Annotated[str, typer.Argument(help="GPU name")],
    tenant: Annotated[
        list[str], typer.Option("--tenant", help="NAME=GIB or NAME=GIB:COMPUTE (repeatable)")
    ],
    as_json: bool = JsonOpt,
) -> None:
    """Place tenants on as few GPUs as possible, one MIG instance each."""
    from tutor.mig.pack import Tenant, pack

    tenants = []
    for t in tenant:
        m = re.fullmatch(r"([^=]+)=(-?[\d.]+)(?::(-?\d+))?", t)
        if not m:
            fail(f"--tenant {t!r} must look like NAME=GIB or NAME=GIB:COMPUTE")
        tenants.append(
            _validated(
                Tenant,
                name=m.group(1),
                memory_gib=float(m.group(2)),
                compute_slices=int(m.group(3)) if m.group(3) else None,
            )
        )
    res = _run(lambda: pack(tenants, gpu))
    if as_json:
        print_json(res.model_dump(mode="json"))
        return
    con = _console()
    if not res.ok:
        con.print(res.reason or "no packing", markup=False)
        return
    for line in res.lines:
        con.print(line, markup=False)


@app.command("cluster")
def cluster_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Option("--file", help="Cluster YAML (default: settings)")
    ] = None,
    configmap: Annotated[
        Path | None, typer.Option("--import-configmap", help="Time-slicing ConfigMap YAML")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="ConfigMap data key to import (when several)")
    ] = None,
    lgip: Annotated[
        Path | None, typer.Option("--import-lgip", help="Saved nvidia-smi mig -lgip output")
    ] = None,
    lgipp: Annotated[
        Path | None, typer.Option("--import-lgipp", help="Saved nvidia-smi mig -lgipp output")
    ] = None,
    save: Annotated[
        Path | None, typer.Option("--save", help="Write the resulting cluster YAML here")
    ] = None,
    as_json: bool = JsonOpt,
) -> None:
    """Show the learner's cluster, or import it from a ConfigMap or nvidia-smi output."""
    from tutor.mig.cluster import (
        apply_timeslicing,
        cluster_to_yaml,
        gpu_from_smi,
        load_cluster,
        parse_timeslicing,
        save_cluster,
    )

    path = file
    if path is None:
        path = get_settings(ctx).cluster_file
    cluster = _run(lambda: load_cluster(path))
    if configmap is not None:
        text = _read(configmap)
        cluster = _run(lambda: apply_timeslicing(cluster, parse_timeslicing(text, key)))
    imported = None
    if lgip is not None:
        lgip_text = _read(lgip)
        lgipp_text = _read(lgipp) if lgipp is not None else None
        imported = _run(lambda: gpu_from_smi(lgip_text, lgipp_text))
    if save is not None:
        save_cluster(cluster, save)
    if as_json:
        out: dict[str, Any] = {
            "cluster": cluster.model_dump(mode="json"),
            "total_gpus": cluster.total_gpus,
            "logical_gpus": cluster.logical_gpus,
        }
        if imported is not None:
            out["imported_gpu"] = imported.model_dump(mode="json")
        print_json(out)
        return
    con = _console()
    for line in cluster.summary():
        con.print(line, markup=False)
    if imported is not None:
        con.print(
            f"imported: {imported.name}, {len(imported.profiles)} profiles, "
            f"placements {imported.basis_text()}",
            markup=False,
        )
    if save is not None:
        con.print(f"saved to {save}", markup=False)
    elif file is None and path is None:
        con.print("(lesson default; --save FILE to start your own)", markup=False)
    _ = cluster_to_yaml  # YAML form is what --save writes


# Saved nvidia-smi output, ConfigMaps and mig-parted configs are a few hundred KB at most;
# the cap keeps a wrong path (a log, /dev/zero) from being read without end.
MAX_INPUT_BYTES = 1_000_000


def _read(path: Path, limit: int = MAX_INPUT_BYTES) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    if len(data) > limit:
        fail(f"{path} is larger than {limit:,} bytes; give the saved command output or YAML file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text")


@app.command("validate-config")
def validate_config_cmd(
    file: Annotated[Path, typer.Argument(help="mig-parted config (or a ConfigMap holding one)")],
    key: Annotated[
        str | None, typer.Option("--key", help="ConfigMap data key holding the config")
    ] = None,
    gpu: Annotated[
        str | None, typer.Option("--gpu", help="Check on this GPU only (name or PCI ID)")
    ] = None,
    inferred: bool = InferredOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Check every named layout of a mig-parted config on the GPUs it targets.

    Exit status 0 when no layout is invalid, 1 when one is, 2 for a bad file.
    """
    from tutor.mig.catalogue import find_gpu
    from tutor.mig.migparted import report_lines, validate

    text = _read(file)
    only = _run(lambda: find_gpu(gpu)) if gpu is not None else None
    report = _run(
        lambda: validate(text, key=key, gpu=only, allow_inferred=inferred, source=str(file))
    )
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        con = _console()
        for line in report_lines(report):
            con.print(line, markup=False)
    if report.counts["invalid"]:
        raise typer.Exit(1)


generate_app = typer.Typer(help="Write mig-parted and time-slicing configs.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")


@generate_app.command("mig-parted")
def gen_mig_parted(
    gpu: Annotated[str, typer.Argument(help="GPU name")],
    profiles: Annotated[list[str], typer.Argument(help="The layout for each GPU")],
    name: str = typer.Option("custom", "--name", help="Config name for nvidia.com/mig.config"),
) -> None:
    """A mig-parted config for one layout (checked first)."""
    from tutor.mig.generate import mig_parted_config

    typer.echo(_run(lambda: mig_parted_config(gpu, profiles, name=name)), nl=False)


@generate_app.command("timeslicing")
def gen_timeslicing(
    replicas: int = typer.Option(..., "--replicas"),
    rename_by_default: bool = typer.Option(False, "--rename-by-default"),
    name: str = typer.Option("time-slicing-config", "--name"),
    namespace: str = typer.Option("gpu-operator", "--namespace"),
    resource: Annotated[
        list[str] | None,
        typer.Option("--resource", help="Resource to share, NAME or NAME=REPLICAS (repeatable)"),
    ] = None,
    mig_strategy: str = typer.Option("none", "--mig-strategy", help="none, single or mixed"),
) -> None:
    """The device-plugin ConfigMap for time-slicing."""
    from tutor.mig.generate import timeslicing_configmap

    typer.echo(
        _run(
            lambda: timeslicing_configmap(
                replicas,
                name=name,
                namespace=namespace,
                rename_by_default=rename_by_default,
                resources=resource or ["nvidia.com/gpu"],
                mig_strategy=mig_strategy,
            )
        ),
        nl=False,
    )
