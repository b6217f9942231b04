"""The model runner: dependency order, layers, atomic and idempotent builds, caches, sources."""

from __future__ import annotations

import fcntl
import gc
import re
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.build import (
    MARTS,
    MODELS_DIR,
    STAGE_GC_THRESHOLD,
    STAGES,
    BuildLocked,
    BuildOptions,
    Model,
    ModelError,
    Stage,
    _run_macros,
    _run_model,
    _stored_pages,
    all_models,
    build,
    load_sql_models,
    plan,
    sql_references,
    temp_drops,
)
from harvester.land import partition_dir
from tests.warehouse_fixtures import (
    BOT,
    RawData,
    answer,
    at,
    connect,
    dump_marts,
    edit,
    one,
    reaction,
    rows,
)

REPO_MODELS = Path(__file__).resolve().parents[1] / "warehouse"


def _model(name: str, layer: str, *depends: str) -> Model:
    return Model(name, layer, "sql", tuple(depends), "view")


def test_references_skip_ctes_comments_and_strings() -> None:
    refs, ctes = sql_references(
        """
        -- from not_this (a comment)
        with feedback as (select * from int_feedback),
        b as (select 'from nor_this' as s, extract(year from ts) as y from int_reactions)
        select * from feedback join b on true left join param_feedback on true
        """
    )
    assert ctes == {"feedback", "b"}
    assert refs - ctes == {"int_feedback", "int_reactions", "ts", "param_feedback"}


def test_an_import_cte_named_after_its_model_is_a_dependency() -> None:
    refs, ctes = sql_references(
        "with threads as not materialized (select * from threads), "
        "t as (select * from threads) select * from t"
    )
    assert refs - ctes == {"threads"}
    bot_comments = next(m for m in all_models() if m.name == "bot_comments")
    assert "threads" in bot_comments.depends


def test_plan_orders_by_dependencies_then_layer_and_name() -> None:
    models = [
        _model("b_mart", "marts", "int_x"),
        _model("a_mart", "marts", "int_x", "stg_a"),
        _model("int_x", "intermediate", "stg_b", "stg_a"),
        _model("stg_b", "staging", "raw_comments"),
        _model("stg_a", "staging", "raw_threads"),
    ]
    assert [m.name for m in plan(models)] == ["stg_a", "stg_b", "int_x", "a_mart", "b_mart"]


def test_plan_refuses_cycles_duplicates_and_unknown_sources() -> None:
    with pytest.raises(ModelError, match="cycle"):
        plan([_model("int_a", "intermediate", "int_b"), _model("int_b", "intermediate", "int_a")])
    with pytest.raises(ModelError, match="two models"):
        plan([_model("x", "marts"), _model("x", "marts")])
    with pytest.raises(ModelError, match="raw_nothing"):
        plan([_model("stg_a", "staging", "raw_nothing")])


def test_a_temp_table_is_dropped_after_its_last_reader_even_through_views() -> None:
    def temp(name: str, *depends: str) -> Model:
        return Model(name, "intermediate", "sql", depends, "temp")

    order = plan(
        [
            temp("int_a", "stg_a"),
            _model("int_b", "intermediate", "int_a"),  # a view over int_a
            temp("int_c", "stg_a"),
            replace(_model("m_early", "marts", "int_c"), materialized="table"),
            replace(_model("m_late", "marts", "int_b", "int_c"), materialized="table"),
            temp("int_unread", "stg_a"),
            _model("stg_a", "staging", "raw_threads"),
        ]
    )
    # marts run as soon as they can: both before int_unread
    assert [m.name for m in order] == [
        "stg_a",
        "int_a",
        "int_b",
        "int_c",
        "m_early",
        "m_late",
        "int_unread",
    ]
    drops = temp_drops(order)
    # int_a is read last by m_late, through the view int_b: not dropped after int_b
    assert drops["m_late"] == ["int_a", "int_c"]
    assert drops["int_unread"] == ["int_unread"]
    assert "m_early" not in drops
    assert "int_b" not in drops and "stg_a" not in drops


def test_import_ctes_are_not_materialized() -> None:
    """DuckDB copies a CTE read twice unless told not to: for an import CTE, a pure waste."""
    import_cte = re.compile(r"\b([a-z_]+) as (not materialized )?\(\s*select \* from [a-z_]+\s*\)")
    checked = 0
    for path in sorted(MODELS_DIR.glob("*/*.sql")):
        for found in import_cte.finditer(path.read_text(encoding="utf-8")):
            checked += 1
            assert found.group(2), f"{path.name}: CTE {found.group(1)} is not 'not materialized'"
    assert checked >= 40


def test_the_project_models_form_a_dag_in_layers() -> None:
    models = all_models()
    names = [m.name for m in models]
    position = {name: i for i, name in enumerate(names)}
    for model in models:
        for dep in model.depends:
            if dep in position:
                assert position[dep] < position[model.name], (model.name, dep)
    layers = {m.name: m.layer for m in models}
    for model in models:  # staging reads only raw sources; marts read no staging directly
        deps = [layers[d] for d in model.depends if d in layers]
        if model.layer == "staging":
            assert not deps, model.name
        if model.layer == "marts":
            assert "staging" not in deps, model.name
    assert set(MARTS) <= set(names)
    assert all(m.description for m in models), [m.name for m in models if not m.description]


def test_layer_prefixes_are_enforced(tmp_path: Path) -> None:
    shutil.copytree(REPO_MODELS, tmp_path / "warehouse")
    (tmp_path / "warehouse" / "intermediate" / "oops.sql").write_text("select 1 as x")
    with pytest.raises(ModelError, match="starts with 'int_'"):
        load_sql_models(tmp_path / "warehouse")


def test_no_raw_data_builds_empty_marts(tmp_path: Path) -> None:
    result = build(BuildOptions(tmp_path))
    assert result.marts == dict.fromkeys(MARTS, 0)
    con = connect(tmp_path)
    for mart in MARTS:
        assert one(con, f"select count(*) as n from {mart}")["n"] == 0
    assert not list(tmp_path.glob(".warehouse-*"))


def _small(tmp_path: Path) -> RawData:
    raw = RawData(tmp_path)
    raw.thread()
    raw.comment("Q1", author="alice", author_type="User", body="/ask why?", minute=-1)
    raw.comment("C1", body=answer("Because."))
    raw.snapshot(
        "C1",
        edits=[edit(BOT, "Bot", answer("Beacuse."), 0), edit("bob", "User", answer("Because."), 5)],
        reactions=[reaction("carol", "HEART")],
    )
    return raw


def _dump(data_dir: Path) -> dict[str, list[dict[str, object]]]:
    return dump_marts(data_dir)  # in stored order: builds must repeat it


def test_builds_are_idempotent_and_reuse_the_previous_results(tmp_path: Path) -> None:
    raw = _small(tmp_path)
    first = raw.build_result()
    before = _dump(tmp_path)
    assert first.stages["int_parsed_bodies"]["reused"] == 0
    second = build(BuildOptions(tmp_path, phrase_min_support=1))
    assert _dump(tmp_path) == before
    assert second.stages["int_parsed_bodies"] == {
        "reused": first.stages["int_parsed_bodies"]["computed"],
        "landed": 0,
        "computed": 0,
    }
    assert second.stages["int_correction_diffs"] == {"reused": 1, "computed": 0}
    assert second.stages["int_question_links"] == {"reused": 1, "computed": 0}
    # a new comment: only its body is parsed; without reuse, everything is
    raw.comment("C2", body="New.", minute=9, run_id="r2")
    raw.snapshot("C2", run_id="r2")
    third = raw.build_result()
    assert third.stages["int_parsed_bodies"]["computed"] == 1
    incremental = _dump(tmp_path)
    fresh = build(BuildOptions(tmp_path, reuse_cache=False, phrase_min_support=1))
    assert fresh.stages["int_parsed_bodies"]["reused"] == 0
    assert _dump(tmp_path) == incremental


def test_a_failing_model_leaves_the_previous_warehouse(tmp_path: Path) -> None:
    raw = _small(tmp_path / "data")
    raw.build_result()
    before = _dump(tmp_path / "data")
    models = tmp_path / "models"
    shutil.copytree(REPO_MODELS, models)
    (models / "marts" / "feedback.sql").write_text("select * from no_such_table")
    with pytest.raises(ModelError, match=r"model feedback .*no_such_table"):
        build(BuildOptions(tmp_path / "data", models_dir=models))
    assert _dump(tmp_path / "data") == before
    assert not list((tmp_path / "data").glob(".warehouse-*"))


def test_a_second_build_of_the_same_data_is_refused(tmp_path: Path) -> None:
    with open(tmp_path / ".build.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        with pytest.raises(BuildLocked, match="wait for it"):
            build(BuildOptions(tmp_path))


def test_old_files_without_newer_columns_read_as_null(tmp_path: Path) -> None:
    raw = _small(tmp_path)
    raw.land()
    # an older comments file, written before `diff_hunk` and `review_state` existed
    old = pa.table(
        {
            "comment_id": ["C9"],
            "thread_id": ["T1"],
            "org": ["acme"],
            "repo": ["app"],
            "kind": ["issue_comment"],
            "author_login": [BOT],
            "author_type": ["Bot"],
            "body": ["Old."],
            "created_at": pa.array([at(0)], pa.timestamp("us", tz="UTC")),
            "is_bot_comment": [True],
            "crawled_at": pa.array([at(1)], pa.timestamp("us", tz="UTC")),
            "run_id": ["r0"],
        }
    )
    folder = partition_dir(tmp_path, "comments", "r0")
    folder.mkdir(parents=True)
    pq.write_table(old, folder / "part-00000.parquet")
    build(BuildOptions(tmp_path))
    con = connect(tmp_path)
    got = one(con, "select body, diff_hunk, review_state from bot_comments where comment_id = 'C9'")
    assert got == {"body": "Old.", "diff_hunk": None, "review_state": None}
    assert one(con, "select count(*) as n from revisions where comment_id = 'C9'")["n"] == 1


def test_build_info_records_what_was_built(tmp_path: Path) -> None:
    _small(tmp_path).build_result()
    info = {r["key"]: r["value"] for r in rows(connect(tmp_path), "select * from build_info")}
    assert {"built_at", "cache_fingerprint", "duckdb_version", "marts", "config"} <= set(info)


def test_worker_processes_build_the_same_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _small(tmp_path)
    for i in range(6):
        raw.comment(f"H{i}", author="dave", author_type="User", body=f"/ask q{i}", minute=10 + i)
        raw.comment(f"A{i}", body=answer(f"Answer {i}."), minute=11 + i)
        raw.snapshot(f"A{i}", reactions=[reaction("erin", "THUMBS_UP")])
    raw.build_result(reuse_cache=False)
    serial = _dump(tmp_path)
    for name, spec in list(STAGES.items()):  # every page through the pool, however small
        monkeypatch.setitem(STAGES, name, replace(spec, parallel_min=1, page_size=2))
    result = raw.build_result(reuse_cache=False, workers=2)
    assert result.stages["int_parsed_bodies"]["computed"] > 4  # several pages
    assert _dump(tmp_path) == serial


class _OutOfMemoryOnce:
    """A connection whose first CREATE runs out of memory (DuckDB's OOM cannot be staged small)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.executed: list[str] = []

    def execute(self, statement: str, *args: object) -> None:
        self.executed.append(statement.split("\n")[0])
        if statement.startswith("CREATE") and self.failures > 0:
            self.failures -= 1
            raise duckdb.OutOfMemoryException("could not allocate block")

    def sql(self, query: str, params: object = None) -> object:
        value = "2" if "threads" in query else "3.0 GiB"

        class _Rows:
            def fetchall(self) -> list[tuple[str]]:
                return [(value,)]

        return _Rows()


def test_a_model_out_of_memory_runs_again_on_one_thread_then_says_what_to_do() -> None:
    model = replace(_model("m", "marts", "int_x"), materialized="table", sql="select 1")
    con = _OutOfMemoryOnce(failures=1)
    _run_model(con, model, None)  # type: ignore[arg-type]
    assert con.executed == [
        "CREATE OR REPLACE TABLE m AS",
        "SET threads = 1",
        "CREATE OR REPLACE TABLE m AS",
        "SET threads = 2",
    ]
    con = _OutOfMemoryOnce(failures=2)
    with pytest.raises(
        ModelError, match=r"ran out of memory .* 3.0 GiB, even on one thread.*--memory-limit"
    ):
        _run_model(con, model, None)  # type: ignore[arg-type]
    assert con.executed[-1] == "SET threads = 2"  # the thread count is restored either way


def test_python_stages_run_with_fewer_gc_passes_and_restore_them(tmp_path: Path) -> None:
    seen: list[tuple[int, ...]] = []

    def func(task: list[tuple[int]], bots: object) -> pa.Table:
        seen.append(gc.get_threshold())
        return pa.table({"x": [row[0] for row in task]})

    before = gc.get_threshold()
    stage = Stage(duckdb.connect(), BuildOptions(data_dir=tmp_path), tmp_path / "parts")
    files = stage.run_tasks(func, [[(1,), (2,)], [], [(3,)]], tmp_path / "pages", "p", False)
    assert [path.name for path in files] == ["p-000000.parquet", "p-000002.parquet"]  # none empty
    assert [pq.read_table(path)["x"].to_pylist() for path in files] == [[1, 2], [3]]
    assert seen == [STAGE_GC_THRESHOLD] * 3
    assert gc.get_threshold() == before != STAGE_GC_THRESHOLD


def _compression(data_dir: Path, table: str) -> dict[str, set[str]]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        found: dict[str, set[str]] = {}
        for column, compression in con.sql(
            "select column_name, compression from pragma_storage_info(?) "
            "where segment_type = 'VARCHAR'",
            params=[table],
        ).fetchall():
            found.setdefault(column, set()).add(compression)
        return found
    finally:
        con.close()


def test_uncompressed_columns_are_stored_without_string_compression(tmp_path: Path) -> None:
    raw = _small(tmp_path / "data")
    for i in range(300):  # enough repeated text that DuckDB would compress it
        raw.comment(f"C{i + 10}", body=answer("The same long answer, said again. " * 20))
    raw.build_result()
    marked = _compression(tmp_path / "data", "bot_comments")
    assert marked["body"] == {"Uncompressed"} and marked["answer_text"] == {"Uncompressed"}
    corrections = _compression(tmp_path / "data", "corrections")
    for column in ("before_text", "after_text", "diff", "word_diff"):
        assert corrections[column] == {"Uncompressed"}, column
    diffs = _compression(tmp_path / "data", "int_correction_diffs")  # a Python stage's output
    assert diffs["diff"] == diffs["word_diff"] == {"Uncompressed"}
    assert _compression(tmp_path / "data", "int_text_phrases")["phrases"] == {"Uncompressed"}
    stored = _dump(tmp_path / "data")["bot_comments"]
    models = tmp_path / "models"
    shutil.copytree(REPO_MODELS, models)
    path = models / "marts" / "bot_comments.sql"
    path.write_text(re.sub(r"^-- uncompressed:.*\n", "", path.read_text(), flags=re.M))
    build(BuildOptions(tmp_path / "data", models_dir=models))
    plain = _compression(tmp_path / "data", "bot_comments")
    assert "Uncompressed" not in plain["body"]
    assert _dump(tmp_path / "data")["bot_comments"] == stored  # same rows, same order


def test_an_uncompressed_line_must_name_columns_of_a_stored_table(tmp_path: Path) -> None:
    raw = _small(tmp_path / "data")
    models = tmp_path / "models"
    shutil.copytree(REPO_MODELS, models)
    path = models / "marts" / "reactions.sql"
    path.write_text("-- uncompressed: no_such_column\n" + path.read_text())
    with pytest.raises(ModelError, match=r"reactions .*names no_such_column"):
        build(BuildOptions(raw.data_dir, models_dir=models))
    path.write_text(path.read_text().replace("no_such_column", "content"))
    (models / "intermediate" / "int_reactions.sql").write_text(
        "-- uncompressed: content\n" + (models / "intermediate" / "int_reactions.sql").read_text()
    )
    with pytest.raises(ModelError, match=r"int_reactions.sql: `-- uncompressed:` is for models"):
        build(BuildOptions(raw.data_dir, models_dir=models))


def test_stage_pages_follow_the_stored_order_and_never_split_a_key() -> None:
    con = duckdb.connect()
    con.execute(
        "create table t as select k, i from (values (1, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), "
        "(3, 'e'), (3, 'f'), (null, 'g'), (4, 'h')) v(k, i)"
    )
    pages = list(_stored_pages(con, "t", "k", "i, k", 2))
    assert pages == [[("a", 1), ("b", 1), ("c", 2)], [("d", 3), ("e", 3), ("f", 3), ("h", 4)]]
    assert list(_stored_pages(con, "t", "k", "i", 10)) == [[(c,) for c in "abcdefh"]]
    con.execute("create table unsorted as select * from (values (2, 'x'), (1, 'y')) v(k, i)")
    with pytest.raises(ModelError, match=r"unsorted is not stored in k order .*ORDER BY k"):
        list(_stored_pages(con, "unsorted", "k", "i", 10))
    # one row per key (a stage whose todo groups by its key): any order is fine
    assert list(_stored_pages(con, "unsorted", "k", "i", 1, ordered=False)) == [[("x",)], [("y",)]]


def test_stage_pages_stream_across_arrow_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harvester.build.PAGE_BATCH_ROWS", 7)
    con = duckdb.connect()
    con.execute("create table t as select i // 3 as k, i from range(100) r(i) order by k, i")
    pages = list(_stored_pages(con, "t", "k", "i", 4))
    assert [row[0] for page in pages for row in page] == list(range(100))
    assert all(len({row[0] // 3 for row in page}) <= 4 for page in pages)
    assert len(pages) == 9  # 34 keys, 4 per page


_MACROS = duckdb.connect()
_run_macros(_MACROS, MODELS_DIR)


@settings(max_examples=300)
@given(st.text(alphabet=" \t\n\r\f\v\xa0\u2003ab", max_size=30))
def test_without_whitespace_removes_what_the_regex_class_does(text: str) -> None:
    got, expected = _MACROS.execute(
        "select without_whitespace($1), regexp_replace($1, '\\s+', '', 'g')", [text]
    ).fetchone() or (None, None)
    assert got == expected
