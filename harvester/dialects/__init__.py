"""Recognising bot output: metadata dialects, plugins, answers (docs/ubiquity-metadata.md).

    parsed = parse_comment(body, author_login="ubiquity-os", author_type="Bot", bots=cfg.bots)
    parsed.dialect, parsed.plugin, parsed.comment_kind, parsed.answer_text, parsed.metadata

`is_bot_candidate(body)` is the crawler's cheap check for a recognised header. One module per
dialect family (`ubiquityos`, `markers`, `custom`), the block scanner (`scan`), the plugin
mapping (`plugins`) and the registry of families (`registry`); `names` holds every name the
parser records. Question linking is `harvester.questions`.
"""

from harvester.dialects.base import Json, MetadataBlock
from harvester.dialects.names import (
    BUILTIN_DIALECT_NAMES,
    COMMENT_KINDS,
    FAMILIES,
    MARKER_NAMES,
    RESERVED_DIALECT_NAMES,
    CommentKind,
)
from harvester.dialects.parse import (
    ParsedComment,
    TokenUsage,
    default_bots,
    parse_comment,
    parse_with_steps,
)
from harvester.dialects.plugins import CALLERS, LEGACY_CLASSES, plugin_from_run_url
from harvester.dialects.registry import is_bot_candidate

__all__ = [
    "BUILTIN_DIALECT_NAMES",
    "CALLERS",
    "COMMENT_KINDS",
    "FAMILIES",
    "LEGACY_CLASSES",
    "MARKER_NAMES",
    "RESERVED_DIALECT_NAMES",
    "CommentKind",
    "Json",
    "MetadataBlock",
    "ParsedComment",
    "TokenUsage",
    "default_bots",
    "is_bot_candidate",
    "parse_comment",
    "parse_with_steps",
    "plugin_from_run_url",
]
