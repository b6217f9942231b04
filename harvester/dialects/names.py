"""The names the parser records: dialects, dialect families, comment kinds and markers.

This module imports nothing, so `harvester.config` can use these names (for instance to stop a
custom dialect from taking a built-in dialect's name) without an import cycle.
"""

from __future__ import annotations

from typing import Final, Literal

# ---------- dialect families: what `bots.dialects` in harvester.toml switches on and off
FAMILY_UBIQUITYOS: Final = "ubiquityos"  # every UbiquityOS header generation
FAMILY_MARKERS: Final = "markers"  # markers that are not answers (daemon comments)
FAMILIES: Final = (FAMILY_UBIQUITYOS, FAMILY_MARKERS)

# ---------- dialects: one per header generation of docs/ubiquity-metadata.md
UBIQUITY_LEGACY: Final = "ubiquity-legacy"  # <!-- Ubiquity - CLASS - CALLER - REVISION
UBIQUITY_LEGACY_RUN_URL: Final = "ubiquity-legacy-runurl"  # ... - REVISION - RUN_URL
COMMAND_ASK_LLM: Final = "command-ask-llm"  # <!-- Ubiquity - ubiquity-os-llm-response - ...
SDK_V1: Final = "sdk-v1"  # <!-- Ubiquity - undefined -  - undefined
UBIQUITYOS_INSTIGATOR_FIRST: Final = "ubiquityos-instigator-first"  # @I - URL - CALLER - VER
UBIQUITYOS_V2_0_0: Final = "ubiquityos-v2.0.0"  # URL - CALLER - VER - @I
UBIQUITYOS_V2_0_1: Final = "ubiquityos-v2.0.1+"  # CALLER - VER - @I - URL
UBIQUITY_UNKNOWN: Final = "ubiquity-unknown"  # a `Ubiquity -` header of no known shape
UBIQUITYOS_UNKNOWN: Final = "ubiquityos-unknown"  # a `UbiquityOS -` header of no known shape
TOKEN_USAGE: Final = "token-usage"  # <!-- + JSON token usage + --!> (command-ask, Jul-Oct 2024)
CLAUDE_ACTION: Final = "claude-action"  # **UbiquityOS finished @u's task in 12s** (Sep 2025 on)
MARKER: Final = "marker"  # a bot comment whose only hidden text is a marker
AUTHOR_ONLY: Final = "author-only"  # a bot comment with no header, known by its author

BUILTIN_DIALECT_NAMES: Final = (
    UBIQUITY_LEGACY,
    UBIQUITY_LEGACY_RUN_URL,
    COMMAND_ASK_LLM,
    SDK_V1,
    UBIQUITYOS_INSTIGATOR_FIRST,
    UBIQUITYOS_V2_0_0,
    UBIQUITYOS_V2_0_1,
    UBIQUITY_UNKNOWN,
    UBIQUITYOS_UNKNOWN,
    TOKEN_USAGE,
    CLAUDE_ACTION,
    MARKER,
    AUTHOR_ONLY,
)
# Names a custom dialect must not take: a dialect column value must say one thing.
RESERVED_DIALECT_NAMES: Final = frozenset(BUILTIN_DIALECT_NAMES) | frozenset(FAMILIES)

# ---------- comment kinds
CommentKind = Literal["llm_answer", "command_response", "log", "marker", "other"]
LLM_ANSWER: Final = "llm_answer"
COMMAND_RESPONSE: Final = "command_response"
LOG: Final = "log"
MARKER_KIND: Final = "marker"
OTHER: Final = "other"
COMMENT_KINDS: Final = (LLM_ANSWER, COMMAND_RESPONSE, LOG, MARKER_KIND, OTHER)

# ---------- markers (named after the marker's own text)
MARK_DISQUALIFIER: Final = "daemon-disqualifier"  # <!-- @ubiquity-os/daemon-disqualifier ...
MARK_SPEC_REWRITER: Final = "daemon-spec-rewriter"  # <!-- daemon-spec-rewriter - DATE -->
MARK_TASK_MATCHER: Final = "daemon-task-matcher"  # <!-- daemon-task-matcher:suggestions -->
MARK_AGENT: Final = "ubiquityos-agent"  # <!-- ubiquityos-agent ... --> on a human's comment
MARK_UPSTREAM_LLM_ERROR: Final = "upstream-llm-error"  # <!-- Upstream LLM 502: ... -->
MARKER_NAMES: Final = (
    MARK_DISQUALIFIER,
    MARK_SPEC_REWRITER,
    MARK_TASK_MATCHER,
    MARK_AGENT,
    MARK_UPSTREAM_LLM_ERROR,
)
