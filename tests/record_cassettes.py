"""Record the vcrpy cassettes that tests/test_client.py replays, from the in-process simulator.

Regenerate every cassette (offline: the simulator listens on a loopback port in this process):

    .venv/bin/python -m tests.record_cassettes

or only some of them by name:

    .venv/bin/python -m tests.record_cassettes secondary_403_retry_after partial_answer

Each cassette in tests/cassettes/ holds exactly one exchange a `GitHubClient` must handle (see
`EXCHANGES`): the simulator is started with the settings that provoke it on a tiny world and a
`FakeClock`, any warm-up requests go out before the cassette opens, and the one request under
test is recorded. Before anything is written:

- the `Authorization` header is dropped (`filter_headers=["authorization"]`); the tokens used
  here are stand-ins, and tests/test_client.py scans every cassette for them all the same;
- the simulator's random port is replaced by a fixed placeholder host, and the `Date`/`Server`
  headers are dropped, so a re-recording is byte-identical when the simulator is unchanged.

Tests replay with `record_mode="none"`, matching on method + path + body (never host or port),
so they need neither the simulator nor a network. The recorder checks that each exchange still
produces the failure (or answer) it is named after, so a simulator change that breaks a
scenario fails here rather than silently recording something else.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import vcr
from graphql import parse
from vcr.request import Request

from harvester.client import (
    Answer,
    AuthError,
    GitHubClient,
    GitHubError,
    QueryRejected,
    RateLimited,
    SecondaryLimited,
    ServerTimeout,
    TransientError,
)
from harvester.clock import FakeClock
from harvester.simulator import ids
from harvester.simulator.faults import parse_fault_spec
from harvester.simulator.server import Simulator, SimulatorSettings
from harvester.simulator.world import WorldSpec, generate_world

CASSETTES = Path(__file__).resolve().parent / "cassettes"
# Where the recorded requests say they went; replay sends to it and never connects.
REPLAY_ENDPOINT = "http://simulator.invalid/graphql"
RECORDING_TOKEN = "cassette-recording-token-5f1c9e"
# An installation-token shape the simulator never issued: it answers 401 Bad credentials.
DEAD_INSTALLATION_TOKEN = "ghs_cassetteDeadInstallationToken0000"
SECRETS = (RECORDING_TOKEN, DEAD_INSTALLATION_TOKEN)
WORLD_PRESET, WORLD_SEED = "tiny", 1
ORG = "ubiquity"  # an organisation of the tiny world (seed 1)

RATE = "rateLimit { cost remaining resetAt used limit nodeCount }"
VIEWER = "query Viewer { viewer { login } %s }" % RATE
REPOS = (
    "query Repos($org: String!) { organization(login: $org) { login"
    " repositories(first: 2) { nodes { name issues(first: 2) { nodes { number title } } } } }"
    " %s }" % RATE
)
NODES = (
    "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id"
    " ... on IssueComment { databaseId author { login } } } %s }" % RATE
)
EXISTING_COMMENT = ids.encode("IssueComment", 0)
DELETED_COMMENT = ids.encode("IssueComment", 987_654)


@dataclass(frozen=True)
class Exchange:
    """One scenario: the request sent, the simulator that answers it, what the client raises."""

    name: str  # the cassette is CASSETTES / f"{name}.yaml"
    query: str
    expect: type[GitHubError] | type[Answer]
    variables: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)  # SimulatorSettings fields
    token: str = RECORDING_TOKEN
    warmup: int = 0  # identical requests sent (unrecorded) before the one recorded

    @property
    def path(self) -> Path:
        return CASSETTES / f"{self.name}.yaml"

    def document(self) -> Any:
        return parse(self.query)

    def simulator_settings(self) -> SimulatorSettings:
        settings = dict(self.settings)
        if "faults" in settings:
            settings["faults"] = parse_fault_spec(settings["faults"])
        return SimulatorSettings(seed=1, **settings)


EXCHANGES: dict[str, Exchange] = {
    ex.name: ex
    for ex in (
        Exchange("ok_with_rate_limit", VIEWER, Answer),
        Exchange("bad_credentials_401", VIEWER, AuthError, token=DEAD_INSTALLATION_TOKEN),
        # One point an hour: the warm-up spends it, the recorded request meets RATE_LIMITED.
        Exchange(
            "rate_limited_200", VIEWER, RateLimited, settings={"points_per_hour": 1}, warmup=1
        ),
        Exchange(
            "secondary_403_retry_after",
            VIEWER,
            SecondaryLimited,
            settings={"secondary_points_per_minute": 0, "retry_after_probability": 1.0},
        ),
        Exchange(
            "secondary_403_no_retry_after",
            VIEWER,
            SecondaryLimited,
            settings={"secondary_points_per_minute": 0, "retry_after_probability": 0.0},
        ),
        # Any list item makes the answer "too big": GitHub cuts it off with a 502.
        Exchange(
            "timeout_502",
            REPOS,
            ServerTimeout,
            variables={"org": ORG},
            settings={"timeout_node_count": 0},
        ),
        Exchange(
            "partial_answer",
            REPOS,
            Answer,
            variables={"org": ORG},
            settings={"faults": "partial=1"},
        ),
        Exchange(
            "not_found_node",
            NODES,
            Answer,
            variables={"ids": [EXISTING_COMMENT, DELETED_COMMENT]},
        ),
        Exchange("validation_error", "query Bad { viewer { login noSuchField } }", QueryRejected),
        Exchange(
            "excessive_pagination",
            "query TooMany { viewer { repositories(first: 101) { nodes { name } } } }",
            QueryRejected,
        ),
        Exchange("bad_json", VIEWER, TransientError, settings={"faults": "badjson=1"}),
    )
}


def _placeholder_host(request: Request) -> Request:
    """The simulator's random port out of the record: replay matches on the path only."""
    fixed = urlsplit(REPLAY_ENDPOINT)
    parts = urlsplit(request.uri)
    request.uri = urlunsplit((fixed.scheme, fixed.netloc, parts.path, parts.query, ""))
    return request


_VOLATILE = {"date", "server"}


def _stable_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in [h for h in headers if h.lower() in _VOLATILE]:
        del headers[name]
    return response


def cassette_vcr(record_mode: str = "none") -> vcr.VCR:
    """The one vcrpy configuration for recording and replaying client cassettes."""
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        serializer="yaml",
        record_mode=record_mode,
        match_on=["method", "path", "body"],
        filter_headers=["authorization"],
        before_record_request=_placeholder_host,
        before_record_response=_stable_response,
        decode_compressed_response=True,
    )


async def send(gh: GitHubClient, ex: Exchange) -> Answer | GitHubError:
    """The exchange's request through `gh`: the Answer, or the classified failure."""
    try:
        return await gh.send(ex.document(), ex.variables)
    except GitHubError as exc:
        return exc


async def record(ex: Exchange) -> Path:
    world = generate_world(WorldSpec.preset(WORLD_PRESET, WORLD_SEED))
    assert world.org_by_login(ORG) is not None, f"the {WORLD_PRESET} world lost org {ORG!r}"
    async with (
        Simulator(world, ex.simulator_settings(), clock=FakeClock()) as sim,
        GitHubClient(sim.url, ex.token) as gh,
    ):
        for _ in range(ex.warmup):
            await send(gh, ex)
        ex.path.unlink(missing_ok=True)
        with cassette_vcr("once").use_cassette(ex.path.name) as cassette:
            outcome = await send(gh, ex)
        if len(cassette) != 1:
            raise RuntimeError(f"{ex.name}: recorded {len(cassette)} exchanges, expected 1")
    if not isinstance(outcome, ex.expect):
        ex.path.unlink(missing_ok=True)
        raise RuntimeError(f"{ex.name}: expected {ex.expect.__name__}, the client got {outcome!r}")
    return ex.path


async def record_all(names: list[str]) -> list[Path]:
    unknown = sorted(set(names) - set(EXCHANGES))
    if unknown:
        raise SystemExit(f"unknown exchanges {unknown}; known: {sorted(EXCHANGES)}")
    CASSETTES.mkdir(exist_ok=True)
    return [await record(EXCHANGES[name]) for name in names or list(EXCHANGES)]


def main(argv: list[str]) -> int:
    for path in asyncio.run(record_all(argv)):
        print(
            f"recorded {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
