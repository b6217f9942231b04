"""Markers: hidden comments that are not answer metadata (docs/ubiquity-metadata.md, last part).

The daemons tag their own comments (`<!-- daemon-spec-rewriter - DATE -->`,
`<!-- daemon-task-matcher:suggestions -->`, `<!-- @ubiquity-os/daemon-disqualifier update
DATE -->`), command-ask notes an upstream failure (`<!-- Upstream LLM 502: ... -->`), and the
agent appends `<!-- ubiquityos-agent ... -->` to a HUMAN's comment it picked up. A marker never
makes a comment bot output by itself: the author decides (`parse.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from harvester.dialects import names as N
from harvester.dialects.base import MetadataBlock
from harvester.dialects.scan import Scanner


@dataclass(frozen=True, slots=True)
class MarkerKind:
    """A marker: the text it starts with, its name, the plugin that writes it, and the kind of
    a bot comment whose only hidden text it is."""

    prefix: str
    name: str
    plugin: str | None
    kind: N.CommentKind


MARKERS: tuple[MarkerKind, ...] = (
    MarkerKind(
        "@ubiquity-os/daemon-disqualifier", N.MARK_DISQUALIFIER, "daemon-disqualifier", "log"
    ),
    MarkerKind("daemon-spec-rewriter", N.MARK_SPEC_REWRITER, "daemon-spec-rewriter", "marker"),
    MarkerKind("daemon-task-matcher", N.MARK_TASK_MATCHER, "daemon-task-matcher", "marker"),
    MarkerKind("ubiquityos-agent", N.MARK_AGENT, None, "marker"),
    # The status varies (502, 503, ...), so the name does not carry it.
    MarkerKind("Upstream LLM", N.MARK_UPSTREAM_LLM_ERROR, "command-ask", "log"),
)
BY_NAME: dict[str, MarkerKind] = {marker.name: marker for marker in MARKERS}


def _ends_word(body: str, at: int) -> bool:
    return at >= len(body) or not (body[at].isalnum() or body[at] in "-_/")


class MarkerReader:
    """Marker comments; each ends, as in HTML, at the first close after it."""

    family = N.FAMILY_MARKERS

    def read(self, scan: Scanner, start: int, head: int) -> MetadataBlock | None:
        body = scan.body
        for marker in MARKERS:
            if body.startswith(marker.prefix, head) and _ends_word(body, head + len(marker.prefix)):
                scan.steps += len(marker.prefix)
                close, length = scan.next_close(head)
                if close < 0:
                    return MetadataBlock(
                        N.MARKER,
                        start,
                        scan.size,
                        marker=marker.name,
                        error=f"unterminated marker: no --> after <!-- {marker.prefix}",
                    )
                return MetadataBlock(N.MARKER, start, close + length, marker=marker.name)
        return None
