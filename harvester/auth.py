"""Credentials: a plain token, or a GitHub App installation token per organisation.

App flow (github-graphql.md): sign a JWT with RS256 (iat 60 s in the past, exp <= 10 min ahead,
iss = app id), find the org's installation over REST, mint an installation token (valid 1 h) and
mint a new one a few minutes before it expires. Each installation has its own points budget.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiohttp
import jwt

from harvester.client import AuthError
from harvester.clock import Clock

REFRESH_MARGIN_S = 300.0


class TokenProvider(Protocol):
    async def token(self) -> str: ...

    def describe(self) -> str:
        """A name for logs and summaries; never the token."""
        ...


@dataclass(frozen=True)
class StaticToken:
    value: str
    label: str = "token"

    async def token(self) -> str:
        return self.value

    def describe(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"StaticToken({self.label!r})"


def app_jwt(app_id: str | int, private_key: str, now: float) -> str:
    """A GitHub App JWT: issued 60 s in the past (clock drift), valid 9 minutes."""
    claims = {"iat": int(now) - 60, "exp": int(now) + 540, "iss": str(app_id)}
    return jwt.encode(claims, private_key, algorithm="RS256")


class AppInstallationToken:
    """Installation tokens of one GitHub App for one organisation, refreshed before expiry."""

    def __init__(
        self,
        *,
        app_id: str | int,
        private_key: str,
        org: str,
        rest_url: str,
        clock: Clock,
        installation_id: int | None = None,
    ) -> None:
        self.app_id = app_id
        self._private_key = private_key
        self.org = org
        self.rest_url = rest_url.rstrip("/")
        self.clock = clock
        self.installation_id = installation_id
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"AppInstallationToken(app={self.app_id!r}, org={self.org!r})"

    def describe(self) -> str:
        return f"app {self.app_id} on {self.org}"

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self.clock.now() >= self._expires_at - REFRESH_MARGIN_S:
                await self._mint()
            assert self._token is not None
            return self._token

    async def _mint(self) -> None:
        headers = {
            "Authorization": f"Bearer {app_jwt(self.app_id, self._private_key, self.clock.now())}",
            "Accept": "application/vnd.github+json",
        }
        async with aiohttp.ClientSession(headers=headers) as session:
            if self.installation_id is None:
                url = f"{self.rest_url}/orgs/{self.org}/installation"
                body = await _json(session, "GET", url, self.org)
                self.installation_id = int(str(body["id"]))
            url = f"{self.rest_url}/app/installations/{self.installation_id}/access_tokens"
            body = await _json(session, "POST", url, self.org)
        self._token = str(body["token"])
        expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
        self._expires_at = expires.timestamp()


async def _json(
    session: aiohttp.ClientSession, method: str, url: str, org: str
) -> dict[str, object]:
    async with session.request(method, url) as resp:
        if resp.status in (200, 201):
            body = await resp.json()
            if isinstance(body, dict):
                return body
        text = (await resp.text())[:200]
    raise AuthError(
        f"GitHub App auth for {org} failed ({method} {url} -> {resp.status}: {text}); check "
        "auth.app.app_id, the private key, and that the app is installed on the organisation",
        status=resp.status,
    )
