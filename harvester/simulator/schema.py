"""The simulator's GraphQL schema: the packaged subset of GitHub's public schema."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from graphql import GraphQLSchema, build_schema

SCHEMA_FILE = "schema.graphql"


def schema_sdl() -> str:
    """The SDL text of the simulator's schema (`schema.graphql` in this package)."""
    return files("harvester.simulator").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def load_schema() -> GraphQLSchema:
    """The schema, built strictly (the subset is valid SDL) and shared: treat it as read-only."""
    return build_schema(schema_sdl())
