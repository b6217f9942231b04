"""The simulator's HTTP behaviour per github-graphql.md: auth, costs, headers, limits, faults."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harvester.clock import FakeClock
from harvester.simulator import ids
from harvester.simulator.faults import FaultSpecError, parse_fault_spec
from harvester.simulator.model import World
from harvester.simulator.server import Simulator, SimulatorSettings
from tests.conftest import GraphQLCaller

RATE = "rateLimit { cost limit nodeCount remaining resetAt used }"

DOCS_EXAMPLE = (
    """
query {
  viewer {
    login
    repositories(first: 100) {
      edges { node { id issues(first: 50) { edges { node { id
        labels(first: 60) { edges { node { id name } } } } } } } }
    }
  }
  %s
}
"""
    % RATE
)


async def _sim_call(
    world: World, settings: SimulatorSettings, clock: FakeClock, calls: list[dict[str, Any]]
) -> list[tuple[int, dict[str, str], Any]]:
    async with Simulator(world, settings, clock=clock) as sim, aiohttp.ClientSession() as s:
        gh = GraphQLCaller(s, sim.url)
        return [await gh.post(**call) for call in calls]


async def test_missing_token_is_401_bad_credentials(gh: GraphQLCaller) -> None:
    status, _, body = await gh.post("{ viewer { login } }", token=None)
    assert status == 401
    assert body["message"] == "Bad credentials"


async def test_every_answer_carries_rate_limit_headers(gh: GraphQLCaller) -> None:
    status, headers, body = await gh.post("{ viewer { login } %s }" % RATE)
    assert status == 200, body
    for name in ("limit", "remaining", "used", "reset", "resource"):
        assert f"x-ratelimit-{name}" in headers
    assert headers["x-ratelimit-resource"] == "graphql"
    assert headers["x-ratelimit-limit"] == "5000"
    rate = body["data"]["rateLimit"]
    assert int(headers["x-ratelimit-remaining"]) == rate["remaining"] == 5000 - rate["used"]


async def test_docs_worked_example_prices_at_51_points(gh: GraphQLCaller) -> None:
    status, headers, body = await gh.post(DOCS_EXAMPLE)
    assert status == 200, body
    rate = body["data"]["rateLimit"]
    assert rate["cost"] == 51
    assert rate["nodeCount"] == 305_100
    assert rate["used"] == 51 and rate["remaining"] == 4_949
    assert headers["x-ratelimit-used"] == "51"


async def test_dry_run_prices_without_evaluating_or_charging(gh: GraphQLCaller) -> None:
    query = DOCS_EXAMPLE.replace("rateLimit {", "rateLimit(dryRun: true) {")
    status, headers, body = await gh.post(query)
    assert status == 200, body
    assert set(body["data"]) == {"rateLimit"}
    assert body["data"]["rateLimit"]["cost"] == 51
    assert headers["x-ratelimit-used"] == "0"


async def test_rate_limit_only_query_is_not_charged(gh: GraphQLCaller) -> None:
    for _ in range(3):
        _, headers, body = await gh.post("{ %s }" % RATE)
    assert body["data"]["rateLimit"]["cost"] == 1
    assert headers["x-ratelimit-used"] == "0"


async def test_each_token_has_its_own_budget(gh: GraphQLCaller) -> None:
    await gh.post(DOCS_EXAMPLE, token="alice")
    _, headers, _ = await gh.post("{ viewer { login } }", token="bob")
    assert headers["x-ratelimit-used"] == "1"


async def test_ghes_path_answers_too(simulator: Simulator) -> None:
    async with aiohttp.ClientSession() as s:
        gh = GraphQLCaller(s, f"{simulator.base_url}/api/graphql")
        status, _, body = await gh.post("{ viewer { login } }")
    assert status == 200 and body["data"]["viewer"]["login"]


async def test_exhausted_budget_is_rate_limited_in_a_200_until_reset(
    tiny_world: World, fake_clock: FakeClock
) -> None:
    settings = SimulatorSettings(points_per_hour=3)
    calls = [{"query": "{ viewer { login } }"}] * 4
    async with (
        Simulator(tiny_world, settings, clock=fake_clock) as sim,
        aiohttp.ClientSession() as s,
    ):
        gh = GraphQLCaller(s, sim.url)
        answers = [await gh.post(**c) for c in calls]
        _, headers, body = answers[3]
        assert [a[0] for a in answers] == [200, 200, 200, 200]
        assert body["errors"][0]["type"] == "RATE_LIMITED"
        assert "API rate limit" in body["errors"][0]["message"]
        assert headers["x-ratelimit-remaining"] == "0"
        reset = int(headers["x-ratelimit-reset"])
        fake_clock.advance(reset - fake_clock.now() + 1)
        _status, headers, body = await gh.post("{ viewer { login } }")
        assert "errors" not in body and headers["x-ratelimit-used"] == "1"


async def test_secondary_per_minute_limit_is_a_403(
    tiny_world: World, fake_clock: FakeClock
) -> None:
    settings = SimulatorSettings(secondary_points_per_minute=2, retry_after_probability=1.0)
    answers = await _sim_call(
        tiny_world, settings, fake_clock, [{"query": "{ viewer { login } }"}] * 3
    )
    status, headers, body = answers[2]
    assert [a[0] for a in answers[:2]] == [200, 200]
    assert status == 403
    assert "secondary rate limit" in body["message"]
    assert 1 <= int(headers["retry-after"]) <= 60


async def test_secondary_limit_sometimes_omits_retry_after(
    tiny_world: World, fake_clock: FakeClock
) -> None:
    settings = SimulatorSettings(secondary_points_per_minute=1, retry_after_probability=0.0)
    answers = await _sim_call(
        tiny_world, settings, fake_clock, [{"query": "{ viewer { login } }"}] * 2
    )
    assert answers[1][0] == 403 and "retry-after" not in answers[1][1]


@pytest.mark.parametrize(
    ("query", "kind", "text"),
    [
        (
            "{ viewer { repositories(first: 101) { nodes { id } } } }",
            "EXCESSIVE_PAGINATION",
            "Requesting 101 records on the `repositories` connection exceeds the `first` limit of 100 records.",
        ),
        (
            "{ viewer { repositories { nodes { id } } } }",
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the `repositories` connection.",
        ),
        (
            "{ nodes(ids: [%s]) { id } }" % ",".join(f'"x{i}"' for i in range(101)),
            "ARGUMENT_LIMIT",
            "You may not provide more than 100 node ids; you provided 101.",
        ),
    ],
)
async def test_query_limits_answer_with_githubs_errors(
    gh: GraphQLCaller, query: str, kind: str, text: str
) -> None:
    status, _headers, body = await gh.post(query)
    assert status == 200
    assert body["errors"][0]["type"] == kind
    assert body["errors"][0]["message"] == text
    assert "data" not in body


async def test_more_than_500k_nodes_is_refused(gh: GraphQLCaller) -> None:
    query = (
        "{ viewer { repositories(first: 100) { nodes { issues(first: 100) { nodes {"
        " comments(first: 100) { nodes { id } } } } } } } }"
    )
    _, _, body = await gh.post(query)
    assert body["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert "500,000" in body["errors"][0]["message"]


async def test_validation_errors_come_back_in_a_200(gh: GraphQLCaller) -> None:
    status, _, body = await gh.post("{ viewer { noSuchField } }")
    assert status == 200
    assert "noSuchField" in body["errors"][0]["message"]
    status, _, body = await gh.post("{ viewer { login ")
    assert status == 200 and "Syntax Error" in body["errors"][0]["message"]


async def test_unparseable_json_is_a_400(gh: GraphQLCaller) -> None:
    status, _, body = await gh.post("", raw=b"{not json")
    assert status == 400 and body["message"] == "Problems parsing JSON"


async def test_big_answers_time_out_with_a_502_after_the_delay(
    tiny_world: World, fake_clock: FakeClock
) -> None:
    settings = SimulatorSettings(timeout_node_count=5, timeout_delay_s=10.0)
    repo = tiny_world.repos[0]
    query = '{ repository(owner: "%s", name: "%s") { issues(first: 100) { nodes { id } } } }' % (
        repo.org.login,
        repo.name,
    )
    answers = await _sim_call(tiny_world, settings, fake_clock, [{"query": query}])
    status, headers, body = answers[0]
    assert sum(t.kind == "issue" for t in repo.threads) > 5
    assert status == 502
    assert "couldn't respond to your request in time" in body["errors"][0]["message"]
    assert 10.0 in fake_clock.slept
    assert headers["x-ratelimit-used"] == "1"  # billed all the same


async def test_stats_count_requests_points_and_statuses(
    simulator: Simulator, gh: GraphQLCaller
) -> None:
    await gh.post(DOCS_EXAMPLE)
    await gh.post("{ viewer { login } }", token=None)
    async with aiohttp.ClientSession() as s, s.get(f"{simulator.base_url}/_stats") as resp:
        stats = await resp.json()
    assert stats["graphql_requests"] == 2
    assert stats["points_charged"] == 51
    assert stats["by_status"] == {"200": 1, "401": 1}
    assert "test-token" not in str(stats)


def test_fault_spec_parses_and_rejects_clearly() -> None:
    spec = parse_fault_spec("502=0.05,secondary=0.03,reset=0.01,badjson=0.01,partial=0.02")
    assert spec.rates["502"] == 0.05 and abs(spec.total - 0.12) < 1e-9
    for bad in ("502", "teapot=0.1", "502=x", "502=2", "502=0.6,reset=0.6"):
        with pytest.raises(FaultSpecError):
            parse_fault_spec(bad)


async def _fault_statuses(world: World, seed: int, faults: str, n: int) -> list[int | str]:
    settings = SimulatorSettings(seed=seed, faults=parse_fault_spec(faults))
    out: list[int | str] = []
    async with Simulator(world, settings, clock=FakeClock()) as sim, aiohttp.ClientSession() as s:
        gh = GraphQLCaller(s, sim.url)
        for i in range(n):
            try:
                status, _, body = await gh.post("query Q%d { viewer { login } }" % i)
            except aiohttp.ClientError:
                out.append("reset")
                continue
            out.append("badjson" if isinstance(body, str) else status)
    return out


async def test_faults_are_seeded_and_of_every_kind(tiny_world: World) -> None:
    spec = "502=0.2,secondary=0.2,reset=0.1,badjson=0.1"
    first = await _fault_statuses(tiny_world, 5, spec, 60)
    again = await _fault_statuses(tiny_world, 5, spec, 60)
    other = await _fault_statuses(tiny_world, 6, spec, 60)
    assert first == again
    assert first != other
    assert {502, 403, "reset", "badjson", 200} <= set(first)


async def test_partial_fault_keeps_data_and_says_what_is_missing(tiny_world: World) -> None:
    settings = SimulatorSettings(faults=parse_fault_spec("partial=1"))
    org = tiny_world.orgs[0].login
    query = '{ organization(login: "%s") { repositories(first: 10) { nodes { id name } } } }' % org
    answers = await _sim_call(tiny_world, settings, FakeClock(), [{"query": query}])
    status, _, body = answers[0]
    assert status == 200
    assert body["data"]["organization"] is not None or body["errors"]
    assert body["errors"][0]["type"] == "RESOURCE_LIMITS_EXCEEDED"
    assert body["errors"][0]["path"]


# ---------- GitHub App auth over REST
def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


async def test_app_installation_tokens_work_and_expire(tiny_world: World) -> None:
    private, public = _keypair()
    clock = FakeClock(start=time.time())
    settings = SimulatorSettings(app_id="4242", app_public_key=public)
    org = tiny_world.orgs[0].login
    now = int(clock.now())
    app_jwt = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": "4242"}, private, algorithm="RS256"
    )
    forged = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": "4242"}, _keypair()[0], algorithm="RS256"
    )
    async with Simulator(tiny_world, settings, clock=clock) as sim, aiohttp.ClientSession() as s:
        auth = {"Authorization": f"Bearer {app_jwt}"}
        async with s.get(f"{sim.base_url}/orgs/{org}/installation", headers=auth) as resp:
            assert resp.status == 200
            installation = await resp.json()
        async with s.get(
            f"{sim.base_url}/orgs/{org}/installation", headers={"Authorization": f"Bearer {forged}"}
        ) as resp:
            assert resp.status == 401
        url = f"{sim.base_url}/app/installations/{installation['id']}/access_tokens"
        async with s.post(url, headers=auth) as resp:
            assert resp.status == 201
            issued = await resp.json()
        assert issued["token"].startswith("ghs_") and issued["expires_at"].endswith("Z")
        gh = GraphQLCaller(s, sim.url)
        status, headers, _ = await gh.post("{ viewer { login } }", token=issued["token"])
        assert status == 200 and int(headers["x-ratelimit-limit"]) >= 5000
        clock.advance(3601)
        status, _, body = await gh.post("{ viewer { login } }", token=issued["token"])
        assert status == 401 and body["message"] == "Bad credentials"
        stale = jwt.encode(
            {"iat": now - 60, "exp": now + 540, "iss": "4242"}, private, algorithm="RS256"
        )
        async with s.post(url, headers={"Authorization": f"Bearer {stale}"}) as resp:
            assert resp.status == 401  # its exp is in the past now


def test_node_ids_round_trip() -> None:
    for typename in ids.PREFIXES:
        for index in (0, 1, 99, 10**9):
            node_id = ids.encode(typename, index)
            assert ids.decode(node_id) == (typename, index)
    assert ids.decode("MDQ6VXNlcjE=") is None
    assert ids.decode("IC_kwDO!!!") is None
