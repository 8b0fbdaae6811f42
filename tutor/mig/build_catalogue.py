"""Regenerate catalogue.json from the verified reference file.

Run: python -m tutor.mig.build_catalogue [/path/to/mig-profiles.json [/path/to/nvidia-shipped.json]]
(default: the copies in tutor/mig/reference/, whose `_meta.sources` name where each
value was read; nvidia-shipped.json adds the GPUs and PCI device IDs that NVIDIA's
mig-parted config keys its layouts on)

The reference is the only numeric input; the aliases below are the sole hand-written
part because nobody prints them in a table. Nulls are copied as nulls: an unverified
value must stay unknown, and the engine says so instead of guessing.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_REFERENCE = Path(__file__).with_name("reference") / "mig-profiles.json"
DEFAULT_SHIPPED = Path(__file__).with_name("reference") / "nvidia-shipped.json"
OUT = Path(__file__).with_name("catalogue.json")

# Names people type: product names, nvidia-smi product strings, Kubernetes product labels.
ALIASES: dict[str, list[str]] = {
    "A100-40GB": [
        "A100 40GB",
        "A100-SXM4-40GB",
        "A100-PCIE-40GB",
        "NVIDIA A100-SXM4-40GB",
        "NVIDIA A100-PCIE-40GB",
        "A100 40GB PCIe",
        "A100 40GB SXM",
    ],
    "A100-80GB": [
        "A100 80GB",
        "A100-SXM4-80GB",
        "A100-PCIE-80GB",
        "NVIDIA A100-SXM4-80GB",
        "NVIDIA A100 80GB PCIe",
        "A100 80GB PCIe",
        "A100 80GB SXM",
    ],
    "A30-24GB": ["A30", "A30 24GB", "NVIDIA A30"],
    "H100-80GB": [
        "H100 80GB",
        "H100-SXM5-80GB",
        "H100-PCIE-80GB",
        "H100 80GB HBM3",
        "NVIDIA H100 80GB HBM3",
        "H100 SXM",
        "H100 SXM5",
        "H100 PCIe",
        "NVIDIA H100 PCIe",
    ],
    "H100-94GB": [
        "H100 94GB",
        "H100 NVL",
        "H100-NVL",
        "NVIDIA H100 NVL",
        "H100-SXM5-94GB",
        "H100 NVL 94GB",
    ],
    "H100-96GB-GH200": ["H100-96GB", "H100 96GB", "GH200", "GH200 96GB", "NVIDIA GH200 480GB"],
    "H20": ["H20 96GB", "NVIDIA H20"],
    "H200-141GB": [
        "H200",
        "H200 141GB",
        "H200-SXM5",
        "H200-SXM5-141GB",
        "H200 NVL",
        "NVIDIA H200",
        "NVIDIA H200 NVL",
    ],
    "B200": ["B200 180GB", "B200-180GB", "HGX B200", "NVIDIA B200"],
    "GB200": ["GB200 186GB", "GB200-186GB", "NVIDIA GB200"],
    "B300": ["B300 288GB", "B300-288GB", "HGX B300", "NVIDIA B300"],
    "GB300": ["NVIDIA GB300"],
    "RTX-PRO-6000-Blackwell": [
        "RTX PRO 6000",
        "RTX PRO 6000 Blackwell",
        "RTX PRO 6000 Blackwell Server Edition",
        "RTX PRO 6000 Blackwell Workstation Edition",
        "RTX PRO 6000 Blackwell Max-Q",
        "NVIDIA RTX PRO 6000 Blackwell Server Edition",
        "RTX6000 PRO",
        "RTX PRO 6000 96GB",
    ],
    "RTX-PRO-5000-Blackwell": ["RTX PRO 5000", "RTX PRO 5000 Blackwell", "RTX PRO 5000 48GB"],
    "RTX-PRO-4500-Blackwell": ["RTX PRO 4500", "RTX PRO 4500 Blackwell", "RTX PRO 4500 32GB"],
    # A bare "A800" stays ambiguous on purpose: it names a 40GB and an 80GB board.
    "A800-40GB": ["A800 40GB", "A800 40GB Active", "NVIDIA A800 40GB Active", "A800-PCIE-40GB"],
    "A800-80GB": [
        "A800 80GB",
        "A800-SXM4-80GB",
        "NVIDIA A800-SXM4-80GB",
        "A800 80GB PCIe",
        "NVIDIA A800 80GB PCIe",
    ],
    "H800-80GB": [
        "H800",
        "H800 80GB",
        "NVIDIA H800",
        "H800 PCIe",
        "NVIDIA H800 PCIe",
        "H800-SXM5-80GB",
    ],
    "H800-NVL": ["H800 NVL", "NVIDIA H800 NVL", "H800 94GB", "H800-94GB"],
    "PG506-96GB": ["PG506", "PG506-232", "NVIDIA PG506-232", "PG506 96GB"],
    "GH200-144GB": [
        "GH200 144GB",
        "GH200 144G HBM3e",
        "NVIDIA GH200 144G HBM3e",
        "GH200-144G",
        "H100-144GB",
    ],
}

# Only where a reference file itself states the geometry family ("same as H100-80GB");
# such placements (and, where unknown, slot sizes) are carried separately and always
# labelled inferred.
SAME_AS = re.compile(r"same as (\S+?)[\s;,)]")


def _url(text: str) -> str | None:
    match = re.search(r"https?://\S+", text)
    if match:
        return match.group(0).rstrip(");,")
    if text.startswith("github "):
        repo = text.split()[1]
        return f"https://github.com/{repo}"
    return None


def build(reference: dict[str, Any], shipped: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = reference["_meta"]
    extra = shipped or {"_meta": {"sources": {}}, "gpus": {}, "device_ids": {}}
    all_sources = {**meta["sources"], **extra["_meta"]["sources"]}
    sources = {k: {"text": v, "url": _url(v)} for k, v in all_sources.items()}
    text_to_key = {v: k for k, v in all_sources.items()}

    def keys(items: list[str] | str | None) -> list[str]:
        if items is None:
            return []
        if isinstance(items, str):
            items = [items]
        out = []
        for item in items:
            key = item if item in sources else text_to_key.get(item)
            if key is None:
                # A few GPU entries cite a page directly instead of a _meta key; keep it
                # under a stable derived key so every value still names its source.
                key = f"PAGE_{sum(k.startswith('PAGE_') for k in sources) + 1}"
                sources[key] = {"text": item, "url": _url(item)}
                text_to_key[item] = key
            out.append(key)
        return out

    gpus = []
    every_gpu = {**reference["gpus"], **extra["gpus"]}
    for gpu_id, g in every_gpu.items():
        inferred_note = g.get("geometry_family_inferred")
        match = SAME_AS.search(inferred_note + " ") if inferred_note else None
        donor = every_gpu[match.group(1)] if match else None
        donor_shapes = {
            (d["compute_slices"], d["memory_slices"], d["media_ext"]): d["placements"]
            for d in (donor["profiles"] if donor else [])
        }
        donor_names = {d["name"]: d for d in (donor["profiles"] if donor else [])}
        profiles = []
        for p in g["profiles"]:
            if p["placement_size"] is not None and p["memory_slices"] is not None:
                assert p["placement_size"] == p["memory_slices"], (gpu_id, p["name"])
            inferred = None
            inferred_size = None
            if donor and p["placements"] is None:
                size = p["memory_slices"] or p["placement_size"]
                if size is not None:
                    inferred = donor_shapes.get((p["compute_slices"], size, p["media_ext"]))
                elif p["name"] in donor_names:
                    # No slot size of its own: borrow the same-named profile whole.
                    twin = donor_names[p["name"]]
                    inferred = twin["placements"]
                    inferred_size = twin["memory_slices"]
            extra_fields = (
                {} if inferred_size is None else {"inferred_memory_slices": inferred_size}
            )
            profiles.append(
                {
                    "name": p["name"],
                    "id": p["id"],
                    "memory_gb": p["memory_gb"],
                    "memory_gib": p["memory_gib_lgip"],
                    "compute_slices": p["compute_slices"],
                    "memory_slices": p["memory_slices"]
                    if p["memory_slices"] is not None
                    else p["placement_size"],
                    "max_instances": p["max_instances"],
                    "placements": p["placements"],
                    "inferred_placements": inferred,
                    **extra_fields,
                    "media_extensions": p["media_ext"],
                    "sms": p.get("sms_lgip"),
                    "memory_fraction": p.get("memory_fraction"),
                    "sm_fraction": p.get("sm_fraction"),
                    "copy_engines": p.get("copy_engines"),
                    "hw_units": p.get("hw_units"),
                    "notes": p.get("notes"),
                    "sources": keys(p.get("source")),
                }
            )
        verified = g["placements_verified"]
        grid = {}
        if (
            donor
            and g["memory_slices"] is None
            and any("inferred_memory_slices" in q for q in profiles)
        ):
            grid = {"inferred_memory_slices": donor["memory_slices"]}
        gpus.append(
            {
                "id": gpu_id,
                "name": g["display_name"],
                "aliases": ALIASES[gpu_id],
                "architecture": g.get("architecture"),
                "compute_capability": g.get("compute_capability"),
                "memory_gb": g["memory_gb"],
                "memory_slices": g["memory_slices"],
                **grid,
                "compute_slices": g["compute_slices"],
                "max_instances": g["max_instances"],
                "placements_basis": {True: "verified", False: "unverified"}.get(verified, verified)
                if isinstance(verified, bool)
                else str(verified),
                "inferred_from": match.group(1) if match else None,
                "inferred_note": inferred_note,
                "grid_note": g.get("placement_grid_note"),
                "notes": g.get("notes") or [],
                "sources": keys(g.get("source")),
                "pci_ids": [
                    {"device": d["device"], "product": d["product"], "sources": keys(d["source"])}
                    for d in extra["device_ids"].get(gpu_id, [])
                ],
                "profiles": profiles,
            }
        )
    rules = {
        name: {"fact": r["fact"], "sources": keys(r.get("source"))}
        for name, r in reference["rules"].items()
    }
    models = {
        name: {
            "params": m["params_computed_from_config"],
            "layers": m["layers"],
            "kv_heads": m["kv"],
            "head_dim": m["head_dim"],
            "hidden": m["hidden"],
            "heads": m["heads"],
            "kv_bytes_per_token_bf16": m["kv_bytes_per_token_bf16"],
            "sources": keys(m["src"]),
        }
        for name, m in reference["models"].items()
    }
    whole = [
        {
            "id": wid,
            "name": w["display_name"],
            "aliases": w["aliases"],
            "pci_ids": [
                {"device": d["device"], "product": d["product"], "sources": keys(d["source"])}
                for d in w["pci_ids"]
            ],
            "notes": w["notes"],
            "sources": keys(w["source"]),
        }
        for wid, w in extra.get("whole_gpus", {}).items()
    ]
    return {
        "about": meta["about"],
        "conventions": meta["conventions"],
        "sources": sources,
        "rules": rules,
        "models": models,
        "gpus": gpus,
        "whole_gpus": whole,
    }


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    shipped = Path(argv[2]) if len(argv) > 2 else DEFAULT_SHIPPED
    data = build(json.loads(path.read_text()), json.loads(shipped.read_text()))
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({len(data['gpus'])} GPUs)")


if __name__ == "__main__":
    main(sys.argv)
