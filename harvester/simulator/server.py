"""The simulator's HTTP edge: GitHub's GraphQL endpoint, its limits and faults, and App auth.

Order of checks follows what a client of api.github.com sees: credentials (401), JSON (400),
GraphQL syntax and validation (200 with `errors`), query limits (200), secondary limits (403),
primary budget (200 RATE_LIMITED), then execution, where a too-large query times out (502).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jwt
from aiohttp import web
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
    parse,
    validate,
    value_from_ast,
)

from harvester.clock import Clock, SystemClock
from harvester.simulator import ids
from harvester.simulator.context import RateLimitView, RequestContext
from harvester.simulator.cost import QueryAnalysis, analyze
from harvester.simulator.faults import FaultInjector, FaultSpec
from harvester.simulator.limits import Budget, Budgets, installation_limit, token_key
from harvester.simulator.model import Actor, World
from harvester.simulator.resolvers import execute, github_error
from harvester.simulator.schema import load_schema

log = logging.getLogger(__name__)

DOCS = "https://docs.github.com/graphql"
SECONDARY_DOCS = (
    "https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api"
    "#secondary-rate-limits"
)
TIMEOUT_MESSAGE = (
    "We couldn't respond to your request in time. Sorry about that. Please try resubmitting "
    "your request and contact us if the problem persists."
)
_BEARER = re.compile(r"^\s*(?:bearer|token)\s+(\S+)\s*$", re.IGNORECASE)


@dataclass
class SimulatorSettings:
    """Knobs of the stand-in; defaults are GitHub's documented figures."""

    seed: int = 0
    latency_ms: float = 0.0
    faults: FaultSpec = field(default_factory=FaultSpec)
    points_per_hour: int = 5_000
    max_concurrent: int = 100  # secondary: requests in flight per token
    secondary_points_per_minute: int = 2_000  # secondary: 1 per query, 5 per mutation
    retry_after_probability: float = 0.5  # GitHub sometimes omits `retry-after`
    # A query whose answer holds more list items than this takes GitHub over 10 s: it is cut
    # off with a 502 after `timeout_delay_s` (and billed). Big nested pages are the usual cause.
    timeout_node_count: int = 30_000
    timeout_delay_s: float = 10.0
    installation_token_ttl_s: int = 3_600
    app_id: str | None = None  # GitHub App whose JWTs the REST endpoints accept
    app_public_key: str | None = None  # PEM


@dataclass
class SimulatorStats:
    requests: int = 0
    graphql_requests: int = 0
    points_charged: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    secondary_limited: int = 0
    timeouts: int = 0
    limit_errors: int = 0
    tokens_issued: int = 0
    nodes_served: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "graphql_requests": self.graphql_requests,
            "points_charged": self.points_charged,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "faults": dict(sorted(self.faults.items())),
            "rate_limited": self.rate_limited,
            "secondary_limited": self.secondary_limited,
            "timeouts": self.timeouts,
            "limit_errors": self.limit_errors,
            "tokens_issued": self.tokens_issued,
            "nodes_served": self.nodes_served,
        }


@dataclass
class _Installation:
    installation_id: int
    org_login: str
    repo_count: int


@lru_cache(maxsize=512)
def _parse_and_validate(query: str) -> tuple[DocumentNode | None, tuple[dict[str, Any], ...]]:
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, (_error_dict(exc),)
    errors = validate(load_schema(), document)
    return document, tuple(_error_dict(e) for e in errors)


def _error_dict(exc: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {"message": exc.message}
    if exc.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in exc.locations]
    if exc.path:
        out["path"] = list(exc.path)
    if exc.extensions:
        out["extensions"] = exc.extensions
    return out


def _dry_run_document(document: DocumentNode, operation: OperationDefinitionNode) -> DocumentNode:
    """The operation reduced to its `rateLimit` fields: a dry run prices but does not evaluate."""
    kept = tuple(
        sel
        for sel in operation.selection_set.selections
        if isinstance(sel, FieldNode) and sel.name.value in {"rateLimit", "__typename"}
    )
    new_op = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=type(operation.selection_set)(selections=kept),
    )
    return DocumentNode(definitions=(new_op,))


def _has_dry_run(operation: OperationDefinitionNode, variables: dict[str, Any]) -> bool:
    for sel in operation.selection_set.selections:
        if not isinstance(sel, FieldNode) or sel.name.value != "rateLimit":
            continue
        for arg in sel.arguments or ():
            if arg.name.value == "dryRun":
                return bool(value_from_ast(arg.value, GraphQLBoolean, variables))
    return False


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Simulator:
    """The simulated api.github.com. Use in-process with `async with Simulator(world) as sim`."""

    def __init__(
        self,
        world: World,
        settings: SimulatorSettings | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world
        self.settings = settings or SimulatorSettings()
        self.clock: Clock = clock or SystemClock()
        self.stats = SimulatorStats()
        self.budgets = Budgets(default_limit=self.settings.points_per_hour)
        self.faults = FaultInjector(self.settings.faults, self.settings.seed)
        self.schema: GraphQLSchema = load_schema()
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._installations: dict[int, _Installation] = {}
        self._install_tokens: dict[str, tuple[int, float]] = {}
        self._token_counter = 0
        # Called with the GraphQL request count before each request is served (tests use it
        # to kill a crawler at a chosen request, without sleeping).
        self.on_request: Callable[[int], None] | None = None
        self.app = self._build_app()

    # ---------- lifecycle
    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/graphql", self._graphql)
        app.router.add_post("/api/graphql", self._graphql)
        app.router.add_get("/_stats", self._stats)
        app.router.add_get("/orgs/{org}/installation", self._org_installation)
        app.router.add_get("/app/installations", self._list_installations)
        app.router.add_post("/app/installations/{iid}/access_tokens", self._access_token)
        return app

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/graphql"

    # ---------- GraphQL
    async def _graphql(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        self.stats.graphql_requests += 1
        if self.on_request is not None:
            self.on_request(self.stats.graphql_requests)
        if self.settings.latency_ms:
            await self.clock.sleep(self.settings.latency_ms / 1000)
        token = self._bearer(request)
        if token is None:
            return self._respond(401, {"message": "Bad credentials", "documentation_url": DOCS})
        key, limit = self._budget_key(token)
        if key is None:
            return self._respond(401, {"message": "Bad credentials", "documentation_url": DOCS})
        now = self.clock.now()
        budget = self.budgets.get(key, now, limit)
        body = await request.read()
        fault = self.faults.draw(body)
        if fault == "reset":
            self.stats.faults[fault] += 1
            return self._reset(request)
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            return self._respond(
                400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, budget
            )
        query = payload.get("query")
        if not isinstance(query, str):
            errors = [{"message": "A query attribute must be specified and must be a string."}]
            return self._respond(200, {"errors": errors}, budget)
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            errors = [{"message": "Variables are invalid JSON."}]
            return self._respond(200, {"errors": errors}, budget)
        operation_name = payload.get("operationName") or None
        document, invalid = _parse_and_validate(query)
        if document is None or invalid:
            return self._respond(200, {"errors": list(invalid)}, budget)
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            errors = [{"message": "An operation name is required"}]
            return self._respond(200, {"errors": errors}, budget)
        analysis = analyze(self.schema, document, variables, operation_name)
        if analysis.errors:
            self.stats.limit_errors += 1
            return self._respond(200, {"errors": analysis.errors}, budget)
        return await self._run(
            budget, document, operation, variables, operation_name, analysis, fault, request
        )

    async def _run(
        self,
        budget: Budget,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: dict[str, Any],
        operation_name: str | None,
        analysis: QueryAnalysis,
        fault: str | None,
        request: web.Request,
    ) -> web.StreamResponse:
        secondary = self._secondary_limited(budget, operation)
        if secondary is not None or fault == "secondary":
            if secondary is None:
                self.stats.faults["secondary"] += 1
            return self._secondary_response(budget, secondary or "fault", request)
        dry_run = _has_dry_run(operation, variables)
        charge = 0 if (analysis.only_rate_limit or dry_run) else analysis.cost
        if charge and budget.used + charge > budget.limit:
            self.stats.rate_limited += 1
            errors = [
                {
                    "type": "RATE_LIMITED",
                    "code": "graphql_rate_limit",
                    "message": f"API rate limit already exceeded for user ID {budget.user_id}.",
                }
            ]
            return self._respond(200, {"errors": errors}, budget)
        budget.in_flight += 1
        try:
            if fault in {"502", "504"}:
                budget.used += charge
                self.stats.points_charged += charge
                self.stats.faults[fault] += 1
                return self._timeout_response(int(fault), budget)
            budget.used += charge
            self.stats.points_charged += charge
            context = self._context(budget, analysis, charge)
            doc = _dry_run_document(document, operation) if dry_run else document
            result = execute(self.schema, doc, variables, operation_name, context)
            served = count_nodes(result.data)
            self.stats.nodes_served += served
            if served > self.settings.timeout_node_count:
                # GitHub gives up on a request after 10 s and still bills it.
                await self.clock.sleep(self.settings.timeout_delay_s)
                self.stats.timeouts += 1
                return self._timeout_response(502, budget)
        finally:
            budget.in_flight -= 1
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [github_error(e) for e in result.errors]
        if fault == "partial" and result.data:
            self.stats.faults[fault] += 1
            _inject_partial(out, self.faults.uniform("partial", json.dumps(variables)))
        if fault == "badjson":
            self.stats.faults[fault] += 1
            text = json.dumps(out)
            return self._respond_text(200, text[: max(1, len(text) // 2)], budget)
        return self._respond(200, out, budget)

    def _context(self, budget: Budget, analysis: QueryAnalysis, charge: int) -> RequestContext:
        now = int(self.clock.now())
        view = RateLimitView(
            cost=analysis.cost,
            limit=budget.limit,
            node_count=analysis.node_count,
            remaining=budget.remaining,
            used=budget.used,
            reset_at=budget.reset_at,
        )
        dry = RateLimitView(
            cost=analysis.cost,
            limit=budget.limit,
            node_count=analysis.node_count,
            remaining=budget.remaining,
            used=budget.used,
            reset_at=budget.reset_at,
        )
        return RequestContext(
            world=self.world,
            viewer=self.viewer,
            now=now,
            rate_limit=view,
            dry_run_rate_limit=dry,
        )

    @property
    def viewer(self) -> Actor:
        for actor in self.world.actors:
            if actor.typename == "User":
                return actor
        raise RuntimeError("the world has no User to act as the token's viewer")

    def _secondary_limited(self, budget: Budget, operation: OperationDefinitionNode) -> str | None:
        if budget.in_flight >= self.settings.max_concurrent:
            return "concurrency"
        points = 5 if operation.operation.value == "mutation" else 1
        if budget.minute_points + points > self.settings.secondary_points_per_minute:
            return "per_minute"
        budget.minute_points += points
        return None

    def _secondary_response(self, budget: Budget, why: str, request: web.Request) -> web.Response:
        self.stats.secondary_limited += 1
        request_id = self._request_id()
        headers: dict[str, str] = {}
        draw = self.faults.uniform("retry-after", self.stats.requests)
        if draw < self.settings.retry_after_probability:
            if why == "per_minute":
                wait = max(1, int(budget.minute_start + 60 - self.clock.now()))
            else:
                wait = 60
            headers["retry-after"] = str(wait)
        body = {
            "documentation_url": SECONDARY_DOCS,
            "message": (
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                f"request ID {request_id}."
            ),
        }
        return self._respond(403, body, budget, headers)

    def _timeout_response(self, status: int, budget: Budget) -> web.Response:
        return self._respond(
            status, {"data": None, "errors": [{"message": TIMEOUT_MESSAGE}]}, budget
        )

    def _reset(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            abort = getattr(transport, "abort", None)
            if callable(abort):
                abort()
            else:
                transport.close()
        raise web.HTTPServiceUnavailable()  # never reaches the client: the socket is gone

    # ---------- auth
    def _bearer(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        match = _BEARER.match(header)
        return match.group(1) if match else None

    def _budget_key(self, token: str) -> tuple[str | None, int | None]:
        """Which budget a token spends, or (None, None) for a dead installation token."""
        if token.startswith("ghs_"):
            entry = self._install_tokens.get(token)
            if entry is None or entry[1] <= self.clock.now():
                return None, None
            installation = self._installations[entry[0]]
            return f"inst_{entry[0]}", installation_limit(installation.repo_count)
        return token_key(token), None

    def _request_id(self) -> str:
        n = self.stats.requests
        return f"{n & 0xFFFF:04X}:{(n * 2654435761) & 0xFFFFFF:06X}:{self.settings.seed:04X}"

    # ---------- REST for GitHub App auth
    def _verify_jwt(self, request: web.Request) -> web.Response | None:
        if not self.settings.app_id or not self.settings.app_public_key:
            return self._respond(
                404,
                {
                    "message": "Not Found: this simulator has no GitHub App configured "
                    "(start it with --app-id and --app-public-key)",
                    "documentation_url": DOCS,
                },
            )
        token = self._bearer(request)
        if token is None:
            return self._respond(
                401, {"message": "A JSON web token could not be decoded", "documentation_url": DOCS}
            )
        now = self.clock.now()
        try:
            claims = jwt.decode(
                token,
                self.settings.app_public_key,
                algorithms=["RS256"],
                options={
                    "require": ["iat", "exp", "iss"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            return self._respond(
                401, {"message": "A JSON web token could not be decoded", "documentation_url": DOCS}
            )
        iat, exp = float(claims["iat"]), float(claims["exp"])
        problem = None
        if str(claims["iss"]) != str(self.settings.app_id):
            problem = "'Issuer' claim ('iss') must match the app id or client id"
        elif exp <= now:
            problem = "'Expiration time' claim ('exp') must be a numeric value representing the "
            problem += "future time at which the assertion expires"
        elif exp - iat > 660 or exp - now > 660:
            problem = "'Expiration time' claim ('exp') is too far in the future"
        elif iat > now + 60:
            problem = "'Issued at' claim ('iat') must be an Integer representing the time that "
            problem += "the assertion was issued"
        if problem:
            return self._respond(401, {"message": problem, "documentation_url": DOCS})
        return None

    def _installation_for(self, org_login: str) -> _Installation | None:
        org = self.world.org_by_login(org_login)
        if org is None:
            return None
        iid = org.installation_id or 10_000 + org.index
        inst = self._installations.get(iid)
        if inst is None:
            inst = _Installation(iid, org.login, len(org.repos))
            self._installations[iid] = inst
        return inst

    async def _org_installation(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        denied = self._verify_jwt(request)
        if denied is not None:
            return denied
        inst = self._installation_for(request.match_info["org"])
        if inst is None:
            return self._respond(404, {"message": "Not Found", "documentation_url": DOCS})
        return self._respond(200, self._installation_json(inst))

    async def _list_installations(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        denied = self._verify_jwt(request)
        if denied is not None:
            return denied
        found = [self._installation_for(org.login) for org in self.world.orgs]
        return self._respond(200, [self._installation_json(i) for i in found if i is not None])

    def _installation_json(self, inst: _Installation) -> dict[str, Any]:
        return {
            "id": inst.installation_id,
            "account": {"login": inst.org_login, "type": "Organization"},
            "app_id": self.settings.app_id,
            "target_type": "Organization",
            "repository_selection": "all",
        }

    async def _access_token(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        denied = self._verify_jwt(request)
        if denied is not None:
            return denied
        try:
            iid = int(request.match_info["iid"])
        except ValueError:
            iid = -1
        if iid not in self._installations:
            for org in self.world.orgs:
                self._installation_for(org.login)
        if iid not in self._installations:
            return self._respond(404, {"message": "Not Found", "documentation_url": DOCS})
        self._token_counter += 1
        token = "ghs_" + secrets.token_urlsafe(27)[:36]
        expires = self.clock.now() + self.settings.installation_token_ttl_s
        self._install_tokens[token] = (iid, expires)
        self.stats.tokens_issued += 1
        return self._respond(201, {"token": token, "expires_at": _iso(expires)})

    # ---------- stats and responses
    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_dict())

    def _respond(
        self,
        status: int,
        body: Any,
        budget: Budget | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> web.Response:
        return self._respond_text(status, json.dumps(body), budget, extra_headers)

    def _respond_text(
        self,
        status: int,
        text: str,
        budget: Budget | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> web.Response:
        self.stats.by_status[status] += 1
        headers = {"x-github-request-id": self._request_id()}
        if budget is not None:
            headers.update(budget.headers())
        if extra_headers:
            headers.update(extra_headers)
        return web.Response(
            status=status,
            text=text,
            content_type="application/json",
            charset="utf-8",
            headers=headers,
        )


def _inject_partial(out: dict[str, Any], draw: float) -> None:
    """Drop one object deep in `data` and say so, as GitHub does when it hits resource limits."""
    candidates: list[tuple[list[str | int], dict[str, Any] | list[Any], str | int]] = []

    def walk(node: Any, path: list[str | int]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict | list) and key not in {"rateLimit", "pageInfo"}:
                    if len(path) >= 1:
                        candidates.append(([*path, key], node, key))
                    walk(value, [*path, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict):
                    candidates.append(([*path, i], node, i))
                    walk(value, [*path, i])

    walk(out["data"], [])
    if not candidates:
        return
    path, parent, key = candidates[int(draw * len(candidates)) % len(candidates)]
    if isinstance(parent, dict):
        parent[str(key)] = None
    else:
        parent[int(key)] = None
    errors = out.setdefault("errors", [])
    errors.append(
        {
            "type": "RESOURCE_LIMITS_EXCEEDED",
            "path": path,
            "message": "Resource limits for this query exceeded.",
        }
    )


def count_nodes(data: Any) -> int:
    """List items in an answer: the objects GitHub had to load to build it."""
    total = 0
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            total += len(node)
            stack.extend(v for v in node if isinstance(v, dict | list))
    return total


def node_id(typename: str, index: int) -> str:
    """Re-exported for tests and tools that address simulator objects."""
    return ids.encode(typename, index)
