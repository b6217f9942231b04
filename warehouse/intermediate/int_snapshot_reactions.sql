-- The reactions in force: members of each bot comment's latest snapshot, matched on
-- (comment_id, crawled_at, run_id) with int_bot_comments' (comment_id, hydrated_at,
-- hydrated_run_id). A reaction missing from the latest snapshot was removed;
-- rows of a crashed run (no hydrations row) never match.
with reactions as not materialized (
    select * from stg_reactions
),

bot_comments as not materialized (
    select * from int_bot_comments
),

in_latest_snapshot as (
    select reactions.*
    from reactions
    semi join bot_comments
        on reactions.comment_id = bot_comments.comment_id
        and reactions.crawled_at = bot_comments.hydrated_at
        and reactions.run_id = bot_comments.hydrated_run_id
)

select * from in_latest_snapshot
