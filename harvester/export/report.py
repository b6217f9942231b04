"""The terminal summary of `harvester export`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from harvester.export.job import ExportResult
from harvester.export.splits import SPLITS


def render_export(result: ExportResult, out: Console) -> None:
    manifest = result.manifest
    table = Table(title=f"Export {result.partner} -> {result.out_dir}")
    table.add_column("subset")
    for split in SPLITS:
        table.add_column(split, justify="right")
    table.add_column("dropped (duplicates, empty...)", justify="right")
    for subset, counts in manifest["subsets"].items():
        dropped = sum(counts["dropped"].values())
        table.add_row(subset, *(f"{counts[s]:,}" for s in SPLITS), f"{dropped:,}")
    out.print(table)
    redactions = manifest["redactions"]["by_kind"]
    found = {k: v for k, v in redactions.items() if v}
    out.print(
        "Redacted: "
        + (", ".join(f"{v:,} {k}" for k, v in found.items()) if found else "nothing found"),
        highlight=False,
    )
    balance = manifest.get("kto_label_balance", {})
    if "suggested" in balance:
        s = balance["suggested"]
        out.print(
            f"KTO train labels: {balance['train_desirable']:,} desirable, "
            f"{balance['train_undesirable']:,} undesirable; suggested KTOConfig("
            f"desirable_weight={s['desirable_weight']}, "
            f"undesirable_weight={s['undesirable_weight']})",
            highlight=False,
        )
    extras = []
    if "labelstudio" in manifest:
        extras.append(f"{manifest['labelstudio']['tasks']:,} Label Studio review tasks")
    if "prompt-kit" in manifest:
        extras.append(f"prompt kits for {manifest['prompt-kit']['repositories']:,} repositories")
    if extras:
        out.print("Also: " + "; ".join(extras), highlight=False)
    for warning in manifest.get("warnings", []):
        out.print(f"[yellow]warning:[/] {warning}", highlight=False)
    out.print(f"Files and checksums: {result.out_dir / 'manifest.json'}", highlight=False)
