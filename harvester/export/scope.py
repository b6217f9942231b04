"""Whose data an export holds: a configured partner's orgs and repos, or an ad-hoc set.

The scope is handed to DuckDB as a table (`export_scope`), never spliced into SQL, and every
export query filters on it, so a partner's files can only hold rows of its own orgs and repos.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from harvester.config import HarvesterConfig


class UnknownPartner(ValueError):
    """The partner is not in harvester.toml."""


@dataclass(frozen=True)
class Scope:
    name: str
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    license: str = "other"
    system_prompt: str | None = None
    description: str = ""

    def table(self) -> pa.Table:
        """`(org, repo)` lower-cased; a null repo stands for every repo of the org."""
        orgs = [o.lower() for o in self.orgs]
        repo_pairs = [r.lower().split("/", 1) for r in self.repos]
        return pa.table(
            {
                "org": orgs + [owner for owner, _ in repo_pairs],
                "repo": [None] * len(orgs) + [name for _, name in repo_pairs],
            },
            schema=pa.schema([("org", pa.string()), ("repo", pa.string())]),
        )

    def covers(self, org: str, repo: str) -> bool:
        """Whether `org/repo` is in the scope (case-insensitive), as the SQL decides it."""
        return org.lower() in {o.lower() for o in self.orgs} or (
            f"{org}/{repo}".lower() in {r.lower() for r in self.repos}
        )


def partner_scope(config: HarvesterConfig, name: str) -> Scope:
    """The scope of `[partners.NAME]`."""
    partner = config.partners.get(name)
    if partner is None:
        known = ", ".join(sorted(config.partners)) or "none"
        where = config.source_path or "harvester.toml (none found: defaults in use)"
        raise UnknownPartner(
            f"no partner {name!r} in {where} (partners: {known}); add a [partners.{name}] "
            "table or export ad hoc with --org ORG"
        )
    return Scope(
        name=name,
        orgs=tuple(partner.orgs),
        repos=tuple(partner.repos),
        license=partner.license,
        system_prompt=partner.system_prompt,
        description=partner.description,
    )


def adhoc_scope(orgs: tuple[str, ...], repos: tuple[str, ...] = ()) -> Scope:
    """An export of the given orgs and repos, named after them (`org-acme`, `repo-acme-x`)."""
    parts = [f"org-{o}" for o in orgs] + [f"repo-{r.replace('/', '-')}" for r in repos]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", "+".join(parts))[:120]
    return Scope(name=name, orgs=orgs, repos=repos)
