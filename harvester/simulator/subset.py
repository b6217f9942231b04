"""Derive the simulator's schema from GitHub's public schema: a true subset, printed as SDL.

A development tool, not used at run time. `WANTED_OBJECTS` names the object types and the fields
the simulator serves; everything else follows from the reference:

- every chosen field keeps its exact type and all of its arguments (exact types and defaults);
- the enums, input objects and scalars those refer to come in whole, recursively (plus any
  listed in `WANTED_LEAVES`);
- interfaces come in when a chosen field returns one or when listed in `WANTED_INTERFACES`, with
  only the fields that every included implementer has chosen;
- unions and `implements` lists keep only the included types.

Regenerate after changing the lists:

    python -m harvester.simulator.subset ../shared/reference/github-schema.graphql \\
        > harvester/simulator/schema.graphql
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_named_type,
    print_ast,
    specified_scalar_types,
)

_COMMENT_FIELDS = (
    "author",
    "authorAssociation",
    "body",
    "bodyHTML",
    "bodyText",
    "createdAt",
    "databaseId",
    "editor",
    "id",
    "includesCreatedEdit",
    "lastEditedAt",
    "publishedAt",
    "reactionGroups",
    "reactions",
    "repository",
    "updatedAt",
    "url",
    "userContentEdits",
)
_MINIMIZABLE_FIELDS = ("isMinimized", "minimizedReason")
_THREAD_FIELDS = (
    *_COMMENT_FIELDS,
    "closed",
    "closedAt",
    "comments",
    "labels",
    "number",
    "state",
    "title",
)
_ACTOR_FIELDS = ("avatarUrl", "databaseId", "id", "login", "resourcePath", "url")
_OWNER_FIELDS = (*_ACTOR_FIELDS, "name", "repositories", "repository")
_CONNECTION_FIELDS = ("edges", "nodes", "pageInfo", "totalCount")
_EDGE_FIELDS = ("cursor", "node")

# Object type -> the fields the simulator serves.
WANTED_OBJECTS: dict[str, tuple[str, ...]] = {
    "Query": (
        "node",
        "nodes",
        "organization",
        "rateLimit",
        "repository",
        "search",
        "user",
        "viewer",
    ),
    "RateLimit": ("cost", "limit", "nodeCount", "remaining", "resetAt", "used"),
    "PageInfo": ("endCursor", "hasNextPage", "hasPreviousPage", "startCursor"),
    "User": (*_OWNER_FIELDS, "createdAt", "followers", "updatedAt"),
    "Organization": (*_OWNER_FIELDS, "createdAt", "updatedAt"),
    "Bot": (*_ACTOR_FIELDS, "createdAt", "updatedAt"),
    "Mannequin": (*_ACTOR_FIELDS, "createdAt", "updatedAt"),
    "Repository": (
        "createdAt",
        "databaseId",
        "id",
        "isArchived",
        "isFork",
        "isPrivate",
        "issue",
        "issueOrPullRequest",
        "issues",
        "name",
        "nameWithOwner",
        "owner",
        "pullRequest",
        "pullRequests",
        "pushedAt",
        "updatedAt",
        "url",
    ),
    "Issue": _THREAD_FIELDS,
    "PullRequest": (*_THREAD_FIELDS, "merged", "mergedAt", "reviewThreads", "reviews"),
    "Label": ("color", "description", "id", "name"),
    "IssueComment": (*_COMMENT_FIELDS, *_MINIMIZABLE_FIELDS, "issue", "pullRequest"),
    "PullRequestReview": (
        *_COMMENT_FIELDS,
        *_MINIMIZABLE_FIELDS,
        "comments",
        "pullRequest",
        "state",
    ),
    "PullRequestReviewComment": (
        *_COMMENT_FIELDS,
        *_MINIMIZABLE_FIELDS,
        "diffHunk",
        "line",
        "originalLine",
        "outdated",
        "path",
        "pullRequest",
        "pullRequestReview",
        "replyTo",
        "state",
    ),
    "PullRequestReviewThread": (
        "comments",
        "id",
        "isOutdated",
        "isResolved",
        "line",
        "originalLine",
        "path",
        "pullRequest",
        "repository",
    ),
    "UserContentEdit": (
        "createdAt",
        "deletedAt",
        "deletedBy",
        "diff",
        "editedAt",
        "editor",
        "id",
        "updatedAt",
    ),
    "Reaction": ("content", "createdAt", "databaseId", "id", "reactable", "user"),
    "ReactionGroup": ("content", "createdAt", "reactors", "subject", "viewerHasReacted"),
    "ReactorEdge": (*_EDGE_FIELDS, "reactedAt"),
    "ReactorConnection": _CONNECTION_FIELDS,
    "ReactionConnection": (*_CONNECTION_FIELDS, "viewerHasReacted"),
    "ReactionEdge": _EDGE_FIELDS,
    "UserContentEditConnection": _CONNECTION_FIELDS,
    "UserContentEditEdge": _EDGE_FIELDS,
    "IssueConnection": _CONNECTION_FIELDS,
    "IssueEdge": _EDGE_FIELDS,
    "PullRequestConnection": _CONNECTION_FIELDS,
    "PullRequestEdge": _EDGE_FIELDS,
    "IssueCommentConnection": _CONNECTION_FIELDS,
    "IssueCommentEdge": _EDGE_FIELDS,
    "PullRequestReviewConnection": _CONNECTION_FIELDS,
    "PullRequestReviewEdge": _EDGE_FIELDS,
    "PullRequestReviewCommentConnection": _CONNECTION_FIELDS,
    "PullRequestReviewCommentEdge": _EDGE_FIELDS,
    "PullRequestReviewThreadConnection": _CONNECTION_FIELDS,
    "PullRequestReviewThreadEdge": _EDGE_FIELDS,
    "LabelConnection": _CONNECTION_FIELDS,
    "LabelEdge": _EDGE_FIELDS,
    "RepositoryConnection": (*_CONNECTION_FIELDS, "totalDiskUsage"),
    "RepositoryEdge": _EDGE_FIELDS,
    "FollowerConnection": _CONNECTION_FIELDS,
    "UserEdge": _EDGE_FIELDS,
    "SearchResultItemConnection": (
        "codeCount",
        "discussionCount",
        "edges",
        "issueCount",
        "nodes",
        "pageInfo",
        "repositoryCount",
        "userCount",
        "wikiCount",
    ),
    "SearchResultItemEdge": _EDGE_FIELDS,
}

# Interfaces no chosen field returns but clients spread on (`... on Comment { ... }`).
WANTED_INTERFACES: tuple[str, ...] = (
    "Comment",
    "Minimizable",
    "Reactable",
    "RepositoryNode",
    "UniformResourceLocatable",
)


# Scalars, enums and inputs no chosen field refers to, kept for clients that name them.
WANTED_LEAVES: tuple[str, ...] = ("BigInt",)

# Interfaces an included type leaves out (GitHub's `Query` is a `Node`: nothing needs that here).
DROPPED_INTERFACES: dict[str, tuple[str, ...]] = {"Query": ("Node",)}


class SubsetError(ValueError):
    """The wanted lists do not describe a valid subset of the reference."""


def load_reference(path: Path) -> GraphQLSchema:
    # GitHub's SDL repeats two fields of EnterpriseOwnerInfo: strict building refuses it.
    return build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)


def _get(reference: GraphQLSchema, name: str) -> GraphQLNamedType:
    named = reference.get_type(name)
    if named is None:
        raise SubsetError(f"{name}: no such type in the reference schema")
    return named


class _Selection:
    """The closure of the wanted lists over the reference."""

    def __init__(
        self,
        reference: GraphQLSchema,
        objects: Mapping[str, Iterable[str]],
        interfaces: Iterable[str],
        leaves: Iterable[str],
    ) -> None:
        self.reference = reference
        self.object_fields: dict[str, set[str]] = {}
        self.interface_fields: dict[str, set[str]] = {}
        self.leaf_or_input: set[str] = set()
        self.unions: set[str] = set()
        for name, fields in objects.items():
            named = _get(reference, name)
            if not isinstance(named, GraphQLObjectType):
                raise SubsetError(f"{name}: wanted as an object type, is {type(named).__name__}")
            missing = sorted(set(fields) - set(named.fields))
            if missing:
                raise SubsetError(f"{name}.{missing[0]}: no such field in the reference schema")
            self.object_fields[name] = set(fields)
        for name in interfaces:
            self._add_interface(name)
        for name in leaves:
            named = _get(reference, name)
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                raise SubsetError(f"{name}: not a scalar, enum or input type")
            self._add_input_type(named)
        for name, fields in objects.items():
            for field_name in fields:
                self._add_field_types(name, _obj(reference, name).fields[field_name])
        self._settle_interfaces()

    def _add_interface(self, name: str) -> None:
        named = _get(self.reference, name)
        if not isinstance(named, GraphQLInterfaceType):
            raise SubsetError(f"{name}: wanted as an interface, is {type(named).__name__}")
        self.interface_fields.setdefault(name, set())

    def _add_field_types(self, owner: str, field: GraphQLField) -> None:
        for argument in field.args.values():
            self._add_input_type(get_named_type(argument.type))
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if named.name not in self.object_fields:
                raise SubsetError(f"{owner}: returns {named.name}, which is not wanted")
        elif isinstance(named, GraphQLInterfaceType):
            self._add_interface(named.name)
        elif isinstance(named, GraphQLUnionType):
            self.unions.add(named.name)
        else:
            self._add_input_type(named)

    def _add_input_type(self, named: GraphQLNamedType) -> None:
        if named.name in self.leaf_or_input:
            return
        self.leaf_or_input.add(named.name)
        if isinstance(named, GraphQLInputObjectType):
            for input_field in named.fields.values():
                self._add_input_type(get_named_type(input_field.type))

    def _implementers(self, interface: str) -> list[str]:
        return sorted(
            name
            for name in self.object_fields
            if interface in {i.name for i in _obj(self.reference, name).interfaces}
            and interface not in DROPPED_INTERFACES.get(name, ())
        )

    def _settle_interfaces(self) -> None:
        """Give each interface the fields all its included implementers chose (a fixpoint:
        an interface field may bring in another interface)."""
        settled: set[str] = set()
        while pending := sorted(set(self.interface_fields) - settled):
            for name in pending:
                settled.add(name)
                interface = self.reference.get_type(name)
                assert isinstance(interface, GraphQLInterfaceType)
                implementers = self._implementers(name)
                if not implementers:
                    raise SubsetError(f"{name}: no wanted object type implements it")
                shared = set(interface.fields)
                for implementer in implementers:
                    shared &= self.object_fields[implementer]
                if not shared:
                    raise SubsetError(
                        f"{name}: its implementers {implementers} share none of its fields"
                    )
                self.interface_fields[name] = shared
                for field_name in sorted(shared):
                    self._add_field_types(name, interface.fields[field_name])
        for name in self.unions:
            if not self.members(name):
                raise SubsetError(f"{name}: none of its members is wanted")

    def members(self, union: str) -> list[str]:
        named = self.reference.get_type(union)
        assert isinstance(named, GraphQLUnionType)
        return sorted(t.name for t in named.types if t.name in self.object_fields)

    def interfaces_of(self, named: GraphQLObjectType | GraphQLInterfaceType) -> list[str]:
        dropped = DROPPED_INTERFACES.get(named.name, ())
        return sorted(
            i.name
            for i in named.interfaces
            if i.name in self.interface_fields and i.name not in dropped
        )

    def type_names(self) -> list[str]:
        names = set(self.object_fields) | set(self.interface_fields) | self.unions
        names |= {n for n in self.leaf_or_input if n not in specified_scalar_types}
        return sorted(names)


def _obj(reference: GraphQLSchema, name: str) -> GraphQLObjectType:
    named = reference.get_type(name)
    assert isinstance(named, GraphQLObjectType)
    return named


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _deprecated(reason: str | None) -> str:
    return "" if reason is None else f" @deprecated(reason: {_string(reason)})"


def _default(value: GraphQLArgument | GraphQLInputField) -> str:
    node = value.ast_node
    if node is None or node.default_value is None:
        return ""
    return f" = {print_ast(node.default_value)}"


def _print_argument(name: str, argument: GraphQLArgument) -> str:
    return f"{name}: {argument.type}{_default(argument)}{_deprecated(argument.deprecation_reason)}"


def _print_field(name: str, field: GraphQLField, deprecation: str | None) -> list[str]:
    tail = f": {field.type}{_deprecated(deprecation)}"
    if not field.args:
        return [f"  {name}{tail}"]
    lines = [f"  {name}("]
    lines += [f"    {_print_argument(arg, field.args[arg])}" for arg in sorted(field.args)]
    lines.append(f"  ){tail}")
    return lines


def _field_deprecation(
    selection: _Selection, named: GraphQLObjectType | GraphQLInterfaceType, field_name: str
) -> str | None:
    """The field's deprecation, dropped where an included interface declares the same field
    undeprecated (GitHub deprecates some `id` fields that implement `Node.id`: graphql-core 3.3
    rejects that)."""
    reason: str | None = named.fields[field_name].deprecation_reason
    for interface_name in selection.interfaces_of(named):
        interface = selection.reference.get_type(interface_name)
        assert isinstance(interface, GraphQLInterfaceType)
        declared = field_name in selection.interface_fields[interface_name]
        if declared and interface.fields[field_name].deprecation_reason is None:
            return None
    return reason


def _print_type(selection: _Selection, name: str) -> list[str]:
    named = selection.reference.get_type(name)
    if isinstance(named, GraphQLScalarType):
        return [f"scalar {name}"]
    if isinstance(named, GraphQLEnumType):
        values = [f"  {v}{_deprecated(named.values[v].deprecation_reason)}" for v in named.values]
        return [f"enum {name} {{", *values, "}"]
    if isinstance(named, GraphQLInputObjectType):
        lines = [f"input {name} {{"]
        for field_name, input_field in named.fields.items():
            lines.append(f"  {field_name}: {input_field.type}{_default(input_field)}")
        return [*lines, "}"]
    if isinstance(named, GraphQLUnionType):
        return [f"union {name} = {' | '.join(selection.members(name))}"]
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        keyword = "type" if isinstance(named, GraphQLObjectType) else "interface"
        fields = (
            selection.object_fields[name]
            if isinstance(named, GraphQLObjectType)
            else selection.interface_fields[name]
        )
        interfaces = selection.interfaces_of(named)
        head = f"{keyword} {name}"
        if interfaces:
            head += " implements " + " & ".join(interfaces)
        lines = [head + " {"]
        for field_name in sorted(fields):
            deprecation = _field_deprecation(selection, named, field_name)
            lines += _print_field(field_name, named.fields[field_name], deprecation)
        return [*lines, "}"]
    raise SubsetError(f"{name}: unsupported kind {type(named).__name__}")


def subset_sdl(
    reference: GraphQLSchema,
    objects: Mapping[str, Iterable[str]] = WANTED_OBJECTS,
    interfaces: Iterable[str] = WANTED_INTERFACES,
    leaves: Iterable[str] = WANTED_LEAVES,
) -> str:
    """The subset of `reference` that the wanted objects, interfaces and leaves describe, as SDL."""
    selection = _Selection(reference, objects, interfaces, leaves)
    blocks = ["\n".join(_print_type(selection, name)) for name in selection.type_names()]
    header = (
        "# A subset of GitHub's public GraphQL schema, generated by harvester.simulator.subset\n"
        "# (edit WANTED_OBJECTS there and regenerate; do not edit by hand).\n"
    )
    return header + "\n" + "\n\n".join(blocks) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m harvester.simulator.subset PATH/TO/github-schema.graphql",
            file=sys.stderr,
        )
        return 2
    try:
        sys.stdout.write(subset_sdl(load_reference(Path(args[0]))))
    except (OSError, SubsetError) as error:
        print(f"subset: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
