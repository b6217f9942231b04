"""The GitHub GraphQL client: gql over aiohttp, answers classified the way GitHub means them.

One `GitHubClient` per token. It sends one request and reports what came back, typed:
the budget governor (governor.py) decides what to wait for and what to retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportQueryError,
)
from graphql import DocumentNode, ExecutionResult, parse

DEFAULT_ENDPOINT = "https://api.github.com/graphql"
QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
_KEPT_HEADERS = ("x-ratelimit-", "retry-after", "x-github-request-id")


class GitHubError(TransportError):
    """Base of every classified failure. Never carries the token."""

    def __init__(
        self, message: str, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


class AuthError(GitHubError):
    """401: the token is missing, wrong or expired."""


class RateLimited(GitHubError):
    """The primary budget is spent; nothing helps before `x-ratelimit-reset`."""


class SecondaryLimited(GitHubError):
    """A secondary limit: wait `retry-after` (or >= 60 s), then back off."""


class ServerTimeout(GitHubError):
    """502/504 or a client timeout: GitHub could not build the answer in time. Shrink the page."""


class TransientError(GitHubError):
    """A reset connection, a non-JSON body, another 5xx: retry with backoff."""


class QueryRejected(GitHubError):
    """GitHub refused the query itself (syntax, validation, limits): a bug, never retried."""

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message, status=200)
        self.errors = errors


@dataclass(slots=True)
class Answer:
    """A 200 answer: data (possibly partial) and errors, with the rate-limit headers."""

    data: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def rate_limit(self) -> dict[str, Any] | None:
        if not self.data:
            return None
        value = self.data.get("rateLimit")
        return value if isinstance(value, dict) else None


@cache
def load_query(name: str) -> DocumentNode:
    """A `queries/NAME.graphql` operation, parsed once."""
    path = QUERIES_DIR / f"{name}.graphql"
    if not path.is_file():
        raise FileNotFoundError(f"no GraphQL operation {name!r} at {path}")
    return parse(path.read_text())


def _is_secondary(message: str) -> bool:
    return "secondary rate limit" in message.lower()


def classify_http(status: int, headers: dict[str, str], text: str) -> GitHubError | None:
    """The failure a non-200 answer means, or None for a 200."""
    if status == 200:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    message = body.get("message", "") if isinstance(body, dict) else ""
    if status == 401:
        return AuthError(
            "GitHub answered 401 Bad credentials: check the token in the configured environment "
            "variable (or the GitHub App key) and that it has not expired",
            status=status,
            headers=headers,
        )
    if status in (403, 429):
        if _is_secondary(message) or "retry-after" in headers:
            return SecondaryLimited(
                f"secondary rate limit ({status})", status=status, headers=headers
            )
        if headers.get("x-ratelimit-remaining") == "0":
            return RateLimited(f"rate limit exhausted ({status})", status=status, headers=headers)
        return AuthError(
            f"GitHub answered {status}: {message or 'forbidden'}; check the token's "
            "scopes and the organisation's access policy",
            status=status,
            headers=headers,
        )
    if status in (502, 504):
        return ServerTimeout(
            f"GitHub timed out building the answer ({status})", status=status, headers=headers
        )
    return TransientError(f"GitHub answered {status}", status=status, headers=headers)


def classify_errors(errors: list[dict[str, Any]], headers: dict[str, str]) -> GitHubError | None:
    """The failure that errors in a 200 answer mean, or None when the data is usable."""
    types = {str(e.get("type", "")) for e in errors}
    if types & {"RATE_LIMITED", "RATE_LIMIT"}:
        return RateLimited("rate limit exhausted (RATE_LIMITED)", status=200, headers=headers)
    if any(_is_secondary(str(e.get("message", ""))) for e in errors):
        return SecondaryLimited("secondary rate limit (in a 200)", status=200, headers=headers)
    return None


class TokenSource(Protocol):
    async def token(self) -> str: ...


class _Static:
    def __init__(self, value: str) -> None:
        self._value = value

    async def token(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "_Static(***)"


class _GitHubTransport(AIOHTTPTransport):
    """gql's aiohttp transport, keeping status and headers and typing GitHub's failures."""

    async def _prepare_result(self, response: aiohttp.ClientResponse) -> ExecutionResult:
        headers = {
            k.lower(): v for k, v in response.headers.items() if k.lower().startswith(_KEPT_HEADERS)
        }
        try:
            text = await response.text()
        except (aiohttp.ClientError, UnicodeDecodeError) as exc:
            raise TransientError(f"could not read GitHub's answer: {exc}") from None
        failure = classify_http(response.status, headers, text)
        if failure is not None:
            raise failure
        try:
            body = json.loads(text)
        except ValueError:
            raise TransientError(
                "GitHub's answer was not valid JSON (truncated?)", status=200, headers=headers
            ) from None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise TransientError(
                "GitHub's answer had neither data nor errors", status=200, headers=headers
            )
        return ExecutionResult(
            data=body.get("data"), errors=body.get("errors"), extensions={"headers": headers}
        )


class GitHubClient:
    """An open connection to one GraphQL endpoint for one set of credentials.

    Use as `async with GitHubClient(endpoint, auth) as gh: answer = await gh.send(doc, vars)`.
    `auth` is a token string or a provider whose `token()` is asked before every request (a
    GitHub App installation token is refreshed that way).
    """

    def __init__(
        self,
        endpoint: str,
        auth: str | TokenSource,
        *,
        timeout_s: float = 60.0,
        user_agent: str = "bot-feedback-harvester",
    ) -> None:
        self.endpoint = endpoint
        self._auth: TokenSource = _Static(auth) if isinstance(auth, str) else auth
        self._transport = _GitHubTransport(
            url=endpoint,
            headers={"User-Agent": user_agent},
            timeout=max(1, int(timeout_s)),
        )
        self._client = Client(transport=self._transport, execute_timeout=None)
        self._session: Any = None

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient({self.endpoint!r})"

    async def __aenter__(self) -> GitHubClient:
        self._session = await self._client.connect_async(reconnecting=False)  # type: ignore[no-untyped-call]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close_async()  # type: ignore[no-untyped-call]
        self._session = None

    async def send(self, document: DocumentNode, variables: dict[str, Any] | None = None) -> Answer:
        """One request. Raises a GitHubError subclass for anything but usable data."""
        if self._session is None:
            raise RuntimeError("GitHubClient used outside `async with`")
        request = GraphQLRequest(document, variable_values=variables or {})
        headers = {"Authorization": f"bearer {await self._auth.token()}"}
        try:
            result = await self._session.execute(
                request, get_execution_result=True, extra_args={"headers": headers}
            )
            errors: list[dict[str, Any]] = []
            data, extensions = result.data, result.extensions
        except TransportQueryError as exc:
            errors = [e if isinstance(e, dict) else {"message": str(e)} for e in exc.errors or []]
            data, extensions = exc.data, exc.extensions
        except GitHubError:
            raise
        except TransportConnectionFailed as exc:
            raise TransientError(f"connection to {self.endpoint} failed: {exc}") from None
        except TimeoutError:
            raise ServerTimeout(f"no answer from {self.endpoint} in time") from None
        except aiohttp.ClientError as exc:
            raise TransientError(f"connection to {self.endpoint} failed: {exc}") from None
        headers = dict((extensions or {}).get("headers", {}))
        if errors:
            failure = classify_errors(errors, headers)
            if failure is not None:
                raise failure
            if data is None:
                first = errors[0].get("message", "unknown error")
                raise QueryRejected(f"GitHub rejected the query: {first}", errors)
        return Answer(data=data, errors=errors, headers=headers)
