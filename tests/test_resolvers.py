"""The simulator's resolvers behave like GitHub (github-graphql.md) on small hand-built worlds."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType
from simworld_fixtures import (
    T0,
    SmallWorld,
    WorldBuilder,
    data_of,
    make_context,
    rate_limit_view,
    run,
    small_world,
    ts,
)

from harvester.simulator import ids
from harvester.simulator.model import REACTION_CONTENTS, World
from harvester.simulator.resolvers import (
    decode_cursor,
    encode_cursor,
    github_error,
    node_id,
    resolver_for,
)
from harvester.simulator.schema import load_schema

EDITS = """
query($id: ID!, $first: Int, $last: Int, $after: String, $before: String) {
  node(id: $id) {
    ... on IssueComment {
      includesCreatedEdit
      lastEditedAt
      editor { __typename login }
      userContentEdits(first: $first, last: $last, after: $after, before: $before) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        nodes {
          id editedAt createdAt updatedAt deletedAt diff
          editor { __typename login }
          deletedBy { __typename login }
        }
      }
    }
  }
}
"""

REACTIONS = """
query($id: ID!) {
  node(id: $id) {
    ... on Reactable {
      reactions(first: 100) {
        totalCount
        nodes { content createdAt user { login } reactable { __typename } }
      }
      reactionGroups {
        content
        createdAt
        viewerHasReacted
        reactors(first: 100) {
          totalCount
          edges { reactedAt node { __typename ... on Actor { login url } } }
        }
      }
    }
  }
}
"""


@pytest.fixture
def sw() -> SmallWorld:
    return small_world()


# Edit histories


def test_edits_come_newest_first_with_the_original_last(sw: SmallWorld) -> None:
    data = data_of(sw.world, EDITS, {"id": node_id(sw.answer), "first": 10})
    comment = data["node"]
    assert comment["includesCreatedEdit"] is True
    assert comment["lastEditedAt"] == "2025-01-11T09:00:00Z"
    assert comment["editor"] == {"__typename": "User", "login": "alice"}
    edits = comment["userContentEdits"]["nodes"]
    assert comment["userContentEdits"]["totalCount"] == 3 == len(edits)
    assert [e["diff"] for e in edits] == [
        "It crashes because of Y.",
        "It crashes because of X.",
        "Thinking...",
    ]
    assert [e["editedAt"] for e in edits] == sorted((e["editedAt"] for e in edits), reverse=True)
    assert [e["editor"]["__typename"] for e in edits] == ["User", "Bot", "Bot"]
    assert edits[-1]["editor"]["login"] == "ubiquity-os"  # the original: by the bot itself


def test_a_never_edited_comment_has_no_history(sw: SmallWorld) -> None:
    comment = data_of(sw.world, EDITS, {"id": node_id(sw.question), "first": 10})["node"]
    assert comment["lastEditedAt"] is None
    assert comment["editor"] is None
    assert comment["includesCreatedEdit"] is False
    assert comment["userContentEdits"]["totalCount"] == 0
    assert comment["userContentEdits"]["nodes"] == []


def test_a_deleted_revision_keeps_editor_and_time_but_not_its_text() -> None:
    b = WorldBuilder()
    alice, bot, mod = b.actor("alice"), b.actor("helper[bot]", "Bot"), b.actor("mod")
    repo = b.repo(b.org("acme"), "w")
    comment = b.comment(b.thread(repo, author=alice), bot, "v2", T0)
    comment.includes_created_edit = True
    b.edit(comment, T0, bot, "v0 with a secret")
    b.edit(comment, T0 + 60, bot, "v1", deleted_at=T0 + 600, deleted_by=mod)
    b.edit(comment, T0 + 120, bot, "v2")
    edits = data_of(b.world, EDITS, {"id": node_id(comment), "first": 10})["node"]
    nodes = edits["userContentEdits"]["nodes"]
    deleted = nodes[1]
    assert deleted["diff"] is None
    assert deleted["deletedAt"] == "2025-01-01T00:10:00Z"
    assert deleted["deletedBy"] == {"__typename": "User", "login": "mod"}
    assert deleted["editor"] == {"__typename": "Bot", "login": "helper"}
    assert deleted["editedAt"] == "2025-01-01T00:01:00Z"
    assert [n["diff"] for n in nodes] == ["v2", None, "v0 with a secret"]
    assert all(n["deletedAt"] is None for n in (nodes[0], nodes[2]))


def test_a_ghost_editor_is_null() -> None:
    b = WorldBuilder()
    bot = b.actor("helper", "Bot")
    comment = b.comment(b.thread(b.repo(b.org("acme"), "w")), bot, "fixed", T0)
    b.edit(comment, T0 + 5, None, "fixed")
    node = data_of(b.world, EDITS, {"id": node_id(comment), "first": 10})["node"]
    assert node["editor"] is None
    assert node["userContentEdits"]["nodes"][0]["editor"] is None


def test_edit_history_pages_backwards_and_forwards_without_gaps() -> None:
    b = WorldBuilder()
    bot = b.actor("helper", "Bot")
    comment = b.comment(b.thread(b.repo(b.org("acme"), "w")), bot, "x", T0)
    for i in range(230):
        b.edit(comment, T0 + i, bot, f"rev {i}")
    forward = _walk(b.world, EDITS, {"id": node_id(comment)}, ("node", "userContentEdits"))
    assert [n["diff"] for n in forward] == [f"rev {i}" for i in reversed(range(230))]
    backward = _walk(
        b.world, EDITS, {"id": node_id(comment)}, ("node", "userContentEdits"), backwards=True
    )
    assert backward == forward


# Reactions


def test_reaction_user_is_null_for_non_users_but_reactors_show_every_actor(sw: SmallWorld) -> None:
    node = data_of(sw.world, REACTIONS, {"id": node_id(sw.answer)})["node"]
    reactions = node["reactions"]
    assert reactions["totalCount"] == 4
    users = [(r["content"], r["user"]) for r in reactions["nodes"]]
    assert users == [
        ("THUMBS_UP", {"login": "bob"}),
        ("HEART", None),  # a Bot
        ("EYES", None),  # a Mannequin
        ("THUMBS_UP", {"login": "alice"}),
    ]
    assert {r["reactable"]["__typename"] for r in reactions["nodes"]} == {"IssueComment"}
    groups = {g["content"]: g for g in node["reactionGroups"]}
    heart = groups["HEART"]["reactors"]
    assert heart["totalCount"] == 1
    assert heart["edges"][0]["node"] == {
        "__typename": "Bot",
        "login": "ubiquity-os",
        "url": "https://github.com/apps/ubiquity-os",
    }
    assert heart["edges"][0]["reactedAt"] == "2025-01-10T02:00:01Z"
    assert groups["EYES"]["reactors"]["edges"][0]["node"]["__typename"] == "Mannequin"
    thumbs = groups["THUMBS_UP"]
    assert [e["node"]["login"] for e in thumbs["reactors"]["edges"]] == ["bob", "alice"]
    assert thumbs["createdAt"] == "2025-01-10T02:00:00Z"


def test_all_eight_reaction_groups_always_come_in_order(sw: SmallWorld) -> None:
    for subject in (sw.answer, sw.question, sw.issue, sw.review, sw.inline):
        node = data_of(sw.world, REACTIONS, {"id": node_id(subject)})["node"]
        groups = node["reactionGroups"]
        assert [g["content"] for g in groups] == list(REACTION_CONTENTS)
    empty = data_of(sw.world, REACTIONS, {"id": node_id(sw.question)})["node"]["reactionGroups"]
    assert all(g["reactors"]["totalCount"] == 0 and g["createdAt"] is None for g in empty)


def test_viewer_has_reacted_follows_the_context_viewer(sw: SmallWorld) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on IssueComment {
        reactions(first: 1) { viewerHasReacted }
        reactionGroups { content viewerHasReacted } } } }"""
    result = run(sw.world, query, {"id": node_id(sw.answer)}, make_context(sw.world, sw.bob))
    node = result.data["node"]  # type: ignore[index]
    assert node["reactions"]["viewerHasReacted"] is True
    assert [g["content"] for g in node["reactionGroups"] if g["viewerHasReacted"]] == ["THUMBS_UP"]


def test_reactions_filter_by_content_and_order_newest_first(sw: SmallWorld) -> None:
    query = """query($id: ID!) { node(id: $id) { ... on IssueComment {
        thumbs: reactions(first: 10, content: THUMBS_UP) { totalCount nodes { user { login } } }
        newest: reactions(first: 2, orderBy: {field: CREATED_AT, direction: DESC}) {
          nodes { content } } } } }"""
    node = data_of(sw.world, query, {"id": node_id(sw.answer)})["node"]
    assert node["thumbs"]["totalCount"] == 2
    assert [n["user"]["login"] for n in node["thumbs"]["nodes"]] == ["bob", "alice"]
    assert [n["content"] for n in node["newest"]["nodes"]] == ["THUMBS_UP", "EYES"]


def test_reactors_page_past_one_hundred() -> None:
    b = WorldBuilder()
    bot = b.actor("helper", "Bot")
    comment = b.comment(b.thread(b.repo(b.org("acme"), "w")), bot, "x", T0)
    for i in range(205):
        b.react(comment, b.actor(f"user{i}"), "HEART", T0 + i)
    b.react(comment, bot, "ROCKET", T0)
    query = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
      node(id: $id) { ... on Reactable { reactionGroups { content
        reactors(first: $first, after: $after, last: $last, before: $before) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { ... on Actor { login } } } } } } } }"""

    def heart(data: dict[str, Any]) -> dict[str, Any]:
        group = next(g for g in data["node"]["reactionGroups"] if g["content"] == "HEART")
        reactors: dict[str, Any] = group["reactors"]
        return reactors

    seen: list[str] = []
    after = None
    while True:
        page = heart(
            data_of(b.world, query, {"id": node_id(comment), "first": 100, "after": after})
        )
        assert page["totalCount"] == 205
        seen += [e["node"]["login"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"user{i}" for i in range(205)]


# Pagination


def _walk(
    world: World,
    query: str,
    variables: dict[str, Any],
    path: tuple[str, ...],
    backwards: bool = False,
    size: int = 100,
) -> list[Any]:
    """Every node of a connection, paging with cursors (forward, or backward then reversed)."""
    out: list[Any] = []
    cursor = None
    pages = 0
    while True:
        if backwards:
            page_vars = {**variables, "last": size, "before": cursor}
        else:
            page_vars = {**variables, "first": size, "after": cursor}
        conn = data_of(world, query, page_vars)
        for key in path:
            conn = conn[key]
        pages += 1
        assert pages < 100, "pagination does not end"
        info = conn["pageInfo"]
        if backwards:
            out = conn["nodes"] + out
            if not info["hasPreviousPage"]:
                return out
            cursor = info["startCursor"]
        else:
            out += conn["nodes"]
            if not info["hasNextPage"]:
                return out
            cursor = info["endCursor"]


COMMENTS = """
query($id: ID!, $first: Int, $last: Int, $after: String, $before: String) {
  node(id: $id) { ... on Issue {
    comments(first: $first, last: $last, after: $after, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { databaseId body }
  } } }
}
"""


def _long_thread(n: int = 250) -> tuple[World, str, list[int]]:
    b = WorldBuilder()
    alice = b.actor("alice")
    thread = b.thread(b.repo(b.org("acme"), "w"), author=alice)
    comments = [b.comment(thread, alice, f"c{i}", T0 + i) for i in range(n)]
    return b.world, node_id(thread), [c.database_id for c in comments]


def test_comments_page_forward_and_backward_across_hundreds() -> None:
    world, thread_id, expected = _long_thread()
    forward = _walk(world, COMMENTS, {"id": thread_id}, ("node", "comments"))
    assert [n["databaseId"] for n in forward] == expected  # no gap, no duplicate
    backward = _walk(world, COMMENTS, {"id": thread_id}, ("node", "comments"), backwards=True)
    assert [n["databaseId"] for n in backward] == expected
    odd = _walk(world, COMMENTS, {"id": thread_id}, ("node", "comments"), size=37)
    assert [n["databaseId"] for n in odd] == expected


def test_page_info_at_both_ends() -> None:
    world, thread_id, _ = _long_thread(150)
    first = data_of(world, COMMENTS, {"id": thread_id, "first": 100})["node"]["comments"]
    assert first["totalCount"] == 150
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    rest = data_of(
        world, COMMENTS, {"id": thread_id, "first": 100, "after": first["pageInfo"]["endCursor"]}
    )["node"]["comments"]
    assert len(rest["nodes"]) == 50
    assert rest["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": rest["pageInfo"]["startCursor"],
        "endCursor": rest["pageInfo"]["endCursor"],
    }
    zero = data_of(world, COMMENTS, {"id": thread_id, "first": 0})["node"]["comments"]
    assert zero["nodes"] == [] and zero["totalCount"] == 150
    assert zero["pageInfo"]["startCursor"] is None


def test_cursors_are_opaque_base64_and_survive_new_items() -> None:
    world, thread_id, _ = _long_thread(120)
    page = data_of(world, COMMENTS, {"id": thread_id, "first": 100})["node"]["comments"]
    cursor = page["pageInfo"]["endCursor"]
    assert cursor.startswith("Y3Vyc29yOnYy")  # base64 of "cursor:v2"
    assert encode_cursor(decode_cursor(cursor)) == cursor
    thread = world.threads[0]
    b_comment = thread.comments[0]
    # A comment deleted before the cursor does not shift the next page.
    b_comment.deleted = True
    world.version += 1
    rest = data_of(world, COMMENTS, {"id": thread_id, "first": 100, "after": cursor})
    assert [n["body"] for n in rest["node"]["comments"]["nodes"]] == [
        f"c{i}" for i in range(100, 120)
    ]


def test_a_malformed_cursor_is_an_error_not_a_crash() -> None:
    world, thread_id, _ = _long_thread(3)
    result = run(world, COMMENTS, {"id": thread_id, "first": 2, "after": "bm9wZQ=="})
    assert result.errors
    error = github_error(result.errors[0])
    assert error["type"] == "INVALID_CURSOR_ARGUMENTS"
    assert "bm9wZQ==" in error["message"]


# Repository listings


ISSUES = """
query($since: DateTime, $first: Int, $after: String, $last: Int, $before: String,
      $order: IssueOrder, $states: [IssueState!]) {
  repository(owner: "acme", name: "w") {
    issues(first: $first, after: $after, last: $last, before: $before,
           filterBy: {since: $since}, orderBy: $order, states: $states) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { number updatedAt state }
    }
  }
}
"""


def _busy_repo() -> World:
    b = WorldBuilder()
    alice = b.actor("alice")
    repo = b.repo(b.org("acme"), "w")
    for i in range(40):
        # created in order, updated in a shuffled order
        b.thread(
            repo,
            author=alice,
            created_at=T0 + i * 3600,
            updated_at=T0 + ((i * 17) % 40) * 86_400,
            state="CLOSED" if i % 5 == 0 else "OPEN",
        )
        b.thread(repo, "pull_request", created_at=T0 + i, updated_at=T0 + ((i * 7) % 40) * 3600)
    return b.world


def test_issues_default_to_creation_order_and_skip_pull_requests() -> None:
    world = _busy_repo()
    nodes = _walk(world, ISSUES, {}, ("repository", "issues"), size=7)
    numbers = [n["number"] for n in nodes]
    assert numbers == sorted(numbers) and len(numbers) == 40
    assert numbers[:3] == [1, 3, 5]  # pull requests share the numbering


def test_issues_since_returns_those_updated_at_or_after() -> None:
    world = _busy_repo()
    since = T0 + 30 * 86_400
    nodes = _walk(
        world,
        ISSUES,
        {"since": "2025-01-31T00:00:00Z", "order": {"field": "UPDATED_AT", "direction": "ASC"}},
        ("repository", "issues"),
        size=3,
    )
    expected = sorted(t.updated_at for t in world.threads if t.kind == "issue")
    got = [ts(n["updatedAt"].rstrip("Z")) for n in nodes]
    assert got == [u for u in expected if u >= since]
    assert got[0] == since  # "at or after"


def test_issue_states_filter() -> None:
    world = _busy_repo()
    closed = data_of(world, ISSUES, {"first": 100, "states": ["CLOSED"]})
    assert closed["repository"]["issues"]["totalCount"] == 8
    assert {n["state"] for n in closed["repository"]["issues"]["nodes"]} == {"CLOSED"}


PULLS = """
query($first: Int, $after: String) {
  repository(owner: "acme", name: "w") {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { number updatedAt }
    }
  }
}
"""


def test_pull_requests_most_recently_updated_first() -> None:
    world = _busy_repo()
    nodes = _walk(world, PULLS, {}, ("repository", "pullRequests"), size=9)
    stamps = [n["updatedAt"] for n in nodes]
    assert len(nodes) == 40
    assert stamps == sorted(stamps, reverse=True)
    assert len({n["number"] for n in nodes}) == 40


def test_a_world_change_is_seen_by_the_next_request() -> None:
    world = _busy_repo()
    first = data_of(world, PULLS, {"first": 1})["repository"]["pullRequests"]["nodes"][0]
    stale = next(t for t in world.threads if t.kind == "pull_request" and t.number != 2)
    stale.updated_at = world.now
    world.version += 1
    top = data_of(world, PULLS, {"first": 1})["repository"]["pullRequests"]["nodes"][0]
    assert top["number"] == stale.number != first["number"]


def test_organization_repositories_are_paged_and_ordered() -> None:
    b = WorldBuilder()
    org = b.org("acme")
    for name in ("zeta", "alpha", "mid"):
        b.repo(org, name, created_at=T0 + len(name))
    query = """query($order: RepositoryOrder) { organization(login: "ACME") {
        login repositories(first: 2, orderBy: $order) { totalCount pageInfo { hasNextPage }
          nodes { name nameWithOwner isFork isArchived } } } }"""
    data = data_of(b.world, query, {"order": {"field": "NAME", "direction": "ASC"}})
    repos = data["organization"]["repositories"]
    assert repos["totalCount"] == 3 and repos["pageInfo"]["hasNextPage"] is True
    assert [r["name"] for r in repos["nodes"]] == ["alpha", "mid"]
    assert repos["nodes"][0] == {
        "name": "alpha",
        "nameWithOwner": "acme/alpha",
        "isFork": False,
        "isArchived": False,
    }
    forks = """{ organization(login: "acme") { repositories(first: 5, isFork: true) {
        totalCount } } }"""
    assert data_of(b.world, forks)["organization"]["repositories"]["totalCount"] == 0


# Comments, threads, actors


THREAD = """
query {
  repository(owner: "acme", name: "widgets") {
    issueOrPullRequest(number: 2) {
      ... on PullRequest {
        merged state url
        comments(first: 5) { nodes { url pullRequest { number } issue { number }
                                     author { __typename login url } authorAssociation } }
        reviews(first: 5) { nodes { id state url body author { login }
          comments(first: 5) { nodes { id path diffHunk line body url
            replyTo { id } pullRequestReview { id } pullRequest { number } } } } }
        reviewThreads(first: 5) { totalCount nodes { id path isResolved
          comments(first: 5) { nodes { body } } } }
      }
    }
    issue(number: 1) { comments(first: 1) { nodes { pullRequest { number } issue { number } } } }
  }
}
"""


def test_pull_request_comments_reviews_and_threads(sw: SmallWorld) -> None:
    pull = data_of(sw.world, THREAD)["repository"]["issueOrPullRequest"]
    assert pull["merged"] is True and pull["state"] == "MERGED"
    assert pull["url"] == "https://github.com/acme/widgets/pull/2"
    comment = pull["comments"]["nodes"][0]
    assert comment["pullRequest"] == {"number": 2}
    assert comment["url"].startswith("https://github.com/acme/widgets/pull/2#issuecomment-")
    assert comment["author"] == {
        "__typename": "Bot",
        "login": "ubiquity-os",
        "url": "https://github.com/apps/ubiquity-os",
    }
    assert comment["authorAssociation"] == "NONE"
    reviews = pull["reviews"]["nodes"]
    assert (
        reviews[0]["url"]
        == f"https://github.com/acme/widgets/pull/2#pullrequestreview-{sw.review.database_id}"
    )
    inline = reviews[0]["comments"]["nodes"][0]
    assert (
        inline["url"]
        == f"https://github.com/acme/widgets/pull/2#discussion_r{sw.inline.database_id}"
    )
    assert inline["path"] == "src/main.py" and inline["line"] == 12
    assert inline["replyTo"] is None
    assert inline["pullRequestReview"]["id"] == reviews[0]["id"]
    reply = reviews[1]["comments"]["nodes"][0]
    assert reply["replyTo"]["id"] == inline["id"]
    threads = pull["reviewThreads"]
    assert threads["totalCount"] == 1
    assert [c["body"] for c in threads["nodes"][0]["comments"]["nodes"]] == [
        "Consider a guard here.",
        "Done.",
    ]
    issue_comment = data_of(sw.world, THREAD)["repository"]["issue"]["comments"]["nodes"][0]
    assert issue_comment == {"pullRequest": None, "issue": {"number": 1}}


def test_comment_text_fields(sw: SmallWorld) -> None:
    b = WorldBuilder()
    bot = b.actor("helper", "Bot")
    body = "## Answer\n\nUse **this** [link](https://x.y) <!-- meta: 1 -->\n\n```py\nx = 1\n```"
    comment = b.comment(b.thread(b.repo(b.org("acme"), "w")), bot, body, ts("2025-01-02T03:04:05"))
    query = """query($id: ID!) { node(id: $id) { ... on IssueComment {
        body bodyText bodyHTML createdAt updatedAt publishedAt databaseId isMinimized
        minimizedReason } } }"""
    node = data_of(b.world, query, {"id": node_id(comment)})["node"]
    assert node["body"] == body
    assert "meta" not in node["bodyText"] and "**" not in node["bodyText"]
    assert "Use this link" in node["bodyText"]
    assert "<p" in node["bodyHTML"] and "meta" not in node["bodyHTML"]
    assert node["createdAt"] == "2025-01-02T03:04:05Z" == node["publishedAt"]
    assert node["databaseId"] == comment.database_id
    assert node["isMinimized"] is False and node["minimizedReason"] is None


def test_minimized_comments(sw: SmallWorld) -> None:
    sw.question.is_minimized = True
    sw.question.minimized_reason = "off-topic"
    query = """query($id: ID!) { node(id: $id) {
        ... on Minimizable { isMinimized minimizedReason } } }"""
    node = data_of(sw.world, query, {"id": node_id(sw.question)})["node"]
    assert node == {"isMinimized": True, "minimizedReason": "off-topic"}


def test_ghost_author_is_null() -> None:
    b = WorldBuilder()
    comment = b.comment(b.thread(b.repo(b.org("acme"), "w")), None, "orphan", T0)
    query = """query($id: ID!) { node(id: $id) { ... on Comment { author { login }
        authorAssociation } } }"""
    assert data_of(b.world, query, {"id": node_id(comment)})["node"] == {
        "author": None,
        "authorAssociation": "NONE",
    }


def test_bot_login_has_no_bot_suffix(sw: SmallWorld) -> None:
    query = (
        """query($id: ID!) { node(id: $id) { __typename ... on Bot { login url databaseId } } }"""
    )
    node = data_of(sw.world, query, {"id": node_id(sw.bot)})["node"]
    assert node == {
        "__typename": "Bot",
        "login": "ubiquity-os",
        "url": "https://github.com/apps/ubiquity-os",
        "databaseId": sw.bot.database_id,
    }


def test_viewer_user_and_organization(sw: SmallWorld) -> None:
    query = """{ viewer { login name url } user(login: "bob") { login __typename }
        organization(login: "acme") { id login url } }"""
    result = run(sw.world, query, context=make_context(sw.world, sw.alice))
    assert result.data == {
        "viewer": {"login": "alice", "name": "Alice A.", "url": "https://github.com/alice"},
        "user": {"login": "bob", "__typename": "User"},
        "organization": {
            "id": ids.encode("Organization", sw.org.index),
            "login": "acme",
            "url": "https://github.com/acme",
        },
    }


def test_missing_repository_is_null_with_not_found(sw: SmallWorld) -> None:
    result = run(sw.world, '{ repository(owner: "acme", name: "nope") { id } }')
    assert result.data == {"repository": None}
    assert result.errors
    error = github_error(result.errors[0])
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == ["repository"]
    assert error["message"] == "Could not resolve to a Repository with the name 'acme/nope'."


# Node ids


def test_every_node_round_trips_through_its_id(sw: SmallWorld) -> None:
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""
    values = [sw.issue, sw.pull, sw.answer, sw.review, sw.inline, sw.bot, sw.alice, sw.repo, sw.org]
    wanted = [node_id(v) for v in values]
    wanted.append(ids.encode("UserContentEdit", sw.answer.edits[0].index))
    wanted.append(ids.encode("Reaction", sw.answer.reactions[0].index))
    wanted.append(ids.encode("PullRequestReviewThread", sw.inline.index))
    nodes = data_of(sw.world, query, {"ids": wanted})["nodes"]
    assert [n["id"] for n in nodes] == wanted
    assert [n["__typename"] for n in nodes] == [
        "Issue",
        "PullRequest",
        "IssueComment",
        "PullRequestReview",
        "PullRequestReviewComment",
        "Bot",
        "User",
        "Repository",
        "Organization",
        "UserContentEdit",
        "Reaction",
        "PullRequestReviewThread",
    ]


def test_a_reaction_by_id_knows_its_comment(sw: SmallWorld) -> None:
    reaction_id = ids.encode("Reaction", sw.answer.reactions[1].index)
    query = """query($id: ID!) { node(id: $id) { ... on Reaction { content user { login }
        reactable { ... on IssueComment { id } } } } }"""
    node = data_of(sw.world, query, {"id": reaction_id})["node"]
    assert node == {"content": "HEART", "user": None, "reactable": {"id": node_id(sw.answer)}}


def test_nodes_answers_null_and_not_found_for_deleted_unknown_and_malformed(
    sw: SmallWorld,
) -> None:
    sw.question.deleted = True
    wanted = [
        node_id(sw.answer),
        node_id(sw.question),  # deleted
        ids.encode("IssueComment", 10_000),  # unknown
        "not-an-id",  # malformed
        ids.encode("PullRequestReview", sw.answer.index),  # wrong type for that index
    ]
    result = run(sw.world, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": wanted})
    assert result.data == {"nodes": [{"id": wanted[0]}, None, None, None, None]}
    errors = [github_error(e) for e in result.errors or []]
    assert [e["path"] for e in errors] == [["nodes", i] for i in range(1, 5)]
    assert {e["type"] for e in errors} == {"NOT_FOUND"}
    assert errors[0]["message"] == (
        f"Could not resolve to a node with the global id of '{wanted[1]}'."
    )


def test_a_deleted_comment_leaves_its_thread(sw: SmallWorld) -> None:
    sw.question.deleted = True
    sw.world.version += 1
    query = """query($id: ID!) { node(id: $id) { ... on Issue { comments(first: 10) {
        totalCount nodes { body } } } } }"""
    comments = data_of(sw.world, query, {"id": node_id(sw.issue)})["node"]["comments"]
    assert comments["totalCount"] == 1
    assert [c["body"] for c in comments["nodes"]] == ["It crashes because of Y."]


# Search


SEARCH = """
query($q: String!, $first: Int, $after: String, $last: Int, $before: String) {
  search(type: ISSUE, query: $q, first: $first, after: $after, last: $last, before: $before) {
    issueCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { __typename ... on Issue { number } ... on PullRequest { number } }
  }
}
"""


def _search(world: World, q: str, first: int = 100) -> tuple[int, list[tuple[str, int]]]:
    data = data_of(world, SEARCH, {"q": q, "first": first})["search"]
    return data["issueCount"], [(n["__typename"], n["number"]) for n in data["nodes"]]


def test_search_by_app_commenter_and_reviewer(sw: SmallWorld) -> None:
    assert _search(sw.world, "org:acme commenter:app/ubiquity-os") == (
        2,
        [("PullRequest", 2), ("Issue", 1)],  # best match: newest created first
    )
    assert _search(sw.world, "org:acme is:issue commenter:app/ubiquity-os") == (1, [("Issue", 1)])
    assert _search(sw.world, "org:acme reviewed-by:app/code-reviewer") == (
        1,
        [("PullRequest", 2)],
    )
    assert _search(sw.world, "org:acme commenter:app/code-reviewer")[0] == 1  # inline comment
    assert _search(sw.world, "org:acme commenter:alice")[0] == 1
    assert _search(sw.world, "org:acme commenter:app/alice")[0] == 0  # alice is no app
    assert _search(sw.world, "org:other commenter:app/ubiquity-os")[0] == 0
    assert _search(sw.world, "repo:acme/widgets is:pr is:merged")[0] == 1
    assert _search(sw.world, "repo:acme/widgets is:open")[0] == 1


def test_search_dates_sort_and_text(sw: SmallWorld) -> None:
    assert _search(sw.world, "org:acme updated:>=2025-01-21")[1] == [("Issue", 1)]
    assert _search(sw.world, "org:acme updated:<2025-01-21")[1] == [("PullRequest", 2)]
    assert _search(sw.world, "org:acme updated:2025-01-20..2025-01-20")[1] == [("PullRequest", 2)]
    assert _search(sw.world, "org:acme created:>2025-01-10")[1] == [("PullRequest", 2)]
    assert _search(sw.world, "org:acme created:2025-01-10")[1] == [("Issue", 1)]
    assert _search(sw.world, "org:acme sort:created-asc")[1] == [("Issue", 1), ("PullRequest", 2)]
    assert _search(sw.world, "org:acme sort:updated-desc")[1] == [
        ("Issue", 1),
        ("PullRequest", 2),
    ]
    assert _search(sw.world, "org:acme CRASH")[1] == [("PullRequest", 2), ("Issue", 1)]
    assert _search(sw.world, "org:acme crashes in:body")[1] == [("Issue", 1)]
    # Hidden headers live in HTML comments: search does not see them.
    assert _search(sw.world, "org:acme hidden-marker")[0] == 0


def test_search_counts_everything_but_serves_only_a_thousand() -> None:
    b = WorldBuilder()
    alice = b.actor("alice")
    bot = b.actor("helper", "Bot")
    repo = b.repo(b.org("acme"), "w")
    for i in range(1_050):
        b.comment(b.thread(repo, author=alice, created_at=T0 + i), bot, "hi", T0 + i)
    nodes = _walk(b.world, SEARCH, {"q": "org:acme commenter:app/helper"}, ("search",))
    assert len(nodes) == 1_000
    assert len({n["number"] for n in nodes}) == 1_000
    assert nodes[0]["number"] == 1_050  # newest first
    data = data_of(b.world, SEARCH, {"q": "org:acme commenter:app/helper", "first": 1})
    assert data["search"]["issueCount"] == 1_050
    backward = _walk(
        b.world, SEARCH, {"q": "org:acme commenter:app/helper"}, ("search",), backwards=True
    )
    assert backward == nodes


def test_search_query_too_long(sw: SmallWorld) -> None:
    result = run(sw.world, SEARCH, {"q": "org:acme " + "x" * 300, "first": 1})
    assert result.data is None
    assert result.errors
    assert result.errors[0].message == "The search is longer than 256 characters."


def test_other_search_types_are_empty(sw: SmallWorld) -> None:
    query = """{ search(type: REPOSITORY, query: "acme", first: 5) {
        repositoryCount issueCount nodes { __typename } } }"""
    assert data_of(sw.world, query)["search"] == {
        "repositoryCount": 0,
        "issueCount": 0,
        "nodes": [],
    }


# Rate limit


def test_rate_limit_comes_from_the_context(sw: SmallWorld) -> None:
    context = make_context(sw.world)
    context.rate_limit = rate_limit_view(cost=3, remaining=4321, used=679, node_count=250)
    query = """{ rateLimit { cost limit nodeCount remaining resetAt used }
        dry: rateLimit(dryRun: true) { cost remaining used } }"""
    result = run(sw.world, query, context=context)
    assert result.data == {
        "rateLimit": {
            "cost": 3,
            "limit": 5000,
            "nodeCount": 250,
            "remaining": 4321,
            "resetAt": "2025-06-01T01:00:00Z",
            "used": 679,
        },
        "dry": {"cost": 1, "remaining": 5000, "used": 0},
    }


def test_every_field_of_the_schema_has_a_resolver() -> None:
    missing = [
        f"{name}.{field}"
        for name, named in load_schema().type_map.items()
        if isinstance(named, GraphQLObjectType) and not name.startswith("__") and name != "Label"
        for field in named.fields
        if resolver_for(name, field) is None
    ]
    assert not missing
