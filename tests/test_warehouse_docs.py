"""docs/warehouse.md describes exactly what the build produces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harvester.build import MARTS, PARAMS, all_models
from tests.warehouse_fixtures import BOT, RawData, answer, connect, edit, reaction, rows

DOC = Path(__file__).resolve().parents[1] / "docs" / "warehouse.md"
_SECTION = re.compile(r"^### `([a-z_]+)`\n(.*?)(?=^#{2,3} |\Z)", re.M | re.S)
_ROW = re.compile(r"^\| `([a-z_]+)` \| ([A-Z\[\]]+) \|", re.M)


def documented() -> dict[str, list[tuple[str, str]]]:
    return {m.group(1): _ROW.findall(m.group(2)) for m in _SECTION.finditer(DOC.read_text())}


def _type(duck: str) -> str:
    return {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ"}.get(duck, duck)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> RawData:
    raw = RawData(tmp_path_factory.mktemp("docs"))
    raw.thread()
    raw.comment("C1", body=answer("Fine."))
    raw.snapshot(
        "C1",
        edits=[edit(BOT, "Bot", answer("Fien."), 0), edit("bob", "User", answer("Fine."), 5)],
        reactions=[reaction("carol", "HEART")],
    )
    raw.build()
    return raw


@pytest.mark.parametrize("relation", [*MARTS, *PARAMS, "build_info"])
def test_documented_columns_are_the_built_columns(built: RawData, relation: str) -> None:
    docs = documented()
    assert relation in docs, f"docs/warehouse.md has no section for {relation}"
    con = connect(built.data_dir)
    actual = [
        (r["column_name"], _type(r["column_type"])) for r in rows(con, f"describe {relation}")
    ]
    assert docs[relation] == actual


def test_every_stored_table_is_documented(built: RawData) -> None:
    docs = documented()
    con = connect(built.data_dir)
    stored = [
        r["table_name"]
        for r in rows(con, "select table_name from duckdb_tables() where not temporary")
    ]
    assert {"int_question_links", "int_correction_diffs", "int_text_phrases"} <= set(stored)
    for relation in stored:
        assert relation in docs, f"docs/warehouse.md has no section for {relation}"
        actual = [
            (r["column_name"], _type(r["column_type"])) for r in rows(con, f"describe {relation}")
        ]
        assert docs[relation] == actual, relation


def test_every_model_is_listed() -> None:
    text = DOC.read_text()
    missing = [m.name for m in all_models() if f"`{m.name}`" not in text]
    assert missing == []


_SQL_BLOCK = re.compile(r"^```sql\n(.*?)^```", re.M | re.S)


def test_the_example_queries_run_on_a_built_warehouse(built: RawData) -> None:
    queries = _SQL_BLOCK.findall(DOC.read_text())
    assert len(queries) >= 5
    con = connect(built.data_dir)
    for query in queries:
        con.sql(query.strip().rstrip(";")).fetchall()  # raises on a wrong name or column
