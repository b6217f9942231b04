"""The simulator's schema is a true subset of GitHub's public schema (../shared/reference).

Anything a query may ask of the simulator must mean the same on api.github.com: same kinds,
same field types, same arguments with the same defaults, same enum values and input fields.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    build_schema,
    print_ast,
    validate_schema,
)
from graphql.type.introspection import introspection_types

from harvester.simulator.schema import load_schema, schema_sdl
from harvester.simulator.subset import SubsetError, subset_sdl

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_PATH = SHARED / "reference" / "github-schema.graphql"


@cache
def _reference() -> GraphQLSchema:
    return build_schema(REFERENCE_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)


@pytest.fixture(scope="module")
def reference() -> GraphQLSchema:
    if not REFERENCE_PATH.exists():
        pytest.skip(f"{REFERENCE_PATH} is absent (../shared sits beside the project in CI only)")
    return _reference()


def project_types() -> list[GraphQLNamedType]:
    return [
        named
        for name, named in sorted(load_schema().type_map.items())
        if not name.startswith("__") and name not in introspection_types
    ]


def _default(value: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as a printed literal (None: no default). graphql-core 3.3 keeps the SDL
    literal in `.default`; 3.2 only the coerced `.default_value`."""
    default = getattr(value, "default", None)
    if default is not None:
        if default.literal is not None:
            return print_ast(default.literal)
        return repr(default.value)
    if value.default_value is Undefined:
        return None
    return repr(value.default_value)


def _kind(named: GraphQLNamedType) -> str:
    return type(named).__name__


def test_builds_and_validates_strictly_on_its_own() -> None:
    schema = build_schema(schema_sdl())  # no assume_valid_sdl: the subset must be clean SDL
    assert validate_schema(schema) == []
    assert schema.query_type is not None and schema.query_type.name == "Query"


def test_has_what_the_simulator_serves() -> None:
    schema = load_schema()
    wanted = {
        "Query": {"rateLimit", "node", "nodes", "organization", "repository", "search", "viewer"},
        "RateLimit": {"cost", "limit", "nodeCount", "remaining", "resetAt", "used"},
        "Repository": {"issues", "pullRequests", "issue", "pullRequest", "issueOrPullRequest"},
        "IssueComment": {"userContentEdits", "reactionGroups", "reactions", "issue", "pullRequest"},
        "PullRequestReviewComment": {"replyTo", "path", "diffHunk", "pullRequestReview"},
        "UserContentEdit": {"diff", "deletedAt", "deletedBy", "editor", "editedAt"},
        "ReactorEdge": {"reactedAt", "node", "cursor"},
        "ReactionGroup": {"content", "reactors", "subject", "viewerHasReacted"},
    }
    for type_name, fields in wanted.items():
        named = schema.get_type(type_name)
        assert isinstance(named, GraphQLObjectType), type_name
        assert fields <= set(named.fields), f"{type_name}: missing {fields - set(named.fields)}"
    for name in ("Node", "Actor", "Comment", "Reactable", "Minimizable", "RepositoryOwner"):
        assert isinstance(schema.get_type(name), GraphQLInterfaceType), name
    for name in ("Reactor", "SearchResultItem", "IssueOrPullRequest"):
        assert isinstance(schema.get_type(name), GraphQLUnionType), name


def test_every_type_exists_in_the_reference_with_the_same_kind(
    reference: GraphQLSchema,
) -> None:
    problems = []
    for named in project_types():
        theirs = reference.get_type(named.name)
        if theirs is None:
            problems.append(f"{named.name}: not in the reference")
        elif _kind(theirs) != _kind(named):
            problems.append(f"{named.name}: {_kind(named)} here, {_kind(theirs)} in the reference")
    assert not problems, problems


def _field_problems(
    type_name: str,
    ours: GraphQLObjectType | GraphQLInterfaceType,
    theirs: GraphQLObjectType | GraphQLInterfaceType,
) -> list[str]:
    problems = []
    for field_name, field in ours.fields.items():
        where = f"{type_name}.{field_name}"
        their_field = theirs.fields.get(field_name)
        if their_field is None:
            problems.append(f"{where}: not in the reference")
            continue
        if str(field.type) != str(their_field.type):
            problems.append(f"{where}: type {field.type} here, {their_field.type} there")
        for arg_name, arg in field.args.items():
            their_arg = their_field.args.get(arg_name)
            if their_arg is None:
                problems.append(f"{where}({arg_name}): not in the reference")
                continue
            if str(arg.type) != str(their_arg.type):
                problems.append(f"{where}({arg_name}): type {arg.type} here, {their_arg.type}")
            if _default(arg) != _default(their_arg):
                problems.append(
                    f"{where}({arg_name}): default {_default(arg)!r} here, {_default(their_arg)!r}"
                )
        for arg_name, their_arg in their_field.args.items():
            required = isinstance(their_arg.type, GraphQLNonNull) and _default(their_arg) is None
            if required and arg_name not in field.args:
                problems.append(f"{where}({arg_name}): required by the reference, missing here")
    return problems


def test_fields_and_arguments_match_the_reference(reference: GraphQLSchema) -> None:
    problems: list[str] = []
    for named in project_types():
        theirs = reference.get_type(named.name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and isinstance(
            theirs, GraphQLObjectType | GraphQLInterfaceType
        ):
            problems += _field_problems(named.name, named, theirs)
    assert not problems, "\n".join(problems)


def test_enums_are_identical(reference: GraphQLSchema) -> None:
    problems = []
    for named in project_types():
        theirs = reference.get_type(named.name)
        if not (isinstance(named, GraphQLEnumType) and isinstance(theirs, GraphQLEnumType)):
            continue
        if set(named.values) != set(theirs.values):
            missing = sorted(set(theirs.values) - set(named.values))
            extra = sorted(set(named.values) - set(theirs.values))
            problems.append(f"{named.name}: missing {missing}, extra {extra}")
    assert not problems, problems


def test_input_objects_are_identical(reference: GraphQLSchema) -> None:
    problems = []
    for named in project_types():
        theirs = reference.get_type(named.name)
        if not (
            isinstance(named, GraphQLInputObjectType) and isinstance(theirs, GraphQLInputObjectType)
        ):
            continue
        if set(named.fields) != set(theirs.fields):
            problems.append(
                f"{named.name}: fields {sorted(named.fields)} != {sorted(theirs.fields)}"
            )
            continue
        for field_name, field in named.fields.items():
            their_field = theirs.fields[field_name]
            if str(field.type) != str(their_field.type):
                problems.append(f"{named.name}.{field_name}: {field.type} != {their_field.type}")
            if _default(field) != _default(their_field):
                problems.append(f"{named.name}.{field_name}: default differs")
    assert not problems, problems


def test_unions_and_interfaces_are_subsets(reference: GraphQLSchema) -> None:
    problems = []
    for named in project_types():
        theirs = reference.get_type(named.name)
        if isinstance(named, GraphQLUnionType) and isinstance(theirs, GraphQLUnionType):
            extra = {t.name for t in named.types} - {t.name for t in theirs.types}
            if extra:
                problems.append(f"{named.name}: members {sorted(extra)} not in the reference")
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and isinstance(
            theirs, GraphQLObjectType | GraphQLInterfaceType
        ):
            extra = {i.name for i in named.interfaces} - {i.name for i in theirs.interfaces}
            if extra:
                problems.append(f"{named.name}: implements {sorted(extra)}, the reference not")
    assert not problems, problems


def test_scalars_exist(reference: GraphQLSchema) -> None:
    for named in project_types():
        if isinstance(named, GraphQLScalarType):
            assert isinstance(reference.get_type(named.name), GraphQLScalarType), named.name


def test_the_packaged_schema_is_what_the_subset_tool_prints(reference: GraphQLSchema) -> None:
    """Regenerate with `python -m harvester.simulator.subset PATH > harvester/simulator/
    schema.graphql` after changing the wanted lists."""
    assert schema_sdl() == subset_sdl(reference)


MINI_REFERENCE = """
type Query {
  thing(first: Int = 10, order: Order = {field: NAME, direction: ASC}): Thing
  either: Either
  node(id: ID!): Node
  other: Other
}
interface Node { id: ID! }
interface Named { id: ID! name: String! size: Int }
type Thing implements Node & Named { id: ID! name: String! size: Int more: String }
type Other implements Node & Named { id: ID! name: String! size: Int }
type Hidden implements Node { id: ID! }
union Either = Thing | Other | Hidden
input Order { field: Field! direction: Direction! }
enum Field { NAME SIZE }
enum Direction { ASC DESC }
scalar Unused
"""


def test_the_subset_tool_follows_the_reference_rules() -> None:
    wanted = {
        "Query": ("thing", "either", "node"),
        "Thing": ("id", "name", "size"),
        "Other": ("id", "name"),
    }
    sdl = subset_sdl(build_schema(MINI_REFERENCE), wanted, ("Named",), ())
    schema = build_schema(sdl)
    assert validate_schema(schema) == []
    named = schema.get_type("Named")
    assert isinstance(named, GraphQLInterfaceType)
    assert set(named.fields) == {"id", "name"}  # `size` is not on every included implementer
    either = schema.get_type("Either")
    assert isinstance(either, GraphQLUnionType)
    assert {t.name for t in either.types} == {"Thing", "Other"}  # Hidden is not wanted
    thing = schema.get_type("Thing")
    assert isinstance(thing, GraphQLObjectType)
    assert {i.name for i in thing.interfaces} == {"Named", "Node"}
    query = schema.query_type
    assert query is not None
    assert _default(query.fields["thing"].args["first"]) == "10"
    assert _default(query.fields["thing"].args["order"]) == "{ field: NAME, direction: ASC }"
    field_enum = schema.get_type("Field")
    assert isinstance(field_enum, GraphQLEnumType) and set(field_enum.values) == {"NAME", "SIZE"}
    assert schema.get_type("Unused") is None and schema.get_type("Hidden") is None
    assert subset_sdl(build_schema(MINI_REFERENCE), wanted, ("Named",), ()) == sdl  # deterministic


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ({"Query": ("nope",)}, "Query.nope: no such field"),
        ({"Query": ("other",)}, "Query: returns Other, which is not wanted"),
        ({"Query": ("node",), "Missing": ("id",)}, "Missing: no such type"),
    ],
)
def test_the_subset_tool_names_what_is_wrong(
    wanted: dict[str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(SubsetError, match=message):
        subset_sdl(build_schema(MINI_REFERENCE), wanted, (), ())
