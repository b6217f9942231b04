"""A small two-partner warehouse for export tests, every selection rule with a known answer.

acme/app (partner "acme"):
  T1  Q1 asks; C1: placeholder, the bot's answer A1, a human correction H1; one thumbs down
      -> SFT corrected (H1), preference corrected (H1 over A1), KTO false (A1)
  T2  Q2 asks; C5 (two thumbs up, a planted e-mail and token) and C6 (a thumbs down) answer it
      -> SFT rated (C5), preference answers (C5 over C6, margin 3), KTO true (C5), false (C6)
  T3  Q3 repeats Q2; C7 repeats C5's answer word for word; C11 is C5 with one word changed
      -> exact and near duplicates of C5: dropped from SFT and KTO
  T4  C8: a typo fixed by a human (trivial), two thumbs up -> KTO true (bot text), no SFT
      C10: three thumbs up, then a real correction -> SFT and preference corrected, KTO none,
      a Label Studio task (liked_then_corrected)
  T5  C12: a review body by the code-review plugin, no question, one thumbs up -> nothing
      (score 1 is positive: SFT rated and KTO true; prompt asks for a review)
acme-labs/tools (partner "acme" by repo): T6 C13 two thumbs up -> SFT rated, KTO true
globex/site (partner "globex"): T9 C9 two thumbs up, GLOBEX-ONLY text -> never in acme's files
"""

from __future__ import annotations

from pathlib import Path

from harvester.config import HarvesterConfig, config_from_mapping
from tests.warehouse_fixtures import BOT, RawData, answer, edit, reaction

PLACEHOLDER = "> [!TIP]\n> Thinking..."
A1 = "Set the threshold in the config file .ubiquity.yml and redeploy the worker."
H1 = "Set the threshold in .ubiquity-os.config.yml under plugins; no redeploy is needed at all."
SECRET_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SECRET_EMAIL = "jane.doe@acme-corp.example"
C5_TEXT = (
    "Payouts are sent by the daily job in the rewards worker; check its logs in the dashboard "
    "and retry the failed transfer from the admin page, then confirm the wallet address is set "
    f"with /wallet. Ask {SECRET_EMAIL} for access, and use {SECRET_TOKEN} only in CI."
)
C11_TEXT = C5_TEXT.replace("daily job", "nightly job")
C6_TEXT = "Payouts are not supported; open a ticket with the finance team instead of the bot."
C8_BOT = "Run the migrations before you start the server, otherwise the schema is outdated."
C8_HUMAN = "Run the migrations before you start the server, otherwise the schema is outdatd!"
C10_BOT = "The API limit is 5,000 points per hour; wait for the reset and try again later."
C10_HUMAN = "The GraphQL API limit is 5,000 points per hour per token; spread work over tokens."
C12_TEXT = "Looks good overall: the new retry loop is bounded and the tests cover the 502 path."
C13_TEXT = "The CLI reads harvester.toml from the working directory unless --config is given."
GLOBEX = "GLOBEX-ONLY: the storefront cache is rebuilt every night by the deploy pipeline."
SYSTEM = "You are the Acme assistant."

CONFIG = {
    "partners": {
        "acme": {
            "orgs": ["acme"],
            "repos": ["acme-labs/tools"],
            "license": "apache-2.0",
            "system_prompt": SYSTEM,
            "description": "Acme's assistant.",
        },
        "globex": {"orgs": ["globex"], "license": "mit"},
    }
}


def export_config(**export: object) -> HarvesterConfig:
    return config_from_mapping({**CONFIG, "export": export} if export else CONFIG)


def ups(*logins: str) -> list[dict[str, object]]:
    return [reaction(login, "THUMBS_UP") for login in logins]


def build_export_warehouse(data_dir: Path, config: HarvesterConfig | None = None) -> None:
    raw = RawData(data_dir, config=config or export_config())
    user = {"author_type": "User", "is_bot": False}

    raw.thread("T1", title="Threshold setting", body=f"Where is it set? Mail {SECRET_EMAIL}.")
    raw.comment("Q1", author="alice", body="/ask how do I set the threshold?", minute=-5, **user)
    raw.comment("C1", body=answer(H1), last_edited=60)
    raw.snapshot(
        "C1",
        edits=[
            edit(BOT, "Bot", PLACEHOLDER, 0),
            edit(BOT, "Bot", answer(A1), 1),
            edit("alice", "User", answer(H1), 60),
        ],
        reactions=[reaction("carol", "THUMBS_DOWN")],
    )

    raw.thread("T2", title="Payouts fail")
    raw.comment(
        "Q2",
        thread_id="T2",
        author="bob",
        body="@UbiquityOS why do payouts fail?",
        minute=-5,
        **user,
    )
    raw.comment("C5", thread_id="T2", body=answer(C5_TEXT))
    raw.snapshot("C5", reactions=ups("alice", "bob"))
    raw.comment("C6", thread_id="T2", body=answer(C6_TEXT), minute=1)
    raw.snapshot("C6", reactions=[reaction("carol", "THUMBS_DOWN")])

    raw.thread("T3", title="Payouts fail again")
    raw.comment(
        "Q3",
        thread_id="T3",
        author="dave",
        body="@UbiquityOS why do payouts fail?",
        minute=-5,
        **user,
    )
    raw.comment("C7", thread_id="T3", body=answer(C5_TEXT))
    raw.snapshot("C7", reactions=ups("erin", "frank"))
    raw.comment("C11", thread_id="T3", body=answer(C11_TEXT), minute=2)
    raw.snapshot("C11", reactions=ups("erin", "grace"))

    raw.thread("T4", title="Setup")
    raw.comment(
        "Q4", thread_id="T4", author="alice", body="/ask how do I start?", minute=-5, **user
    )
    raw.comment("C8", thread_id="T4", body=answer(C8_HUMAN), last_edited=30)
    raw.snapshot(
        "C8",
        edits=[edit(BOT, "Bot", answer(C8_BOT), 0), edit("bob", "User", answer(C8_HUMAN), 30)],
        reactions=ups("alice", "carol"),
    )
    raw.comment(
        "Q5", thread_id="T4", author="bob", body="/ask what is the API limit?", minute=40, **user
    )
    raw.comment("C10", thread_id="T4", body=answer(C10_HUMAN), minute=41, last_edited=90)
    raw.snapshot(
        "C10",
        edits=[edit(BOT, "Bot", answer(C10_BOT), 41), edit("bob", "User", answer(C10_HUMAN), 90)],
        reactions=ups("alice", "carol", "dave"),
    )

    raw.thread("T5", title="Add retries")
    raw.comment(
        "C12",
        thread_id="T5",
        kind="review",
        body=C12_TEXT + "\n\n<!-- UbiquityOS - reviewPull - 1a2b3c4 - @alice - "
        "https://github.com/ubiquity-os-marketplace/code-review/actions/runs/1\n"
        '{"caller": "reviewPull", "tokenUsage": {"input": 10, "output": 5}}\n-->',
    )
    raw.snapshot("C12", reactions=ups("alice"))

    raw.thread("T6", org="acme-labs", repo="tools", title="Config lookup")
    raw.comment(
        "Q6",
        thread_id="T6",
        org="acme-labs",
        repo="tools",
        author="alice",
        body="/ask where is the config read from?",
        minute=-5,
        **user,
    )
    raw.comment("C13", thread_id="T6", org="acme-labs", repo="tools", body=answer(C13_TEXT))
    raw.snapshot("C13", reactions=ups("alice", "bob"))

    raw.thread("T9", org="globex", repo="site", title="Cache")
    raw.comment(
        "Q9",
        thread_id="T9",
        org="globex",
        repo="site",
        author="gina",
        body="/ask when is the cache rebuilt?",
        minute=-5,
        **user,
    )
    raw.comment("C9", thread_id="T9", org="globex", repo="site", body=answer(GLOBEX))
    raw.snapshot("C9", reactions=ups("gina", "hank"))
    raw.build_result()
