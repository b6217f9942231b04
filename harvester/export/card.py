"""The Hugging Face dataset card (`README.md` with a YAML header) of an `hf` export."""

from __future__ import annotations

import json
from typing import Any

SUBSET_TEXT = {
    "sft": "prompt / completion demonstrations (TRL `SFTTrainer`)",
    "preference": "prompt / chosen / rejected pairs (TRL `DPOTrainer`, `RewardTrainer`)",
    "kto": "prompt / completion / label examples (TRL `KTOTrainer`)",
}
TAGS = {"sft": "sft", "preference": "dpo", "kto": "kto"}


def size_category(rows: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if rows < limit:
            return name
    return "100K<n<1M" if rows < 1_000_000 else "1M<n<10M"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def dataset_card(
    *,
    partner: str,
    license: str,
    description: str,
    files: dict[str, dict[str, str]],
    counts: dict[str, dict[str, int]],
    manifest: dict[str, Any],
) -> str:
    """`files`: subset -> split -> path glob of the subsets that have rows."""
    total = sum(sum(splits.values()) for splits in counts.values())
    lines = [
        "---",
        f"license: {license}",
        f"pretty_name: {_quote(f'{partner} bot feedback')}",
        "task_categories:",
        "- text-generation",
        "tags:",
        "- trl",
        "- human-feedback",
        *(f"- {TAGS[s]}" for s in files),
        "size_categories:",
        f"- {size_category(total)}",
        "configs:",
    ]
    for subset, splits in files.items():
        lines.append(f"- config_name: {subset}")
        lines.append("  data_files:")
        for split, path in splits.items():
            lines += [f"  - split: {split}", f"    path: {path}"]
    lines.append("---")
    body = [
        "",
        f"# {partner}: human feedback on bot answers",
        "",
        description or "Bot answers on GitHub with the reactions and corrections people gave them.",
        "",
        "Harvested from GitHub by bot-feedback-harvester: people's reactions to a bot's comments "
        "and their edits of them. Secrets and e-mail addresses are redacted; threads never span "
        "two splits.",
        "",
        "| subset | what | " + " | ".join(("train", "validation", "test")) + " |",
        "|---|---|---:|---:|---:|",
    ]
    for subset, per_split in counts.items():
        cells = " | ".join(f"{per_split.get(s, 0):,}" for s in ("train", "validation", "test"))
        body.append(f"| `{subset}` | {SUBSET_TEXT[subset]} | {cells} |")
    body += [
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("path/to/this/folder", "{next(iter(files), "sft")}")',
        "```",
        "",
        "Selection thresholds (the export's `manifest.json` has the rest, with checksums):",
        "",
        *(f"- `{key}`: {json.dumps(value)}" for key, value in manifest["settings"].items()),
        "",
    ]
    return "\n".join(lines + body)
