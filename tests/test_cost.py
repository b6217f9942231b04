"""Tests for harvester.simulator.cost: GitHub's query cost, node count and query limits.

The worked examples come from shared/docs/github-graphql.md and run against GitHub's published
schema in ../shared (skipped when that folder is absent); the rest run against a small SDL here,
validated first so that every query below is one the simulator could actually receive.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.simulator.cost import QueryAnalysis, analyze, points_for

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE_SCHEMA = SHARED / "reference" / "github-schema.graphql"

SDL = """
schema { query: Query mutation: Mutation }

interface Node { id: ID! }
interface Actor { login: String! }

type Query {
  viewer: User!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  repository(owner: String!, name: String!): Repository
  search(first: Int, last: Int, after: String, query: String!): SearchResultItemConnection!
  rateLimit(dryRun: Boolean = false): RateLimit
  relay: Query!
}

type Mutation { addReaction(subjectId: ID!): AddReactionPayload }
type AddReactionPayload { subject: IssueComment }

type RateLimit { cost: Int! limit: Int! nodeCount: Int! remaining: Int! used: Int! }
type PageInfo { endCursor: String hasNextPage: Boolean! }

type User implements Node & Actor {
  id: ID!
  login: String!
  repositories(first: Int, last: Int, after: String): RepositoryConnection!
  followers(first: Int, last: Int): UserConnection!
}
type UserConnection { nodes: [User] pageInfo: PageInfo! totalCount: Int! }
type Bot implements Node & Actor { id: ID! login: String! }

type Repository implements Node {
  id: ID!
  name: String!
  owner: User!
  issues(first: Int, last: Int, after: String): IssueConnection!
  collaborators(first: Int, last: Int): UserConnection
}
type RepositoryConnection { edges: [RepositoryEdge] pageInfo: PageInfo! totalCount: Int! }
type RepositoryEdge { cursor: String! node: Repository }

type Issue implements Node {
  id: ID!
  title: String!
  author: Actor
  comments(first: Int, last: Int, after: String): IssueCommentConnection!
}
type IssueConnection { edges: [IssueEdge] nodes: [Issue] pageInfo: PageInfo! totalCount: Int! }
type IssueEdge { cursor: String! node: Issue }

type IssueComment implements Node {
  id: ID!
  body: String!
  author: Actor
  lastEditedAt: String
  issue: Issue!
  reactions(first: Int, last: Int): ReactionConnection!
  reactionGroups: [ReactionGroup!]
  userContentEdits(first: Int, last: Int): UserContentEditConnection
}
type IssueCommentConnection { nodes: [IssueComment] pageInfo: PageInfo! totalCount: Int! }

type PullRequestReview implements Node {
  id: ID!
  body: String!
  reactions(first: Int, last: Int): ReactionConnection!
  comments(first: Int, last: Int): IssueCommentConnection!
}

type Reaction implements Node { id: ID! content: String! }
type ReactionConnection { nodes: [Reaction] pageInfo: PageInfo! totalCount: Int! }
type ReactionGroup { content: String! reactors(first: Int, last: Int): ReactorConnection! }
type ReactorConnection { nodes: [Actor] edges: [ReactorEdge] totalCount: Int! }
type ReactorEdge { reactedAt: String! node: Actor! }
type UserContentEdit implements Node { id: ID! diff: String }
type UserContentEditConnection { nodes: [UserContentEdit] totalCount: Int! }

union SearchResultItem = Issue | Repository
type SearchResultItemConnection { nodes: [SearchResultItem] pageInfo: PageInfo! issueCount: Int! }
"""


@cache
def small_schema() -> GraphQLSchema:
    return build_schema(SDL)


@cache
def _reference_schema() -> GraphQLSchema:
    return build_schema(REFERENCE_SCHEMA.read_text(encoding="utf-8"), assume_valid_sdl=True)


@pytest.fixture(scope="module")
def github() -> GraphQLSchema:
    if not REFERENCE_SCHEMA.is_file():
        pytest.skip(f"GitHub's reference schema is not at {REFERENCE_SCHEMA}")
    return _reference_schema()


def run(
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    schema: GraphQLSchema | None = None,
) -> QueryAnalysis:
    """Analyse against the small schema (validated first) or against the given schema."""
    document = parse(query)
    if schema is None:
        schema = small_schema()
        assert validate(schema, document) == [], query
    return analyze(schema, document, variables, operation_name)


def ids(count: int) -> list[str]:
    return [f"IC_{i}" for i in range(count)]


def id_literal(count: int) -> str:
    return "[" + ", ".join(f'"{i}"' for i in ids(count)) + "]"


DOCS_EXAMPLE = """
query { viewer { login repositories(first: 100) { edges { node { id
  issues(first: 50) { edges { node { id
    labels(first: 60) { edges { node { id name } } } } } } } } } } }
"""

NODE_LIMIT_EXAMPLE = """
query { viewer { repositories(first: 50) { edges { repository:node { name
  pullRequests(first: 20) { edges { pullRequest:node { title
    comments(first: 10) { edges { comment:node { bodyHTML } } } } } }
  issues(first: 20) { totalCount edges { issue:node { title bodyHTML
    comments(first: 10) { edges { comment:node { bodyHTML } } } } } } } } }
  followers(first: 10) { edges { follower:node { login } } } } }
"""

REACTIONS = "reactions(first: 100) { nodes { id } }"
EDITS = "userContentEdits(first: 100) { nodes { id } }"


# --- GitHub's worked examples, on GitHub's own schema -------------------------------------------


def test_docs_example_is_5101_requests_51_points(github: GraphQLSchema) -> None:
    result = run(DOCS_EXAMPLE, schema=github)
    assert (result.requests, result.cost) == (5_101, 51)
    assert result.node_count == 100 + 100 * 50 + 100 * 50 * 60 == 305_100
    assert result.errors == []
    assert result.only_rate_limit is False


def test_node_limit_example_is_22060_nodes(github: GraphQLSchema) -> None:
    result = run(NODE_LIMIT_EXAMPLE, schema=github)
    assert result.node_count == 22_060
    assert result.requests == 1 + 50 + 50 * 20 + 50 + 50 * 20 + 1
    assert result.errors == []


def test_nodes_reactions_is_101_requests_and_edits_beside_make_201(github: GraphQLSchema) -> None:
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on IssueComment { %s } } }"
    one = run(query % REACTIONS, {"ids": ids(100)}, schema=github)
    assert (one.requests, one.cost, one.node_count) == (101, 1, 100 + 100 * 100)
    two = run(query % (REACTIONS + " " + EDITS), {"ids": ids(100)}, schema=github)
    assert (two.requests, two.cost, two.node_count) == (201, 2, 100 + 2 * 100 * 100)
    assert one.errors == two.errors == []


def test_reaction_groups_count_requests_once_and_nodes_eight_times(github: GraphQLSchema) -> None:
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on IssueComment {
      reactionGroups { content reactors(first: 10) { totalCount edges { reactedAt
        node { __typename ... on Actor { login } } } } } } } }"""
    result = run(query, {"ids": ids(100)}, schema=github)
    assert result.requests == 1 + 100
    assert result.node_count == 100 + 100 * 8 * 10
    assert result.errors == []


def test_reaction_groups_without_reactors_are_free(github: GraphQLSchema) -> None:
    query = "{ nodes(ids: %s) { ... on IssueComment { reactionGroups { content } } } }"
    result = run(query % id_literal(100), schema=github)
    assert (result.requests, result.node_count) == (1, 100)


def test_search_is_a_connection_on_the_reference_schema(github: GraphQLSchema) -> None:
    query = """{ search(first: 10, type: ISSUE, query: "org:o") { issueCount nodes {
      ... on Issue { comments(first: 5) { totalCount } } } } }"""
    result = run(query, schema=github)
    assert (result.requests, result.node_count) == (11, 10 + 50)


def test_node_limit_error_on_the_reference_schema(github: GraphQLSchema) -> None:
    query = """{ search(first: 100, type: ISSUE, query: "x") { nodes { ... on Issue {
      comments(first: 100) { nodes { reactions(first: 100) { totalCount } } } } } } }"""
    result = run(query, schema=github)
    assert result.node_count == 100 + 100 * 100 + 100 * 100 * 100 == 1_010_100
    assert result.errors == [
        {
            "type": "MAX_NODE_LIMIT_EXCEEDED",
            "message": "This query requests up to 1,010,100 possible nodes which exceeds the "
            "maximum limit of 500,000.",
        }
    ]


# --- points ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "points"),
    [(0, 1), (1, 1), (49, 1), (50, 1), (149, 1), (150, 2), (201, 2), (250, 3), (5_101, 51)],
)
def test_points_round_half_up_with_a_minimum_of_one(requests: int, points: int) -> None:
    assert points_for(requests) == points


# --- requests and nodes on the small schema -----------------------------------------------------


def test_plain_object_fields_propagate_but_do_not_add() -> None:
    result = run('{ viewer { login } repository(owner: "o", name: "r") { owner { login } } }')
    assert (result.requests, result.cost, result.node_count) == (0, 1, 0)
    nested = run(
        '{ repository(owner: "o", name: "r") { issues(first: 10) { nodes { author { login }'
        " comments(first: 20) { nodes { issue { title } } } } } } }"
    )
    assert (nested.requests, nested.node_count) == (1 + 10, 10 + 200)


def test_docs_example_on_the_small_schema_shape() -> None:
    query = """{ viewer { repositories(first: 100) { edges { node {
      issues(first: 50) { edges { node { comments(first: 60) { nodes { id } } } } } } } } } }"""
    result = run(query)
    assert (result.requests, result.cost, result.node_count) == (5_101, 51, 305_100)


def test_nodes_by_ids_on_the_small_schema() -> None:
    query = "{ nodes(ids: %s) { id ... on IssueComment { %s } } }"
    assert run(query % (id_literal(100), REACTIONS)).requests == 101
    assert run(query % (id_literal(100), REACTIONS + " " + EDITS)).requests == 201
    assert run(query % (id_literal(3), REACTIONS)).node_count == 3 + 300


def test_total_count_only_needs_no_page_size_and_adds_nothing() -> None:
    query = "{ nodes(ids: %s) { ... on IssueComment { reactions { totalCount } lastEditedAt } } }"
    result = run(query % id_literal(100))
    assert (result.requests, result.node_count, result.errors) == (1, 100, [])


def test_nullable_connection_without_page_size_adds_its_parents_requests() -> None:
    query = "{ nodes(ids: %s) { ... on IssueComment { userContentEdits { totalCount } } } }"
    result = run(query % id_literal(100))
    assert (result.requests, result.node_count, result.errors) == (1 + 100, 100, [])


def test_first_zero_is_accepted_and_zeroes_what_is_below() -> None:
    query = '{ repository(owner: "o", name: "r") { issues(first: 0) { nodes { %s } } } }'
    result = run(query % "comments(first: 100) { nodes { id } }")
    assert (result.requests, result.node_count, result.errors) == (1, 0, [])


def test_last_is_the_page_size_when_first_is_absent() -> None:
    query = '{ repository(owner: "o", name: "r") { issues(last: 7) { nodes { %s } } } }'
    result = run(query % "comments(last: 3) { nodes { id } }")
    assert (result.requests, result.node_count) == (1 + 7, 7 + 21)


def test_search_counts_as_a_root_connection() -> None:
    query = """{ search(first: 10, query: "x") { issueCount nodes {
      ... on Issue { comments(first: 5) { totalCount } } } } }"""
    assert (run(query).requests, run(query).node_count) == (11, 60)


def test_introspection_and_typename_are_free() -> None:
    result = run("{ __typename __schema { types { name } } viewer { __typename } }")
    assert (result.requests, result.node_count, result.errors) == (0, 0, [])


def test_relay_query_field_is_not_a_connection() -> None:
    result = run("{ relay { viewer { repositories(first: 5) { totalCount } } } }")
    assert (result.requests, result.node_count) == (1, 5)


def test_mutations_are_priced_with_the_same_walk() -> None:
    query = 'mutation { addReaction(subjectId: "x") { subject { ' + REACTIONS + " } } }"
    assert run(query).requests == 1


# --- fragments ---------------------------------------------------------------------------------


def test_inline_fragments_are_branches_priced_by_their_max() -> None:
    query = """{ nodes(ids: %s) {
      ... on IssueComment { %s }
      ... on PullRequestReview { %s comments(first: 10) { totalCount } } } }"""
    result = run(query % (id_literal(100), REACTIONS, REACTIONS))
    assert result.requests == 1 + max(100, 100 + 100)
    assert result.node_count == 100 + max(100 * 100, 100 * 100 + 100 * 10)


def test_inline_fragments_on_the_same_type_are_summed() -> None:
    query = "{ nodes(ids: %s) { ... on IssueComment { %s } ... on IssueComment { %s } } }"
    assert run(query % (id_literal(100), REACTIONS, EDITS)).requests == 201


def test_inline_fragments_on_the_enclosing_type_or_untyped_are_summed() -> None:
    query = """{ nodes(ids: %s) { ... on IssueComment {
      ... on IssueComment { %s } ... @include(if: true) { %s } } } }"""
    assert run(query % (id_literal(100), REACTIONS, EDITS)).requests == 201


def test_named_spreads_are_summed_in_place() -> None:
    query = """{ nodes(ids: %s) { ...OnComment ...OnReview } }
      fragment OnComment on IssueComment { %s }
      fragment OnReview on PullRequestReview { %s comments(first: 10) { totalCount } }"""
    result = run(query % (id_literal(100), REACTIONS, REACTIONS))
    assert result.requests == 1 + 100 + 200
    assert result.node_count == 100 + 100 * 100 + 100 * 100 + 100 * 10


def test_named_spreads_nested_and_repeated_are_each_counted() -> None:
    query = """{ nodes(ids: %s) { ...Outer ...Inner } }
      fragment Outer on IssueComment { ...Inner body }
      fragment Inner on IssueComment { %s }"""
    result = run(query % (id_literal(100), REACTIONS))
    assert result.requests == 1 + 100 + 100


def test_fragment_cycles_and_unknown_fragments_do_not_crash() -> None:
    query = """{ nodes(ids: ["a"]) { ...A ...Missing } }
      fragment A on IssueComment { reactions(first: 5) { totalCount } ...B }
      fragment B on IssueComment { ...A }"""
    result = analyze(small_schema(), parse(query))
    assert (result.requests, result.node_count) == (2, 6)


# --- variables, aliases, directives, operations ---------------------------------------------------


def test_variables_resolve_page_sizes_ids_and_defaults() -> None:
    query = """query($ids: [ID!]!, $n: Int = 30, $m: Int) { nodes(ids: $ids) {
      ... on IssueComment { reactions(first: $n) { totalCount } userContentEdits(last: $m) {
      totalCount } } } }"""
    result = run(query, {"ids": ids(10), "m": 4})
    assert (result.requests, result.node_count) == (1 + 10 + 10, 10 + 300 + 40)
    overridden = run(query, {"ids": ids(10), "n": 2, "m": 4})
    assert overridden.node_count == 10 + 20 + 40


def test_list_literal_with_variables_inside_counts_each_entry() -> None:
    query = 'query($a: ID!, $b: ID!) { nodes(ids: [$a, $b, "c"]) { id } }'
    assert run(query, {"a": "x", "b": "y"}).node_count == 3


def test_several_aliased_nodes_fields_add_up() -> None:
    query = "{ a: nodes(ids: %s) { ... on IssueComment { %s } } b: nodes(ids: %s) { id } }"
    result = run(query % (id_literal(100), REACTIONS, id_literal(100)))
    assert (result.requests, result.cost, result.node_count) == (102, 1, 100 + 10_000 + 100)
    aliased = (
        f"n{i}: nodes(ids: {id_literal(100)}) {{ ... on IssueComment {{ {REACTIONS} }} }}"
        for i in range(3)
    )
    three = "{ " + " ".join(aliased) + " }"
    assert run(three).requests == 3 * 101


def test_skip_and_include_drop_fields_from_the_price() -> None:
    query = """query($s: Boolean!) { nodes(ids: %s) { ... on IssueComment {
      reactions(first: 100) @skip(if: $s) { totalCount }
      userContentEdits(first: 100) @include(if: $s) { totalCount } } } }"""
    assert run(query % id_literal(100), {"s": True}).requests == 101
    assert run(query % id_literal(100), {"s": False}).requests == 101
    assert run(query % id_literal(100), {"s": False}).node_count == 100 + 10_000


def test_operation_name_selects_the_operation() -> None:
    query = """query Cheap { viewer { login } }
      query Dear { viewer { repositories(first: 100) { edges { node { issues(first: 100) {
      totalCount } } } } } }"""
    assert run(query, operation_name="Cheap").requests == 0
    assert run(query, operation_name="Dear").requests == 101
    ambiguous = analyze(small_schema(), parse(query))
    assert (ambiguous.requests, ambiguous.cost, ambiguous.errors) == (0, 1, [])
    assert analyze(small_schema(), parse(query), operation_name="Nope").requests == 0


def test_unknown_fields_are_ignored_not_raised_on() -> None:
    query = (
        "{ nope { deeper(first: 1000) } viewer { unknown repositories(first: 2) { totalCount } } }"
    )
    result = analyze(small_schema(), parse(query))
    assert (result.requests, result.node_count, result.errors) == (1, 2, [])


# --- rateLimit only -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ rateLimit { cost remaining resetAt: used } }",
        "{ __typename rateLimit(dryRun: true) { cost nodeCount } }",
        "{ a: rateLimit { cost } b: rateLimit { limit } }",
        "{ ...R } fragment R on Query { rateLimit { cost } }",
        "{ ... on Query { rateLimit { cost } } viewer @skip(if: true) { login } }",
    ],
)
def test_rate_limit_only_queries_are_detected(query: str) -> None:
    result = run(query)
    assert result.only_rate_limit is True
    assert (result.requests, result.cost) == (0, 1)


@pytest.mark.parametrize(
    "query",
    [
        "{ rateLimit { cost } viewer { login } }",
        "{ __typename }",
        "{ viewer { login } }",
        "{ ...R } fragment R on Query { rateLimit { cost } relay { __typename } }",
    ],
)
def test_other_queries_are_not_rate_limit_only(query: str) -> None:
    assert run(query).only_rate_limit is False


# --- limit errors ------------------------------------------------------------------------------


def test_missing_pagination_boundaries() -> None:
    query = '{\n  repository(owner: "o", name: "r") {\n    issues { nodes { id } }\n  }\n}'
    result = run(query)
    assert result.errors == [
        {
            "type": "MISSING_PAGINATION_BOUNDARIES",
            "path": ["repository", "issues"],
            "locations": [{"line": 3, "column": 5}],
            "message": "You must provide a `first` or `last` value to properly paginate the "
            "`issues` connection.",
        }
    ]


@pytest.mark.parametrize("selection", ["edges { cursor }", "pageInfo { hasNextPage }", "...F"])
def test_missing_boundaries_when_any_page_field_is_selected(selection: str) -> None:
    query = '{ repository(owner: "o", name: "r") { issues { ' + selection + " } } }"
    if selection == "...F":
        query += " fragment F on IssueConnection { ... on IssueConnection { nodes { id } } }"
    [error] = run(query).errors
    assert error["type"] == "MISSING_PAGINATION_BOUNDARIES"


def test_missing_boundaries_path_uses_aliases_and_fragments() -> None:
    query = """{ r: repository(owner: "o", name: "r") { ...Issues } }
      fragment Issues on Repository {
        open: issues(first: 1) { nodes { comments { nodes { id } } } } }"""
    [error] = run(query).errors
    assert error["path"] == ["r", "open", "nodes", "comments"]
    assert error["message"] == (
        "You must provide a `first` or `last` value to properly paginate the `comments` connection."
    )


def test_excessive_pagination_first_and_last() -> None:
    query = """{ repository(owner: "o", name: "r") {
      issues(first: 101) { totalCount } collaborators(last: 500) { totalCount } } }"""
    errors = run(query).errors
    assert [(e["type"], e["path"], e["message"]) for e in errors] == [
        (
            "EXCESSIVE_PAGINATION",
            ["repository", "issues"],
            "Requesting 101 records on the `issues` connection exceeds the `first` limit of "
            "100 records.",
        ),
        (
            "EXCESSIVE_PAGINATION",
            ["repository", "collaborators"],
            "Requesting 500 records on the `collaborators` connection exceeds the `last` limit "
            "of 100 records.",
        ),
    ]
    assert errors[0]["locations"] == [{"line": 2, "column": 7}]


def test_negative_page_size_is_excessive_pagination() -> None:
    query = (
        'query($n: Int) { repository(owner: "o", name: "r") { issues(first: $n) { totalCount } } }'
    )
    result = run(query, {"n": -1})
    assert (result.requests, result.node_count) == (1, 0)
    [error] = result.errors
    assert error["type"] == "EXCESSIVE_PAGINATION"
    assert error["message"] == (
        "Requesting -1 records on the `issues` connection is not allowed: `first` must be "
        "between 0 and 100."
    )


def test_more_than_100_ids_is_an_argument_limit() -> None:
    result = run("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids(101)})
    assert result.errors == [
        {
            "type": "ARGUMENT_LIMIT",
            "path": ["nodes"],
            "locations": [{"line": 1, "column": 23}],
            "message": "You may not provide more than 100 node ids; you provided 101.",
        }
    ]
    assert run("{ nodes(ids: " + id_literal(100) + ") { id } }").errors == []


def test_node_limit_exceeded_message() -> None:
    query = """{ viewer { repositories(first: 100) { edges { node { issues(first: 100) {
      nodes { comments(first: 100) { totalCount } } } } } } } }"""
    result = run(query)
    assert result.node_count == 100 + 10_000 + 1_000_000
    assert result.errors == [
        {
            "type": "MAX_NODE_LIMIT_EXCEEDED",
            "message": "This query requests up to 1,010,100 possible nodes which exceeds the "
            "maximum limit of 500,000.",
        }
    ]


def test_errors_are_collected_together_and_costs_still_reported() -> None:
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on IssueComment {
      reactions { nodes { id } } userContentEdits(first: 101) { totalCount } } } }"""
    result = run(query, {"ids": ids(150)})
    assert [e["type"] for e in result.errors] == [
        "ARGUMENT_LIMIT",
        "MISSING_PAGINATION_BOUNDARIES",
        "EXCESSIVE_PAGINATION",
    ]
    assert result.requests == 1 + 150


def test_documents_without_locations_give_errors_without_locations() -> None:
    document = parse(
        '{ repository(owner: "o", name: "r") { issues { nodes { id } } } }', no_location=True
    )
    [error] = analyze(small_schema(), document).errors
    assert "locations" not in error
    assert error["path"] == ["repository", "issues"]


# --- properties ----------------------------------------------------------------------------------

CHAIN = """{ viewer { repositories(first: %d) { edges { node { issues(first: %d) { nodes {
  comments(first: %d) { nodes { reactions(first: %d) { totalCount } } } } } } } } } }"""

page = st.integers(min_value=0, max_value=100)


@settings(max_examples=150, deadline=None)
@given(st.tuples(page, page, page, page), st.integers(min_value=0, max_value=3), page)
def test_cost_is_monotone_in_page_sizes(
    sizes: tuple[int, int, int, int], which: int, bigger: int
) -> None:
    schema = small_schema()
    before = analyze(schema, parse(CHAIN % sizes))
    grown = list(sizes)
    grown[which] = max(grown[which], bigger)
    after = analyze(schema, parse(CHAIN % tuple(grown)))
    assert after.requests >= before.requests
    assert after.cost >= before.cost
    assert after.node_count >= before.node_count


@settings(max_examples=150, deadline=None)
@given(st.tuples(page, page, page, page))
def test_chain_matches_the_closed_form(sizes: tuple[int, int, int, int]) -> None:
    a, b, c, d = sizes
    result = analyze(small_schema(), parse(CHAIN % sizes))
    assert result.requests == 1 + a + a * b + a * b * c
    assert result.node_count == a + a * b + a * b * c + a * b * c * d
    assert result.cost == max(1, (result.requests + 50) // 100)
    has_node_error = any(e["type"] == "MAX_NODE_LIMIT_EXCEEDED" for e in result.errors)
    assert has_node_error == (result.node_count > 500_000)
