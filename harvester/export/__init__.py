"""Partner-specific training sets from the warehouse (`harvester export`).

`job` runs an export; `scope` says whose data; `prompts`, `records`, `redact`, `dedup`,
`splits` and `validate` are the pure steps; `sinks` and `card` write the files.
"""

from harvester.export.job import FORMATS, ExportError, ExportOptions, ExportResult, run_export
from harvester.export.scope import Scope, UnknownPartner, adhoc_scope, partner_scope

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportOptions",
    "ExportResult",
    "Scope",
    "UnknownPartner",
    "adhoc_scope",
    "partner_scope",
    "run_export",
]
