"""GitHub App auth end to end: JWT, installation lookup, installation tokens, refresh, a crawl.

The RSA key is generated here; the simulator is told its public half (`app_id`,
`app_public_key`) and verifies every JWT against it, on the same FakeClock as the token source.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import parse

import harvester.auth
from harvester.auth import REFRESH_MARGIN_S, AppInstallationToken
from harvester.client import AuthError, GitHubClient
from harvester.clock import FakeClock
from harvester.crawl import CrawlOptions, Source, run_crawl
from harvester.simulator.model import World
from harvester.simulator.server import Simulator, SimulatorSettings
from harvester.simulator.truth import export_truth
from harvester.simulator.world import WorldSpec, generate_world
from tests.truthcheck import assert_matches_truth

APP_ID = "4242"
TTL_S = 3_600  # the simulator's installation tokens, like GitHub's, live an hour


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


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    return _keypair()


@pytest.fixture(scope="module")
def other_key() -> str:
    return _keypair()[0]


@pytest.fixture
def world() -> World:
    return generate_world(WorldSpec.preset("tiny", 1))


@pytest.fixture
def clock(world: World) -> FakeClock:
    return FakeClock(start=world.now + 60)


@pytest.fixture
async def sim(world: World, clock: FakeClock, app_key: tuple[str, str]) -> AsyncIterator[Simulator]:
    settings = SimulatorSettings(seed=2, app_id=APP_ID, app_public_key=app_key[1])
    async with Simulator(world, settings, clock=clock) as simulator:
        yield simulator


@pytest.fixture
def jwts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every JWT the token sources sign."""
    signed: list[str] = []
    original = harvester.auth.app_jwt

    def spy(app_id: str | int, private_key: str, now: float) -> str:
        token = original(app_id, private_key, now)
        signed.append(token)
        return token

    monkeypatch.setattr(harvester.auth, "app_jwt", spy)
    return signed


@pytest.fixture
def minted(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every installation token an AppInstallationToken hands out."""
    seen: set[str] = set()
    original = AppInstallationToken.token

    async def spy(self: AppInstallationToken) -> str:
        token = await original(self)
        seen.add(token)
        return token

    monkeypatch.setattr(AppInstallationToken, "token", spy)
    return seen


def _source(sim: Simulator, clock: FakeClock, org: str, private_key: str) -> AppInstallationToken:
    return AppInstallationToken(
        app_id=APP_ID, private_key=private_key, org=org, rest_url=sim.base_url, clock=clock
    )


async def test_a_token_is_minted_reused_and_refreshed_before_expiry(
    sim: Simulator, clock: FakeClock, world: World, app_key: tuple[str, str], jwts: list[str]
) -> None:
    org = world.orgs[0]
    auth = _source(sim, clock, org.login, app_key[0])
    first = await auth.token()
    assert first.startswith("ghs_")
    assert auth.installation_id == org.installation_id  # found via GET /orgs/{org}/installation
    assert sim.stats.tokens_issued == 1 and sim.stats.requests == 2  # GET + POST

    assert await auth.token() == first
    clock.advance(TTL_S - REFRESH_MARGIN_S - 1)
    assert await auth.token() == first  # still more than 5 minutes left
    assert sim.stats.tokens_issued == 1 and sim.stats.requests == 2

    clock.advance(2)  # now past expires_at - 300 s
    second = await auth.token()
    assert second != first and second.startswith("ghs_")
    assert sim.stats.tokens_issued == 2
    assert sim.stats.requests == 3  # the installation id is remembered: only a POST

    # The JWTs: RS256 with the app's key, iss = app id, iat 60 s back, exp 9 min ahead.
    assert len(jwts) == 2
    claims = jwt.decode(jwts[-1], app_key[1], algorithms=["RS256"], options={"verify_exp": False})
    now = int(clock.now())
    assert claims == {"iss": APP_ID, "iat": now - 60, "exp": now + 540}
    assert jwt.get_unverified_header(jwts[-1])["alg"] == "RS256"


async def test_concurrent_callers_share_one_mint(
    sim: Simulator, clock: FakeClock, world: World, app_key: tuple[str, str]
) -> None:
    auth = _source(sim, clock, world.orgs[0].login, app_key[0])
    tokens = await asyncio.gather(*(auth.token() for _ in range(5)))
    assert len(set(tokens)) == 1 and sim.stats.tokens_issued == 1


async def test_the_client_sends_the_refreshed_token(
    sim: Simulator, clock: FakeClock, world: World, app_key: tuple[str, str], minted: set[str]
) -> None:
    auth = _source(sim, clock, world.orgs[0].login, app_key[0])
    query = parse("query V { viewer { login } }")
    async with GitHubClient(sim.url, auth) as gh:
        answer = await gh.send(query)
        assert answer.headers["x-ratelimit-limit"] == "5000"  # the installation's own budget
        clock.advance(TTL_S + 1)  # the first token is dead on the simulator now
        answer = await gh.send(query)  # would be a 401 without the refresh
        assert answer.data == {"viewer": {"login": "sim-viewer"}}
    assert len(minted) == 2 and sim.stats.tokens_issued == 2


async def test_a_wrong_key_is_an_auth_error_that_says_what_to_check(
    sim: Simulator, clock: FakeClock, world: World, other_key: str, jwts: list[str]
) -> None:
    auth = _source(sim, clock, world.orgs[0].login, other_key)
    with pytest.raises(AuthError) as caught:
        await auth.token()
    message = str(caught.value)
    assert caught.value.status == 401
    assert world.orgs[0].login in message
    for hint in ("app_id", "private key", "installed on the organisation"):
        assert hint in message
    assert jwts and jwts[0] not in message and "Bearer" not in message
    assert sim.stats.tokens_issued == 0


async def test_an_org_without_the_app_is_an_auth_error(
    sim: Simulator, clock: FakeClock, app_key: tuple[str, str]
) -> None:
    auth = _source(sim, clock, "not-an-installed-org", app_key[0])
    with pytest.raises(AuthError, match=r"-> 404.*installed on the organisation"):
        await auth.token()


def _bytes_under(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_a_crawl_with_app_installations_recovers_the_truth_and_lands_no_secret(
    tmp_path: Path,
    sim: Simulator,
    clock: FakeClock,
    world: World,
    app_key: tuple[str, str],
    jwts: list[str],
    minted: set[str],
) -> None:
    export_truth(world, tmp_path / "truth")
    data = tmp_path / "data"
    options = CrawlOptions(
        data_dir=data,
        endpoint=sim.url,
        sources=[
            Source(_source(sim, clock, org.login, app_key[0]), orgs=(org.login,))
            for org in world.orgs
        ],
        clock=clock,
    )
    result = await run_crawl(options)
    assert result.status == "ok", result.errors
    assert_matches_truth(data, tmp_path / "truth")
    assert len(minted) == len(world.orgs) == sim.stats.tokens_issued  # one per installation
    assert len(jwts) == len(world.orgs)  # one JWT per mint (it signs the lookup and the POST)

    clock.advance(TTL_S)  # the next night: every installation token has expired
    again = await run_crawl(options)
    assert again.status == "ok", again.errors
    assert len(minted) == 2 * len(world.orgs) == sim.stats.tokens_issued
    assert_matches_truth(data, tmp_path / "truth")

    secrets = sorted(minted) + jwts
    files = _bytes_under(data)
    parquet = [p for p in files if p.suffix == ".parquet"]
    runs = [p for p in files if p.suffix == ".json" and "state" in p.relative_to(data).parts]
    assert parquet and runs
    for path, content in files.items():
        for secret in secrets:
            assert secret.encode() not in content, f"a credential landed in {path}"
    for path in parquet:  # the decoded rows too: Parquet pages may be compressed
        rows = json.dumps(pq.read_table(path).to_pylist(), default=str)
        assert not any(secret in rows for secret in secrets), f"a credential landed in {path}"
    for path in runs:
        record = path.read_text()
        assert "ghs_" not in record and "Bearer" not in record


async def test_a_crawl_with_a_wrong_key_stops_with_auth_error(
    tmp_path: Path, sim: Simulator, clock: FakeClock, world: World, other_key: str
) -> None:
    org = world.orgs[0].login
    options = CrawlOptions(
        data_dir=tmp_path / "data",
        endpoint=sim.url,
        sources=[Source(_source(sim, clock, org, other_key), orgs=(org,))],
        clock=clock,
    )
    result = await run_crawl(options)
    assert result.status == "auth_error"
    assert any("private key" in e for e in result.errors)
    assert sim.stats.graphql_requests == 0
