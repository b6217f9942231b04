"""GitHub's query cost, node count and query limits, as pure functions.

The simulator calls :func:`analyze` on every request, after validation, to price the query
(``rateLimit { cost nodeCount }``), to charge the points budget and to refuse queries that break
GitHub's query limits. The rules come from ``shared/docs/github-graphql.md``, sections "How
GitHub's analyzer actually prices a query" (GHES's coster), "Rate limits (primary)" and "Query
limits"; where that doc is silent, the decision taken is stated next to the code.

Model (one walk over the selected operation, no I/O):

* A field's *page size* is ``first``, else ``last``, else the number of ``ids`` of
  ``nodes(ids:)``; literals and variables (also list variables and variable defaults) resolve.
* Every field has a *multiplier*: how many times GitHub resolves it. Root fields have 1; a field
  under a parent with a page size has ``parent multiplier x parent page size``; under a parent
  without one it inherits the parent's multiplier. Plain object fields (``viewer``,
  ``repository``, ``author``, ``edges``, ``node``) propagate the multiplier and add nothing.
* Only *counting* fields add their multiplier to the request count: connections (an object type
  with ``pageInfo``, ``edges`` or a ``nodes`` list), ``nodes(ids:)`` and root ``search``. A
  non-null connection without a page size (``reactions { totalCount }``) adds nothing; a
  nullable one (``userContentEdits { totalCount }``) adds its multiplier, as the doc says.
* ``nodeCount`` adds ``multiplier x page size`` for every counting field with a page size
  (GitHub's node-limit examples: 50 + 50x20 + 50x20x10 + ...).
* Inline fragments with a type condition other than the enclosing type are type branches: a
  selection set costs the sum of its direct fields plus the max over its branches (fragments on
  the same type condition are summed into one branch, since they all run for that type). Named
  fragment spreads are summed in place whatever their type condition.
* Points are ``max(1, round(requests / 100))``, half rounded up (GitHub's servers round the Ruby
  way: 50 requests -> 1 point, 150 -> 2, 250 -> 3), see :func:`points_for`.

Decisions where the doc is silent:

* ``reactionGroups`` is a plain list without ``first``/``last``, so for *requests* it is
  transparent, like any object field: ``reactionGroups { reactors(first: N) }`` adds the
  comment's multiplier once (GHES's coster only reads arguments). For *nodeCount*, the maximum
  number of nodes the query can return, the eight groups GitHub always returns (doc: "reactionGroups
  always returns all eight groups") multiply what is below: ``8 x N`` reactors per comment.
* ``search`` is priced like any connection (``first``/``last`` needed, 1 request at the root);
  it counts as a connection even in a subset schema whose result type lacks ``pageInfo``.
  The older rule in which a connection under a root ``search``/``nodes`` counts 1 request is not
  modelled: the doc says it is never more expensive.
* Introspection (``__schema``, ``__type``, ``__typename``) is free.
* ``@skip``/``@include`` are honoured: a field the server will not resolve is not priced.
* ``first`` and ``last`` are range-checked on connections only (0..100, ``first: 0`` accepted);
  when both are given the page size is ``first``. A negative value gets an
  ``EXCESSIVE_PAGINATION`` error saying the value must be between 0 and 100.
* Errors carry ``path`` (response keys from the root, no list indices: those are unknown before
  execution) and ``locations``, except ``MAX_NODE_LIMIT_EXCEEDED``, which concerns the whole
  query and is reported without either. A field inside a named fragment spread several times is
  reported once, with the path of its first spread.
* Unknown fields, types or operations (the caller validates first) are skipped, never raised on:
  the analysis returns what it counted so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    Node,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_non_null_type,
)

__all__ = [
    "MAX_IDS",
    "MAX_NODES",
    "MAX_PAGE_SIZE",
    "QueryAnalysis",
    "analyze",
    "points_for",
]

MAX_PAGE_SIZE = 100
"""Largest ``first``/``last`` (github-graphql.md, "Query limits")."""

MAX_NODES = 500_000
"""Most nodes one query may request (github-graphql.md, "Query limits")."""

MAX_IDS = 100
"""Most ids one ``nodes(ids:)`` takes (github-graphql.md, "Query limits")."""

_FIXED_LIST_SIZES: Mapping[str, int] = {"ReactionGroup": 8}
"""Lists without arguments whose length is known: multiply nodeCount below them, not requests."""

_PAGE_FIELDS = frozenset({"nodes", "edges", "pageInfo"})
"""Selecting one of these on a connection requires ``first``/``last``."""

_Metrics = tuple[int, int]
"""(requests, nodes) per unit multiplier: both scale linearly with the multiplier."""


@dataclass(frozen=True)
class QueryAnalysis:
    """What GitHub's analyzer says about one operation before running it."""

    requests: int
    """GHES coster's request count."""
    cost: int
    """Points: ``points_for(requests)``."""
    node_count: int
    """Most nodes the query can return (GitHub's ``nodeCount``)."""
    errors: list[dict[str, Any]]
    """GitHub-shaped errors for violated query limits; empty when the query may run."""
    only_rate_limit: bool
    """The operation selects only ``rateLimit`` (priced but not charged)."""


def points_for(requests: int) -> int:
    """Points for a request count: ``requests / 100`` rounded to the nearest whole, at least 1.

    github-graphql.md, "Rate limits (primary)": "divide by 100; round to the nearest whole
    number; minimum 1" (5,101 -> 51). Halves round up, as Ruby's ``Float#round`` on GitHub's
    servers does, not to even as Python's ``round`` would.
    """
    return max(1, (max(0, requests) + 50) // 100)


def analyze(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> QueryAnalysis:
    """Price the selected operation of a validated ``document`` and check GitHub's query limits.

    An operation that cannot be selected (none, or several without ``operation_name``) is
    priced as an empty query: the caller reports that error itself.
    """
    operation = _select_operation(document, operation_name)
    root = _root_type(schema, operation) if operation is not None else None
    if operation is None or root is None:
        return QueryAnalysis(0, points_for(0), 0, [], False)
    walker = _Walker(schema, document, _merge_variables(operation, variables))
    requests, nodes = walker.selection_set(operation.selection_set, root, ())
    errors = walker.errors
    if nodes > MAX_NODES:
        errors.append(_node_limit_error(nodes))
    only_rate_limit = walker.only_rate_limit(operation.selection_set)
    return QueryAnalysis(requests, points_for(requests), nodes, errors, only_rate_limit)


def _select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation GraphQL would execute, or None when it is ambiguous or missing."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return None


def _root_type(
    schema: GraphQLSchema, operation: OperationDefinitionNode
) -> GraphQLObjectType | None:
    if operation.operation == OperationType.MUTATION:
        return schema.mutation_type
    if operation.operation == OperationType.SUBSCRIPTION:
        return schema.subscription_type
    return schema.query_type


def _merge_variables(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Provided variables over the operation's declared defaults."""
    merged: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            merged[definition.variable.name.value] = _value(definition.default_value, {})
    merged.update(variables or {})
    return merged


def _value(node: ValueNode, variables: Mapping[str, Any]) -> Any:
    """The plain Python value of an argument literal, variables resolved (None when unknown)."""
    if isinstance(node, VariableNode):
        return variables.get(node.name.value)
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    if isinstance(node, ListValueNode):
        return [_value(item, variables) for item in node.values]
    if isinstance(node, StringValueNode | BooleanValueNode):
        return node.value
    if isinstance(node, NullValueNode):
        return None
    return None


def _as_int(value: Any) -> int | None:
    """An integer page size, or None when the value is absent or not an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _id_count(value: Any) -> int:
    """Number of ids given to ``nodes(ids:)``; a single id is coerced to a list of one."""
    if value is None:
        return 0
    if isinstance(value, list | tuple):
        return len(value)
    return 1


def _locations(node: Node) -> list[dict[str, int]]:
    loc = node.loc
    if loc is None:
        return []
    return [{"line": loc.start_token.line, "column": loc.start_token.column}]


def _field_error(
    error_type: str, message: str, node: Node, path: tuple[str, ...]
) -> dict[str, Any]:
    """A GitHub-shaped error about one field (type, path, locations, message)."""
    error: dict[str, Any] = {"type": error_type, "path": list(path)}
    locations = _locations(node)
    if locations:
        error["locations"] = locations
    error["message"] = message
    return error


def _node_limit_error(nodes: int) -> dict[str, Any]:
    """GitHub's whole-query node-limit error (github-graphql.md, "Query limits")."""
    return {
        "type": "MAX_NODE_LIMIT_EXCEEDED",
        "message": (
            f"This query requests up to {nodes:,} possible nodes which exceeds the maximum "
            f"limit of {MAX_NODES:,}."
        ),
    }


def _is_skipped(node: SelectionNode, variables: Mapping[str, Any]) -> bool:
    """Whether ``@skip``/``@include`` drop this selection (the server will not resolve it)."""
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = next(
            (_value(a.value, variables) for a in directive.arguments or () if a.name.value == "if"),
            None,
        )
        if (name == "skip" and condition is True) or (name == "include" and condition is False):
            return True
    return False


def _is_connection(named: GraphQLNamedType) -> bool:
    """A Relay connection: an object type with ``pageInfo``, ``edges`` or a ``nodes`` list.

    ``Query.nodes(ids:)`` is excluded, so ``Query.relay: Query`` is not taken for a connection.
    """
    if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return False
    fields = named.fields
    if "pageInfo" in fields or "edges" in fields:
        return True
    nodes = fields.get("nodes")
    return nodes is not None and "ids" not in nodes.args


def _multiplier_for_list(field_type: GraphQLOutputType) -> int:
    """nodeCount multiplier of an argument-less list whose length GitHub fixes (reactionGroups)."""
    nullable = get_nullable_type(field_type)
    if not isinstance(nullable, GraphQLList):
        return 1
    return _FIXED_LIST_SIZES.get(get_named_type(nullable).name, 1)


class _Walker:
    """One walk over an operation; fragments are priced once and scaled (costs are linear)."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.errors: list[dict[str, Any]] = []
        self._fragment_costs: dict[str, _Metrics] = {}
        self._in_progress: set[str] = set()
        self._connections: dict[str, bool] = {}

    def selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        path: tuple[str, ...],
    ) -> _Metrics:
        """Sum of direct fields and named spreads, plus the max over type branches."""
        requests = nodes = 0
        branches: dict[str, list[int]] = {}
        parent_name = parent.name if parent is not None else None
        for selection in selection_set.selections:
            if _is_skipped(selection, self.variables):
                continue
            if isinstance(selection, FieldNode):
                r, n = self.field(selection, parent, path)
            elif isinstance(selection, FragmentSpreadNode):
                r, n = self.fragment(selection.name.value, path)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                branch = condition.name.value if condition is not None else None
                scope = self.schema.get_type(branch) if branch is not None else parent
                r, n = self.selection_set(selection.selection_set, scope, path)
                if branch is not None and branch != parent_name:
                    totals = branches.setdefault(branch, [0, 0])
                    totals[0] += r
                    totals[1] += n
                    continue
            else:  # pragma: no cover - no other selection kinds exist
                continue
            requests += r
            nodes += n
        if branches:
            requests += max(b[0] for b in branches.values())
            nodes += max(b[1] for b in branches.values())
        return requests, nodes

    def fragment(self, name: str, path: tuple[str, ...]) -> _Metrics:
        """A named spread's cost, computed once per fragment; cycles count nothing."""
        known = self._fragment_costs.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self._in_progress:
            return 0, 0
        self._in_progress.add(name)
        scope = self.schema.get_type(definition.type_condition.name.value)
        metrics = self.selection_set(definition.selection_set, scope, path)
        self._in_progress.discard(name)
        self._fragment_costs[name] = metrics
        return metrics

    def field(
        self, node: FieldNode, parent: GraphQLNamedType | None, path: tuple[str, ...]
    ) -> _Metrics:
        """Own requests/nodes of one field plus its children scaled by its page size."""
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0, 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0, 0
        field_path = (*path, node.alias.value if node.alias is not None else name)
        named = get_named_type(definition.type)
        arguments = {a.name.value: a.value for a in node.arguments or ()}
        by_ids = name == "nodes" and "ids" in definition.args
        counting = (
            by_ids
            or self._is_connection(named)
            or (name == "search" and parent is self.schema.query_type)
        )
        if by_ids:
            ids = _id_count(_value(arguments["ids"], self.variables)) if "ids" in arguments else 0
            page: int | None = ids
            self._check_ids(ids, node, field_path)
        else:
            first = self._int_argument(arguments, "first")
            last = self._int_argument(arguments, "last")
            page = first if first is not None else last
            if counting:
                self._check_page(node, field_path, first, last)
            if page is not None and page < 0:
                page = 0  # already reported; keeps the counts from going negative
        requests = nodes = 0
        if counting:
            if page is not None or not is_non_null_type(definition.type):
                requests = 1
            if page is not None:
                nodes = page
        if node.selection_set is None:
            return requests, nodes
        child_requests, child_nodes = self.selection_set(node.selection_set, named, field_path)
        request_scale = page if page is not None else 1
        node_scale = page if page is not None else _multiplier_for_list(definition.type)
        return requests + request_scale * child_requests, nodes + node_scale * child_nodes

    def only_rate_limit(self, selection_set: SelectionSetNode) -> bool:
        """Whether the root selects ``rateLimit`` and nothing else but ``__typename``."""
        names = set(self._root_field_names(selection_set, set()))
        return "rateLimit" in names and names <= {"rateLimit", "__typename"}

    def _root_field_names(self, selection_set: SelectionSetNode, seen: set[str]) -> Iterable[str]:
        for selection in selection_set.selections:
            if _is_skipped(selection, self.variables):
                continue
            if isinstance(selection, FieldNode):
                yield selection.name.value
            elif isinstance(selection, InlineFragmentNode):
                yield from self._root_field_names(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is not None and name not in seen:
                    seen.add(name)
                    yield from self._root_field_names(definition.selection_set, seen)

    def _is_connection(self, named: GraphQLNamedType) -> bool:
        known = self._connections.get(named.name)
        if known is None:
            known = self._connections[named.name] = _is_connection(named)
        return known

    def _int_argument(self, arguments: Mapping[str, ValueNode], name: str) -> int | None:
        node = arguments.get(name)
        return None if node is None else _as_int(_value(node, self.variables))

    def _check_ids(self, ids: int, node: FieldNode, path: tuple[str, ...]) -> None:
        """``nodes(ids:)`` takes at most 100 ids (github-graphql.md, "Query limits")."""
        if ids > MAX_IDS:
            message = f"You may not provide more than {MAX_IDS} node ids; you provided {ids}."
            self._add(_field_error("ARGUMENT_LIMIT", message, node, path))

    def _check_page(
        self, node: FieldNode, path: tuple[str, ...], first: int | None, last: int | None
    ) -> None:
        """first/last within 0..100, and present when the connection selects a page."""
        name = node.name.value
        for argument, value in (("first", first), ("last", last)):
            if value is None:
                continue
            if value > MAX_PAGE_SIZE:
                message = (
                    f"Requesting {value} records on the `{name}` connection exceeds the "
                    f"`{argument}` limit of {MAX_PAGE_SIZE} records."
                )
            elif value < 0:
                message = (
                    f"Requesting {value} records on the `{name}` connection is not allowed: "
                    f"`{argument}` must be between 0 and {MAX_PAGE_SIZE}."
                )
            else:
                continue
            self._add(_field_error("EXCESSIVE_PAGINATION", message, node, path))
        if first is None and last is None and self._selects_page(node.selection_set, set()):
            message = (
                f"You must provide a `first` or `last` value to properly paginate the `{name}` "
                "connection."
            )
            self._add(_field_error("MISSING_PAGINATION_BOUNDARIES", message, node, path))

    def _selects_page(self, selection_set: SelectionSetNode | None, seen: set[str]) -> bool:
        """Whether a connection's selection reaches ``nodes``/``edges``/``pageInfo``."""
        if selection_set is None:
            return False
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in _PAGE_FIELDS:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if self._selects_page(selection.selection_set, seen):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                definition = self.fragments.get(name)
                if definition is None or name in seen:
                    continue
                seen.add(name)
                if self._selects_page(definition.selection_set, seen):
                    return True
        return False

    def _add(self, error: dict[str, Any]) -> None:
        if error not in self.errors:
            self.errors.append(error)
