"""Property: whatever the partners' orgs and repos, no record of partner A's export comes from
another partner's (or nobody's) orgs and repos, and every repo of A's scope is in it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.config import config_from_mapping
from harvester.export import ExportOptions, partner_scope, run_export
from tests.warehouse_fixtures import RawData, answer, reaction

ORGS = ("acme", "globex", "initech", "umbrella")
REPOS = ("app", "site", "tools")
MARK = re.compile(r"MARK\[([a-z]+)/([a-z]+)\]")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = RawData(tmp_path_factory.mktemp("isolation"))
    user = {"author_type": "User", "is_bot": False}
    for org in ORGS:
        for repo in REPOS:
            mark = f"MARK[{org}/{repo}]"
            for i in range(2):
                thread, q, c = f"T{org}{repo}{i}", f"Q{org}{repo}{i}", f"C{org}{repo}{i}"
                where = {"thread_id": thread, "org": org, "repo": repo}
                raw.thread(
                    thread, org=org, repo=repo, title=f"About {mark} {i}", body=f"Body of {mark}."
                )
                raw.comment(
                    q,
                    **where,
                    author="alice",
                    body=f"/ask question {i} on {mark}?",
                    minute=-5,
                    **user,
                )
                text = f"Answer {i} for {mark}: " + " ".join(
                    f"w{org}{repo}{i}{k}" for k in range(9)
                )
                raw.comment(c, **where, body=answer(text))
                content = "THUMBS_UP" if i == 0 else "THUMBS_DOWN"
                raw.snapshot(c, reactions=[reaction("bob", content), reaction("carol", content)])
    raw.build_result()
    return raw.data_dir


@st.composite
def partner_tables(draw: st.DrawFn) -> dict[str, Any]:
    names = ["p0", "p1", "p2"]
    owner = {org: draw(st.sampled_from([*names, None])) for org in ORGS}
    partners: dict[str, dict[str, list[str]]] = {n: {"orgs": [], "repos": []} for n in names}
    for org, name in owner.items():
        if name is not None:
            partners[name]["orgs"].append(org.upper() if draw(st.booleans()) else org)
        else:  # an unowned org's repos may belong to partners one by one
            for repo in REPOS:
                taker = draw(st.sampled_from([*names, None]))
                if taker is not None:
                    partners[taker]["repos"].append(f"{org}/{repo}")
    return {n: p for n, p in partners.items() if p["orgs"] or p["repos"]}


def marks_in(folder: Path) -> set[tuple[str, str]]:
    texts = []
    for path in folder.rglob("*"):
        if path.suffix == ".parquet":
            texts.append(json.dumps(pq.read_table(path).to_pylist(), default=str))
        elif path.is_file():
            texts.append(path.read_text(encoding="utf-8"))
    return {m for text in texts for m in MARK.findall(text)}


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(partners=partner_tables())
def test_an_export_holds_exactly_its_partners_repos(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory, partners: dict[str, Any]
) -> None:
    config = config_from_mapping({"partners": partners})
    out_root = tmp_path_factory.mktemp("out")
    for name, partner in partners.items():
        scope = {(org.lower(), repo) for org in partner["orgs"] for repo in REPOS}
        scope |= {tuple(r.split("/")) for r in partner["repos"]}
        out = run_export(
            ExportOptions(data_dir, config, partner_scope(config, name), out_dir=out_root / name)
        ).out_dir
        found = marks_in(out)
        assert found <= scope, (name, found - scope)
        assert found == scope  # every repo of the scope has a liked answer: it is exported
