"""GitHubClient.send against exchanges recorded from the simulator (tests/cassettes/).

Replay is offline (`record_mode="none"`): the client posts to a placeholder host and vcrpy
answers from the cassette, matching on method + path + body. Re-record with
`.venv/bin/python -m tests.record_cassettes` (see that module).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest
from graphql import parse

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
    classify_errors,
    classify_http,
)
from tests.record_cassettes import (
    CASSETTES,
    DELETED_COMMENT,
    EXCHANGES,
    EXISTING_COMMENT,
    ORG,
    REPLAY_ENDPOINT,
    SECRETS,
    Exchange,
    cassette_vcr,
    send,
)

REPLAY_TOKEN = "replay-token-0d15ea5e"
RESET = "1767229200"  # the simulator's FakeClock start + 1 h
T = TypeVar("T", bound=Answer | GitHubError)


class CountingToken:
    def __init__(self) -> None:
        self.asked = 0

    async def token(self) -> str:
        self.asked += 1
        return REPLAY_TOKEN


async def replay(name: str, expect: type[T]) -> T:
    """Send the exchange's request with the cassette playing GitHub; every exchange is used."""
    ex = EXCHANGES[name]
    with cassette_vcr("none").use_cassette(ex.path.name) as cassette:
        async with GitHubClient(REPLAY_ENDPOINT, REPLAY_TOKEN) as gh:
            outcome = await send(gh, ex)
        assert cassette.all_played
    assert isinstance(outcome, expect), f"{name}: expected {expect.__name__}, got {outcome!r}"
    return outcome


# ---------- the cassettes themselves
def _cassette_files() -> list[Path]:
    return sorted(p for p in CASSETTES.iterdir() if p.is_file())


def test_every_exchange_has_a_cassette_and_nothing_else_is_there() -> None:
    assert {p.name for p in _cassette_files()} == {ex.path.name for ex in EXCHANGES.values()}


def test_no_credentials_in_any_cassette() -> None:
    files = _cassette_files()
    assert files
    needles = ["authorization", "bearer", *(s.lower() for s in (*SECRETS, REPLAY_TOKEN))]
    for path in files:
        text = path.read_bytes().decode("utf-8").lower()
        found = [n for n in needles if n in text]
        assert not found, f"{path.name} holds {found}: re-record with filter_headers"


@pytest.mark.parametrize("ex", list(EXCHANGES.values()), ids=list(EXCHANGES))
async def test_every_cassette_replays_to_its_outcome(ex: Exchange) -> None:
    await replay(ex.name, ex.expect)


async def test_a_request_not_in_the_cassette_is_refused_not_sent() -> None:
    """Replay never reaches a network: an unrecorded request fails (gql wraps vcrpy's refusal
    in a connection failure, which the client reports as transient)."""
    with cassette_vcr("none").use_cassette(EXCHANGES["ok_with_rate_limit"].path.name) as cassette:
        async with GitHubClient(REPLAY_ENDPOINT, REPLAY_TOKEN) as gh:
            with pytest.raises(TransientError, match="no recorded interaction matches it"):
                await gh.send(parse("query Other { viewer { id } }"))
        assert cassette.play_count == 0


# ---------- each answer, typed
async def test_a_normal_answer_carries_rate_limit_data_and_headers() -> None:
    ex = EXCHANGES["ok_with_rate_limit"]
    provider = CountingToken()
    with cassette_vcr("none").use_cassette(ex.path.name):
        async with GitHubClient(REPLAY_ENDPOINT, provider) as gh:
            answer = await gh.send(ex.document())
    assert provider.asked == 1  # the token is asked for before every request
    assert answer.errors == []
    assert answer.data is not None and answer.data["viewer"]["login"] == "sim-viewer"
    assert answer.rate_limit == {
        "cost": 1,
        "remaining": 4_999,
        "resetAt": "2026-01-01T01:00:00Z",
        "used": 1,
        "limit": 5_000,
        "nodeCount": 0,
    }
    assert answer.headers == {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4999",
        "x-ratelimit-used": "1",
        "x-ratelimit-reset": RESET,
        "x-ratelimit-resource": "graphql",
        "x-github-request-id": "0001:3779B1:0001",
    }  # lower-cased, and only the headers the governor reads


async def test_401_bad_credentials_is_an_auth_error_that_says_what_to_check() -> None:
    exc = await replay("bad_credentials_401", AuthError)
    assert exc.status == 401
    assert "Bad credentials" in str(exc) and "check the token" in str(exc)
    assert REPLAY_TOKEN not in str(exc) and REPLAY_TOKEN not in repr(exc)


async def test_rate_limited_in_a_200_is_rate_limited_with_the_reset() -> None:
    exc = await replay("rate_limited_200", RateLimited)
    assert exc.status == 200
    assert exc.headers["x-ratelimit-remaining"] == "0"
    assert exc.headers["x-ratelimit-reset"] == RESET


async def test_secondary_limit_403_keeps_retry_after() -> None:
    exc = await replay("secondary_403_retry_after", SecondaryLimited)
    assert exc.status == 403
    assert exc.headers["retry-after"] == "60"
    assert exc.headers["x-ratelimit-remaining"] == "5000"  # not the primary budget


async def test_secondary_limit_403_without_retry_after() -> None:
    exc = await replay("secondary_403_no_retry_after", SecondaryLimited)
    assert exc.status == 403
    assert "retry-after" not in exc.headers


async def test_502_is_a_server_timeout() -> None:
    exc = await replay("timeout_502", ServerTimeout)
    assert exc.status == 502
    assert "timed out" in str(exc)
    assert exc.headers["x-ratelimit-used"] == "1"  # billed all the same


async def test_a_partial_answer_keeps_its_data_errors_and_headers() -> None:
    answer = await replay("partial_answer", Answer)
    assert answer.data is not None
    assert answer.data["organization"]["login"] == ORG
    assert answer.data["organization"]["repositories"]["nodes"] is None
    (error,) = answer.errors
    assert error["type"] == "RESOURCE_LIMITS_EXCEEDED"
    assert error["path"] == ["organization", "repositories", "nodes"]
    assert answer.rate_limit is not None and answer.rate_limit["cost"] == 1
    assert answer.headers["x-ratelimit-remaining"] == "4999"


async def test_a_deleted_node_is_null_with_a_not_found_error() -> None:
    answer = await replay("not_found_node", Answer)
    assert answer.data is not None
    found, gone = answer.data["nodes"]
    assert found["id"] == EXISTING_COMMENT and found["__typename"] == "IssueComment"
    assert gone is None
    (error,) = answer.errors
    assert error["type"] == "NOT_FOUND" and error["path"] == ["nodes", 1]
    assert DELETED_COMMENT in error["message"]
    assert answer.headers["x-ratelimit-reset"] == RESET


async def test_a_validation_error_is_query_rejected() -> None:
    exc = await replay("validation_error", QueryRejected)
    assert str(exc).startswith("GitHub rejected the query: ")
    assert "noSuchField" in str(exc)
    assert exc.errors and "noSuchField" in exc.errors[0]["message"]


async def test_a_query_limit_is_query_rejected_with_githubs_error() -> None:
    exc = await replay("excessive_pagination", QueryRejected)
    assert exc.errors[0]["type"] == "EXCESSIVE_PAGINATION"
    assert "exceeds the `first` limit of 100 records" in exc.errors[0]["message"]


async def test_bad_json_is_transient() -> None:
    exc = await replay("bad_json", TransientError)
    assert exc.status == 200
    assert "not valid JSON" in str(exc)
    assert exc.headers["x-ratelimit-limit"] == "5000"


# ---------- what the simulator does not produce, on the classifiers directly
@pytest.mark.parametrize(
    ("status", "headers", "body", "expect"),
    [
        (
            403,
            {"x-ratelimit-remaining": "0"},
            '{"message": "API rate limit exceeded"}',
            RateLimited,
        ),
        (429, {}, '{"message": "You have exceeded a secondary rate limit."}', SecondaryLimited),
        (403, {"retry-after": "7"}, "{}", SecondaryLimited),
        (403, {"x-ratelimit-remaining": "12"}, '{"message": "Resource not accessible"}', AuthError),
        (504, {}, "<html>gateway timeout</html>", ServerTimeout),
        (500, {}, "", TransientError),
        (401, {}, "not json", AuthError),
    ],
)
def test_classify_http(
    status: int, headers: dict[str, str], body: str, expect: type[GitHubError]
) -> None:
    failure = classify_http(status, headers, body)
    assert type(failure) is expect
    assert failure is not None and failure.status == status and failure.headers == headers


def test_classify_http_forbidden_says_what_to_check() -> None:
    failure = classify_http(403, {}, '{"message": "Resource not accessible by integration"}')
    assert isinstance(failure, AuthError)
    assert "Resource not accessible by integration" in str(failure) and "scopes" in str(failure)
    assert classify_http(200, {}, "{}") is None


@pytest.mark.parametrize(
    ("errors", "expect"),
    [
        ([{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}], RateLimited),
        ([{"type": "RATE_LIMIT", "message": "API rate limit exceeded"}], RateLimited),
        ([{"message": "You have exceeded a secondary rate limit."}], SecondaryLimited),
        ([{"type": "NOT_FOUND", "message": "Could not resolve"}], None),
        ([{"type": "RESOURCE_LIMITS_EXCEEDED", "message": "Resource limits"}], None),
    ],
)
def test_classify_errors(errors: list[dict[str, str]], expect: type[GitHubError] | None) -> None:
    failure = classify_errors(errors, {"x-ratelimit-remaining": "0"})
    if expect is None:
        assert failure is None
    else:
        assert type(failure) is expect and failure is not None and failure.status == 200


async def test_the_client_refuses_use_outside_async_with_and_hides_the_token() -> None:
    gh = GitHubClient(REPLAY_ENDPOINT, REPLAY_TOKEN)
    assert REPLAY_TOKEN not in repr(gh)
    with pytest.raises(RuntimeError, match="outside `async with`"):
        await gh.send(parse("{ viewer { login } }"))
