"""`harvester build`: run the SQL models of `warehouse/` into `DATA/warehouse.duckdb`.

How the runner works (docs/warehouse.md has the analyst's view):

- **Models** are the `.sql` files under `warehouse/staging`, `warehouse/intermediate` and
  `warehouse/marts` (one model per file, named after the file: `stg_*`, `int_*`, plain names),
  plus four Python stages declared here (`STAGES`) for what SQL cannot do: parsing bot bodies,
  linking answers to questions, text diffs and phrases. `warehouse/macros/*.sql` run first
  (DuckDB macros the models share).
- **Dependencies** are read from the SQL: every name after `from` or `join` that is another
  model, a raw source (`raw_<table>`) or a parameter table (`param_*`), minus the file's own
  CTE names. Nothing to keep in sync by hand; a comma join (`from a, b`) is not seen, so the
  models use explicit joins. Models run in dependency order, ties by layer (marts first, so
  that the temporary tables only they read go early) then name, so the
  order is the same on every machine.
- **Materialisation** by layer: staging and intermediate models are temporary views (DuckDB
  inlines them, so a reader pays only for the columns it uses), marts are the tables analysts
  query. A `-- materialized: table|temp|view` line overrides it: intermediate models read
  several times are temporary tables. The Python stages' outputs are kept as tables: they are
  the next build's caches.
- **`-- uncompressed: a, b`** in a stored model: those columns skip DuckDB's string
  compression (long, distinct texts cost more time to compress than the space is worth).
- **Idempotent and atomic**: every object is `create or replace`d in a fresh database file
  next to the warehouse (`DATA/.warehouse-*.duckdb.building`), which replaces
  `DATA/warehouse.duckdb` with one rename once everything is built: an analyst never sees
  half a warehouse, and a failed build leaves the previous one in place.
- **Raw sources**: `raw_<table>` reads `DATA/raw/<table>/**/*.parquet` with the table's exact
  schema from `harvester.rawschema` (a column missing from old files reads as null; a table
  with no files is an empty relation).
- **Parameters** come from the configuration as tables, never as text spliced into SQL:
  `param_reaction_weights`, `param_feedback`, `param_bot_logins`, `param_stop_words`.
- **Python stages** read pages of an Arrow result and call a batch function of
  `harvester.udfs` once per page (never a per-row SQL call), in this process or in `workers`
  processes, which write each page's rows to Parquet themselves. Each keys its input by
  content (the author and body, the thread, the two texts of a correction, a text); rows whose
  key a cache already holds are copied from it when `cache_fingerprint` (the stages' code,
  `[bots]`, DuckDB's version) is unchanged, so a nightly build computes only what is new. The
  caches are the previous warehouse's tables, except the parser's: Parquet files under
  `DATA/cache/parsed/` that crawls fill as they land bodies (`harvester.caches`).
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import heapq
import json
import logging
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from harvester import __version__, udfs
from harvester.caches import (
    CACHE_OWN_PREFIXES,
    cache_fingerprint,
    landed_parse_files,
    parsed_dir,
    remove_stale_parses,
)
from harvester.config import HarvesterConfig, default_config
from harvester.land import part_files, write_parquet_atomic
from harvester.rawschema import TABLES, TS
from harvester.udfs import STAGE_GC_THRESHOLD, fewer_gc_passes

log = logging.getLogger(__name__)

WAREHOUSE_FILE = "warehouse.duckdb"
MODELS_DIR = Path(__file__).resolve().parent.parent / "warehouse"
"""The SQL models of this checkout (`warehouse/` beside the package)."""

LAYERS = ("staging", "intermediate", "marts")
LAYER_PREFIX = {"staging": "stg_", "intermediate": "int_", "marts": ""}
Materialization = Literal["view", "temp", "table"]
DEFAULT_MATERIALIZATION: dict[str, Materialization] = {
    "staging": "view",
    "intermediate": "view",
    "marts": "table",
}
MARTS = (
    "bot_comments",
    "threads",
    "revisions",
    "reactions",
    "corrections",
    "feedback",
    "phrase_weights",
)
"""The relations analysts query (the design's contract)."""

RUN_PRIORITY = {"marts": 0, "staging": 1, "intermediate": 2}
"""Which ready model runs first (`plan`)."""

SOURCES = tuple(f"raw_{table}" for table in TABLES)
PARTS_SUFFIX = ".parts"
"""Beside the database being built: where Python stages without a file cache write pages."""
CACHE_COMPACT_FILES = 1024
"""The parse cache is rewritten as one file beyond this many files (or mostly stale rows)."""
PARAMS = ("param_reaction_weights", "param_feedback", "param_bot_logins", "param_stop_words")

PHRASE_MIN_SUPPORT = 2
"""Phrases seen in fewer documents than this are left out of phrase_weights."""
PHRASE_PRIOR_DOCS = 2.0
"""How many documents' worth of the pooled rate shrink each phrase's rates (phrase_weights)."""
PHRASE_ANSWERS_PER_LABEL = 200
"""Rated answers per org, repo and label that phrase_weights reads (the most recent)."""


# ---------- models
@dataclass(frozen=True)
class Model:
    """One model: a SQL file or a Python stage, its layer, dependencies and materialisation."""

    name: str
    layer: str
    kind: Literal["sql", "python"]
    depends: tuple[str, ...]
    materialized: Materialization
    description: str = ""
    sql: str = ""
    path: Path | None = None
    uncompressed: tuple[str, ...] = ()


class ModelError(RuntimeError):
    """A model failed or the model set is inconsistent; the message names the model."""


_NOISE = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
_CTE = re.compile(
    r"(?:\bwith|,)\s+([a-z_][a-z0-9_]*)\s+as\s*(?:not\s+)?(?:materialized\s*)?\(", re.I
)
_REFERENCE = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b(?!\s*\()", re.I)
_SELF_IMPORT = re.compile(
    r"(?:\bwith|,)\s+([a-z_][a-z0-9_]*)\s+as\s*(?:not\s+)?(?:materialized\s*)?"
    r"\(\s*select\s+\*\s+from\s+\1\s*\)",
    re.I,
)
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(\w+)\b", re.M)
_UNCOMPRESSED = re.compile(r"^--\s*uncompressed:\s*([a-z0-9_, ]+?)\s*(?:\(.*)?$", re.M | re.I)


def sql_references(sql: str) -> tuple[set[str], set[str]]:
    """The names after `from`/`join` and the CTE names of a SQL text (comments, strings out).

    An import CTE named after the model it reads (`threads as (select * from threads)`) is
    not among the CTE names: inside its own definition the name means the model.
    """
    code = _NOISE.sub(" ", sql)
    ctes = {m.group(1).lower() for m in _CTE.finditer(code)}
    ctes -= {m.group(1).lower() for m in _SELF_IMPORT.finditer(code)}
    refs = {m.group(1).lower() for m in _REFERENCE.finditer(code)}
    return refs, ctes


def _description(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        text = line[2:].strip()
        if not text:
            break
        if not _MATERIALIZED.match(line) and not _UNCOMPRESSED.match(line):
            lines.append(text)
    return " ".join(lines)


def _uncompressed_columns(sql: str) -> tuple[str, ...]:
    """The columns of a `-- uncompressed: a, b (why)` line: stored without DuckDB's string
    compression, which for long, unique texts costs more build time than it saves space."""
    found = _UNCOMPRESSED.search(sql)
    if found is None:
        return ()
    return tuple(name.strip().lower() for name in found.group(1).split(",") if name.strip())


def load_sql_models(models_dir: Path = MODELS_DIR) -> list[Model]:
    """The SQL models under `models_dir` (dependencies still unresolved: names only)."""
    models: list[Model] = []
    for layer in LAYERS:
        folder = models_dir / layer
        for path in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
            name = path.stem
            prefix = LAYER_PREFIX[layer]
            if prefix and not name.startswith(prefix):
                raise ModelError(f"{path}: a {layer} model's name starts with {prefix!r}")
            if not prefix and name.startswith(("stg_", "int_")):
                raise ModelError(f"{path}: a mart's name has no layer prefix; move or rename it")
            sql = path.read_text(encoding="utf-8")
            override = _MATERIALIZED.search(sql)
            materialized = DEFAULT_MATERIALIZATION[layer]
            if override is not None:
                value = override.group(1).lower()
                if value not in ("view", "temp", "table"):
                    raise ModelError(f"{path}: materialized must be view, temp or table")
                materialized = value  # type: ignore[assignment]
            uncompressed = _uncompressed_columns(sql)
            if uncompressed and materialized != "table":
                raise ModelError(
                    f"{path}: `-- uncompressed:` is for models stored as tables (marts, or "
                    f"`-- materialized: table`); this one is a {materialized}: remove the line"
                )
            refs, ctes = sql_references(sql)
            models.append(
                Model(
                    name=name,
                    layer=layer,
                    kind="sql",
                    depends=tuple(sorted(refs - ctes)),
                    materialized=materialized,
                    description=_description(sql),
                    sql=sql,
                    path=path,
                    uncompressed=uncompressed,
                )
            )
    return models


def _python_models() -> list[Model]:
    descriptions = {
        "int_parsed_bodies": "Every distinct (author, body), read by harvester.dialects."
        "parse_comment; kept as the next build's cache.",
        "int_question_links": "For each LLM answer, the human comment it replies to "
        "(harvester.questions); kept as the next build's cache, per thread.",
        "int_correction_diffs": "Line diff, word diff, character edit distance, similarity and "
        "added / removed phrases of each correction (harvester.udfs); kept as a cache.",
        "int_text_phrases": "The phrases of each rated answer's text (harvester.udfs.phrases); "
        "kept as the next build's cache.",
    }
    return [
        Model(
            name,
            "intermediate",
            "python",
            (spec.input,),
            "table" if spec.key else "temp",
            descriptions[name],
        )
        for name, spec in STAGES.items()
    ]


def plan(models: Sequence[Model]) -> list[Model]:
    """The models in a valid run order: dependencies first; of the models ready to run, marts
    first (a mart that can run frees the temporary tables only it still reads, before the
    next large model needs the memory), then staging, then intermediate, then by name.

    References to names that are neither models, sources nor parameters are dropped here
    (`from` also appears in `extract(year from x)`); DuckDB reports a real typo when it runs.
    """
    by_name: dict[str, Model] = {}
    for model in models:
        if model.name in by_name:
            raise ModelError(f"two models are named {model.name!r}: rename one")
        by_name[model.name] = model
    known_inputs = set(SOURCES) | set(PARAMS)
    deps: dict[str, set[str]] = {}
    for model in models:
        deps[model.name] = {d for d in model.depends if d in by_name and d != model.name}
        unknown_params = {d for d in model.depends if d.startswith(("raw_", "param_"))}
        missing = unknown_params - known_inputs
        if missing:
            raise ModelError(f"model {model.name} reads {sorted(missing)}: no such source")
    dependants: dict[str, set[str]] = {name: set() for name in by_name}
    for name, needs in deps.items():
        for need in needs:
            dependants[need].add(name)
    ready = [(RUN_PRIORITY[by_name[n].layer], n) for n, needs in deps.items() if not needs]
    heapq.heapify(ready)
    remaining = {name: len(needs) for name, needs in deps.items()}
    order: list[Model] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(by_name[name])
        for child in sorted(dependants[name]):
            remaining[child] -= 1
            if remaining[child] == 0:
                heapq.heappush(ready, (RUN_PRIORITY[by_name[child].layer], child))
    if len(order) != len(by_name):
        stuck = sorted(name for name, count in remaining.items() if count > 0)
        raise ModelError(f"the models {stuck} depend on each other in a cycle: break it")
    return order


def all_models(models_dir: Path = MODELS_DIR) -> list[Model]:
    """SQL and Python models, in run order."""
    return plan([*load_sql_models(models_dir), *_python_models()])


def temp_drops(order: Sequence[Model]) -> dict[str, list[str]]:
    """After which model each temporary table can go: the last one that reads it, directly or
    through views. Dropping them then keeps a build's working set, and what DuckDB spills to
    disk past its memory limit, to what the models still to run need."""
    by_name = {model.name: model for model in order}
    reads: dict[str, set[str]] = {}

    def stored_inputs(name: str) -> set[str]:
        if name not in reads:
            found: set[str] = set()
            for dep in by_name[name].depends:
                if dep not in by_name:
                    continue
                if by_name[dep].materialized == "view":
                    found |= stored_inputs(dep)
                else:
                    found.add(dep)
            reads[name] = found
        return reads[name]

    last_reader = {m.name: m.name for m in order if m.materialized == "temp"}
    for model in order:  # run order: a later reader overwrites an earlier one
        for name in stored_inputs(model.name):
            if name in last_reader:
                last_reader[name] = model.name
    drops: dict[str, list[str]] = {}
    for table, after in last_reader.items():
        drops.setdefault(after, []).append(table)
    return drops


# ---------- options and results
@dataclass(frozen=True)
class ModelRun:
    """What one model produced."""

    name: str
    layer: str
    kind: str
    materialized: str
    rows: int | None
    """None for a view (counting it would run its query again)."""
    seconds: float


@dataclass
class BuildResult:
    """A finished build: where, how long, and every model's row count."""

    warehouse: Path
    seconds: float
    models: list[ModelRun]
    stages: dict[str, dict[str, int]]
    raw_files: dict[str, int]

    @property
    def marts(self) -> dict[str, int]:
        return {run.name: run.rows or 0 for run in self.models if run.name in MARTS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "warehouse": str(self.warehouse),
            "seconds": round(self.seconds, 3),
            "marts": self.marts,
            "stages": self.stages,
            "raw_files": self.raw_files,
            "models": [
                {
                    "name": run.name,
                    "layer": run.layer,
                    "kind": run.kind,
                    "materialized": run.materialized,
                    "rows": run.rows,
                    "seconds": round(run.seconds, 3),
                }
                for run in self.models
            ],
        }


@dataclass(frozen=True)
class ModelEvent:
    """Progress: `done` False when a model starts, True (with rows and seconds) when it ends."""

    name: str
    index: int
    total: int
    done: bool
    rows: int | None = None
    seconds: float = 0.0


@dataclass
class BuildOptions:
    """What to build from, with which configuration, and how."""

    data_dir: Path
    config: HarvesterConfig = field(default_factory=default_config)
    models_dir: Path = MODELS_DIR
    workers: int = 1
    """Processes for the Python stages (parsing, linking, diffs, phrases); 1 runs them in
    this process. `harvester build` gives `default_workers()` unless told otherwise."""
    memory_limit: str | None = "3GB"
    """DuckDB's memory limit (it spills beyond it); None: DuckDB's own, 80% of RAM, which a
    1M-comment build fills to 10 GB (BENCHMARKS.md)."""
    reuse_cache: bool = True
    """Reuse the previous warehouse's Python stage results (parses, question links, diffs)
    for unchanged inputs, when the code and [bots] are unchanged."""
    phrase_min_support: int = PHRASE_MIN_SUPPORT
    phrase_prior_docs: float = PHRASE_PRIOR_DOCS
    phrase_answers_per_label: int = PHRASE_ANSWERS_PER_LABEL
    on_progress: Callable[[ModelEvent], None] | None = None


MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """`harvester build`'s worker processes when `--workers` is not given: one per CPU core
    this process may run on, at most `MAX_DEFAULT_WORKERS`. A stage with few rows runs in the
    build process whatever this says (`PythonStage.parallel_min`), so small builds start no
    worker at all."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


class BuildLocked(RuntimeError):
    """Another build of the same data directory is running."""


# ---------- the build
def warehouse_path(data_dir: Path) -> Path:
    return Path(data_dir) / WAREHOUSE_FILE


def build(options: BuildOptions) -> BuildResult:
    """Build `DATA/warehouse.duckdb` from `DATA/raw`; returns what each model produced.

    Raises `ModelError` (naming the model and DuckDB's message) when a model fails, and
    `BuildLocked` when another build holds the data directory.
    """
    started = time.perf_counter()
    data_dir = Path(options.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    models = all_models(options.models_dir)
    with _build_lock(data_dir):
        _sweep_leftovers(data_dir)
        tmp = data_dir / f".warehouse-{secrets.token_hex(4)}.duckdb.building"
        try:
            result = _build_into(tmp, models, options)
            final = warehouse_path(data_dir)
            os.replace(tmp, final)
            _fsync_dir(data_dir)
        finally:
            for suffix in ("", ".wal", ".tmp", PARTS_SUFFIX):
                _remove(tmp.with_name(tmp.name + suffix))
    result.warehouse = final
    result.seconds = time.perf_counter() - started
    return result


@contextlib.contextmanager
def _build_lock(data_dir: Path) -> Iterator[None]:
    path = data_dir / ".build.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(
                f"another `harvester build` is running on {data_dir} (it holds {path}); "
                "wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _sweep_leftovers(data_dir: Path) -> None:
    """Temp databases of a killed build (safe: we hold the build lock)."""
    for path in data_dir.glob(".warehouse-*.duckdb.building*"):
        _remove(path)
        log.info("removed the leftover of an interrupted build: %s", path)


def _remove(path: Path) -> None:
    """A file, or a folder with its contents (DuckDB spills to `<database>.tmp/`)."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _build_into(path: Path, models: list[Model], options: BuildOptions) -> BuildResult:
    con = duckdb.connect(str(path))
    runs: list[ModelRun] = []
    stage = Stage(con, options, path.with_name(path.name + PARTS_SUFFIX))
    try:
        con.execute("SET TimeZone = 'UTC'")
        if options.memory_limit:
            con.execute("SET memory_limit = ?", [options.memory_limit])
        raw_files = _register_sources(con, Path(options.data_dir))
        _create_parameters(con, options)
        _run_macros(con, options.models_dir)
        stage.attach_previous()
        total = len(models)
        drops = temp_drops(models)
        for index, model in enumerate(models, 1):
            if options.on_progress:
                options.on_progress(ModelEvent(model.name, index, total, done=False))
            t0 = time.perf_counter()
            _run_model(con, model, stage)
            # A view's rows would cost its whole query again: only tables are counted.
            rows = None if model.materialized == "view" else _count(con, model.name)
            seconds = time.perf_counter() - t0
            runs.append(
                ModelRun(model.name, model.layer, model.kind, model.materialized, rows, seconds)
            )
            log.info("built %s (%s): %d rows in %.2f s", model.name, model.layer, rows, seconds)
            for name in drops.get(model.name, ()):
                con.execute(f"DROP TABLE IF EXISTS {name}")
            if options.on_progress:
                options.on_progress(ModelEvent(model.name, index, total, True, rows, seconds))
        stage.detach_previous()
        _write_build_info(con, options, stage, raw_files, runs)
        con.execute("CHECKPOINT")
    finally:
        stage.close()
        con.close()
    return BuildResult(path, 0.0, runs, dict(stage.stats), raw_files)


def _duck_type(dtype: pa.DataType) -> str:
    if pa.types.is_list(dtype):
        return _duck_type(dtype.value_type) + "[]"
    if dtype == pa.uint64():
        return "UBIGINT"
    if dtype == TS:
        return "TIMESTAMPTZ"
    if dtype == pa.int64():
        return "BIGINT"
    if dtype == pa.bool_():
        return "BOOLEAN"
    if dtype == pa.float64():
        return "DOUBLE"
    return "VARCHAR"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _register_sources(con: duckdb.DuckDBPyConnection, data_dir: Path) -> dict[str, int]:
    """A temp view `raw_<table>` per raw table, typed by `harvester.rawschema`."""
    counts: dict[str, int] = {}
    for table, schema in TABLES.items():
        files = part_files(data_dir, table)
        counts[table] = len(files)
        name = f"raw_{table}"
        if not files:
            columns = ", ".join(f'"{f.name}" {_duck_type(f.type)}' for f in schema)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
            continue
        listing = "[" + ", ".join(_quote(str(p)) for p in files) + "]"
        present = {
            row[0]
            for row in con.sql(
                f"DESCRIBE SELECT * FROM read_parquet({listing}, union_by_name = true)"
            ).fetchall()
        }
        hive = "run_id" not in present
        select = ", ".join(
            f'CAST("{f.name}" AS {_duck_type(f.type)}) AS "{f.name}"'
            if f.name in present or (hive and f.name == "run_id")
            else f'CAST(NULL AS {_duck_type(f.type)}) AS "{f.name}"'
            for f in schema
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {select} FROM read_parquet("
            f"{listing}, union_by_name = true, hive_partitioning = {str(hive).lower()})"
        )
    return counts


def _register_arrow(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    view = f"_arrow_{secrets.token_hex(4)}"
    con.register(view, table)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)


def _create_parameters(con: duckdb.DuckDBPyConnection, options: BuildOptions) -> None:
    config = options.config
    weights = config.feedback.weights.as_dict()
    _register_arrow(
        con,
        "param_reaction_weights",
        pa.table(
            {
                "content": pa.array(list(weights), pa.string()),
                "weight": pa.array(list(weights.values()), pa.float64()),
            }
        ),
    )
    feedback = config.feedback
    _register_arrow(
        con,
        "param_feedback",
        pa.table(
            {
                "correction_weight": pa.array([feedback.correction_weight], pa.float64()),
                "trivial_edit_distance": pa.array([feedback.trivial_edit_distance], pa.int64()),
                "min_positive_score": pa.array([config.export.min_positive_score], pa.float64()),
                "max_negative_score": pa.array([config.export.max_negative_score], pa.float64()),
                "phrase_min_support": pa.array([options.phrase_min_support], pa.int64()),
                "phrase_prior_docs": pa.array([options.phrase_prior_docs], pa.float64()),
                "phrase_answers_per_label": pa.array(
                    [options.phrase_answers_per_label], pa.int64()
                ),
            }
        ),
    )
    logins = sorted({login.lower() for login in config.bots.logins})
    _register_arrow(con, "param_bot_logins", pa.table({"login": pa.array(logins, pa.string())}))
    stop_words = pa.array(sorted(udfs.STOP_WORDS), pa.string())
    _register_arrow(con, "param_stop_words", pa.table({"word": stop_words}))


def _run_macros(con: duckdb.DuckDBPyConnection, models_dir: Path) -> None:
    folder = models_dir / "macros"
    for path in sorted(folder.glob("*.sql")) if folder.is_dir() else []:
        try:
            con.execute(path.read_text(encoding="utf-8"))
        except duckdb.Error as exc:
            raise ModelError(f"macro file {path}: {exc}") from None


def _run_model(con: duckdb.DuckDBPyConnection, model: Model, stage: Stage) -> None:
    where = f" ({model.path})" if model.path else ""
    retried = ""
    try:
        if model.kind == "python":
            stage.run(model.name)
            return
        body = model.sql.strip().rstrip(";")
        kind = {"view": "TEMP VIEW", "temp": "TEMP TABLE", "table": "TABLE"}[model.materialized]
        statement = f"CREATE OR REPLACE {kind} {model.name} AS\n{body}"
        if model.uncompressed:
            statement = _create_then_insert(con, model, body)
        try:
            con.execute(statement)
        except duckdb.OutOfMemoryException:
            retried = ", even on one thread"
            _run_with_one_thread(con, model, statement)
    except duckdb.OutOfMemoryException as exc:
        limit = _scalar(con, "SELECT current_setting('memory_limit')")
        raise ModelError(
            f"model {model.name}{where} ran out of memory under DuckDB's limit of {limit}"
            f"{retried}: raise it (`harvester build --memory-limit 6GB`). {exc}"
        ) from None
    except duckdb.Error as exc:
        raise ModelError(f"model {model.name}{where} failed: {exc}") from None


def _create_then_insert(con: duckdb.DuckDBPyConnection, model: Model, body: str) -> str:
    """`CREATE TABLE` with the query's own column types, the `uncompressed` columns declared
    `USING COMPRESSION uncompressed`, then `INSERT` the query (same rows, same order)."""
    columns = [(str(row[0]), str(row[1])) for row in con.sql(f"DESCRIBE {body}").fetchall()]
    unknown = sorted(set(model.uncompressed) - {name.lower() for name, _ in columns})
    if unknown:
        raise ModelError(
            f"model {model.name} ({model.path}): `-- uncompressed:` names {', '.join(unknown)}, "
            "which it has no column of: fix the line"
        )
    definitions = _column_definitions(columns, model.uncompressed)
    return (
        f"CREATE OR REPLACE TABLE {model.name} ({definitions});\nINSERT INTO {model.name}\n{body}"
    )


def _column_definitions(columns: Iterable[tuple[str, str]], uncompressed: Sequence[str]) -> str:
    """`"name" TYPE, ...` for CREATE TABLE; the `uncompressed` columns (lower case) skip
    DuckDB's compression."""
    return ", ".join(
        f"{_quote_identifier(name)} {type_}"
        + (" USING COMPRESSION uncompressed" if name.lower() in uncompressed else "")
        for name, type_ in columns
    )


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run_with_one_thread(con: duckdb.DuckDBPyConnection, model: Model, statement: str) -> None:
    """Run `statement` again on one thread: a model whose joins and sort all need memory at
    once fits in about half of it that way (each thread keeps its own buffers)."""
    threads = _scalar(con, "SELECT current_setting('threads')")
    log.warning("model %s ran out of memory: running it again on one thread", model.name)
    con.execute("SET threads = 1")
    try:
        con.execute(statement)
    finally:
        con.execute(f"SET threads = {int(threads)}")


def _scalar(con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()) -> Any:
    """The first value of a query's first row (None when no row); the result is consumed."""
    rows = con.sql(query, params=list(params)).fetchall()
    return rows[0][0] if rows else None


def _count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return int(_scalar(con, f"SELECT count(*) FROM {name}") or 0)


def _write_build_info(
    con: duckdb.DuckDBPyConnection,
    options: BuildOptions,
    stage: Stage,
    raw_files: dict[str, int],
    runs: list[ModelRun],
) -> None:
    info = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "harvester_version": __version__,
        "duckdb_version": duckdb.__version__,
        "cache_fingerprint": stage.fingerprint,
        "stages": json.dumps(stage.stats, sort_keys=True),
        "raw_files": json.dumps(raw_files, sort_keys=True),
        "config": options.config.feedback.model_dump_json(),
        "marts": json.dumps({r.name: r.rows for r in runs if r.name in MARTS}, sort_keys=True),
    }
    _register_arrow(
        con,
        "build_info",
        pa.table(
            {
                "key": pa.array(list(info), pa.string()),
                "value": pa.array(list(info.values()), pa.string()),
            }
        ),
    )


# ---------- Python stages
@dataclass(frozen=True)
class PythonStage:
    """How a Python model runs: which rows it reads (`todo`, a query over its input model
    that leaves out rows whose `key` the output already holds), how they are paged (never
    splitting one `page_key`), the batch function, and the output's schema.

    The rows already done are left out after `todo` runs, or where it says `{unseen}` (an
    anti join on `todo.<key>`: before an aggregate, so that it only gathers what is new).

    `ordered=False`: `todo` yields each `page_key` once (it groups by it) and the output's row
    order does not matter (a temporary table that is only joined), so `_todo` is not sorted
    and pages are cut in whatever order it holds (1.67M bodies at 1M comments: ~1 s).

    With a `key`, the output is kept in the warehouse and the next build copies the rows of
    unchanged keys instead of computing them again (when `cache_fingerprint` is the same).
    `files`: the cache is not the previous warehouse but Parquet files under `DATA/cache/`
    (`caches`), which crawls fill too; the output is then a temporary table.
    """

    output: str
    input: str
    todo: str
    args: str
    page_key: str
    page_size: int
    func: Callable[..., pa.Table]
    schema: pa.Schema
    key: str | None = None
    parallel_min: int = 20_000
    files: bool = False
    ordered: bool = True
    order: str | None = None
    """The full ORDER BY of the rows still to do (default: `page_key`), when the function
    reads meaning into the order within a page, as the linker does."""
    uncompressed: tuple[str, ...] = ()
    """Output columns stored without compression, as `-- uncompressed:` in a SQL model."""


STAGES: dict[str, PythonStage] = {
    stage.output: stage
    for stage in (
        PythonStage(
            output="int_parsed_bodies",
            input="int_bodies_to_parse",
            key="parse_key",
            todo="SELECT parse_key, any_value(body) AS body, any_value(author_login) AS "
            "author_login, any_value(author_type) AS author_type "
            "FROM int_bodies_to_parse AS todo {unseen} GROUP BY parse_key",
            args="parse_key, body, author_login, author_type",
            page_key="parse_key",
            page_size=5_000,
            func=udfs.parse_rows,
            schema=udfs.PARSED_SCHEMA,
            files=True,
            ordered=False,
        ),
        PythonStage(
            output="int_question_links",
            input="int_thread_comments",
            key="thread_key",
            todo="SELECT * FROM int_thread_comments",
            args="thread_key, thread_id, comment_id, kind, author_login, author_type, is_bot, "
            "body, epoch_us(created_at) AS created_at, reply_to_id, is_answer",
            page_key="thread_id",
            page_size=2_000,
            # as int_thread_comments is stored: the linker takes same-second ties in this order
            order="thread_id, created_at, database_id NULLS LAST, comment_id",
            func=udfs.link_rows,
            schema=udfs.QUESTION_LINK_SCHEMA,
        ),
        PythonStage(
            output="int_correction_diffs",
            input="int_correction_pairs",
            key="pair_key",
            todo="SELECT DISTINCT ON (pair_key) pair_key, before_text, after_text "
            "FROM int_correction_pairs WHERE pair_key IS NOT NULL",
            args="pair_key, before_text, after_text",
            page_key="pair_key",
            page_size=1_000,
            func=udfs.diff_rows,
            schema=udfs.CORRECTION_DIFF_SCHEMA,
            parallel_min=5_000,
            uncompressed=("diff", "word_diff"),  # the checkpoint compressed them in 0.3 s
        ),
        PythonStage(
            output="int_text_phrases",
            input="int_phrase_documents",
            key="text_key",
            todo="SELECT DISTINCT ON (text_key) text_key, text FROM int_phrase_documents",
            args="text_key, text",
            page_key="text_key",
            page_size=2_000,
            func=udfs.phrase_rows,
            schema=udfs.TEXT_PHRASES_SCHEMA,
            parallel_min=5_000,
            uncompressed=("phrases",),  # 3M short strings: the checkpoint took 0.4 s more
        ),
    )
}


class Stage:
    """What the Python models share: the connection, [bots], the previous warehouse (for its
    caches) and the worker pool."""

    def __init__(self, con: duckdb.DuckDBPyConnection, options: BuildOptions, parts: Path) -> None:
        self.con = con
        self.parts = parts
        self.build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
        self.options = options
        self.bots = options.config.bots
        self.fingerprint = cache_fingerprint(self.bots)
        self.workers = max(1, options.workers or 1)
        self.previous: str | None = None
        self.stats: dict[str, dict[str, int]] = {}
        self._pool: ProcessPoolExecutor | None = None

    def attach_previous(self) -> None:
        """Attach the current warehouse read-only when its caches can be reused."""
        old = warehouse_path(Path(self.options.data_dir))
        if not self.options.reuse_cache or not old.is_file():
            return
        try:
            self.con.execute(f"ATTACH {_quote(str(old))} AS previous (READ_ONLY)")
        except duckdb.Error as exc:
            log.info("previous warehouse not readable (%s): computing every stage afresh", exc)
            return
        try:
            found = _scalar(
                self.con, "SELECT value FROM previous.build_info WHERE key = 'cache_fingerprint'"
            )
            if found == self.fingerprint:
                self.previous = "previous"
                return
            log.info("parser, linker, [bots] or DuckDB changed: computing every stage afresh")
        except duckdb.Error as exc:
            log.info("previous warehouse has no usable caches (%s)", exc)
        self.con.execute("DETACH previous")

    def detach_previous(self) -> None:
        if self.previous is not None:
            self.con.execute(f"DETACH {self.previous}")
            self.previous = None

    def run(self, name: str) -> None:
        """Build the output of the Python stage `name`: cached rows, then the rest in pages."""
        spec = STAGES[name]
        con = self.con
        columns = _column_definitions(
            ((f.name, _duck_type(f.type)) for f in spec.schema), spec.uncompressed
        )
        kind = "TABLE" if spec.key and not spec.files else "TEMP TABLE"
        con.execute(f"CREATE OR REPLACE {kind} {spec.output} ({columns})")
        stats = {"reused": 0, "computed": 0}
        cached: list[Path] = []
        superseded: list[Path] = []
        if spec.files and spec.key:
            cached, superseded, found = self._reuse_files(spec)
            stats.update(found)
        elif spec.key:
            stats["reused"] = self._reuse(spec)
        todo = spec.todo
        if spec.key:
            unseen = f"ANTI JOIN {spec.output} AS done ON todo.{spec.key} = done.{spec.key}"
            if "{unseen}" in todo:
                todo = todo.replace("{unseen}", unseen)
            else:
                todo = f"SELECT todo.* FROM ({todo}) AS todo {unseen}"
        plain = spec.todo == f"SELECT * FROM {spec.input}"
        if _count(con, spec.output) == 0 and plain and _is_table(con, spec.input):
            source = spec.input  # all of it is to do and it is stored sorted: page it as it is
        else:
            source = "_todo"
            order = f" ORDER BY {spec.order or spec.page_key}" if spec.ordered else ""
            con.execute(f"CREATE OR REPLACE TEMP TABLE _todo AS {todo}{order}")
        rows = _count(con, source)
        stats["computed"] = (
            int(_scalar(con, f"SELECT count(DISTINCT {spec.key}) FROM {source}") or 0)
            if spec.key
            else rows
        )
        pages = _stored_pages(con, source, spec.page_key, spec.args, spec.page_size, spec.ordered)

        # Workers write each page's rows to a Parquet file (the parse cache's own folder, or a
        # temporary one): results never travel back through this process, and one INSERT
        # reads them all.
        folder = self.cache_folder() if spec.files else self.parts / spec.output
        stem = f"build-{self.build_id}-{spec.output}"
        written = self.run_tasks(spec.func, pages, folder, stem, rows >= spec.parallel_min)
        if written:
            listed = ", ".join(_quote(str(path)) for path in written)
            con.execute(f"INSERT INTO {spec.output} BY NAME SELECT * FROM read_parquet([{listed}])")
        con.execute("DROP TABLE IF EXISTS _todo")
        if spec.files:
            for path in superseded:  # not read: this build computed every key they hold
                path.unlink(missing_ok=True)
            self._compact(spec, [*cached, *written])
        else:
            shutil.rmtree(folder, ignore_errors=True)
        self.stats[name] = stats

    def _reuse(self, spec: PythonStage) -> int:
        """Copy the previous build's rows whose key is still wanted; returns how many keys."""
        if self.previous is None or spec.key is None:
            return 0
        wanted = spec.todo.replace("{unseen}", "")
        try:
            self.con.execute(
                f"INSERT INTO {spec.output} SELECT cached.* FROM {self.previous}.{spec.output} "
                f"AS cached SEMI JOIN ({wanted}) AS todo ON cached.{spec.key} = todo.{spec.key}"
            )
        except duckdb.Error as exc:
            log.info("cannot reuse the previous %s (%s): computing it afresh", spec.output, exc)
            self.con.execute(f"DELETE FROM {spec.output}")
            return 0
        return int(_scalar(self.con, f"SELECT count(DISTINCT {spec.key}) FROM {spec.output}") or 0)

    def cache_folder(self) -> Path:
        return parsed_dir(Path(self.options.data_dir), self.fingerprint)

    def _reuse_files(self, spec: PythonStage) -> tuple[list[Path], list[Path], dict[str, int]]:
        """Copy the still wanted rows of the parse cache's files (landed by crawls, written by
        earlier builds); returns the files read, those left unread that this build's files
        will supersede (every file, with `reuse_cache` off), and how many keys came from each
        kind. Other fingerprints' folders are removed first: no build can use them again.
        """
        data_dir = Path(self.options.data_dir)
        remove_stale_parses(data_dir, self.fingerprint)
        files = landed_parse_files(data_dir, self.fingerprint)
        if not self.options.reuse_cache:
            return [], files, {"landed": 0}
        if not files or spec.key is None:
            return [], [], {"landed": 0}
        key, con = spec.key, self.con
        listed = ", ".join(_quote(str(path)) for path in files)
        try:
            con.execute(
                f"INSERT INTO {spec.output} BY NAME SELECT cached.* EXCLUDE (filename) "
                f"FROM read_parquet([{listed}], filename = true) AS cached "
                f"SEMI JOIN {spec.input} AS wanted ON cached.{key} = wanted.{key}"
            )
            stored = _count(con, spec.output)
            keys = int(_scalar(con, f"SELECT count(DISTINCT {key}) FROM {spec.output}") or 0)
            if keys < stored:  # a body landed by two runs, or by a crawl and a build
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE {spec.output} AS "
                    f"SELECT DISTINCT ON ({key}) * FROM {spec.output}"
                )
            landed = _scalar(
                con,
                f"SELECT count(DISTINCT {key}) FROM read_parquet([{listed}], filename = true) "
                f"AS cached SEMI JOIN {spec.input} AS wanted ON cached.{key} = wanted.{key} "
                f"WHERE NOT parse_filename(filename).starts_with('{CACHE_OWN_PREFIXES[0]}') "
                f"AND NOT parse_filename(filename).starts_with('{CACHE_OWN_PREFIXES[1]}')",
            )
        except duckdb.Error as exc:
            log.warning("cannot read the parse cache (%s): parsing every body again", exc)
            con.execute(f"DELETE FROM {spec.output}")
            return [], files, {"landed": 0}
        landed = int(landed or 0)
        return files, [], {"reused": keys - landed, "landed": landed}

    def _compact(self, spec: PythonStage, files: list[Path]) -> None:
        """Rewrite the parse cache as one file of the keys this build wanted when its files
        pile up or hold mostly copies and bodies no longer wanted (only the files this build
        read or wrote are removed: a crawl may be landing more meanwhile)."""
        if not files:
            return
        stored = sum(pq.ParquetFile(path).metadata.num_rows for path in files)
        wanted = _count(self.con, spec.output)
        if len(files) <= CACHE_COMPACT_FILES and stored <= 1.5 * wanted:
            return
        folder = self.cache_folder()
        final = folder / f"{CACHE_OWN_PREFIXES[1]}{self.build_id}.parquet"
        tmp = folder / f".{final.stem}.tmp"
        self.con.execute(
            f"COPY {spec.output} TO {_quote(str(tmp))} (FORMAT parquet, COMPRESSION zstd)"
        )
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        for path in files:
            if path != final:
                path.unlink(missing_ok=True)
        _fsync_dir(folder)
        log.info("compacted the parse cache: %d files into %s", len(files), final.name)

    def run_tasks(
        self,
        func: Callable[..., pa.Table],
        tasks: Iterable[list[tuple[Any, ...]]],
        folder: Path,
        stem: str,
        parallel: bool,
    ) -> list[Path]:
        """`func(task, bots)` for every task, each result written to `folder/<stem>-<n>.parquet`
        (`run_page`); returns the files written, in task order. In worker processes when
        `parallel` and more than one worker is configured. At most two tasks per worker are in
        flight, so memory stays flat however many tasks there are."""
        folder.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        counts: list[int] = []
        if not parallel or self.workers == 1:
            with fewer_gc_passes():
                for index, task in enumerate(tasks):
                    paths.append(folder / f"{stem}-{index:06d}.parquet")
                    counts.append(run_page(func, task, self.bots, paths[-1]))
        else:
            pool = self._get_pool()
            pending: list[Future[int]] = []
            for index, task in enumerate(tasks):
                paths.append(folder / f"{stem}-{index:06d}.parquet")
                pending.append(pool.submit(run_page, func, task, self.bots, paths[-1]))
                if len(pending) >= 2 * self.workers:
                    counts.append(pending.pop(0).result())
            counts.extend(future.result() for future in pending)
        return [path for path, count in zip(paths, counts, strict=True) if count]

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: forking a process that runs DuckDB threads is unsafe.
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=get_context("spawn"), initializer=_set_stage_gc
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _set_stage_gc() -> None:
    """Worker process initializer."""
    gc.set_threshold(*STAGE_GC_THRESHOLD)


def _is_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether `name` is a stored (temporary or not) table, not a view."""
    return bool(_scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]))


PAGE_BATCH_ROWS = 20_000
"""Rows per Arrow batch while a stage pages its input: memory stays flat at any size."""


def _stored_pages(
    con: duckdb.DuckDBPyConnection, table: str, key: str, args: str, size: int, ordered: bool = True
) -> Iterator[list[tuple[Any, ...]]]:
    """`args` rows of `table` in pages of `size` distinct `key`s (a page never splits a key;
    rows with a null key are left out), read in one scan in the table's stored order.

    The stage's input tables are created sorted by `key` (with their own order within a key,
    e.g. a thread's comments by time) and DuckDB scans a table in insertion order: one scan
    replaces a query per page (a page's query cost ~13 ms: 3 s for the question links). A
    key out of order means a table was not created sorted, and is an error, not a bad page.
    Not `ordered`: every row holds a key of its own, in any order (one row per key).
    """
    relation = con.sql(f"SELECT {key} AS _page_key, {args} FROM {table} WHERE {key} IS NOT NULL")
    page: list[tuple[Any, ...]] = []
    keys = 0
    last: Any = None
    for batch in relation.to_arrow_reader(PAGE_BATCH_ROWS):
        values = batch.column(0).to_pylist()
        rows = zip(*(column.to_pylist() for column in batch.columns[1:]), strict=True)
        for value, row in zip(values, rows, strict=True):
            if keys == 0 or value != last:
                if ordered and keys and value < last:
                    raise ModelError(
                        f"{table} is not stored in {key} order ({value!r} after {last!r}): "
                        f"its model must end with ORDER BY {key}"
                    )
                if keys == size:
                    yield page
                    page, keys = [], 0
                keys += 1
                last = value
            page.append(row)
    if page:
        yield page


def run_page(
    func: Callable[..., pa.Table], rows: list[tuple[Any, ...]], bots: Any, path: Path
) -> int:
    """One page of a Python stage, in a worker or in this process: `func(rows, bots)` published
    at `path` (atomically: a killed build leaves no partial file); returns its row count. An
    empty result writes nothing."""
    table = func(rows, bots)
    if table.num_rows:
        write_parquet_atomic(table, path)
    return int(table.num_rows)
