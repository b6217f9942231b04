"""`harvester.toml`: the configuration model, its loading, and messages that say what to do.

Every section is optional: `default_config()` is what `harvester demo` runs with. Loading
collects every problem of a file into one `ConfigError`, one line each, naming the file, the
dotted key, what was found and what is allowed. `check_config` reports what loading cannot know
(environment variables, files on disk). The reference for every key is docs/configuration.md.

Secrets never enter the model: the file names environment variables and key files, and a token
or private key written into it is refused without being echoed.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import json
import math
import os
import re
import tomllib
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Protocol, Union, get_args, get_origin
from urllib.parse import urlsplit

import re2
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

CONFIG_FILE_NAME = "harvester.toml"

# GraphQL logins of the UbiquityOS apps (shared/docs/ubiquity-metadata.md, "Bot accounts").
DEFAULT_BOT_LOGINS: tuple[str, ...] = (
    "ubiquity-os",
    "ubiquity-os-beta",
    "ubiquity-os-development",
    "ubiquibot",
    "ubiquibot-v2-testing",
    "ubiquibot-development",
)
# The header dialects the metadata parser ships with; keep in step with the parser.
BUILTIN_DIALECTS: tuple[str, ...] = ("ubiquityos", "markers")
REACTION_CONTENTS: tuple[str, ...] = (
    "THUMBS_UP",
    "THUMBS_DOWN",
    "LAUGH",
    "HOORAY",
    "CONFUSED",
    "HEART",
    "ROCKET",
    "EYES",
)

Loc = tuple[int | str, ...]


class ConfigError(Exception):
    """A configuration that cannot be used; `str()` is the full message, one problem per line."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems: tuple[str, ...] = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)


@functools.lru_cache(maxsize=65_536)
def normalise_login(login: str) -> str:
    """The GraphQL form of a login, lower-cased for comparison (GitHub logins ignore case).

    REST writes `ubiquity-os[bot]`, the gh CLI `app/ubiquity-os`, GraphQL `ubiquity-os`.
    """
    name = login.strip().removeprefix("@")
    if name.lower().startswith("app/"):
        name = name[len("app/") :]
    if name.lower().endswith("[bot]"):
        name = name[: -len("[bot]")]
    return name.strip().lower()


@dataclass(frozen=True)
class Expect:
    """What a key accepts, in words, for "expected <text>, got <value>"."""

    text: str


class _Unexpected(ValueError):
    """A value of the right type but the wrong form: reported with the key's `Expect` text."""


class _Problems(ValueError):
    """Problems found by a table's validator, each at a key relative to that table."""

    def __init__(self, *items: tuple[Loc, str]) -> None:
        super().__init__("; ".join(message for _, message in items))
        self.items = items


_SECRET_VALUE = re.compile(
    r"\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{30,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
_SECRET_KEYS = frozenset(
    {"token", "tokens", "github_token", "access_token", "pat", "password", "secret"}
    | {"client_secret", "api_key", "private_key"}
)


def _looks_secret(text: str) -> bool:
    return _SECRET_VALUE.search(text) is not None


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in _SECRET_KEYS


def _show(value: object) -> str:
    """A found value the way TOML writes it, short, and never a secret."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if _looks_secret(value):
            return "a value that looks like a secret (not shown)"
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 80 else text[:76] + '..."'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        shown = "[" + ", ".join(_show(item) for item in value[:5])
        shown += ", ...]" if len(value) > 5 else "]"
        return shown if len(shown) <= 80 else f"a list of {len(value)} items"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return type(value).__name__


def _dotted(loc: Iterable[int | str]) -> str:
    """`("partners", "acme", "orgs", 1)` -> `partners.acme.orgs[1]`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            text += f".{name}" if text else name
    return text or "(top level)"


def _suggestion(name: str, allowed: Iterable[str]) -> str | None:
    by_lower = {key.lower(): key for key in allowed}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _fullmatch(
    pattern: str, transform: Callable[[str], str] = str, expected: str | None = None
) -> AfterValidator:
    """A check that the (transformed) string matches `pattern`.

    Its message is "expected <expected>, got ...", by default with the key's Expect text.
    """
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(transform(value)) is None:
            if expected is not None:
                raise ValueError(f"expected {expected}, got {_show(value)}")
            raise _Unexpected(value)
        return transform(value)

    return AfterValidator(check)


_LOGIN = r"[A-Za-z0-9][A-Za-z0-9-]{0,38}"

OrgLogin = Annotated[
    StrictStr,
    _fullmatch(_LOGIN),
    Expect('an organisation login such as "ubiquity" (letters, digits and "-")'),
]
RepoName = Annotated[
    StrictStr,
    _fullmatch(_LOGIN + r"/(?!\.\.?$)[A-Za-z0-9._-]{1,100}"),
    Expect('"OWNER/NAME" such as "ubiquity-os/command-ask"'),
]
RepoGlob = Annotated[
    StrictStr,
    _fullmatch(r"[A-Za-z0-9*?\[\]!-]+/[A-Za-z0-9._*?\[\]!-]+"),
    Expect('an "OWNER/NAME" pattern where * and ? are wildcards, such as "ubiquity/*-archive"'),
]
BotLogin = Annotated[
    StrictStr,
    _fullmatch(_LOGIN, normalise_login),
    Expect('a bot login such as "ubiquity-os" (a trailing "[bot]" and "app/" are removed)'),
]
Slug = Annotated[
    StrictStr,
    _fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}"),
    Expect('a lower-case name of letters, digits, "-" and "_", such as "acme-bot"'),
]
EnvName = Annotated[
    StrictStr,
    _fullmatch(r"[A-Za-z_][A-Za-z0-9_]*"),
    Expect('the name of an environment variable such as "GITHUB_TOKEN"'),
]
Text = Annotated[StrictStr, _fullmatch(r"(?s).*\S.*"), Expect("a non-empty string")]
Orgs = Annotated[tuple[OrgLogin, ...], Expect('a list of organisation logins, e.g. ["ubiquity"]')]
Repos = Annotated[
    tuple[RepoName, ...], Expect('a list of "OWNER/NAME" strings, e.g. ["ubiquity/devpool"]')
]
BotLogins = Annotated[
    tuple[BotLogin, ...], Expect('a list of bot logins, e.g. ["ubiquity-os", "coderabbitai"]')
]
Flag = Annotated[StrictBool, Expect("true or false")]
Count = Annotated[StrictInt, Field(ge=0), Expect("a whole number, 0 or more")]
PageSize = Annotated[StrictInt, Field(ge=1, le=100), Expect("an integer from 1 to 100")]
Weight = Annotated[StrictFloat, Expect("a finite number")]
Fraction = Annotated[StrictFloat, Field(ge=0, le=1), Expect("a fraction from 0 to 1")]


def _to_path(value: object) -> object:
    if isinstance(value, Path):
        return value.expanduser()
    if isinstance(value, str) and value.strip():
        return Path(value).expanduser()
    raise _Unexpected(value)


FilePath = Annotated[Path, BeforeValidator(_to_path), Expect("a file system path as a string")]


def _to_utc(value: object) -> object:
    """An aware UTC datetime: a TOML date is midnight UTC, a time without offset is UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _Unexpected(value) from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    raise _Unexpected(value)


def _to_app_id(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9._-]{4,64}", value):
        return value
    raise _Unexpected(value)


def _check_endpoint(value: str) -> str:
    parts = urlsplit(value.strip())
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host or parts.query or parts.fragment:
        raise _Unexpected(value)
    if parts.scheme == "http" and host not in {"localhost", "127.0.0.1", "::1"}:
        raise ValueError(
            f"plain http would send the token unencrypted, got {_show(value)}; use https "
            "(http is allowed for localhost only, e.g. the simulator)"
        )
    return value.strip().rstrip("/")


def _check_dialect(value: str) -> str:
    if value not in BUILTIN_DIALECTS:
        guess = _suggestion(value, BUILTIN_DIALECTS)
        hint = f'did you mean "{guess}"? ' if guess else ""
        raise ValueError(
            f"expected a built-in dialect ({', '.join(map(json.dumps, BUILTIN_DIALECTS))}), "
            f"got {_show(value)}; {hint}describe other bots' headers in "
            "[[bots.custom_dialects]] tables"
        )
    return value


class HeaderMatch(Protocol):
    """What the dialects read of a match (RE2's match object, like `re.Match`)."""

    def start(self, group: int = 0) -> int: ...
    def end(self, group: int = 0) -> int: ...
    def span(self, group: int = 0) -> tuple[int, int]: ...
    def group(self, group: int | str = 0) -> str | None: ...
    def groupdict(self) -> dict[str, str | None]: ...


class HeaderRegex(Protocol):
    """A compiled custom-dialect pattern (RE2's, like `re.Pattern`)."""

    @property
    def groupindex(self) -> Mapping[str, int]: ...
    def search(self, text: str) -> HeaderMatch | None: ...
    def finditer(self, text: str) -> Iterator[HeaderMatch]: ...


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error reaches the user in the config message instead
    return options


@functools.lru_cache(maxsize=256)
def compile_header_pattern(pattern: str) -> HeaderRegex:
    """A custom dialect's pattern, compiled by RE2: it matches in time linear in the body
    whatever the pattern and the body are (Python's `re` backtracks: a pattern such as
    `(a|a)+!` or `<!-- x(?P<j>.*?)-->` took seconds to hours on one crafted comment)."""
    compiled: HeaderRegex = re2.compile(pattern, options=_re2_options())
    return compiled


def _check_regex(value: str) -> str:
    try:
        compiled = compile_header_pattern(value)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"expected a regular expression in RE2 syntax (Python's, without lookarounds, "
            f"backreferences, atomic groups, possessive repeats or (?x)), got {_show(value)}, "
            f"which does not compile: {reason}"
        ) from None
    probe = "a b\n<!-- x -->"  # an empty match anywhere: it would find one at every word
    empty = any(found.end() == found.start() for found in compiled.finditer(probe))
    if empty or compiled.search("") is not None:
        raise ValueError(
            f"{_show(value)} matches an empty string, so it would match every comment; "
            "make it require the header's text"
        )
    return value


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    key_kind: ClassVar[str] = "key"


class SourcesConfig(_Section):
    """`[sources]`: what to crawl, besides every partner's orgs and repos."""

    orgs: Orgs = ()
    repos: Repos = ()
    exclude_repos: Annotated[
        tuple[RepoGlob, ...], Expect('a list of "OWNER/NAME" patterns, e.g. ["ubiquity/*-archive"]')
    ] = ()
    include_forks: Flag = False
    include_archived: Flag = True
    rehydrate_days: Annotated[Count, Expect("a whole number of days, 0 or more")] = 30
    sweep_known: Flag = True
    discovery: Annotated[Literal["list", "search"], Expect('"list" or "search"')] = "list"
    since: Annotated[
        datetime | None,
        BeforeValidator(_to_utc),
        Expect("a date such as 2024-06-01 (a TOML date, no quotes) or a date-time"),
    ] = None

    def is_excluded(self, repo: str) -> bool:
        """Whether `OWNER/NAME` matches one of `exclude_repos` (case-insensitive)."""
        name = repo.lower()
        return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in self.exclude_repos)


class CustomDialect(_Section):
    """`[[bots.custom_dialects]]`: the metadata header of another team's bot."""

    name: Slug
    header_pattern: Annotated[
        StrictStr, AfterValidator(_check_regex), Expect("a regular expression (RE2 syntax)")
    ]
    # `json` would shadow BaseModel.json, hence the alias.
    json_payload: Annotated[
        StrictStr,
        Field(alias="json"),
        Expect('"after_header", "none" or the name of a named group in header_pattern'),
    ] = "after_header"
    plugin: Text | None = None
    authors: BotLogins = ()

    def regex(self) -> HeaderRegex:
        return compile_header_pattern(self.header_pattern)

    @model_validator(mode="after")
    def _json_names_a_group(self) -> CustomDialect:
        groups = sorted(self.regex().groupindex)
        if self.json_payload not in {"after_header", "none", *groups}:
            named = ", ".join(map(json.dumps, groups)) or "none"
            raise _Problems(
                (
                    ("json",),
                    f'expected "after_header", "none" or a named group of header_pattern '
                    f"(it has: {named}), got {_show(self.json_payload)}",
                )
            )
        return self


@functools.lru_cache(maxsize=64)
def _trigger_pattern(triggers: tuple[str, ...]) -> re.Pattern[str]:
    # cached: the linker asks once per thread, and building the pattern cost a third of its time
    phrases = "|".join(re.escape(phrase.strip()) for phrase in triggers)
    return re.compile(rf"(?<![\w/@-])(?:{phrases})(?![\w-])", re.IGNORECASE)


class BotsConfig(_Section):
    """`[bots]`: which comments are bot output, and how their headers are read."""

    logins: BotLogins = DEFAULT_BOT_LOGINS
    app_slugs: BotLogins = ("ubiquity-os",)
    triggers: Annotated[tuple[Text, ...], Expect('a list of phrases, e.g. ["/ask"]')] = (
        "/ask",
        "@UbiquityOS",
    )
    dialects: Annotated[
        tuple[Annotated[StrictStr, AfterValidator(_check_dialect)], ...],
        Expect(f"a list of built-in dialect names, e.g. {json.dumps(list(BUILTIN_DIALECTS))}"),
    ] = BUILTIN_DIALECTS
    custom_dialects: Annotated[
        tuple[Annotated[CustomDialect, Expect("a [[bots.custom_dialects]] table")], ...],
        Expect("[[bots.custom_dialects]] tables"),
    ] = ()

    def is_bot_login(self, login: str) -> bool:
        """Whether `login`, in any of GitHub's spellings, is one of the configured bots."""
        return normalise_login(login) in self.logins

    def trigger_regex(self) -> re.Pattern[str]:
        """Finds a trigger phrase as a whole word, in any case."""
        return _trigger_pattern(self.triggers)

    def invokes_bot(self, text: str) -> bool:
        """Whether a human comment calls the bot with one of the trigger phrases."""
        return self.trigger_regex().search(text) is not None

    @model_validator(mode="after")
    def _dialect_names_are_unique(self) -> BotsConfig:
        from harvester.dialects.names import RESERVED_DIALECT_NAMES  # late: dialects import us

        problems: list[tuple[Loc, str]] = []
        first: dict[str, int] = {}
        for index, dialect in enumerate(self.custom_dialects):
            key = ("custom_dialects", index, "name")
            earlier = first.setdefault(dialect.name, index)
            if dialect.name in RESERVED_DIALECT_NAMES:
                problems.append((key, f'"{dialect.name}" is a built-in dialect; pick another name'))
            elif earlier != index:
                problems.append(
                    (key, f'"{dialect.name}" already names bots.custom_dialects[{earlier}]')
                )
        if problems:
            raise _Problems(*problems)
        return self


class PartnerConfig(_Section):
    """`[partners.NAME]`: organisations and repositories whose data is exported together."""

    orgs: Orgs = ()
    repos: Repos = ()
    license: Annotated[
        StrictStr,
        _fullmatch(
            r"[A-Za-z0-9][A-Za-z0-9.+-]*",
            expected='one SPDX license id such as "mit", "apache-2.0" or "cc-by-4.0" '
            '("other" when none fits)',
        ),
        Expect('a string (an SPDX id such as "mit")'),
    ] = "other"
    system_prompt: Annotated[StrictStr, Expect("a string")] | None = None
    description: Annotated[StrictStr, Expect("a string")] = ""

    @model_validator(mode="after")
    def _has_scope(self) -> PartnerConfig:
        if not self.orgs and not self.repos:
            raise ValueError(
                'a partner needs at least one org or repo; add orgs = ["ORG"] or '
                'repos = ["OWNER/NAME"]'
            )
        return self


class StorageConfig(_Section):
    """`[storage]`: where raw tables, state, the warehouse and exports live."""

    data_dir: FilePath = Path("data")


class AppAuthConfig(_Section):
    """`[auth.app]`: crawl as a GitHub App; each installation has its own points budget."""

    app_id: Annotated[
        int | str,
        BeforeValidator(_to_app_id),
        Expect('the app\'s numeric id (e.g. 123456) or its client id (e.g. "Iv23liAbCdEf")'),
    ]
    private_key_path: FilePath | None = None
    private_key_env: EnvName | None = None
    installation_ids: Annotated[
        dict[OrgLogin, Annotated[StrictInt, Field(gt=0), Expect("a positive installation id")]],
        Expect("a table of ORG = INSTALLATION_ID"),
    ] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_key_source(self) -> AppAuthConfig:
        if (self.private_key_path is None) == (self.private_key_env is None):
            raise ValueError(
                "set exactly one of private_key_path (the app's .pem file) or private_key_env "
                "(an environment variable holding the PEM text)"
            )
        return self

    def private_key_problem(self, environ: Mapping[str, str] | None = None) -> str | None:
        """What is wrong with the private key, as `key: message`; None when it reads well."""
        env = os.environ if environ is None else environ
        if self.private_key_env is not None:
            where = f"auth.app.private_key_env: environment variable {self.private_key_env}"
            text = env.get(self.private_key_env, "")
            if not text.strip():
                return f"{where} is not set; export it with the app's PEM private key"
        else:
            where = f'auth.app.private_key_path: "{self.private_key_path}"'
            try:
                text = Path(str(self.private_key_path)).read_text(encoding="utf-8")
            except FileNotFoundError:
                return (
                    f"{where} does not exist; generate a private key on the GitHub App's "
                    "settings page and point private_key_path at the .pem file"
                )
            except (OSError, UnicodeDecodeError) as exc:
                return f"{where} cannot be read ({type(exc).__name__}); check it and its rights"
        if "PRIVATE KEY-----" not in text:
            return (
                f"{where} holds no PEM private key ('-----BEGIN ... PRIVATE KEY-----'); use "
                "the .pem file GitHub generated for the app"
            )
        return None

    def read_private_key(self, environ: Mapping[str, str] | None = None) -> SecretStr:
        """The PEM text of the app's private key; raises ConfigError saying what to fix."""
        problem = self.private_key_problem(environ)
        if problem is not None:
            raise ConfigError(problem)
        if self.private_key_env is not None:
            env = os.environ if environ is None else environ
            return SecretStr(env[self.private_key_env])
        return SecretStr(Path(str(self.private_key_path)).read_text(encoding="utf-8"))


class AuthConfig(_Section):
    """`[auth]`: the names of environment variables holding tokens, or a GitHub App."""

    token_env: EnvName = "GITHUB_TOKEN"
    token_envs: Annotated[
        tuple[EnvName, ...], Expect('a list of environment variable names, e.g. ["GH_TOKEN_2"]')
    ] = ()
    app: Annotated[AppAuthConfig, Expect("an [auth.app] table")] | None = None

    @property
    def mode(self) -> Literal["app", "token"]:
        return "app" if self.app is not None else "token"

    def token_env_names(self) -> tuple[str, ...]:
        """`token_env` then `token_envs`, without repeats."""
        return tuple(dict.fromkeys((self.token_env, *self.token_envs)))

    def read_tokens(self, environ: Mapping[str, str] | None = None) -> tuple[SecretStr, ...]:
        """The distinct tokens found in the named environment variables, in order."""
        env = os.environ if environ is None else environ
        values = (env.get(name, "").strip() for name in self.token_env_names())
        return tuple(SecretStr(value) for value in dict.fromkeys(values) if value)


class PageSizes(_Section):
    """`[github.page_sizes]`: first page sizes; the crawler still shrinks them on 502/504."""

    key_kind = "page size"

    threads: PageSize | None = None
    comments: PageSize | None = None
    nodes: PageSize | None = None
    reactors: PageSize | None = None
    edits: PageSize | None = None
    search: PageSize | None = None


class GitHubConfig(_Section):
    """`[github]`: the endpoint and how hard to use it."""

    endpoint: Annotated[
        StrictStr,
        AfterValidator(_check_endpoint),
        Expect(
            'a GraphQL URL such as "https://api.github.com/graphql" or '
            '"https://HOST/api/graphql" (GitHub Enterprise Server)'
        ),
    ] = "https://api.github.com/graphql"
    # GitHub advises few concurrent requests per account; 100 is its hard cap.
    max_in_flight: Annotated[
        StrictInt, Field(ge=1, le=100), Expect("an integer from 1 to 100 (requests per token)")
    ] = 4
    timeout_s: Annotated[
        StrictFloat, Field(gt=0, le=600), Expect("a number of seconds above 0, at most 600")
    ] = 30.0
    max_retries: Annotated[StrictInt, Field(ge=0, le=50), Expect("an integer from 0 to 50")] = 6
    # Threads listed but not yet landed, per token: what bounds the crawler's memory.
    thread_budget: Annotated[
        StrictInt,
        Field(ge=100, le=1_000_000),
        Expect("an integer from 100 to 1000000 (threads held at once per token)"),
    ] = 2_000
    page_sizes: Annotated[PageSizes, Expect("a [github.page_sizes] table")] = PageSizes()

    @property
    def rest_url(self) -> str:
        """The REST base URL of the same deployment (GitHub App tokens are minted over REST)."""
        parts = urlsplit(self.endpoint)
        base = f"{parts.scheme}://{parts.netloc}{parts.path.removesuffix('/graphql')}"
        return base + "/v3" if parts.path.endswith("/api/graphql") else base


class ReactionWeights(_Section):
    """`[feedback.weights]`: what one reaction of each kind adds to a comment's score."""

    key_kind = "reaction (a GitHub ReactionContent name)"

    THUMBS_UP: Weight = 1.0
    THUMBS_DOWN: Weight = -1.0
    LAUGH: Weight = 0.0
    HOORAY: Weight = 1.0
    CONFUSED: Weight = -1.0
    HEART: Weight = 1.0
    ROCKET: Weight = 1.0
    EYES: Weight = 0.0

    def as_dict(self) -> dict[str, float]:
        """ReactionContent name -> weight, for all eight reactions."""
        return {content: float(getattr(self, content)) for content in REACTION_CONTENTS}


class FeedbackConfig(_Section):
    """`[feedback]`: how reactions and human edits become a score."""

    weights: Annotated[ReactionWeights, Expect("a [feedback.weights] table")] = ReactionWeights()
    correction_weight: Weight = -1.0
    trivial_edit_distance: Annotated[Count, Expect("a whole number of characters, 0 or more")] = 3


class Splits(_Section):
    """`[export.splits]`: the share of threads in each split (a thread never spans two)."""

    key_kind = "split (train, validation or test)"

    train: Fraction = 0.9
    validation: Fraction = 0.05
    test: Fraction = 0.05

    @model_validator(mode="after")
    def _sum_to_one(self) -> Splits:
        total = self.train + self.validation + self.test
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(
                f"train + validation + test must sum to 1, got {self.train!r} + "
                f"{self.validation!r} + {self.test!r} = {round(total, 6)!r}; adjust them"
            )
        if self.train == 0:
            raise _Problems((("train",), "expected a fraction above 0, got 0.0"))
        return self


class ExportConfig(_Section):
    """`[export]`: how training sets are cut."""

    prompt_body_chars: Annotated[Count, Expect("a whole number of characters, 0 or more")] = 2000
    splits: Annotated[Splits, Expect("an [export.splits] table")] = Splits()
    min_positive_score: Weight = 1.0
    max_negative_score: Weight = -1.0
    min_pair_margin: Annotated[
        StrictFloat, Field(gt=0), Expect("a score difference above 0, such as 1.0")
    ] = 1.0
    near_duplicate_threshold: Fraction = 0.8
    doubtful_similarity: Fraction = 0.9
    doubtful_margin: Annotated[
        StrictFloat, Field(gt=0), Expect("a score difference above 0, such as 2.0")
    ] = 2.0

    @model_validator(mode="after")
    def _thresholds_apart(self) -> ExportConfig:
        if self.max_negative_score >= self.min_positive_score:
            raise _Problems(
                (
                    ("max_negative_score",),
                    f"expected a score below export.min_positive_score "
                    f"({self.min_positive_score!r}), got {self.max_negative_score!r}; a comment "
                    "must not be both a positive and a negative example",
                )
            )
        return self


class HarvesterConfig(_Section):
    """The whole `harvester.toml`. Every section is optional."""

    sources: Annotated[SourcesConfig, Expect("a [sources] table")] = SourcesConfig()
    bots: Annotated[BotsConfig, Expect("a [bots] table")] = BotsConfig()
    partners: Annotated[
        dict[
            Slug,
            Annotated[PartnerConfig, Expect('a table such as [partners.acme] orgs = ["acme"]')],
        ],
        Expect("[partners.NAME] tables"),
    ] = Field(default_factory=dict)
    storage: Annotated[StorageConfig, Expect("a [storage] table")] = StorageConfig()
    auth: Annotated[AuthConfig, Expect("an [auth] table")] = AuthConfig()
    github: Annotated[GitHubConfig, Expect("a [github] table")] = GitHubConfig()
    feedback: Annotated[FeedbackConfig, Expect("a [feedback] table")] = FeedbackConfig()
    export: Annotated[ExportConfig, Expect("an [export] table")] = ExportConfig()

    _source_path: Path | None = PrivateAttr(default=None)

    @property
    def source_path(self) -> Path | None:
        """The file this was loaded from (absolute); None for the defaults."""
        return self._source_path

    @property
    def crawl_orgs(self) -> tuple[str, ...]:
        """`sources.orgs` and every partner's orgs, without repeats (case-insensitive)."""
        return _unique([*self.sources.orgs, *(o for p in self.partners.values() for o in p.orgs)])

    @property
    def crawl_repos(self) -> tuple[str, ...]:
        """`sources.repos` and partners' repos that no org of `crawl_orgs` already covers."""
        covered = {org.lower() for org in self.crawl_orgs}
        repos = [*self.sources.repos, *(r for p in self.partners.values() for r in p.repos)]
        return _unique(repo for repo in repos if repo.split("/")[0].lower() not in covered)

    def partner_of(self, repo: str) -> str | None:
        """The partner that owns `OWNER/NAME` (by its repos, else by its orgs), or None."""
        name = repo.lower()
        for partner, config in self.partners.items():
            if name in (r.lower() for r in config.repos):
                return partner
        for partner, config in self.partners.items():
            if name.split("/")[0] in (o.lower() for o in config.orgs):
                return partner
        return None

    @model_validator(mode="after")
    def _partners_do_not_overlap(self) -> HarvesterConfig:
        problems = [*_org_overlaps(self.partners), *_repo_overlaps(self.partners)]
        if problems:
            raise _Problems(*problems)
        return self


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(name.lower(), name)
    return tuple(first.values())


def _org_owners(partners: Mapping[str, PartnerConfig]) -> dict[str, tuple[str, int]]:
    """Lower-cased org -> (first partner naming it, index in its orgs)."""
    owners: dict[str, tuple[str, int]] = {}
    for name, partner in partners.items():
        for index, org in enumerate(partner.orgs):
            owners.setdefault(org.lower(), (name, index))
    return owners


def _org_overlaps(partners: Mapping[str, PartnerConfig]) -> Iterator[tuple[Loc, str]]:
    """An org belongs to one partner only, so that an export never mixes partners."""
    owners = _org_owners(partners)
    for name, partner in partners.items():
        for index, org in enumerate(partner.orgs):
            owner, at = owners[org.lower()]
            if owner != name:
                yield (
                    ("partners", name, "orgs", index),
                    f'org "{org}" also belongs to partner "{owner}" (partners.{owner}.orgs[{at}]);'
                    " an org belongs to one partner only, so that an export never mixes partners:"
                    f' remove it from "{name}" or "{owner}"',
                )


def _repo_overlaps(partners: Mapping[str, PartnerConfig]) -> Iterator[tuple[Loc, str]]:
    """A repo belongs to one partner only, and not to a partner other than its org's."""
    org_owners = _org_owners(partners)
    repo_owners: dict[str, tuple[str, int]] = {}
    for name, partner in partners.items():
        for index, repo in enumerate(partner.repos):
            key = ("partners", name, "repos", index)
            by_org = org_owners.get(repo.split("/")[0].lower())
            owner, at = repo_owners.setdefault(repo.lower(), (name, index))
            if by_org is not None and by_org[0] != name:
                yield (
                    key,
                    f'repo "{repo}" is in an org of partner "{by_org[0]}" '
                    f"(partners.{by_org[0]}.orgs[{by_org[1]}]); an export never mixes partners: "
                    f'remove the repo from "{name}" or its org from "{by_org[0]}"',
                )
            elif owner != name:
                yield (
                    key,
                    f'repo "{repo}" also belongs to partner "{owner}" (partners.{owner}.repos'
                    f'[{at}]); a repo belongs to one partner only: remove it from "{name}" or '
                    f'"{owner}"',
                )


def default_config() -> HarvesterConfig:
    """The configuration used without a harvester.toml (enough for `harvester demo`)."""
    return HarvesterConfig()


def load_config(path: Path | str | None = None) -> HarvesterConfig:
    """Load and validate a harvester.toml; raises ConfigError listing every problem in it.

    With no path, `./harvester.toml` is read when it exists, else the defaults are used.
    Relative paths in the file (`storage.data_dir`, `auth.app.private_key_path`) are taken
    relative to the file's folder.
    """
    if path is None:
        if not Path(CONFIG_FILE_NAME).is_file():
            return default_config()
        path = CONFIG_FILE_NAME
    path = Path(path)
    return config_from_mapping(_read_toml(path), source=path)


def config_from_mapping(document: Mapping[str, Any], source: Path | None = None) -> HarvesterConfig:
    """Validate a parsed TOML document; `source` is the file named in messages."""
    label = str(source) if source is not None else CONFIG_FILE_NAME
    plain: dict[str, Any] = _plain_copy(document)
    problems, scrubbed = _scrub_secrets(plain)
    try:
        config = HarvesterConfig.model_validate(plain)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if not any(error["loc"][: len(hidden)] == hidden for hidden in scrubbed):
                problems.extend(_describe(error))
    if problems:
        raise ConfigError(*(f"{label}: {problem}" for problem in problems))
    if source is not None:
        config = _anchor_paths(config, source.absolute().parent)
        config._source_path = source.absolute()
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found; copy harvester.example.toml to {path} and edit it, or "
            "leave out --config to run with the defaults"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_message(path, exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); check the path") from None


def _syntax_message(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    """File, line, column and tomllib's reason, then the line with a caret under the column."""
    text = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", text)
    if match is None:
        reason = text.replace(" (at end of document)", "")
        return f"{path}: end of file: invalid TOML: {reason}; look for an unclosed [, {{ or quote"
    line, column = int(match.group(1)), int(match.group(2))
    message = f"{path}: line {line}, column {column}: invalid TOML: {text[: match.start()]}"
    try:
        source_line = path.read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return message
    return f"{message}\n    {_SECRET_VALUE.sub('***', source_line)}\n    {' ' * (column - 1)}^"


def _plain_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) for item in value]
    return value


def _scrub_secrets(document: dict[str, Any]) -> tuple[list[str], list[Loc]]:
    """Take secrets out before validation, so that no message or traceback can carry them."""
    problems: list[str] = []
    scrubbed: list[Loc] = []

    def visit(node: dict[Any, Any] | list[Any], loc: Loc) -> None:
        entries = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in entries:
            here = (*loc, key)
            # Partner names are free names, not settings: a partner may be called "secret".
            if isinstance(node, dict) and loc != ("partners",) and _is_secret_key(key):
                problems.append(f"{_dotted(here)}: {_secret_key_advice(str(key))}")
                scrubbed.append(here)
                del node[key]
            elif isinstance(value, str) and _looks_secret(value):
                problems.append(
                    f"{_dotted(here)}: this value looks like a token or private key (not shown);"
                    " secrets must not be written in the config file: keep a token in an"
                    " environment variable named by auth.token_env, a private key in a file"
                    " named by auth.app.private_key_path"
                )
                scrubbed.append(here)
                node[key] = None
            elif isinstance(value, dict | list):
                visit(value, here)

    visit(document, ())
    return problems, scrubbed


def _secret_key_advice(key: str) -> str:
    if "private" in key.lower():
        return (
            "a private key must not be written in the config file; save it as a .pem file and "
            "set auth.app.private_key_path, or put it in an environment variable and set "
            "auth.app.private_key_env"
        )
    return (
        "a token must not be written in the config file (it would end up in backups and "
        "version control); remove it, put the token in an environment variable and set "
        'auth.token_env = "GITHUB_TOKEN" (the variable\'s name)'
    )


def _anchor_paths(config: HarvesterConfig, base: Path) -> HarvesterConfig:
    def anchored(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    storage = config.storage.model_copy(update={"data_dir": anchored(config.storage.data_dir)})
    auth = config.auth
    if auth.app is not None and auth.app.private_key_path is not None:
        key_path = anchored(auth.app.private_key_path)
        auth = auth.model_copy(
            update={"app": auth.app.model_copy(update={"private_key_path": key_path})}
        )
    return config.model_copy(update={"storage": storage, "auth": auth})


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "finite_number": "a finite number",
}


def _describe(error: ErrorDetails) -> list[str]:
    """One pydantic error as `key: message` lines."""
    loc: Loc = tuple(error["loc"])
    key = _dotted(loc)
    if error["type"] == "extra_forbidden":
        return [f"{key}: {_unknown_key(loc)}"]
    expected = _expectation(loc)
    if error["type"] == "missing":
        return [f"{key}: missing; add it ({expected or 'a value'})"]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, _Problems):
        return [f"{_dotted(loc + sub)}: {message}" for sub, message in cause.items]
    if isinstance(cause, ValueError) and not isinstance(cause, _Unexpected):
        return [f"{key}: {cause}"]
    wanted = expected or _TYPE_WORDS.get(error["type"], "another value")
    return [f"{key}: expected {wanted}, got {_show(error['input'])}"]


def _unknown_key(loc: Loc) -> str:
    parent = _type_at(loc[:-1])[0]
    if not (isinstance(parent, type) and issubclass(parent, _Section)):
        return "unknown key"
    allowed = [field.alias or name for name, field in parent.model_fields.items()]
    guess = _suggestion(str(loc[-1]), allowed)
    if guess is not None:
        return f'unknown {parent.key_kind}; did you mean "{guess}"?'
    return f"unknown {parent.key_kind}; allowed: {', '.join(allowed)}"


def _expectation(loc: Loc) -> str | None:
    hints = [item.text for item in _type_at(loc)[1] if isinstance(item, Expect)]
    return hints[-1] if hints else None


def _type_at(loc: Loc) -> tuple[Any, list[Any]]:
    """The annotation at `loc` in HarvesterConfig's type tree, and its metadata."""
    annotation: Any = HarvesterConfig
    metadata: list[Any] = []
    index = 0
    while index < len(loc):
        annotation = _unwrap(annotation)[0]
        part, args = loc[index], get_args(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = annotation.model_fields
            field = next((f for n, f in fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None, []
            annotation, metadata = field.annotation, list(field.metadata)
        elif get_origin(annotation) is tuple and isinstance(part, int):
            annotation, metadata = args[0], []
        elif get_origin(annotation) is dict:
            is_key = loc[index + 1 : index + 2] == ("[key]",)
            annotation, metadata = args[0 if is_key else 1], []
            index += is_key
        else:
            return None, []
        index += 1
    annotation, more = _unwrap(annotation)
    return annotation, metadata + more


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip `Annotated[...]`, keeping its metadata, and `X | None`."""
    metadata: list[Any] = []
    while True:
        if get_origin(annotation) is Annotated:
            metadata.extend(annotation.__metadata__)
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation, metadata
            annotation = options[0]
        else:
            return annotation, metadata


def check_config(config: HarvesterConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """What loading cannot know: environment variables, files, an empty crawl scope.

    For `harvester config check`; an empty list means ready to crawl.
    """
    env = os.environ if environ is None else environ
    label = str(config.source_path) if config.source_path is not None else "(defaults)"
    found = [
        *_check_scope(config),
        *_check_auth(config.auth, env),
        *_check_endpoint_path(config.github),
        *_check_storage(config.storage),
    ]
    return [f"{label}: {line}" for line in found]


def _check_scope(config: HarvesterConfig) -> Iterator[str]:
    if not config.crawl_orgs and not config.crawl_repos:
        yield (
            "sources: nothing to crawl: sources.orgs, sources.repos and the partners name no "
            'organisation or repository; add e.g. sources.orgs = ["your-org"] '
            "(harvester demo needs none)"
        )
    for name, partner in config.partners.items():
        for index, repo in enumerate(partner.repos):
            if config.sources.is_excluded(repo):
                yield (
                    f"partners.{name}.repos[{index}]: {repo} is excluded by "
                    "sources.exclude_repos, so it is never crawled; remove one of the two"
                )
    since = config.sources.since
    if since is not None and since > datetime.now(UTC):
        yield (
            f"sources.since: {since.date().isoformat()} is in the future, so the first crawl "
            "finds nothing; use a past date or remove it"
        )
    crawled = {org.lower() for org in config.crawl_orgs}
    for org in config.auth.app.installation_ids if config.auth.app is not None else ():
        if org.lower() not in crawled:
            yield (
                f"auth.app.installation_ids.{org}: {org} is not crawled (not in sources.orgs "
                "nor in a partner); remove the entry or add the org"
            )


def _check_auth(auth: AuthConfig, env: Mapping[str, str]) -> Iterator[str]:
    if auth.app is not None:
        problem = auth.app.private_key_problem(env)
        if problem is not None:
            yield problem
        return
    keys = ["auth.token_env", *(f"auth.token_envs[{i}]" for i in range(len(auth.token_envs)))]
    for key, name in zip(keys, (auth.token_env, *auth.token_envs), strict=True):
        if not env.get(name, "").strip():
            yield (
                f"{key}: environment variable {name} is not set; export it with a token that "
                "can read the repositories, or configure [auth.app]"
            )


def _check_endpoint_path(github: GitHubConfig) -> Iterator[str]:
    if not urlsplit(github.endpoint).path.endswith("/graphql"):
        yield (
            f'github.endpoint: "{github.endpoint}" does not end in /graphql; GitHub serves '
            "GraphQL at https://api.github.com/graphql, Enterprise Server at "
            "https://HOST/api/graphql"
        )


def _check_storage(storage: StorageConfig) -> Iterator[str]:
    if storage.data_dir.exists() and not storage.data_dir.is_dir():
        yield f'storage.data_dir: "{storage.data_dir}" is a file, not a folder; use a folder'
