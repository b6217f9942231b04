"""`harvester export`: one partner's training sets, cut from the warehouse's marts.

The selection SQL is in `warehouse/exports/` (one query per subset); this module streams its
rows, builds prompts, redacts, removes duplicates, assigns splits, validates every record for
its consumer and writes each format. The export is built in a staging folder and replaces the
previous one in one rename, with a `manifest.json` that says what is inside.
"""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from harvester import __version__
from harvester.build import MARTS, MODELS_DIR, warehouse_path
from harvester.config import HarvesterConfig
from harvester.export.card import dataset_card
from harvester.export.dedup import Deduplicator, dedup_key
from harvester.export.prompts import Message, prompt_messages, user_message
from harvester.export.records import (
    SUBSETS,
    Example,
    hf_record,
    hf_schema,
    openai_record,
    trl_record,
    trl_schema,
)
from harvester.export.redact import Redactor, candidate_words
from harvester.export.scope import Scope
from harvester.export.sinks import (
    JsonlSink,
    ParquetSink,
    Sink,
    StagingDir,
    file_entries,
    write_json,
)
from harvester.export.splits import SPLITS, split_of
from harvester.export.validate import (
    TOKEN_LIMIT,
    estimated_tokens,
    openai_problems,
    require_valid,
    trl_problems,
)

EXPORT_SQL = MODELS_DIR / "exports"
FORMATS = (
    "trl-sft",
    "trl-preference",
    "trl-kto",
    "openai-sft",
    "openai-dpo",
    "hf",
    "labelstudio",
    "prompt-kit",
)
SUBSET_OF = {
    "trl-sft": "sft",
    "openai-sft": "sft",
    "trl-preference": "preference",
    "openai-dpo": "preference",
    "trl-kto": "kto",
}
# RE2 (no look-arounds): a superset of what harvester.export.redact replaces.
SENSITIVE_CANDIDATES = (
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
    r"|gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}"
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,200}|xox[abposr]-[A-Za-z0-9-]{10,200}"
    r"|AIza[0-9A-Za-z_-]{35}|[spr]k_(?:live|test)_[A-Za-z0-9]{16,200}|npm_[A-Za-z0-9]{36}"
    r"|glpat-[A-Za-z0-9_-]{20,100}|hf_[A-Za-z0-9]{30,100}|SG\.[A-Za-z0-9_.-]{32,200}"
    r"|ya29\.[A-Za-z0-9_-]{20,1000}|xapp-[A-Za-z0-9-]{10,200}|eyJ[A-Za-z0-9_-]{8,1000}\.[A-Za-z0-9_.-]{8,1000}"
    r"|-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-{0,5}[^-]{0,1000}"
    r"|://[^/\s:@]{1,200}:[^/\s@]{1,200}@"
    r"|(?i:(?:authorization:\s{0,3}(?:bearer|token|basic)|bearer)\s{1,3}[A-Za-z0-9._~+/=-]{16,1000})"
    r"|(?i:(?:api[_-]?key|secret(?:[_-]?key)?|access[_-]?key|client[_-]?secret|account[_-]?key"
    r"|private[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|token|password|passwd)[\"']?\s{0,3}[:=]\s{0,3}[\"']?[^\s\"',;]{8,200})"
)
TOP_PHRASES = 25
TOP_EXAMPLES = 5
FETCH_ROWS = 2_048
MEMORY_LIMIT = "2GB"  # DuckDB's share (it spills beyond it); the rest is the dedup index

Progress = Callable[[str, int], None]


class ExportError(RuntimeError):
    """The export cannot run (no warehouse, an old one); the message says what to do."""


@dataclass
class ExportOptions:
    data_dir: Path
    config: HarvesterConfig
    scope: Scope
    formats: tuple[str, ...] = FORMATS
    out_dir: Path | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_progress: Progress | None = None
    workers: int = 1
    """Processes that build, redact and fingerprint examples (1: this one). The order, the
    duplicates kept and the files are the same whatever the number."""

    @property
    def target(self) -> Path:
        return self.out_dir or self.data_dir / "exports" / self.scope.name


@dataclass
class ExportResult:
    partner: str
    out_dir: Path
    manifest: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"partner": self.partner, "out_dir": str(self.out_dir), "manifest": self.manifest}


def _sql(name: str) -> str:
    return (EXPORT_SQL / f"{name}.sql").read_text(encoding="utf-8")


def _open(data_dir: Path) -> duckdb.DuckDBPyConnection:
    path = warehouse_path(data_dir)
    if not path.is_file():
        raise ExportError(f"no warehouse at {path}: run `harvester build --data {data_dir}` first")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    try:
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS wh (READ_ONLY)")
    except duckdb.Error as exc:
        raise ExportError(f"cannot open {path}: {exc}; rebuild it with `harvester build`") from None
    con.execute("USE wh")
    tables = {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()}
    missing = [m for m in MARTS if m not in tables]
    if missing:
        raise ExportError(
            f"{path} lacks {', '.join(missing)}: it was built by another version; run "
            f"`harvester build --data {data_dir}`"
        )
    return con


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    reader = con.sql(sql, params=params or None).to_arrow_reader(FETCH_ROWS)
    for batch in reader:
        yield from batch.to_pylist()


def _length(messages: list[Message]) -> int:
    return sum(len(m["content"]) for m in messages)


def _dedup_text(row: dict[str, Any], *texts: str) -> str:
    """What varies between examples: the question (or code under review), and the texts."""
    head = row.get("question_text") or row.get("diff_hunk") or row.get("thread_title") or ""
    return "\n".join([head, *texts])


@dataclass(frozen=True)
class Shaping:
    """What turning a row into an example needs: picklable, for worker processes."""

    body_chars: int
    system_prompt: str | None
    train: float
    validation: float
    near_duplicates: bool


class Shaper:
    """Rows of the export queries -> examples: prompt, redacted texts, split, dedup key."""

    def __init__(self, shaping: Shaping) -> None:
        self.shaping = shaping
        self.redactor = Redactor()

    def prompt(self, row: dict[str, Any]) -> list[Message]:
        user = self.redactor(user_message(row, self.shaping.body_chars))
        return prompt_messages(user, self.shaping.system_prompt)

    def text(self, value: str | None) -> str:
        return self.redactor(value).strip() if value and value.strip() else ""

    def example(self, subset: str, row: dict[str, Any], **texts: Any) -> Example:
        return Example(
            subset=subset,
            comment_id=row["comment_id"],
            org=row["org"],
            repo=row["repo"],
            thread_id=row["thread_id"],
            url=row.get("url"),
            source=row.get("source", "feedback"),
            score=row.get("score"),
            prompt=self.prompt(row),
            split=split_of(row["thread_id"], self.shaping.train, self.shaping.validation),
            **texts,
        )

    def prepare(self, subset: str, row: dict[str, Any]) -> Prepared | str:
        """The example with its dedup key, or why the row makes none."""
        if subset == "preference":
            chosen, rejected = self.text(row["chosen_text"]), self.text(row["rejected_text"])
            if not chosen or not rejected:
                return "empty"
            if " ".join(chosen.split()) == " ".join(rejected.split()):
                return "chosen_equals_rejected"
            key = dedup_key(_dedup_text(row, chosen, rejected), self.shaping.near_duplicates)
            example = self.example(
                subset,
                row,
                chosen=chosen,
                rejected=rejected,
                rejected_comment_id=row["rejected_comment_id"],
                margin=row["margin"],
            )
            return Prepared(example, *key)
        completion = self.text(row["completion_text"])
        if not completion:
            return "empty"
        key = dedup_key(_dedup_text(row, completion), self.shaping.near_duplicates)
        label = bool(row["desirable"]) if subset == "kto" else None
        return Prepared(self.example(subset, row, completion=completion, label=label), *key)


@dataclass
class Prepared:
    example: Example
    digest: bytes
    signature: Any


_SHAPERS: dict[Shaping, Shaper] = {}


def prepare_batch(
    subset: str, rows: list[dict[str, Any]], shaping: Shaping
) -> tuple[list[Prepared | str], Counter[str], int]:
    """`Shaper.prepare` over a batch, with the redactions it made (worker processes run this;
    one Shaper per process keeps its redaction cache between batches)."""
    shaper = _SHAPERS.setdefault(shaping, Shaper(shaping))
    out = [shaper.prepare(subset, row) for row in rows]
    redactor = shaper.redactor
    counts, changed = Counter(redactor.counts), redactor.texts_changed
    redactor.counts.clear()
    redactor.texts_changed = 0
    return out, counts, changed


def _in_order(
    pool: ProcessPoolExecutor,
    batches: Iterable[list[dict[str, Any]]],
    subset: str,
    shaping: Shaping,
    in_flight: int,
) -> Iterator[tuple[list[Prepared | str], Counter[str], int]]:
    pending: list[Future[tuple[list[Prepared | str], Counter[str], int]]] = []
    for rows in batches:
        pending.append(pool.submit(prepare_batch, subset, rows, shaping))
        if len(pending) >= in_flight:
            yield pending.pop(0).result()
    for future in pending:
        yield future.result()


class _Exporter:
    def __init__(self, options: ExportOptions, con: duckdb.DuckDBPyConnection, root: Path):
        self.options = options
        self.con = con
        self.root = root
        cfg = options.config.export
        self.body_chars = cfg.prompt_body_chars
        self.splits = cfg.splits
        self.redactor = Redactor()
        self.shaper = Shaper(self._shaping())
        self.shaper.redactor = self.redactor
        self.pool: ProcessPoolExecutor | None = None
        self.sinks: dict[tuple[str, str, str], Sink] = {}
        self.counts: dict[str, Counter[str]] = {s: Counter() for s in SUBSETS}
        self.sources: dict[str, Counter[str]] = {s: Counter() for s in SUBSETS}
        self.kto_labels: dict[str, Counter[bool]] = defaultdict(Counter)
        self.dropped: dict[str, Counter[str]] = {s: Counter() for s in SUBSETS}
        self.over_token_limit: Counter[str] = Counter()
        self.comment_ids: set[str] = set()
        self.extra: dict[str, Any] = {}

    # ---------- subsets
    def _shaping(self) -> Shaping:
        cfg = self.options.config.export
        return Shaping(
            body_chars=self.body_chars,
            system_prompt=self.options.scope.system_prompt,
            train=self.splits.train,
            validation=self.splits.validation,
            near_duplicates=cfg.near_duplicate_threshold < 1,
        )

    def _prepared(self, subset: str) -> Iterator[Prepared | str]:
        """Every row's preparation, in query order: here, or in worker processes (at most two
        batches per worker in flight, so memory stays flat)."""
        params = {"min_pair_margin": self.options.config.export.min_pair_margin}
        reader = self.con.sql(_sql(subset), params=params if subset == "preference" else None)
        batches = (b.to_pylist() for b in reader.to_arrow_reader(FETCH_ROWS))
        shaping = self._shaping()
        pool = self.pool
        if pool is None:
            results: Iterator[Any] = (prepare_batch(subset, rows, shaping) for rows in batches)
        else:
            results = _in_order(pool, batches, subset, shaping, 2 * self.options.workers)
        for items, counts, changed in results:
            self.redactor.counts.update(counts)
            self.redactor.texts_changed += changed
            yield from items

    def _subset_rows(self, subset: str) -> Iterator[Example]:
        dedup = Deduplicator(self.options.config.export.near_duplicate_threshold)
        dropped = self.dropped[subset]
        for item in self._prepared(subset):
            if isinstance(item, str):
                dropped[item] += 1
                continue
            verdict = dedup.check_key(item.digest, item.signature)
            if verdict is not None:
                dropped[f"{verdict}_duplicate"] += 1
                continue
            yield item.example

    def _sink(self, fmt: str, subset: str, split: str) -> Sink:
        key = (fmt, subset, split)
        if key not in self.sinks:
            if fmt == "hf":
                path = self.root / "hf" / subset / f"{split}-00000-of-00001.parquet"
                self.sinks[key] = ParquetSink(path, hf_schema(subset))
            elif fmt.startswith("trl-"):
                self.sinks[key] = ParquetSink(
                    self.root / fmt / f"{split}.parquet", trl_schema(subset)
                )
            else:
                self.sinks[key] = JsonlSink(self.root / fmt / f"{split}.jsonl")
        return self.sinks[key]

    def write_subset(self, subset: str, formats: list[str]) -> None:
        progress = self.options.on_progress
        done = 0
        for example in self._subset_rows(subset):
            trl = trl_record(example)
            require_valid(trl_problems(trl, subset), f"{subset} example {example.id}")
            openai = (
                openai_record(example) if any(f.startswith("openai-") for f in formats) else None
            )
            if openai is not None:
                kind = "dpo" if subset == "preference" else "sft"
                require_valid(openai_problems(openai, kind), f"{subset} example {example.id}")
            longest = trl.get("completion") or max(trl["chosen"], trl["rejected"], key=_length)
            if estimated_tokens([*example.prompt, *longest]) > TOKEN_LIMIT:
                self.over_token_limit[subset] += 1
            for fmt in formats:
                if fmt == "hf":
                    record = hf_record(example)
                elif fmt.startswith("trl-"):
                    record = trl
                else:
                    assert openai is not None
                    record = openai
                self._sink(fmt, subset, example.split).write(record)
            self.counts[subset][example.split] += 1
            self.sources[subset][example.source] += 1
            if subset == "kto":
                self.kto_labels[example.split][bool(example.label)] += 1
            self.comment_ids.add(example.comment_id)
            if example.rejected_comment_id:
                self.comment_ids.add(example.rejected_comment_id)
            done += 1
            if progress is not None and done % 1000 == 0:
                progress(subset, done)
        if progress is not None:
            progress(subset, done)

    # ---------- review tasks and prompt kit
    def write_labelstudio(self) -> None:
        params = {
            "doubtful_similarity": self.options.config.export.doubtful_similarity,
            "doubtful_margin": self.options.config.export.doubtful_margin,
        }
        tasks = []
        reasons: Counter[str] = Counter()
        for row in _rows(self.con, _sql("review_pairs"), params):
            bot = self.shaper.text(row["bot_answer_text"])
            other = self.shaper.text(row["human_text"] if row["human_text"] else row["other_text"])
            if not bot or not other or bot == other:
                continue
            example = self.shaper.example(
                "preference", row, rejected_comment_id=row["other_comment_id"]
            )
            prompt = "\n\n".join(m["content"] for m in example.prompt if m["role"] == "user")
            first = ("bot", bot, row["comment_id"])
            second = (
                ("human", other, row["comment_id"])
                if row["human_text"]
                else ("bot", other, row["other_comment_id"])
            )
            if int(example.id, 16) % 2:  # show either side first, fixed per task
                first, second = second, first
            tasks.append(
                {
                    "id": example.id,
                    "prompt": prompt,
                    "answer1": first[1],
                    "answer2": second[1],
                    "answer1_source": first[0],
                    "answer2_source": second[0],
                    "answer1_comment_id": first[2],
                    "answer2_comment_id": second[2],
                    "reason": row["reason"],
                    "org": row["org"],
                    "repo": row["repo"],
                    "url": row["url"],
                }
            )
            reasons[row["reason"]] += 1
            self.comment_ids.update(c for c in (row["comment_id"], row["other_comment_id"]) if c)
        write_json(self.root / "labelstudio" / "tasks.json", tasks)
        (self.root / "labelstudio" / "config.xml").write_text(LABEL_CONFIG, encoding="utf-8")
        self.extra["labelstudio"] = {
            "tasks": len(tasks),
            "by_reason": dict(sorted(reasons.items())),
        }

    def write_prompt_kit(self) -> None:
        secret_words = self._secret_words()
        repos: dict[tuple[str, str], dict[str, Any]] = {}

        def entry(org: str, repo: str) -> dict[str, Any]:
            return repos.setdefault(
                (org, repo), {"org": org, "repo": repo, "prefer": [], "avoid": [], "examples": []}
            )

        dropped = 0
        for row in _rows(self.con, _sql("prompt_kit_phrases"), {"top_phrases": TOP_PHRASES}):
            if set(row["phrase"].split()) & secret_words:
                dropped += 1
                continue
            entry(row["org"], row["repo"])[row["advice"]].append(
                {
                    "phrase": row["phrase"],
                    "weight": round(row["weight"], 4),
                    "support": row["support"],
                }
            )
        for row in _rows(self.con, _sql("prompt_kit_examples"), {"top_examples": TOP_EXAMPLES}):
            entry(row["org"], row["repo"])["examples"].append(
                {
                    "question": self.shaper.text(row["question_text"]) or None,
                    "bot_answer": self.shaper.text(row["before_text"]),
                    "corrected_answer": self.shaper.text(row["after_text"]),
                    "word_diff": self.shaper.text(row["word_diff"]),
                    "similarity": row["similarity"],
                    "url": row["url"],
                }
            )
            self.comment_ids.add(row["comment_id"])
        index = []
        for (org, repo), value in sorted(repos.items()):
            rel = f"{org}/{repo}.json"
            write_json(self.root / "prompt-kit" / rel, value)
            index.append(
                {
                    "org": org,
                    "repo": repo,
                    "file": rel,
                    "prefer": len(value["prefer"]),
                    "avoid": len(value["avoid"]),
                    "examples": len(value["examples"]),
                }
            )
        write_json(self.root / "prompt-kit" / "index.json", index)
        self.extra["prompt-kit"] = {
            "repositories": len(index),
            "phrases_dropped_as_sensitive": dropped,
        }

    def _secret_words(self) -> set[str]:
        """Words of secrets and e-mail addresses in the scope's texts: phrases holding one go.

        DuckDB finds the candidates (RE2, in parallel: broader than the redaction patterns,
        which is the safe side); Python tokenises them as the phrase weights were."""
        words: set[str] = set()
        sql = (
            "select distinct unnest(regexp_extract_all(text, $pattern)) as found from ("
            "select unnest([answer_text, before_text, after_text]) as text from export_answers"
            ") where text is not null"
        )
        for row in _rows(self.con, sql, {"pattern": SENSITIVE_CANDIDATES}):
            words |= candidate_words(row["found"])
        return words

    # ---------- manifest
    def run_ids(self) -> list[str]:
        if not self.comment_ids:
            return []
        ids = pa.table({"comment_id": sorted(self.comment_ids)})
        self.con.register("export_comment_ids", ids)
        rows = self.con.execute(
            "select distinct unnest([run_id, hydrated_run_id]) as run_id from export_answers "
            "where comment_id in (select comment_id from export_comment_ids)"
        ).fetchall()
        return sorted(r[0] for r in rows if r[0])


def _kto_balance(labels: dict[str, Counter[bool]]) -> dict[str, Any]:
    train = labels.get("train", Counter())
    desirable, undesirable = train[True], train[False]
    balance: dict[str, Any] = {
        "splits": {
            split: {"desirable": labels[split][True], "undesirable": labels[split][False]}
            for split in SPLITS
            if split in labels
        },
        "train_desirable": desirable,
        "train_undesirable": undesirable,
    }
    if desirable and undesirable:
        # TRL: desirable_weight * D / (undesirable_weight * U) should lie in [1, 4/3].
        if desirable >= undesirable:
            weights = (1.0, int(desirable / undesirable * 1000) / 1000)
        else:
            weights = (-(-undesirable * 1000 // desirable) / 1000, 1.0)
        balance["suggested"] = {"desirable_weight": weights[0], "undesirable_weight": weights[1]}
        balance["weighted_ratio"] = round(weights[0] * desirable / (weights[1] * undesirable), 4)
    else:
        balance["warning"] = "KTO needs both labels in train; this split has only one or none"
    return balance


def run_export(options: ExportOptions) -> ExportResult:
    """Write one scope's training sets under `options.target`; returns its manifest."""
    unknown = [f for f in options.formats if f not in FORMATS]
    if unknown:
        raise ExportError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    formats = [f for f in FORMATS if f in options.formats]
    con = _open(options.data_dir)
    try:
        con.register("export_scope", options.scope.table())
        con.execute(f"create temp table export_answers as {_sql('answers')}")
        progress = options.on_progress or (lambda stage, done: None)
        answers = con.execute("select count(*) from export_answers").fetchall()[0][0]
        progress("answers", answers)
        built_at = con.execute("select value from build_info where key = 'built_at'").fetchall()
        target = options.target
        with StagingDir(target) as root, contextlib.ExitStack() as stack:
            exporter = _Exporter(options, con, root)
            if options.workers > 1:
                # spawn, not fork: forking a process that runs DuckDB threads is unsafe.
                exporter.pool = stack.enter_context(
                    ProcessPoolExecutor(options.workers, mp_context=get_context("spawn"))
                )
            for subset in SUBSETS:
                wanted = [f for f in formats if SUBSET_OF.get(f) == subset or f == "hf"]
                if wanted:
                    exporter.write_subset(subset, wanted)
            if "labelstudio" in formats:
                exporter.write_labelstudio()
                progress("labelstudio", exporter.extra["labelstudio"]["tasks"])
            if "prompt-kit" in formats:
                exporter.write_prompt_kit()
                progress("prompt-kit", exporter.extra["prompt-kit"]["repositories"])
            manifest = _manifest(options, exporter, formats, built_at[0][0] if built_at else None)
            manifest["answers_in_scope"] = answers
            built_with = _built_with(con)
            manifest["settings"].update(built_with)  # the labels were cut with these
            manifest["warnings"] = _stale_settings(options.config, built_with) + _warnings(
                options.scope, answers, manifest
            )
            if "hf" in formats:
                _write_card(root, options, exporter, manifest)
            rows = {sink.path: sink.rows for sink in exporter.sinks.values()}
            for sink in exporter.sinks.values():
                sink.close()
            manifest["files"] = file_entries(root, rows)
            progress("files", len(manifest["files"]))
            write_json(root / "manifest.json", manifest)
    finally:
        con.close()
    return ExportResult(options.scope.name, target, manifest)


def _manifest(
    options: ExportOptions, exporter: _Exporter, formats: list[str], built_at: str | None
) -> dict[str, Any]:
    cfg = options.config.export
    subsets = {
        subset: {
            **{split: exporter.counts[subset][split] for split in SPLITS},
            "total": sum(exporter.counts[subset].values()),
            "by_source": dict(sorted(exporter.sources[subset].items())),
            "dropped": dict(sorted(exporter.dropped[subset].items())),
            "over_token_limit": exporter.over_token_limit[subset],
        }
        for subset in SUBSETS
        if any(SUBSET_OF.get(f) == subset or f == "hf" for f in formats)
    }
    scope = options.scope
    manifest: dict[str, Any] = {
        "partner": scope.name,
        "orgs": list(scope.orgs),
        "repos": list(scope.repos),
        "license": scope.license,
        "created_at": options.now().isoformat(),
        "harvester_version": __version__,
        "warehouse_built_at": built_at,
        "formats": formats,
        "subsets": subsets,
        "redactions": {
            "by_kind": exporter.redactor.as_dict(),
            "texts_changed": exporter.redactor.texts_changed,
        },
        "source_run_ids": exporter.run_ids(),
        "settings": {
            "min_positive_score": cfg.min_positive_score,
            "max_negative_score": cfg.max_negative_score,
            "trivial_edit_distance": options.config.feedback.trivial_edit_distance,
            "min_pair_margin": cfg.min_pair_margin,
            "near_duplicate_threshold": cfg.near_duplicate_threshold,
            "doubtful_similarity": cfg.doubtful_similarity,
            "doubtful_margin": cfg.doubtful_margin,
            "prompt_body_chars": cfg.prompt_body_chars,
            "splits": {
                "train": cfg.splits.train,
                "validation": cfg.splits.validation,
                "test": cfg.splits.test,
            },
            "system_prompt": bool(scope.system_prompt),
        },
        **exporter.extra,
    }
    if "kto" in subsets:
        manifest["kto_label_balance"] = _kto_balance(exporter.kto_labels)
    return manifest


BUILD_SETTINGS = {
    "min_positive_score": ("export", "min_positive_score"),
    "max_negative_score": ("export", "max_negative_score"),
    "trivial_edit_distance": ("feedback", "trivial_edit_distance"),
    "correction_weight": ("feedback", "correction_weight"),
}


def _built_with(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The label and triviality thresholds the warehouse was built with (`param_feedback`)."""
    columns = ", ".join(BUILD_SETTINGS)
    found = con.execute(f"select {columns} from param_feedback").fetchall()
    return dict(zip(BUILD_SETTINGS, found[0], strict=True)) if found else {}


def _stale_settings(config: HarvesterConfig, built_with: dict[str, Any]) -> list[str]:
    """Thresholds changed in harvester.toml since the build: labels still use the old ones."""
    stale = []
    for name, (section, key) in BUILD_SETTINGS.items():
        wanted = getattr(getattr(config, section), key)
        if name in built_with and float(built_with[name]) != float(wanted):
            stale.append(f"{section}.{key} is {wanted} but the warehouse used {built_with[name]}")
    if not stale:
        return []
    return [
        "; ".join(stale) + ": labels and corrections follow the warehouse; run `harvester "
        "build` with this configuration, then export again"
    ]


def _warnings(scope: Scope, answers: int, manifest: dict[str, Any]) -> list[str]:
    warnings = []
    if answers == 0:
        where = ", ".join([*scope.orgs, *scope.repos])
        warnings.append(
            f"the warehouse has no LLM answers in {where}: check that they were crawled "
            "(`harvester status`) and that the build is recent (`harvester build`)"
        )
    elif "warning" in manifest.get("kto_label_balance", {}):
        warnings.append(manifest["kto_label_balance"]["warning"])
    for subset, counts in manifest["subsets"].items():
        if counts["over_token_limit"]:
            warnings.append(
                f"{counts['over_token_limit']:,} {subset} examples are estimated above "
                f"{TOKEN_LIMIT:,} tokens: OpenAI truncates them"
            )
    return warnings


def _write_card(
    root: Path, options: ExportOptions, exporter: _Exporter, manifest: dict[str, Any]
) -> None:
    files = {
        subset: {
            split: f"{subset}/{split}-*.parquet"
            for split in SPLITS
            if exporter.counts[subset][split]
        }
        for subset in SUBSETS
        if sum(exporter.counts[subset].values())
    }
    counts = {s: dict(exporter.counts[s]) for s in SUBSETS}
    card = dataset_card(
        partner=options.scope.name,
        license=options.scope.license,
        description=options.scope.description,
        files=files,
        counts=counts,
        manifest=manifest,
    )
    (root / "hf").mkdir(exist_ok=True)
    (root / "hf" / "README.md").write_text(card, encoding="utf-8")


LABEL_CONFIG = """<View>
  <Header value="Which answer is better?"/>
  <Text name="prompt" value="$prompt"/>
  <Pairwise name="comparison" toName="answer1,answer2"/>
  <View style="display: flex; gap: 1em">
    <Text name="answer1" value="$answer1"/>
    <Text name="answer2" value="$answer2"/>
  </View>
</View>
"""
