"""Which plugin wrote a block: from its run URL, its legacy CLASS, or its caller.

No header generation names the plugin (docs/ubiquity-metadata.md). In order of trust:
1. The dialect itself: command-ask's token-usage, `ubiquity-os-llm-response` and Claude-action
   answers; a custom dialect's configured `plugin`.
2. The run URL, where the plugin ran:
   - GitHub Actions `https://github.com/OWNER/REPO/actions/runs/ID`: the repository name;
   - Cloudflare `https://WORKER.ACCOUNT.workers.dev` or the dashboard's
     `https://dash.cloudflare.com/ACCOUNT/workers/services/view/WORKER/...` (the SDK's run
     URL on Workers): the worker name;
   - Deno `https://console.deno.com/ORG/APP/...`, `https://dash.deno.com/projects/APP`,
     `https://APP.deno.dev`: the app name.
   Worker and app names are deployment names: `ubiquity-os-` in front (the account's naming)
   and a branch suffix (`-main`, `-development`, ...) are removed, so
   `ubiquity-os-command-ask-main` is `command-ask`. `localhost` names nothing.
3. The legacy CLASS (`LEGACY_CLASSES`); the log levels `ok`, `error`, ... name no plugin.
4. The caller (`CALLERS`), the JSON's `caller` before the header's: only function names that
   one plugin has. Generic ones (`handler`, `run`, `error`, `Object.<anonymous>`,
   `createPlugin.name`) name nothing, and so does the legacy header's
   `renderMainActionOutput`: real UbiquiBot bodies show it is the monolith's renderer, with the
   handler in the JSON (`issueClosed` for rewards, `stop` for an unassignment).
5. A marker's plugin (`markers.MARKERS`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harvester.dialects.base import MetadataBlock, first_string
from harvester.dialects.markers import BY_NAME

LEGACY_CLASSES: dict[str, str] = {
    "ubiquity-os-llm-response": "command-ask",
    "Assignment": "command-start-stop",  # /start's assignment table
    "Transactions": "text-conversation-rewards",  # the reward permits
    "GithubCommentModule": "text-conversation-rewards",  # the reward table, 2024-2025
    "LLM Ground Truths and Token Usage": "command-ask",  # its answers, late 2024
}
CALLERS: dict[str, str] = {
    "processCommentCallback": "command-ask",
    "askQuestion": "command-ask",
    "start": "command-start-stop",
    "stop": "command-start-stop",
    "registerWallet": "command-wallet",
    "listCommands": "command-help",
    "generatePermits": "text-conversation-rewards",
    "issueClosed": "text-conversation-rewards",  # "Evaluating results. Please wait..."
    "remindAssignees": "daemon-disqualifier",
}

_ACTIONS = re.compile(r"https?://github\.com/[^/\s]{1,100}/(?P<name>[^/\s]{1,100})/actions/runs/")
_WORKER = re.compile(
    r"https?://(?P<name>[A-Za-z0-9-]{1,100})\.[A-Za-z0-9-]{1,100}\.workers\.dev\b"
    r"|https?://dash\.cloudflare\.com/[^/\s]{1,100}/workers/services/view/"
    r"(?P<view>[A-Za-z0-9-]{1,100})"
)
_DENO = re.compile(
    r"https?://(?:console\.deno\.com/[^/\s]{1,100}/|dash\.deno\.com/projects/)"
    r"(?P<name>[A-Za-z0-9-]{1,100})"
    r"|https?://(?P<sub>[A-Za-z0-9-]{1,100})\.deno\.dev\b"
)
_ACCOUNT_PREFIX = "ubiquity-os-"
_BRANCH_SUFFIXES = ("-main", "-development", "-dev", "-beta", "-staging", "-testing", "-preview")


def deployment_plugin(name: str) -> str:
    """A Cloudflare worker or Deno app name as the plugin (repository) name."""
    name = name.lower()
    if name.startswith(_ACCOUNT_PREFIX) and len(name) > len(_ACCOUNT_PREFIX):
        name = name[len(_ACCOUNT_PREFIX) :]
    for suffix in _BRANCH_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def plugin_from_run_url(url: str | None) -> str | None:
    if not url:
        return None
    found = _ACTIONS.match(url)
    if found:
        return found.group("name").lower()
    found = _WORKER.match(url)
    if found:
        return deployment_plugin(found.group("name") or found.group("view"))
    found = _DENO.match(url)
    if found:
        return deployment_plugin(found.group("name") or found.group("sub"))
    return None


def block_plugin(block: MetadataBlock) -> str | None:
    """The plugin one block names, trying its sources in order of trust."""
    if block.plugin:
        return block.plugin
    if block.marker is not None:
        return BY_NAME[block.marker].plugin
    found = plugin_from_run_url(block.run_url)
    if found:
        return found
    if block.header_class is not None and block.header_class in LEGACY_CLASSES:
        return LEGACY_CLASSES[block.header_class]
    for caller in (first_string(block.metadata, "caller"), block.caller):
        if caller is not None and caller in CALLERS:
            return CALLERS[caller]
    return None


def infer_plugin(blocks: Sequence[MetadataBlock]) -> str | None:
    """The first plugin named by a metadata block in body order, then by a marker.

    A reward comment holds a legacy block and an SDK block: both name the same plugin, and the
    first one that names any wins.
    """
    markers = [block for block in blocks if block.marker is not None]
    for block in [block for block in blocks if block.marker is None] + markers:
        found = block_plugin(block)
        if found:
            return found
    return None
