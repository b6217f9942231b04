"""The text of simulated comments, in every header generation real UbiquityOS bots wrote.

Each bot body is returned as a `Rendered`: `prefix + visible + suffix`, where `visible` is what a
reader sees (the answer text the ground truth records) and prefix/suffix hold only tracking lines,
metadata blocks and markers. Keeping the parts apart lets a simulated human correct the visible
text while leaving the hidden block alone, as people do in GitHub's editor.

The wording is our own; only the shapes (header lines, field orders, escaping, `--!>`) follow
`docs/ubiquity-metadata.md`. Every function takes its own `random.Random`, so the world stays
deterministic from its seed.
"""

from __future__ import annotations

import json
import random
from calendar import timegm
from dataclasses import dataclass
from time import gmtime, strftime
from typing import Any

# Header generation names: the ground truth's `dialect` values.
LEGACY = "ubiquity_legacy"  # <!-- Ubiquity - CLASS - CALLER - REVISION
LEGACY_RUN_URL = "ubiquity_legacy_run_url"  # ... - REVISION - RUN_URL (daemon-disqualifier)
ASK_LEGACY = (
    "command_ask_llm_response"  # <!-- Ubiquity - ubiquity-os-llm-response - CALLER - undefined
)
SDK_V1 = "sdk_v1"  # <!-- Ubiquity - undefined -  - undefined
SDK_2024_12 = "sdk_instigator_first"  # <!-- UbiquityOS - @INSTIGATOR - RUN_URL - CALLER - VERSION
SDK_V2_0_0 = "sdk_v2_0_0"  # <!-- UbiquityOS - RUN_URL - CALLER - VERSION - @INSTIGATOR
SDK_V2 = "sdk_v2"  # <!-- UbiquityOS - CALLER - VERSION - @INSTIGATOR - RUN_URL
TOKEN_USAGE = "token_usage"  # <!-- + JSON + --!> (no header line)
CLAUDE = "claude_task"  # "**UbiquityOS finished @u's task in 12s** —— [View job](...)", no JSON
NONE = "none"  # no header at all
GENERATIONS: tuple[str, ...] = (
    LEGACY,
    LEGACY_RUN_URL,
    ASK_LEGACY,
    SDK_V1,
    SDK_2024_12,
    SDK_V2_0_0,
    SDK_V2,
    TOKEN_USAGE,
    CLAUDE,
)
_ESCAPED = frozenset({ASK_LEGACY, SDK_V1, SDK_2024_12, SDK_V2_0_0, SDK_V2, TOKEN_USAGE})

# Comment kinds of the ground truth.
LLM_ANSWER = "llm_answer"
COMMAND_RESPONSE = "command_response"
LOG = "log"
MARKER = "marker"
REVIEW_CONTAINER = "review_container"  # a bot's empty review that only holds inline replies

# Marker names (a marker is a tracking comment, never answer metadata).
MARK_DISQUALIFIER = "daemon-disqualifier"
MARK_SPEC_REWRITER = "daemon-spec-rewriter"
MARK_TASK_MATCHER = "daemon-task-matcher"
MARK_AGENT = "ubiquityos-agent"
MARK_LLM_502 = "upstream-llm-502"
MARKERS: tuple[str, ...] = (
    MARK_DISQUALIFIER,
    MARK_SPEC_REWRITER,
    MARK_TASK_MATCHER,
    MARK_AGENT,
    MARK_LLM_502,
)

PLACEHOLDERS: tuple[str, ...] = (
    "Thinking...",
    "> [!TIP]\n> Thinking...",
    "UbiquityOS is thinking...",
)


def ts(day: str) -> int:
    """Epoch seconds of a `YYYY-MM-DD` UTC date."""
    y, m, d = (int(p) for p in day.split("-"))
    return timegm((y, m, d, 0, 0, 0, 0, 0, 0))


def iso(t: int) -> str:
    return strftime("%Y-%m-%dT%H:%M:%SZ", gmtime(t))


# Eras (epoch seconds): when each generation was written.
WORLD_START = ts("2017-01-01")
EDIT_HISTORY_START = ts("2018-03-01")  # GitHub keeps no revision text before this
UBIQUIBOT_START = ts("2023-03-01")
ASK_START = ts("2024-07-01")
ASK_LEGACY_START = ts("2024-10-15")
UBIQUITY_OS_START = ts("2024-10-01")  # the bot's login moves from ubiquibot to ubiquity-os
SDK_V1_START = ts("2024-11-01")
SDK_2024_12_START = ts("2024-12-20")
SDK_V2_0_0_START = ts("2025-01-02")
SDK_V2_START = ts("2025-01-17")
ASK_LEGACY_END = ts("2025-02-20")
LEGACY_END = ts("2025-06-01")  # plugin-local copies of the legacy header fade out
CLAUDE_START = ts("2025-09-01")
COMMENT_KIND_START = ts("2026-01-01")  # SDK 3.9: commentKind key, minimizes old Q&A
WORLD_NOW = ts("2026-03-01")


def ask_dialect(rng: random.Random, t: int) -> str:
    """The generation an `/ask` answer posted at `t` was written in (overlaps at migrations)."""
    if t < ASK_LEGACY_START:
        return TOKEN_USAGE
    if t < SDK_2024_12_START:
        return ASK_LEGACY
    if t < ASK_LEGACY_END:
        newer = SDK_2024_12 if t < SDK_V2_0_0_START else SDK_V2_0_0 if t < SDK_V2_START else SDK_V2
        return newer if rng.random() < 0.5 else ASK_LEGACY
    if t < CLAUDE_START:
        return SDK_V2
    return CLAUDE if rng.random() < 0.7 else SDK_V2


def plugin_dialect(rng: random.Random, t: int) -> str:
    """The generation of a non-LLM plugin's output at `t` (legacy copies linger until mid 2025)."""
    roll = rng.random()
    if t < SDK_V1_START:
        return LEGACY
    if t < SDK_2024_12_START:
        return SDK_V1 if roll < 0.6 else LEGACY
    if t < SDK_V2_0_0_START:
        return SDK_2024_12 if roll < 0.8 else LEGACY
    if t < SDK_V2_START:
        return SDK_V2_0_0 if roll < 0.8 else LEGACY
    if t < LEGACY_END:
        return SDK_V2 if roll < 0.85 else LEGACY
    return SDK_V2


def uses_placeholder(dialect: str, t: int) -> bool:
    """Since Jan 2025 SDK and Claude answers start as a placeholder the bot edits later."""
    return t >= SDK_V2_0_0_START and dialect in (SDK_V2_0_0, SDK_V2, CLAUDE)


@dataclass(slots=True)
class Rendered:
    prefix: str  # tracking lines before the answer (Claude's job line)
    visible: str  # the answer text a reader sees; never starts or ends with whitespace
    suffix: str  # metadata blocks and markers
    dialects: tuple[str, ...]
    plugin: str | None
    caller: str | None
    kind: str
    markers: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        return self.prefix + self.visible + self.suffix

    def with_visible(self, visible: str) -> str:
        return self.prefix + visible + self.suffix


@dataclass(slots=True)
class Context:
    """Who and where: what header fields and answers refer to."""

    t: int
    asker: str  # the human who invoked the bot
    instigator: str  # the SDK header's @field: a login or an org display name (may hold spaces)
    org: str
    repo: str
    number: int


# ---------- word banks (our own wording)
TOPICS: tuple[str, ...] = (
    "the permit generation",
    "the wallet command",
    "the pricing labels",
    "the assignment timer",
    "the reward formula",
    "the Supabase migration",
    "the webhook handler",
    "the worker deploy",
    "the plugin manifest",
    "the rate limiter",
    "the devpool sync",
    "the event routing",
    "the app permissions",
    "the ESLint setup",
    "the Jest suite",
    "the context window",
    "the embeddings table",
    "the retry policy",
    "the cron schedule",
    "the review precheck",
    "the label sync",
    "the payout threshold",
    "the config schema",
    "the kernel bridge",
    "the markdown renderer",
    "the org allow-list",
    "the token refresh",
    "the issue templates",
)
FILES: tuple[str, ...] = (
    "handlers/comment-created",
    "helpers/permits",
    "types/plugin-input",
    "adapters/supabase",
    "handlers/issue-closed",
    "helpers/label-sync",
    "utils/retry",
    "parser/markdown",
    "handlers/pull-review",
    "adapters/openai",
    "helpers/wallet",
    "types/config",
    "main",
    "worker",
)
FUNCS: tuple[str, ...] = (
    "handleComment",
    "generatePermits",
    "syncLabels",
    "fetchContext",
    "computeReward",
    "assignUser",
    "parseConfig",
    "retryWithBackoff",
    "findLinkedPulls",
    "buildPrompt",
)
_ANSWER_LINES: tuple[str, ...] = (
    "{T} is implemented in `src/{f}.ts`, where `{fn}` reads the configuration first.",
    "When {t} fails, the plugin logs the error and retries up to {n} times.",
    "The short answer: {t} only runs for collaborators, so outside contributors see nothing.",
    "Looking at the linked pull request, {t} now streams results instead of buffering them.",
    "You can change {t} in `.ubiquity-os.config.yml` without redeploying the worker.",
    "The default limit for {t} is {n}, which matches the value in the README.",
    "`{fn}` is called once per event, so {t} is not affected by duplicate webhooks.",
    "There is an open issue about {t}; the workaround is to re-run the command.",
    "In short, {t} depends on the issue's price label being set before assignment.",
    "The tests for {t} live next to the handler and mock the GitHub API.",
    "{T} caches the result for {n} minutes, so a change can take a moment to show.",
    "If the wallet is missing, {t} skips that contributor and reports it in the summary.",
)
_ANSWER_BULLETS: tuple[str, ...] = (
    "- check the plugin's logs in the Actions run",
    "- confirm the label exists in the repository",
    "- make sure the wallet is registered with `/wallet`",
    "- re-run the command after the configuration change",
    "- look at `{fn}` for the exact condition",
    "- compare with the behaviour on the staging org",
)
_CODE_SNIPPETS: tuple[str, ...] = (
    "```bash\nbun run test -- --watch\n```",
    "```ts\nconst reward = computeReward(comments, { multiplier: 1.5 });\n```",
    "```yaml\nplugins:\n  - uses:\n      - plugin: ubiquity-os-marketplace/command-ask\n```",
    "```ts\nif (!context.payload.comment) return;\n```",
)
# Ground truths often carry code: `<`, `>`, `--` and backticks exercise the SDK escaping.
_GROUND_TRUTHS: tuple[str, ...] = (
    "TypeScript",
    "Cloudflare Workers",
    "Supabase",
    "GitHub Actions",
    "Jest",
    "Deno",
    "Array<string> return types",
    "npx wrangler deploy --env dev",
    "a --> b data flow",
    "`bun install --frozen-lockfile`",
    "Promise<void> handlers",
    "x > 0 && y < 10",
)
_QUESTIONS: tuple[str, ...] = (
    "how does {t} work?",
    "can you explain {t} in a few lines?",
    "why does {t} fail for me?",
    "what changed in {t} recently?",
    "is {t} covered by tests?",
    "where is {t} configured?",
    "summarise the discussion about {t}",
    "what would break if we removed {t}?",
    "which file handles {t}?",
    "does {t} run on forks too?",
)
_INVOKES: tuple[str, ...] = (
    "/ask {q}",
    "/ask {q}",
    "/ASK {q}",
    "@UbiquityOS {q}",
    "@ubiquityos {q}",
    "@UBIQUITYOS {q}",
    "@UbiquityOs {q}",
    "Hey @UbiquityOS, {q}",
)
_CHATTER: tuple[str, ...] = (
    "I can take a look at this later today.",
    "This still reproduces on the latest main.",
    "Pushed a fix, please review when you have time.",
    "Thanks, that worked for me.",
    "Could you share the logs from the failing run?",
    "I think the spec needs more detail here.",
    "Closing this as it was fixed in the linked pull request.",
    "Is anyone working on {t}?",
    "I'd rather keep {t} as it is until the migration lands.",
    "LGTM, merging after CI passes.",
    "The deadline seems tight for {t}.",
    "Can we split this into two tasks?",
    "Moving this to the next sprint.",
    "Works on my machine, but not in the Actions runner.",
    "I updated the description with the acceptance criteria.",
    "Sorry for the delay on this one.",
    "What about the edge case when {t} times out?",
    "Added a test that covers {t}.",
    "This looks like a duplicate of an older issue.",
    "Good catch, I missed that.",
)
_TITLES: tuple[str, ...] = (
    "Fix {t}",
    "{T} is broken on forks",
    "Refactor {t}",
    "Document {t}",
    "Speed up {t}",
    "{T} reports the wrong amount",
    "Add tests for {t}",
    "Remove the old {t}",
    "Make {t} configurable",
    "{T} times out on large repositories",
)
_REVIEW_REMARKS: tuple[str, ...] = (
    "This branch never resets the counter, so a retry will double count.",
    "Consider extracting this into a helper; the same check appears twice.",
    "The error is swallowed here, which makes failures hard to debug.",
    "`await` inside the loop serialises the requests; `Promise.all` would be faster.",
    "This name shadows the outer variable.",
    "A null check is missing before accessing the payload.",
    "The magic number should come from the configuration.",
)
_CORRECTION_NOTES: tuple[str, ...] = (
    "Note: this changed in the last release, see the changelog.",
    "Edit: the limit is per organisation, not per repository.",
    "Correction: the command needs the collaborator role.",
    "Update: the config key was renamed to `maxRetries`.",
    "Also, the worker has to be redeployed after this change.",
)
_WORD_FIXES: tuple[tuple[str, str], ...] = (
    ("first", "last"),
    ("once", "twice"),
    ("only", "also"),
    ("missing", "empty"),
    ("collaborators", "members"),
    ("minutes", "seconds"),
    ("README", "wiki"),
    ("retries", "aborts"),
    ("skips", "rejects"),
    ("tests", "fixtures"),
)
_PATHS: tuple[str, ...] = (
    "src/handlers/comment-created.ts",
    "src/helpers/permits.ts",
    "src/types/config.ts",
    "src/adapters/supabase.ts",
    "src/utils/retry.ts",
    "tests/main.test.ts",
    "src/worker.ts",
)
HUMAN_REVIEW_BODIES: tuple[str, ...] = (
    "Looks good overall, a few nits inline.",
    "Please address the comments before merging.",
    "Approved, thanks!",
    "",
    "A couple of questions inline.",
)


def _fill(template: str, rng: random.Random, topic: str) -> str:
    return template.format(
        t=topic,
        T=topic[0].upper() + topic[1:],
        f=rng.choice(FILES),
        fn=rng.choice(FUNCS),
        n=rng.randint(2, 30),
    )


def topic(rng: random.Random) -> str:
    return rng.choice(TOPICS)


def title(rng: random.Random, subject: str) -> str:
    return _fill(rng.choice(_TITLES), rng, subject)


def thread_body(rng: random.Random, subject: str, is_pr: bool, linked: int) -> str:
    if is_pr:
        return f"Resolves #{linked}\n\n{_fill(rng.choice(_ANSWER_LINES), rng, subject)}"
    return f"{_fill(rng.choice(_CHATTER), rng, subject)}\n\n- [ ] {subject} works as described"


def plant_secret(body: str, index: int) -> str:
    """Real threads sometimes hold what must never reach a training set: every 40th thread
    body gets an e-mail address, every 97th a (fake) token. Chosen by index, not drawn, so the
    random stream, and with it the rest of the world, stays as it was."""
    if index % 40 == 7:
        body += f"\n\nReach me at dev{index}@example.org if you need the logs."
    if index % 97 == 11:
        body += f"\n\nCI runs with GITHUB_TOKEN set to ghp_{index:0>36} for now."
    return body


def chatter(rng: random.Random, subject: str) -> str:
    text = _fill(rng.choice(_CHATTER), rng, subject)
    if rng.random() < 0.3:
        text += " " + _fill(rng.choice(_CHATTER), rng, subject)
    return text


def question(rng: random.Random, subject: str) -> str:
    """A human comment that invokes the bot, in one of the spellings people use."""
    return rng.choice(_INVOKES).format(q=_fill(rng.choice(_QUESTIONS), rng, subject))


def mention_question(rng: random.Random, login: str, subject: str) -> str:
    return f"@{login} {_fill(rng.choice(_QUESTIONS), rng, subject)}"


def answer_text(rng: random.Random, subject: str) -> str:
    """A plausible LLM answer: sentences, sometimes a list or a code block."""
    lines = [_fill(rng.choice(_ANSWER_LINES), rng, subject) for _ in range(rng.randint(1, 3))]
    parts = [" ".join(lines)]
    if rng.random() < 0.4:
        parts.append("\n".join(_fill(b, rng, subject) for b in rng.sample(_ANSWER_BULLETS, 2)))
    if rng.random() < 0.25:
        parts.append(rng.choice(_CODE_SNIPPETS))
    return "\n\n".join(parts)


def correct(rng: random.Random, text: str) -> str:
    """What a human's edit does to an answer: fix a word, rewrite a line, or add a sentence.

    Code blocks are left alone; the result always differs from `text`.
    """
    roll = rng.random()
    if roll < 0.4:
        for old, new in rng.sample(_WORD_FIXES, len(_WORD_FIXES)):
            if f" {old} " in text:
                return text.replace(f" {old} ", f" {new} ", 1)
    if roll < 0.7:
        lines = text.split("\n")
        prose = _prose_lines(lines)
        if prose:
            i = rng.choice(prose)
            lines[i] = lines[i].rstrip(".") + ", as of the current release."
            return "\n".join(lines)
    return f"{text}\n\n{rng.choice(_CORRECTION_NOTES)}"


def _prose_lines(lines: list[str]) -> list[int]:
    out, fenced = [], False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line[:1].isalpha():
            out.append(i)
    return out


# ---------- header fields
def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def revision(rng: random.Random) -> str:
    roll = rng.random()
    return _hex(rng, 7) if roll < 0.8 else ("null" if roll < 0.9 else "undefined")


def version(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return _hex(rng, 40)
    if roll < 0.75:
        return _hex(rng, 64)  # a Deno deployment id
    return "undefined" if roll < 0.9 else "[missing CF_VERSION_METADATA]"


def _run_id(rng: random.Random) -> int:
    return rng.randint(10**9, 2 * 10**10)


def run_url(rng: random.Random, plugin: str, *, actions_only: bool = False) -> str:
    """Where the plugin ran: an Actions run, a Cloudflare worker or a Deno deployment."""
    roll = 0.0 if actions_only else rng.random()
    if roll < 0.5:
        return f"https://github.com/ubiquity-os-marketplace/{plugin}/actions/runs/{_run_id(rng)}"
    if roll < 0.8:
        return f"https://ubiquity-os-{plugin}-main.ubiquity.workers.dev"
    deployment = _hex(rng, 12)
    return (
        f"https://console.deno.com/ubiquity-os/{plugin}/observability/logs?deployment={deployment}"
    )


def _escape(value: Any, backticks: bool) -> Any:
    if isinstance(value, str):
        out = value.replace("<", "&lt;").replace(">", "&gt;").replace("--", "&#45;&#45;")
        return out.replace("`", "&#96;") if backticks else out
    if isinstance(value, dict):
        return {k: _escape(v, backticks) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v, backticks) for v in value]
    return value


def block(
    dialect: str,
    payload: Any,
    *,
    cls: str = "ok",
    caller: str = "",
    rev: str = "undefined",
    url: str = "",
    instigator: str = "",
    ver: str = "undefined",
    backticks: bool = False,
) -> str:
    """One hidden metadata block (header line, pretty JSON, close) of the given generation."""
    if dialect in _ESCAPED:
        payload = _escape(payload, backticks)
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    if dialect == TOKEN_USAGE:
        return f"<!--\n{text}\n--!>"
    head = {
        LEGACY: f"<!-- Ubiquity - {cls} - {caller} - {rev}",
        LEGACY_RUN_URL: f"<!-- Ubiquity - {cls} - {caller} - {rev} - {url}",
        ASK_LEGACY: f"<!-- Ubiquity - ubiquity-os-llm-response - {caller} - undefined",
        SDK_V1: "<!-- Ubiquity - undefined -  - undefined",
        SDK_2024_12: f"<!-- UbiquityOS - @{instigator} - {url} - {caller} - {ver}",
        SDK_V2_0_0: f"<!-- UbiquityOS - {url} - {caller} - {ver} - @{instigator}",
        SDK_V2: f"<!-- UbiquityOS - {caller} - {ver} - @{instigator} - {url}",
    }[dialect]
    return f"{head}\n{text}\n-->"


def sdk_block(
    rng: random.Random,
    dialect: str,
    ctx: Context,
    plugin: str,
    caller: str,
    payload: dict[str, Any],
    *,
    response: bool = True,
    backticks: bool = False,
) -> str:
    """A block written by the plugin SDK (any SDK generation) on behalf of `plugin`."""
    payload = {"caller": caller, **payload}
    if dialect == SDK_V2 and response and ctx.t >= COMMENT_KIND_START:
        payload["commentKind"] = "command-response"
    return block(
        dialect,
        payload,
        caller=caller,
        url=run_url(rng, plugin),
        instigator=ctx.instigator,
        ver=version(rng),
        backticks=backticks,
    )


def _token_usage(rng: random.Random) -> dict[str, int]:
    inp, out = rng.randint(800, 24000), rng.randint(80, 1500)
    return {"input": inp, "output": out, "total": inp + out}


def _ground_truths(rng: random.Random) -> list[str]:
    return [rng.choice(_GROUND_TRUTHS[8:]), *rng.sample(_GROUND_TRUTHS[:8], rng.randint(1, 3))]


# ---------- LLM answers
ASK_CALLERS: tuple[str, ...] = ("processCommentCallback", "askQuestion", "Object.<anonymous>")


def ask_answer(rng: random.Random, dialect: str, answer: str, ctx: Context) -> Rendered:
    """An `/ask` answer by command-ask in `dialect` (any LLM-answer generation)."""
    caller = rng.choice(ASK_CALLERS)
    if dialect == CLAUDE:
        secs = rng.randint(8, 240)
        job = f"https://github.com/{ctx.org}/{ctx.repo}/actions/runs/{_run_id(rng)}"
        head = f"**UbiquityOS finished @{ctx.asker}'s task in {secs}s** —— [View job]({job})"
        prefix = f"{head}\n\n---\n\n"
        return Rendered(prefix, answer, "", (CLAUDE,), "command-ask", None, LLM_ANSWER)
    if dialect == TOKEN_USAGE:
        tail = "\n\n" + block(TOKEN_USAGE, _token_usage(rng))
        return Rendered("", answer, tail, (TOKEN_USAGE,), "command-ask", None, LLM_ANSWER)
    if dialect == ASK_LEGACY:
        meta = {"groundTruths": _ground_truths(rng), "tokenUsage": _token_usage(rng)}
        tail = "\n\n" + block(ASK_LEGACY, {"metadata": meta, "caller": caller}, caller=caller)
        return Rendered("", answer, tail, (ASK_LEGACY,), "command-ask", caller, LLM_ANSWER)
    payload = {"groundTruths": _ground_truths(rng), "tokenUsage": _token_usage(rng)}
    tail = "\n\n" + sdk_block(rng, dialect, ctx, "command-ask", caller, payload)
    return Rendered("", answer, tail, (dialect,), "command-ask", caller, LLM_ANSWER)


def placeholder(rng: random.Random, dialect: str, ctx: Context) -> str:
    """The body the bot posts first and then edits into the answer (Jan 2025 on)."""
    text = PLACEHOLDERS[2] if dialect == CLAUDE else rng.choice(PLACEHOLDERS)
    if dialect == CLAUDE or rng.random() < 0.5:
        return text
    caller = rng.choice(ASK_CALLERS)
    return f"{text}\n\n" + sdk_block(rng, dialect, ctx, "command-ask", caller, {}, response=False)


# ---------- command responses and logs
def _wallet(rng: random.Random) -> str:
    return "0x" + _hex(rng, 40)


def assignment(rng: random.Random, dialect: str, ctx: Context, user: str) -> Rendered:
    deadline = strftime("%a, %b %d, %I:%M %p UTC", gmtime(ctx.t + rng.randint(1, 14) * 86400))
    visible = (
        "<code><table>\n"
        f"<tr><td>Deadline</td><td>{deadline}</td></tr>\n"
        f"<tr><td>Registered Wallet</td><td>{_wallet(rng)}</td></tr>\n"
        "</table></code>\n"
        f"<h6>Assigned to @{user}. Tips:</h6>\n<ul>\n"
        "<li>Change your payout address with <code>/wallet 0x...</code>.</li>\n"
        "<li>Open a draft pull request early so reviewers can follow along.</li>\n"
        "</ul>"
    )
    payload = {
        "duration": rng.choice((3600, 7200, 86400)),
        "priceLabel": {"name": f"Price: {rng.choice((25, 37.5, 75, 150))} USD"},
    }
    return _plugin_output(
        rng,
        dialect,
        ctx,
        visible,
        "command-start-stop",
        "Assignment",
        "start",
        payload,
        COMMAND_RESPONSE,
    )


def wallet_ok(rng: random.Random, dialect: str, ctx: Context, user: str) -> Rendered:
    visible = f"```diff\n+ Registered the wallet of @{user}: {_wallet(rng)}\n```"
    payload = {"user": user, "caller": "registerWallet", "revision": None}
    return _plugin_output(
        rng,
        dialect,
        ctx,
        visible,
        "command-wallet",
        "ok",
        "registerWallet",
        payload,
        COMMAND_RESPONSE,
    )


def help_table(rng: random.Random, dialect: str, ctx: Context) -> Rendered:
    rows = "\n".join(
        f"| `/{c}` | {d} |"
        for c, d in (
            ("ask", "Ask the assistant about this issue"),
            ("start", "Assign yourself"),
            ("stop", "Unassign yourself"),
            ("wallet", "Register your payout address"),
        )
    )
    visible = f"### Available Commands\n\n| Command | Description |\n| --- | --- |\n{rows}"
    return _plugin_output(
        rng, dialect, ctx, visible, "command-help", "ok", "listCommands", {}, COMMAND_RESPONSE
    )


def progress_log(rng: random.Random, dialect: str, ctx: Context) -> Rendered:
    visible = "```diff\n+ Computing the rewards for this task, this can take a minute...\n```"
    payload = {
        "eventName": "issues.closed",
        "issueNumber": str(ctx.number),
        "caller": "issueClosed",
        "revision": None,
    }
    return _plugin_output(
        rng,
        dialect,
        ctx,
        visible,
        "text-conversation-rewards",
        "ok",
        "renderMainActionOutput",
        payload,
        LOG,
    )


def error_log(rng: random.Random, dialect: str, ctx: Context) -> Rendered:
    message = rng.choice(
        (
            "Could not find a registered wallet for the assignee",
            "The price label is missing on this issue",
            "You are not allowed to run this command",
        )
    )
    visible = (
        f"> [!CAUTION]\n> {message}" if ctx.t >= SDK_V2_START else f"```diff\n! {message}\n```"
    )
    payload = {"message": message, "caller": "handler"}
    return _plugin_output(
        rng, dialect, ctx, visible, "command-start-stop", "error", "handler", payload, LOG
    )


def legacy_dash_log(rng: random.Random, ctx: Context) -> Rendered:
    """A legacy log whose unescaped JSON contains `--`, as generators before the SDK wrote."""
    cmd = rng.choice(("git push --force-with-lease", "npx tsc --noEmit", "yarn build -- --prod"))
    visible = f"```diff\n! `{cmd}` exited with code 1\n```"
    payload = {
        "command": cmd,
        "stack": f"Error: {cmd} failed\n    at run (src/main.ts:42:11)",
        "caller": "runScript",
    }
    suffix = "\n" + block(LEGACY, payload, cls="error", caller="runScript", rev=revision(rng))
    return Rendered("", visible, suffix, (LEGACY,), "ubiquibot", "runScript", LOG)


def fatal_log(rng: random.Random, dialect: str, ctx: Context) -> Rendered:
    """A fatal error: a visible ```json copy of the details before the hidden block."""
    details = {
        "status": 500,
        "message": "Supabase returned <html> instead of JSON",
        "url": "/rest/v1/wallets",
    }
    visible = (
        "> [!CAUTION]\n> An error occurred while computing the rewards.\n\n```json\n"
        + json.dumps(details, indent=2)
        + "\n```"
    )
    tail = "\n\n" + sdk_block(
        rng,
        dialect,
        ctx,
        "text-conversation-rewards",
        "run",
        {"message": details["message"], "stack": "Error: bad response\n    at fetchWallets"},
        response=False,
    )
    return Rendered("", visible, tail, (dialect,), "text-conversation-rewards", "run", LOG)


def _plugin_output(
    rng: random.Random,
    dialect: str,
    ctx: Context,
    visible: str,
    plugin: str,
    cls: str,
    caller: str,
    payload: dict[str, Any],
    kind: str,
) -> Rendered:
    if dialect in (LEGACY, LEGACY_RUN_URL):
        data = {**payload, "caller": caller}
        url = run_url(rng, plugin, actions_only=True)
        tail = "\n" + block(dialect, data, cls=cls, caller=caller, rev=revision(rng), url=url)
    elif dialect == SDK_V1:
        tail = "\n\n" + block(SDK_V1, {"caller": caller, **payload})
    else:
        tail = "\n\n" + sdk_block(rng, dialect, ctx, plugin, caller, payload)
    return Rendered("", visible, tail, (dialect,), plugin, caller, kind)


def _permit(rng: random.Random, amount: int) -> dict[str, Any]:
    wei = str(amount * 10**17)
    return {
        "permit": {
            "permitted": {"token": "0x" + _hex(rng, 40), "amount": wei},
            "nonce": str(rng.getrandbits(250)),
            "deadline": str(2**256 - 1),
        },
        "transferDetails": {"to": "0x" + _hex(rng, 40), "requestedAmount": wei},
        "owner": "0x" + _hex(rng, 40),
        "signature": "0x" + _hex(rng, 130),
        "networkId": 100,
    }


def rewards(rng: random.Random, dialect: str, ctx: Context, users: list[str]) -> Rendered:
    """The reward comment at a task's close: HTML per user, then a JSON array of permits.

    Before the SDK it holds one legacy block; from Nov 2024 a legacy block and an SDK block whose
    JSON escapes backticks too (`&#96;`).
    """
    amounts = [rng.randint(5, 900) for _ in users]
    parts = []
    for user, amount in zip(users, amounts, strict=True):
        parts.append(
            f'<details>\n<summary><b><h3><a href="https://pay.ubq.fi/?claim={_hex(rng, 48)}">'
            f"[ {amount / 10:g} WXDAI ]</a></h3><h6>@{user}</h6></b></summary>\n"
            "<h6>Contributions Overview</h6>\n<table><thead><tr><th>View</th><th>Contribution</th>"
            "<th>Count</th><th>Reward</th></tr></thead><tbody>\n"
            f"<tr><td>Issue</td><td>Task</td><td>1</td><td>{amount / 20:g}</td></tr>\n"
            f"<tr><td>Issue</td><td>Comment</td><td>{rng.randint(1, 9)}</td>"
            f"<td>{amount / 20:g}</td></tr>\n"
            "</tbody></table>\n</details>"
        )
    visible = "\n".join(parts)
    permits = [_permit(rng, a) for a in amounts]
    legacy = block(LEGACY, permits, cls="Transactions", caller="generatePermits", rev=revision(rng))
    if dialect == LEGACY:
        return Rendered(
            "",
            visible,
            "\n" + legacy,
            (LEGACY,),
            "text-conversation-rewards",
            "generatePermits",
            COMMAND_RESPONSE,
        )
    summary = {
        u: {"total": a / 10, "comment": f"`{u}` earned {a / 10:g} for the task"}
        for u, a in zip(users, amounts, strict=True)
    }
    sdk = sdk_block(
        rng, dialect, ctx, "text-conversation-rewards", "run", {"output": summary}, backticks=True
    )
    suffix = f"\n{legacy}\n{sdk}"
    return Rendered(
        "",
        visible,
        suffix,
        (LEGACY, dialect),
        "text-conversation-rewards",
        "generatePermits",
        COMMAND_RESPONSE,
    )


# ---------- markers
def disqualifier(rng: random.Random, ctx: Context, user: str) -> Rendered:
    """The follow-up reminder: a 5-field legacy header, plus the update marker since 2025."""
    visible = (
        f"@{user}, this task has been idle for a while. Please share an update on your progress."
    )
    payload = {"taskAssignees": [user], "caller": "remindAssignees", "message": "idle"}
    url = run_url(rng, "daemon-disqualifier", actions_only=True)
    suffix = "\n\n" + block(
        LEGACY_RUN_URL, payload, cls="ok", caller="remindAssignees", rev=revision(rng), url=url
    )
    markers: tuple[str, ...] = ()
    if ctx.t >= SDK_V2_0_0_START:
        suffix += f"\n<!-- @ubiquity-os/daemon-disqualifier update {iso(ctx.t)} -->"
        markers = (MARK_DISQUALIFIER,)
    return Rendered(
        "",
        visible,
        suffix,
        (LEGACY_RUN_URL,),
        "daemon-disqualifier",
        "remindAssignees",
        LOG,
        markers,
    )


def spec_rewriter(rng: random.Random, ctx: Context, subject: str) -> Rendered:
    visible = (
        f"### Rewritten specification\n\n{_fill(rng.choice(_ANSWER_LINES), rng, subject)}\n\n"
        f"**Acceptance criteria**\n- {subject} is covered by tests\n- the README explains it"
    )
    suffix = f"\n\n<!-- daemon-spec-rewriter - {iso(ctx.t)} -->"
    return Rendered(
        "", visible, suffix, (), "daemon-spec-rewriter", None, MARKER, (MARK_SPEC_REWRITER,)
    )


def task_matcher(rng: random.Random, users: list[str]) -> Rendered:
    rows = "\n".join(f"| @{u} | {rng.randint(55, 99)}% |" for u in users)
    visible = (
        f"Suggested contributors for this task:\n\n| Contributor | Match |\n| --- | --- |\n{rows}"
    )
    suffix = "\n\n<!-- daemon-task-matcher:suggestions -->"
    return Rendered(
        "", visible, suffix, (), "daemon-task-matcher", None, MARKER, (MARK_TASK_MATCHER,)
    )


def agent_marker(rng: random.Random, t: int) -> str:
    """What the bot appends to a human's comment it picked up (the author stays the human)."""
    return (
        f"\n\n<!-- ubiquityos-agent run={rng.randint(10**6, 10**7)} status=queued at={iso(t)} -->"
    )


def llm_502(rng: random.Random, dialect: str, ctx: Context) -> Rendered:
    visible = "> [!WARNING]\n> The language model is unavailable right now. Please try again later."
    suffix = f"\n\n<!-- Upstream LLM 502: bad gateway from provider (request {_hex(rng, 8)}) -->"
    dialects: tuple[str, ...] = ()
    if dialect != NONE:
        suffix += "\n" + sdk_block(
            rng,
            dialect,
            ctx,
            "command-ask",
            "askQuestion",
            {"message": "upstream 502"},
            response=False,
        )
        dialects = (dialect,)
    return Rendered(
        "",
        visible,
        suffix,
        dialects,
        "command-ask",
        "askQuestion" if dialects else None,
        LOG,
        (MARK_LLM_502,),
    )


# ---------- other bots and reviews
def deploy_log(rng: random.Random, repo: str) -> Rendered:
    visible = f"Preview deployed to https://{_hex(rng, 8)}.{repo.replace('.', '-')}.pages.dev"
    return Rendered("", visible, "", (), None, None, LOG)


def review_summary(rng: random.Random, bot: str, comments: int) -> str:
    """A review body by a code-review bot with no metadata header."""
    if bot == "copilot-pull-request-reviewer":
        return (
            "## Pull request overview\n\nThis pull request "
            f"{rng.choice(('reworks the handler', 'adds retries', 'changes the config loading'))}."
            f"\n\nReviewed {rng.randint(1, 12)} files and generated {comments} comment(s)."
        )
    return f"**Actionable comments posted: {comments}**\n\n" + "\n".join(
        f"- {r}" for r in rng.sample(_REVIEW_REMARKS, min(comments, 3))
    )


def ubiquity_review(rng: random.Random, dialect: str, ctx: Context, comments: int) -> Rendered:
    visible = (
        f"Found {comments} thing(s) worth a look before merging.\n\n- {rng.choice(_REVIEW_REMARKS)}"
    )
    tail = "\n\n" + sdk_block(
        rng, dialect, ctx, "code-review", "reviewPull", {"tokenUsage": _token_usage(rng)}
    )
    return Rendered("", visible, tail, (dialect,), "code-review", "reviewPull", LLM_ANSWER)


def review_remark(rng: random.Random) -> str:
    remark = rng.choice(_REVIEW_REMARKS)
    if rng.random() < 0.3:
        remark += "\n\n```suggestion\n  const result = await Promise.all(items.map(load));\n```"
    return remark


def reply_remark(rng: random.Random, subject: str) -> str:
    return f"Good question. {_fill(rng.choice(_ANSWER_LINES), rng, subject)}"


def path(rng: random.Random) -> str:
    return rng.choice(_PATHS)


def diff_hunk(rng: random.Random) -> str:
    start = rng.randint(1, 300)
    fn = rng.choice(FUNCS)
    return (
        f"@@ -{start},6 +{start},8 @@ export async function {fn}(context: Context) {{\n"
        "   const { payload } = context;\n"
        f"+  const retries = config.{rng.choice(('maxRetries', 'limit', 'timeout'))};\n"
        "+  logger.debug(`starting`, { retries });"
    )
