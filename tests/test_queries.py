"""The harvester's own GraphQL operations (queries/*.graphql) are valid against the simulator's
schema and against GitHub's reference schema, one named operation per file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    build_schema,
    parse,
    validate,
)
from simworld_fixtures import run, small_world

from harvester.simulator.cost import analyze
from harvester.simulator.resolvers import github_error
from harvester.simulator.schema import load_schema

QUERIES = Path(__file__).resolve().parents[1] / "queries"
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
QUERY_FILES = sorted(QUERIES.glob("*.graphql"))


def operation_name_for(path: Path) -> str:
    """`search_threads.graphql` holds `query SearchThreads`."""
    return "".join(part.capitalize() for part in path.stem.split("_"))


@cache
def reference_schema() -> GraphQLSchema:
    path = REFERENCE / "github-schema.graphql"
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared sits beside the project in CI only)")
    # The reference repeats two EnterpriseOwnerInfo fields (strict building refuses it), and
    # graphql-core 3.3 rejects its deprecated `id` fields implementing undeprecated `Node.id`
    # when validate() checks the schema first: it is GitHub's own schema, so mark it checked.
    schema = build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)
    schema._validation_errors = []
    return schema


def test_there_are_queries() -> None:
    names = {path.stem for path in QUERY_FILES}
    # Everything else is a unit of queries/packed/units.graphql (tests/test_packer.py).
    assert {"search_threads", "rate_limit"} <= names


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_one_operation_named_after_the_file(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{path.name}: {len(operations)} operations, want exactly 1"
    name = operations[0].name.value if operations[0].name else None
    assert name == operation_name_for(path), f"{path.name}: operation {name!r}"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_valid_against_the_simulator_schema(path: Path) -> None:
    errors = validate(load_schema(), parse(path.read_text(encoding="utf-8")))
    assert not errors, f"{path.name}: {[e.message for e in errors]}"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_valid_against_the_reference_schema(path: Path) -> None:
    errors = validate(reference_schema(), parse(path.read_text(encoding="utf-8")))
    assert not errors, f"{path.name}: {[e.message for e in errors]}"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_selects_the_rate_limit(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    operation = next(d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode))
    top = {
        sel.name.value: sel for sel in operation.selection_set.selections if hasattr(sel, "name")
    }
    assert "rateLimit" in top, f"{path.name}: no rateLimit"
    selection_set = top["rateLimit"].selection_set  # type: ignore[attr-defined]
    fields = {sel.name.value for sel in selection_set.selections}
    assert {"cost", "remaining", "resetAt", "used", "limit", "nodeCount"} <= fields


# Page sizes the crawler starts from, and the most points each page may cost at those sizes.
TYPICAL: dict[str, tuple[dict[str, object], int]] = {
    "search_threads": ({"query": "org:acme", "first": 100}, 1),
    "rate_limit": ({}, 1),
}


def test_every_query_has_typical_variables() -> None:
    assert set(TYPICAL) == {path.stem for path in QUERY_FILES}


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_queries_are_cheap(path: Path) -> None:
    variables, most = TYPICAL[path.stem]
    analysis = analyze(load_schema(), parse(path.read_text(encoding="utf-8")), variables, None)
    assert not analysis.errors, analysis.errors
    assert analysis.cost <= most, f"{path.name}: {analysis.cost} points ({analysis.requests} req)"


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.name)
def test_queries_run_on_the_simulator(path: Path) -> None:
    sw = small_world()
    variables = dict(TYPICAL[path.stem][0])
    result = run(sw.world, path.read_text(encoding="utf-8"), variables)
    assert not result.errors, [github_error(e) for e in result.errors]
    assert result.data is not None and result.data["rateLimit"]["limit"] == 5000
