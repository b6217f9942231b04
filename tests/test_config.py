"""harvester.toml: defaults, the example file, and messages that say what to do."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from harvester.config import (
    DEFAULT_BOT_LOGINS,
    ConfigError,
    HarvesterConfig,
    check_config,
    config_from_mapping,
    default_config,
    load_config,
    normalise_login,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "harvester.example.toml"
REFERENCE = ROOT / "docs" / "configuration.md"
FAKE_TOKEN = "ghp_" + "Zq7" * 12
FAKE_PAT = "github_pat_" + "11ABCDEFG0" * 5
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"


def write(tmp_path: Path, text: str, name: str = "harvester.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    """The lines of the ConfigError that loading `text` raises."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines if not line.startswith("    "))
    return [line.removeprefix(f"{path}: ") for line in lines]


# ---- defaults


def test_defaults_need_no_file() -> None:
    config = default_config()
    assert config.source_path is None
    assert config.sources.orgs == () and config.sources.repos == ()
    assert config.sources.rehydrate_days == 30
    assert config.sources.include_forks is False and config.sources.include_archived is True
    assert config.sources.since is None
    assert config.bots.logins == DEFAULT_BOT_LOGINS
    assert "ubiquity-os" in config.bots.logins and "ubiquibot-v2-testing" in config.bots.logins
    assert config.bots.app_slugs == ("ubiquity-os",)
    assert config.bots.triggers == ("/ask", "@UbiquityOS")
    assert config.bots.dialects == ("ubiquityos", "markers")
    assert config.partners == {}
    assert config.storage.data_dir == Path("data")
    assert config.auth.token_env == "GITHUB_TOKEN" and config.auth.mode == "token"
    assert config.github.endpoint == "https://api.github.com/graphql"
    assert config.github.max_in_flight == 4
    assert config.github.thread_budget == 2_000
    assert config.feedback.weights.as_dict() == {
        "THUMBS_UP": 1.0,
        "THUMBS_DOWN": -1.0,
        "LAUGH": 0.0,
        "HOORAY": 1.0,
        "CONFUSED": -1.0,
        "HEART": 1.0,
        "ROCKET": 1.0,
        "EYES": 0.0,
    }
    assert config.feedback.correction_weight == -1.0
    assert config.feedback.trivial_edit_distance == 3
    assert config.export.prompt_body_chars == 2000
    splits = config.export.splits
    assert (splits.train, splits.validation, splits.test) == (0.9, 0.05, 0.05)


def test_load_without_path_uses_defaults_when_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config() == default_config()


def test_load_without_path_reads_harvester_toml_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, '[sources]\norgs = ["ubiquity"]\n')
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.sources.orgs == ("ubiquity",)
    assert config.source_path == tmp_path / "harvester.toml"


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.bots == default_config().bots
    assert config.storage.data_dir == tmp_path / "data"


def test_config_is_frozen() -> None:
    config = default_config()
    with pytest.raises(ValidationError):
        config.github.max_in_flight = 8


# ---- the example file and the reference


def test_example_file_loads_with_its_values() -> None:
    config = load_config(EXAMPLE)
    assert config.source_path == EXAMPLE
    assert config.sources.orgs == ("ubiquity-os",)
    assert config.sources.exclude_repos == ("ubiquity/*-archive", "*/.github")
    assert config.sources.since == datetime(2024, 6, 1, tzinfo=UTC)
    assert set(config.partners) == {"ubiquityos", "acme"}
    ubiquity = config.partners["ubiquityos"]
    assert ubiquity.orgs == ("ubiquity", "ubiquity-os-marketplace")
    assert ubiquity.license == "mit"
    assert ubiquity.system_prompt is not None and "UbiquityOS" in ubiquity.system_prompt
    assert config.partners["acme"].license == "apache-2.0"
    assert "acme-assistant" in config.bots.logins
    dialect = config.bots.custom_dialects[0]
    assert (dialect.name, dialect.json_payload, dialect.plugin) == (
        "acme-assistant",
        "payload",
        "assistant",
    )
    assert dialect.authors == ("acme-assistant",)
    header = '<!-- acme-assistant {"caller": "triage"} -->'
    match = dialect.regex().search(f"Done.\n\n{header}")
    assert match is not None and match.group("payload") == '{"caller": "triage"}'
    assert config.storage.data_dir == ROOT / "data"
    assert config.auth.app is None
    assert config.crawl_orgs == ("ubiquity-os", "ubiquity", "ubiquity-os-marketplace", "acme-labs")
    assert config.crawl_repos == ("octo-org/bot-playground", "acme-partners/assistant-playground")
    assert config.partner_of("Ubiquity/devpool-directory") == "ubiquityos"
    assert config.partner_of("acme-partners/assistant-playground") == "acme"
    assert config.partner_of("ubiquity-os/ubiquity-os-kernel") is None
    assert check_config(config, environ={"GITHUB_TOKEN": FAKE_TOKEN}) == []


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted keys of every setting, with NAME for a partner's table."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        table = _table_in(field.annotation)
        if name == "partners" and table is not None:
            keys.extend(_keys(table, f"{key}.NAME."))
            continue
        keys.append(key)
        if table is not None:
            keys.extend(_keys(table, f"{key}."))
    return keys


def _table_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as `tuple[Annotated[CustomDialect, ...], ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _table_in(arg)
        if found is not None:
            return found
    return None


def test_every_key_is_in_the_reference_and_the_example() -> None:
    reference = REFERENCE.read_text(encoding="utf-8")
    example = EXAMPLE.read_text(encoding="utf-8")
    keys = _keys(HarvesterConfig)
    assert "partners.NAME.license" in keys and "bots.custom_dialects.json" in keys
    for key in keys:
        spellings = (f"`{key}`", f"`[{key}]`")
        assert any(s in reference for s in spellings), f"{key} is not in docs/configuration.md"
        leaf = key.rsplit(".", 1)[-1]
        pattern = rf"^#? ?{re.escape(leaf)} = |^#? ?\[\[?[a-z_.]*\b{re.escape(leaf)}\]"
        assert re.search(pattern, example, re.MULTILINE), f"{key} is missing from the example"


def test_reference_embeds_the_example_verbatim() -> None:
    reference = REFERENCE.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", reference, re.DOTALL)
    assert EXAMPLE.read_text(encoding="utf-8") in blocks


# ---- unknown keys and wrong types


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    found = problems(tmp_path, '[sources]\norg = ["ubiquity"]\n')
    assert found == ['sources.org: unknown key; did you mean "orgs"?']


def test_unknown_key_without_a_close_one_lists_the_allowed(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[storage]\nfolder = 'x'\n")
    assert line == "storage.folder: unknown key; allowed: data_dir"
    [line] = problems(tmp_path, "[partner.acme]\norgs = ['acme']\n")
    assert line == 'partner: unknown key; did you mean "partners"?'


def test_unknown_key_in_a_partner_and_a_custom_dialect(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "[partners.acme]\norgs = ['acme']\nlicence = 'mit'\n"
        "[[bots.custom_dialects]]\nname = 'x'\nheader_pattern = 'x-bot'\njsn = 'none'\n",
    )
    assert 'partners.acme.licence: unknown key; did you mean "license"?' in found
    assert 'bots.custom_dialects[0].jsn: unknown key; did you mean "json"?' in found


def test_wrong_type_names_key_found_and_allowed(tmp_path: Path) -> None:
    found = problems(tmp_path, "[partners.acme]\norgs = ['acme', 3]\nlicense = 3\n")
    assert found == [
        'partners.acme.orgs[1]: expected an organisation login such as "ubiquity" '
        '(letters, digits and "-"), got 3',
        'partners.acme.license: expected a string (an SPDX id such as "mit"), got 3',
    ]


VALUE_ERRORS = [
    (
        "[sources]\norgs = 'ubiquity'",
        'sources.orgs: expected a list of organisation logins, e.g. ["ubiquity"], got "ubiquity"',
    ),
    (
        "[sources]\nrepos = ['devpool']",
        'sources.repos[0]: expected "OWNER/NAME" such as "ubiquity-os/command-ask", got "devpool"',
    ),
    (
        "[sources]\ninclude_forks = 'yes'",
        'sources.include_forks: expected true or false, got "yes"',
    ),
    (
        "[sources]\nrehydrate_days = -1",
        "sources.rehydrate_days: expected a whole number of days, 0 or more, got -1",
    ),
    (
        "[sources]\nsince = 'last week'",
        "sources.since: expected a date such as 2024-06-01 (a TOML date, no quotes) or a "
        'date-time, got "last week"',
    ),
    (
        "[github]\nmax_in_flight = 0",
        "github.max_in_flight: expected an integer from 1 to 100 (requests per token), got 0",
    ),
    (
        "[github]\nmax_in_flight = true",
        "github.max_in_flight: expected an integer from 1 to 100 (requests per token), got true",
    ),
    (
        "[github]\nthread_budget = 10",
        "github.thread_budget: expected an integer from 100 to 1000000 (threads held at once "
        "per token), got 10",
    ),
    (
        "[github.page_sizes]\nnodes = 101",
        "github.page_sizes.nodes: expected an integer from 1 to 100, got 101",
    ),
    (
        "[feedback]\ncorrection_weight = nan",
        "feedback.correction_weight: expected a finite number, got nan",
    ),
    (
        "[export.splits]\ntest = 1.5",
        "export.splits.test: expected a fraction from 0 to 1, got 1.5",
    ),
    (
        "sources = 3",
        "sources: expected a [sources] table, got 3",
    ),
    (
        "[partners]\norgs = ['x']",
        'partners.orgs: expected a table such as [partners.acme] orgs = ["acme"], got ["x"]',
    ),
    (
        "[partners.'Acme Inc']\norgs = ['acme']",
        'partners."Acme Inc": expected a lower-case name of letters, digits, "-" and "_", such '
        'as "acme-bot", got "Acme Inc"',
    ),
    (
        "[auth]\ntoken_env = 'MY-TOKEN'",
        "auth.token_env: expected the name of an environment variable such as "
        '"GITHUB_TOKEN", got "MY-TOKEN"',
    ),
    (
        "[auth.app]\napp_id = 1.5\nprivate_key_env = 'K'",
        "auth.app.app_id: expected the app's numeric id (e.g. 123456) or its client id "
        '(e.g. "Iv23liAbCdEf"), got 1.5',
    ),
    (
        "[auth.app]\nprivate_key_env = 'K'",
        "auth.app.app_id: missing; add it (the app's numeric id (e.g. 123456) or its client "
        'id (e.g. "Iv23liAbCdEf"))',
    ),
    (
        "[bots]\nlogins = ['ubiquity os']",
        'bots.logins[0]: expected a bot login such as "ubiquity-os" (a trailing "[bot]" and '
        '"app/" are removed), got "ubiquity os"',
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALUE_ERRORS)
def test_value_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text + "\n") == [expected]


def test_all_problems_of_a_file_come_together(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "[sources]\norgz = []\nrehydrate_days = 'x'\n[github]\ntimeout_s = 0\n"
        "[feedback.weights]\nSMILE = 1\n",
    )
    assert len(found) == 4
    assert found[0].startswith("sources.rehydrate_days: ")
    assert 'sources.orgz: unknown key; did you mean "orgs"?' in found


def test_partner_license_must_be_one_spdx_id(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[partners.acme]\norgs = ['acme']\nlicense = 'MIT OR GPL'\n")
    assert line.startswith('partners.acme.license: expected one SPDX license id such as "mit"')
    assert line.endswith('got "MIT OR GPL"')


def test_dialect_names_are_checked(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[bots]\ndialects = ['ubiquity']\n")
    assert line.startswith(
        'bots.dialects[0]: expected a built-in dialect ("ubiquityos", "markers")'
    )
    assert 'did you mean "ubiquityos"?' in line


# ---- custom dialects


def dialect(pattern: str, extra: str = "") -> str:
    return f"[[bots.custom_dialects]]\nname = 'acme'\nheader_pattern = '{pattern}'\n{extra}"


def test_regex_that_does_not_compile(tmp_path: Path) -> None:
    [line] = problems(tmp_path, dialect("<!-- acme (?P<x>.*"))
    assert line.startswith(
        "bots.custom_dialects[0].header_pattern: expected a regular expression in RE2 syntax"
    )
    assert "does not compile: missing ): <!-- acme (?P<x>.*" in line


@pytest.mark.parametrize("pattern", ["(?<=x)<!-- acme", "<!-- (a)\\1", "<!-- (?>a+) -->"])
def test_regex_outside_re2_syntax_is_refused(tmp_path: Path, pattern: str) -> None:
    [line] = problems(tmp_path, dialect(pattern))
    assert "expected a regular expression in RE2 syntax" in line
    assert "without lookarounds, backreferences" in line


@pytest.mark.parametrize(
    "pattern", ["<!-- (a+)+ -->", "<!-- (\\w*\\s?)* -->", "x((a)+)+", "(.*,){2,}x"]
)
def test_regex_with_nested_repeats_is_kept_re2_cannot_backtrack(
    tmp_path: Path, pattern: str
) -> None:
    config = load_config(write(tmp_path, dialect(pattern)))
    assert config.bots.custom_dialects[0].header_pattern == pattern


def test_custom_patterns_match_in_linear_time_whatever_they_are(tmp_path: Path) -> None:
    """Patterns that make Python's backtracking engine take 2^n steps on a near miss: with
    RE2 these return at once (with `re`, the first would need about 2^60 steps)."""
    for pattern, body in [
        ("<!-- acme (?:a|a)+!", "<!-- acme " + "a" * 60),
        ("<!-- acme (?:\\w+\\s?){1,30}!", "<!-- acme " + "ab" * 40),
        ("(?s)<!-- acme.*?-->", "<!-- acme " * 20_000),
    ]:
        config = config_from_mapping(
            {"bots": {"custom_dialects": [{"name": "acme", "header_pattern": pattern}]}}
        )
        regex = config.bots.custom_dialects[0].regex()
        assert type(regex).__module__.startswith("re2")
        assert list(regex.finditer(body)) == []


@pytest.mark.parametrize("pattern", ["(<!-- acme)?", "\\b(?:<!-- acme -->)?", "(?m)$"])
def test_regex_that_matches_everything_is_refused(tmp_path: Path, pattern: str) -> None:
    [line] = problems(tmp_path, dialect(pattern))
    assert "matches an empty string, so it would match every comment" in line


def test_json_group_must_exist(tmp_path: Path) -> None:
    [line] = problems(tmp_path, dialect("<!-- acme (?P<meta>.*) -->", "json = 'payload'\n"))
    assert line == (
        'bots.custom_dialects[0].json: expected "after_header", "none" or a named group of '
        'header_pattern (it has: "meta"), got "payload"'
    )


def test_custom_dialect_names_are_unique_and_not_builtin(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "[[bots.custom_dialects]]\nname = 'markers'\nheader_pattern = 'x'\n"
        "[[bots.custom_dialects]]\nname = 'acme'\nheader_pattern = 'y'\n"
        "[[bots.custom_dialects]]\nname = 'acme'\nheader_pattern = 'z'\n",
    )
    assert found == [
        'bots.custom_dialects[0].name: "markers" is a built-in dialect; pick another name',
        'bots.custom_dialects[2].name: "acme" already names bots.custom_dialects[1]',
    ]


def test_custom_dialect_authors_are_normalised(tmp_path: Path) -> None:
    text = dialect("<!-- acme", "authors = ['Acme-Bot[bot]', 'app/other']\nplugin = 'triage'\n")
    config = load_config(write(tmp_path, text))
    assert config.bots.custom_dialects[0].authors == ("acme-bot", "other")
    assert config.bots.custom_dialects[0].json_payload == "after_header"


# ---- partners


def test_org_in_two_partners_names_both(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "[partners.ubiquityos]\norgs = ['ubiquity', 'ubiquity-os-marketplace']\n"
        "[partners.acme]\norgs = ['acme-labs', 'Ubiquity']\n",
    )
    assert found == [
        'partners.acme.orgs[1]: org "Ubiquity" also belongs to partner "ubiquityos" '
        "(partners.ubiquityos.orgs[0]); an org belongs to one partner only, so that an export "
        'never mixes partners: remove it from "acme" or "ubiquityos"'
    ]


def test_repo_of_another_partners_org_or_in_two_partners(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "[partners.ubiquityos]\norgs = ['ubiquity']\nrepos = ['acme/shared']\n"
        "[partners.acme]\nrepos = ['ubiquity/devpool', 'ACME/shared']\n",
    )
    assert found[0].startswith('partners.acme.repos[0]: repo "ubiquity/devpool" is in an org of')
    assert '"ubiquityos"' in found[0]
    assert found[1].startswith('partners.acme.repos[1]: repo "ACME/shared" also belongs to')


def test_partner_needs_an_org_or_a_repo(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[partners.acme]\nlicense = 'mit'\n")
    assert line == (
        'partners.acme: a partner needs at least one org or repo; add orgs = ["ORG"] or '
        'repos = ["OWNER/NAME"]'
    )


# ---- secrets


def test_literal_token_is_refused_and_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, f'[auth]\ntoken = "{FAKE_TOKEN}"\n[github]\ntimeout_s = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: auth.token: a token must not be written in the config")
    assert "environment variable" in message and 'token_env = "GITHUB_TOKEN"' in message
    assert "github.timeout_s: expected" in message
    assert FAKE_TOKEN not in message and FAKE_TOKEN not in repr(caught.value)
    # Nothing chained to the error (a pydantic error would hold the input) can carry it.
    assert caught.value.__cause__ is None and caught.value.__context__ is None


@pytest.mark.parametrize(
    "text",
    [
        f'[auth]\ntoken_env = "{FAKE_PAT}"\n',
        f'[auth]\ntoken_envs = ["GH_2", "{FAKE_TOKEN}"]\n',
        f'[partners.acme]\norgs = ["acme"]\nsystem_prompt = "use {FAKE_TOKEN}"\n',
        f'[github]\ntoken = "{FAKE_TOKEN}"\n',
    ],
)
def test_token_anywhere_is_refused_and_not_echoed(tmp_path: Path, text: str) -> None:
    found = problems(tmp_path, text)
    assert len(found) == 1
    assert "environment variable" in found[0]
    assert FAKE_TOKEN not in found[0] and FAKE_PAT not in found[0]


def test_literal_private_key_is_refused(tmp_path: Path) -> None:
    text = f"[auth.app]\napp_id = 1\nprivate_key = '''{PEM}'''\nprivate_key_env = 'K'\n"
    [line] = problems(tmp_path, text)
    assert line.startswith("auth.app.private_key: a private key must not be written")
    assert "private_key_path" in line and "MIIE" not in line


def test_private_key_text_as_a_value_is_refused(tmp_path: Path) -> None:
    text = f"[auth.app]\napp_id = 1\nprivate_key_path = '''{PEM}'''\n"
    line, then = problems(tmp_path, text)
    assert line.startswith("auth.app.private_key_path: this value looks like a token or private")
    assert "named by auth.app.private_key_path" in line and "MIIE" not in line
    assert then.startswith("auth.app: set exactly one of private_key_path")


def test_a_partner_may_have_a_secret_sounding_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[partners.secret]\norgs = ['acme']\n"))
    assert config.partner_of("acme/bot") == "secret"


def test_syntax_error_does_not_echo_a_token(tmp_path: Path) -> None:
    path = write(tmp_path, f'[auth]\ntoken = "{FAKE_TOKEN}" oops\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert FAKE_TOKEN not in str(caught.value)


def test_repr_and_dumps_never_show_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GH_TOKEN_2", FAKE_PAT)
    config = load_config(write(tmp_path, '[auth]\ntoken_envs = ["GH_TOKEN_2"]\n'))
    tokens = config.auth.read_tokens()
    assert [token.get_secret_value() for token in tokens] == [FAKE_TOKEN, FAKE_PAT]
    shown = [repr(config), str(config), config.model_dump_json(), repr(tokens), str(tokens)]
    shown += check_config(config)
    for text in shown:
        assert FAKE_TOKEN not in text and FAKE_PAT not in text


# ---- splits, weights, thresholds


def test_splits_must_sum_to_one(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[export.splits]\ntrain = 0.8\n")
    assert line == (
        "export.splits: train + validation + test must sum to 1, got 0.8 + 0.05 + 0.05 = 0.9; "
        "adjust them"
    )


def test_splits_can_be_changed_together(tmp_path: Path) -> None:
    text = "[export.splits]\ntrain = 0.8\nvalidation = 0.1\ntest = 0.1\n"
    splits = load_config(write(tmp_path, text)).export.splits
    assert (splits.train, splits.validation, splits.test) == (0.8, 0.1, 0.1)


def test_bad_reaction_name_in_weights(tmp_path: Path) -> None:
    found = problems(tmp_path, "[feedback.weights]\nthumbs_up = 2\nSMILE = 1\n")
    assert found == [
        "feedback.weights.thumbs_up: unknown reaction (a GitHub ReactionContent name); did you "
        'mean "THUMBS_UP"?',
        "feedback.weights.SMILE: unknown reaction (a GitHub ReactionContent name); allowed: "
        "THUMBS_UP, THUMBS_DOWN, LAUGH, HOORAY, CONFUSED, HEART, ROCKET, EYES",
    ]


def test_weights_merge_over_the_defaults(tmp_path: Path) -> None:
    text = "[feedback.weights]\nCONFUSED = -2\nEYES = 0.5\n"
    weights = load_config(write(tmp_path, text)).feedback.weights
    assert weights.CONFUSED == -2.0 and weights.EYES == 0.5 and weights.THUMBS_UP == 1.0


def test_thresholds_must_not_overlap(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[export]\nmax_negative_score = 1\n")
    assert line.startswith(
        "export.max_negative_score: expected a score below export.min_positive_score (1.0), got 1.0"
    )


# ---- TOML syntax and files


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources]\norgs = ["ubiquity"]\nrepos = [ubiquity/devpool]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    first, shown, caret = str(caught.value).splitlines()
    assert first == f"{path}: line 3, column 10: invalid TOML: Invalid value"
    assert shown == "    repos = [ubiquity/devpool]"
    assert caret == "    " + " " * 9 + "^"


def test_toml_error_at_end_of_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources]\norgs = ["ubiquity"')
    with pytest.raises(ConfigError, match=r": end of file: invalid TOML: .*unclosed"):
        load_config(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: file not found; copy harvester.example.toml")


# ---- values and helpers


@pytest.mark.parametrize(
    ("login", "normal"),
    [
        ("ubiquity-os", "ubiquity-os"),
        ("ubiquity-os[bot]", "ubiquity-os"),
        ("app/ubiquity-os", "ubiquity-os"),
        ("App/UbiquityOS[BOT]", "ubiquityos"),
        (" @Ubiquity-OS ", "ubiquity-os"),
        ("0x4007", "0x4007"),
    ],
)
def test_normalise_login(login: str, normal: str) -> None:
    assert normalise_login(login) == normal


def test_bot_logins_are_normalised_and_matched_in_any_spelling(tmp_path: Path) -> None:
    text = '[bots]\nlogins = ["CodeRabbitAI[bot]", "app/acme-assistant"]\n'
    bots = load_config(write(tmp_path, text)).bots
    assert bots.logins == ("coderabbitai", "acme-assistant")
    assert bots.is_bot_login("coderabbitai") and bots.is_bot_login("app/CodeRabbitAI")
    assert not bots.is_bot_login("ubiquity-os")


def test_triggers_match_whole_words_in_any_case() -> None:
    bots = default_config().bots
    assert bots.invokes_bot("/ask what does this do?")
    assert bots.invokes_bot("thanks @ubiquityos, and what about x?")
    assert not bots.invokes_bot("/asking for a friend")
    assert not bots.invokes_bot("mail me at me@UbiquityOS")


def test_exclude_patterns(tmp_path: Path) -> None:
    text = '[sources]\nexclude_repos = ["ubiquity/*-archive", "*/.github"]\n'
    sources = load_config(write(tmp_path, text)).sources
    assert sources.is_excluded("Ubiquity/old-archive")
    assert sources.is_excluded("acme/.github")
    assert not sources.is_excluded("ubiquity/devpool-directory")


def test_exclude_pattern_needs_an_owner(tmp_path: Path) -> None:
    [line] = problems(tmp_path, '[sources]\nexclude_repos = ["*-archive"]\n')
    assert line.startswith('sources.exclude_repos[0]: expected an "OWNER/NAME" pattern')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01", datetime(2024, 6, 1, tzinfo=UTC)),
        ("2024-06-01T12:30:00", datetime(2024, 6, 1, 12, 30, tzinfo=UTC)),
        ("2024-06-01T12:30:00+02:00", datetime(2024, 6, 1, 10, 30, tzinfo=UTC)),
        ('"2024-06-01"', datetime(2024, 6, 1, tzinfo=UTC)),
    ],
)
def test_since_is_utc(tmp_path: Path, value: str, expected: datetime) -> None:
    config = load_config(write(tmp_path, f"[sources]\nsince = {value}\n"))
    assert config.sources.since == expected


@pytest.mark.parametrize(
    ("endpoint", "rest"),
    [
        ("https://api.github.com/graphql", "https://api.github.com"),
        ("https://github.acme.corp/api/graphql", "https://github.acme.corp/api/v3"),
        ("https://api.acme.ghe.com/graphql", "https://api.acme.ghe.com"),
        ("http://127.0.0.1:8080/graphql", "http://127.0.0.1:8080"),
    ],
)
def test_endpoints(tmp_path: Path, endpoint: str, rest: str) -> None:
    github = load_config(write(tmp_path, f'[github]\nendpoint = "{endpoint}"\n')).github
    assert github.endpoint == endpoint and github.rest_url == rest


def test_plain_http_is_refused_outside_localhost(tmp_path: Path) -> None:
    [line] = problems(tmp_path, '[github]\nendpoint = "http://github.acme.corp/api/graphql"\n')
    assert line.startswith("github.endpoint: plain http would send the token unencrypted")


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    text = (
        '[storage]\ndata_dir = "harvest"\n'
        '[auth.app]\napp_id = "Iv23liAbCdEf"\nprivate_key_path = "keys/app.pem"\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.storage.data_dir == tmp_path / "harvest"
    assert config.auth.app is not None
    assert config.auth.app.private_key_path == tmp_path / "keys" / "app.pem"
    assert config.auth.app.app_id == "Iv23liAbCdEf" and config.auth.mode == "app"


def test_app_needs_exactly_one_key_source(tmp_path: Path) -> None:
    [line] = problems(tmp_path, "[auth.app]\napp_id = 1\n")
    assert line.startswith("auth.app: set exactly one of private_key_path")


# ---- check_config


def test_check_defaults_reports_scope_and_token() -> None:
    found = check_config(default_config(), environ={})
    assert found == [
        "(defaults): sources: nothing to crawl: sources.orgs, sources.repos and the partners "
        'name no organisation or repository; add e.g. sources.orgs = ["your-org"] '
        "(harvester demo needs none)",
        "(defaults): auth.token_env: environment variable GITHUB_TOKEN is not set; export it "
        "with a token that can read the repositories, or configure [auth.app]",
    ]


def test_check_reports_each_unset_token_variable(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources]\norgs = ["acme"]\n[auth]\ntoken_envs = ["GH_2", "GH_3"]\n')
    found = check_config(load_config(path), environ={"GITHUB_TOKEN": "t", "GH_3": "t"})
    assert found == [
        f"{path}: auth.token_envs[0]: environment variable GH_2 is not set; export it with a "
        "token that can read the repositories, or configure [auth.app]"
    ]


def test_check_reports_a_missing_private_key_file(tmp_path: Path) -> None:
    text = '[sources]\norgs = ["acme"]\n[auth.app]\napp_id = 1\nprivate_key_path = "app.pem"\n'
    config = load_config(write(tmp_path, text))
    [line] = check_config(config, environ={})
    assert f'auth.app.private_key_path: "{tmp_path / "app.pem"}" does not exist' in line
    assert config.auth.app is not None
    with pytest.raises(ConfigError, match="does not exist"):
        config.auth.app.read_private_key()
    (tmp_path / "app.pem").write_text("not a key", encoding="utf-8")
    [line] = check_config(config, environ={})
    assert "holds no PEM private key" in line
    (tmp_path / "app.pem").write_text(PEM, encoding="utf-8")
    assert check_config(config, environ={}) == []
    assert config.auth.app.read_private_key().get_secret_value() == PEM


def test_check_private_key_from_environment(tmp_path: Path) -> None:
    text = '[sources]\norgs = ["acme"]\n[auth.app]\napp_id = 1\nprivate_key_env = "APP_KEY"\n'
    config = load_config(write(tmp_path, text))
    [line] = check_config(config, environ={})
    assert "auth.app.private_key_env: environment variable APP_KEY is not set" in line
    assert check_config(config, environ={"APP_KEY": PEM}) == []


def test_check_reports_scope_oddities(tmp_path: Path) -> None:
    text = (
        '[sources]\nexclude_repos = ["acme/*"]\nsince = 2999-01-01\n'
        '[partners.acme]\nrepos = ["acme/bot"]\n'
        '[auth.app]\napp_id = 1\nprivate_key_env = "K"\n'
        "[auth.app.installation_ids]\nother = 5\n"
        '[github]\nendpoint = "https://github.acme.corp/api"\n'
    )
    found = [
        line.split(": ", 1)[1]
        for line in check_config(load_config(write(tmp_path, text)), environ={"K": PEM})
    ]
    assert [line.split(":", 1)[0] for line in found] == [
        "partners.acme.repos[0]",
        "sources.since",
        "auth.app.installation_ids.other",
        "github.endpoint",
    ]


def test_a_custom_dialect_cannot_take_a_parser_dialect_name(tmp_path: Path) -> None:
    path = tmp_path / "harvester.toml"
    path.write_text(
        '[[bots.custom_dialects]]\nname = "sdk-v1"\nheader_pattern = "<!-- acme-bot"\n'
    )
    with pytest.raises(ConfigError, match='"sdk-v1" is a built-in dialect'):
        load_config(path)


def test_the_thread_budget_reaches_the_crawler(tmp_path: Path) -> None:
    from harvester.operator import crawl_options

    cfg = config_from_mapping({"github": {"thread_budget": 500}})
    options = crawl_options(
        cfg,
        data_dir=tmp_path,
        endpoint="http://localhost:1/graphql",
        sources=[],
        full_refresh=False,
        rehydrate_days=None,
    )
    assert options.thread_budget == 500
