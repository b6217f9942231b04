"""Exit codes that tell failure kinds apart (documented in the README)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # an unexpected error: a bug; the message says where to report it
    USAGE = 2  # bad command line or configuration: fix the input
    AUTH = 3  # GitHub refused the credentials
    BUDGET = 4  # the rate-limit budget ran out before the work was done
    PARTIAL = 5  # finished, but some items failed; rerun to pick them up
    LOCKED = 6  # another crawl holds the data directory's lock
