"""The crawler a typical gql user would write first: one nested query per page of threads.

Per repository it pages `issues(first: N)` and `pullRequests(first: N)` to the end; every
thread comes with `comments(first: 100)` and, under every comment, `reactions(first: 100)` and
`userContentEdits(first: 100)`; pull requests also nest `reviews(first: R)` with their inline
`comments(first: C)`, each again with reactions and edits. Lists longer than a page are paged
with a follow-up query on the parent's node id, so it sees every bot comment, reaction and edit.

It lands nothing: it counts what it found and the points GitHub charged (`rateLimit { cost }`,
summed per query name). The bench (bench/crawl.py) runs it against the same simulated world as
the real crawler. It is deliberately sequential and has no retry logic: it is run without
injected faults, and a query GitHub refuses (node limit) raises.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from graphql import DocumentNode, parse

RATE = "rateLimit { cost }"
PAGE = "pageInfo { hasNextPage endCursor }"
REACTIONS = f"reactions(first: 100) {{ {PAGE} nodes {{ content createdAt user {{ login }} }} }}"
EDITS = (
    f"userContentEdits(first: 100) {{ {PAGE} "
    "nodes { id editedAt editor { login } diff deletedAt } }"
)
# What the naive user asks for on every comment (and review): feedback included, nested.
COMMENT = f"id author {{ __typename login }} body createdAt {REACTIONS} {EDITS}"
REVIEW_COMMENTS = "comments(first: $reviewComments, after: $after)"


def _thread_comments(after: bool) -> str:
    args = "first: 100, after: $after" if after else "first: 100"
    return f"comments({args}) {{ {PAGE} nodes {{ {COMMENT} }} }}"


def _reviews(after: bool) -> str:
    args = "first: $reviews, after: $after" if after else "first: $reviews"
    inline = f"comments(first: $reviewComments) {{ {PAGE} nodes {{ {COMMENT} }} }}"
    return f"reviews({args}) {{ {PAGE} nodes {{ {COMMENT} {inline} }} }}"


ISSUES = f"""
query NaiveIssues($owner: String!, $name: String!, $first: Int!, $after: String) {{
  {RATE}
  repository(owner: $owner, name: $name) {{
    issues(first: $first, after: $after) {{
      {PAGE}
      nodes {{ id number {_thread_comments(False)} }}
    }}
  }}
}}"""

PULLS = f"""
query NaivePulls($owner: String!, $name: String!, $first: Int!, $after: String,
                 $reviews: Int!, $reviewComments: Int!) {{
  {RATE}
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after) {{
      {PAGE}
      nodes {{ id number {_thread_comments(False)} {_reviews(False)} }}
    }}
  }}
}}"""

REPOS = f"""
query NaiveRepos($org: String!, $after: String) {{
  {RATE}
  organization(login: $org) {{
    repositories(first: 100, after: $after) {{ {PAGE} nodes {{ name }} }}
  }}
}}"""

MORE_COMMENTS = f"""
query NaiveMoreComments($id: ID!, $after: String) {{
  {RATE}
  node(id: $id) {{
    ... on Issue {{ {_thread_comments(True)} }}
    ... on PullRequest {{ {_thread_comments(True)} }}
  }}
}}"""

MORE_REVIEWS = f"""
query NaiveMoreReviews($id: ID!, $after: String, $reviews: Int!, $reviewComments: Int!) {{
  {RATE}
  node(id: $id) {{ ... on PullRequest {{ {_reviews(True)} }} }}
}}"""

MORE_REVIEW_COMMENTS = f"""
query NaiveMoreReviewComments($id: ID!, $after: String, $reviewComments: Int!) {{
  {RATE}
  node(id: $id) {{
    ... on PullRequestReview {{ {REVIEW_COMMENTS} {{ {PAGE} nodes {{ {COMMENT} }} }} }}
  }}
}}"""

MORE_REACTIONS = f"""
query NaiveMoreReactions($id: ID!, $after: String) {{
  {RATE}
  node(id: $id) {{
    ... on Reactable {{
      reactions(first: 100, after: $after) {{
        {PAGE} nodes {{ content createdAt user {{ login }} }}
      }}
    }}
  }}
}}"""

MORE_EDITS = f"""
query NaiveMoreEdits($id: ID!, $after: String) {{
  {RATE}
  node(id: $id) {{
    ... on Comment {{
      userContentEdits(first: 100, after: $after) {{
        {PAGE} nodes {{ id editedAt editor {{ login }} diff deletedAt }}
      }}
    }}
  }}
}}"""


@dataclass(frozen=True)
class NaivePages:
    """The naive crawler's page sizes: threads per page, reviews per PR, inline per review."""

    threads: int = 1
    reviews: int = 4
    review_comments: int = 4

    def __str__(self) -> str:
        return f"threads={self.threads} reviews={self.reviews} inline={self.review_comments}"


@dataclass
class NaiveResult:
    pages: NaivePages
    bot_comments: int = 0
    comments: int = 0
    threads: int = 0
    reactions: int = 0  # on bot comments
    edits: int = 0  # of bot comments
    requests: int = 0
    points: int = 0
    by_query: Counter[str] = field(default_factory=Counter)
    points_by_query: Counter[str] = field(default_factory=Counter)


def _more(conn: dict[str, Any] | None) -> str | None:
    info = (conn or {}).get("pageInfo") or {}
    return str(info["endCursor"]) if info.get("hasNextPage") else None


def _nodes(conn: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [n for n in (conn or {}).get("nodes") or [] if n]


class NaiveCrawler:
    """Crawls organisations sequentially through one gql session."""

    def __init__(self, endpoint: str, token: str, pages: NaivePages) -> None:
        self.endpoint = endpoint
        self.token = token
        self.pages = pages
        self.result = NaiveResult(pages)
        self.docs: dict[str, DocumentNode] = {
            name: parse(text)
            for name, text in (
                ("NaiveRepos", REPOS),
                ("NaiveIssues", ISSUES),
                ("NaivePulls", PULLS),
                ("NaiveMoreComments", MORE_COMMENTS),
                ("NaiveMoreReviews", MORE_REVIEWS),
                ("NaiveMoreReviewComments", MORE_REVIEW_COMMENTS),
                ("NaiveMoreReactions", MORE_REACTIONS),
                ("NaiveMoreEdits", MORE_EDITS),
            )
        }
        self._session: Any = None

    async def run(self, orgs: list[str]) -> NaiveResult:
        transport = AIOHTTPTransport(
            url=self.endpoint, headers={"Authorization": f"bearer {self.token}"}
        )
        async with Client(transport=transport, execute_timeout=None) as session:
            self._session = session
            for org in orgs:
                for repo in await self._repos(org):
                    await self._issues(org, repo)
                    await self._pulls(org, repo)
        return self.result

    async def _query(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        request = GraphQLRequest(self.docs[name], variable_values=variables)
        data: dict[str, Any] = await self._session.execute(request)
        cost = int((data.get("rateLimit") or {}).get("cost") or 0)
        self.result.requests += 1
        self.result.points += cost
        self.result.by_query[name] += 1
        self.result.points_by_query[name] += cost
        return data

    async def _repos(self, org: str) -> list[str]:
        names: list[str] = []
        after: str | None = None
        while True:
            data = await self._query("NaiveRepos", {"org": org, "after": after})
            conn = (data.get("organization") or {}).get("repositories")
            names.extend(str(n["name"]) for n in _nodes(conn))
            after = _more(conn)
            if after is None:
                return names

    def _sizes(self) -> dict[str, int]:
        return {"reviews": self.pages.reviews, "reviewComments": self.pages.review_comments}

    async def _issues(self, owner: str, name: str) -> None:
        after: str | None = None
        while True:
            variables = {"owner": owner, "name": name, "first": self.pages.threads, "after": after}
            data = await self._query("NaiveIssues", variables)
            conn = (data.get("repository") or {}).get("issues")
            for issue in _nodes(conn):
                await self._thread(issue)
            after = _more(conn)
            if after is None:
                return

    async def _pulls(self, owner: str, name: str) -> None:
        after: str | None = None
        while True:
            variables = {
                "owner": owner,
                "name": name,
                "first": self.pages.threads,
                "after": after,
                **self._sizes(),
            }
            data = await self._query("NaivePulls", variables)
            conn = (data.get("repository") or {}).get("pullRequests")
            for pull in _nodes(conn):
                await self._thread(pull)
                await self._reviews(pull["id"], pull.get("reviews"))
            after = _more(conn)
            if after is None:
                return

    async def _thread(self, thread: dict[str, Any]) -> None:
        self.result.threads += 1
        conn = thread.get("comments")
        while True:
            for comment in _nodes(conn):
                await self._comment(comment)
            after = _more(conn)
            if after is None:
                return
            data = await self._query("NaiveMoreComments", {"id": thread["id"], "after": after})
            conn = (data.get("node") or {}).get("comments")

    async def _reviews(self, pull_id: str, conn: dict[str, Any] | None) -> None:
        while True:
            for review in _nodes(conn):
                await self._comment(review)
                await self._review_comments(review["id"], review.get("comments"))
            after = _more(conn)
            if after is None:
                return
            variables = {"id": pull_id, "after": after, **self._sizes()}
            data = await self._query("NaiveMoreReviews", variables)
            conn = (data.get("node") or {}).get("reviews")

    async def _review_comments(self, review_id: str, conn: dict[str, Any] | None) -> None:
        while True:
            for comment in _nodes(conn):
                await self._comment(comment)
            after = _more(conn)
            if after is None:
                return
            variables = {
                "id": review_id,
                "after": after,
                "reviewComments": self.pages.review_comments,
            }
            data = await self._query("NaiveMoreReviewComments", variables)
            conn = (data.get("node") or {}).get("comments")

    async def _comment(self, comment: dict[str, Any]) -> None:
        self.result.comments += 1
        if (comment.get("author") or {}).get("__typename") != "Bot":
            return
        self.result.bot_comments += 1
        self.result.reactions += await self._count(
            "NaiveMoreReactions", "reactions", comment["id"], comment.get("reactions")
        )
        self.result.edits += await self._count(
            "NaiveMoreEdits", "userContentEdits", comment["id"], comment.get("userContentEdits")
        )

    async def _count(
        self, query: str, key: str, comment_id: str, conn: dict[str, Any] | None
    ) -> int:
        """Items of a comment's list, paging it to the end."""
        total = 0
        while True:
            total += len(_nodes(conn))
            after = _more(conn)
            if after is None:
                return total
            data = await self._query(query, {"id": comment_id, "after": after})
            conn = (data.get("node") or {}).get(key)


async def naive_crawl(endpoint: str, token: str, orgs: list[str], pages: NaivePages) -> NaiveResult:
    return await NaiveCrawler(endpoint, token, pages).run(orgs)
