-- The revisions in force: members of each bot comment's latest snapshot, matched on
-- (comment_id, crawled_at, run_id) with int_bot_comments' (comment_id, hydrated_at,
-- hydrated_run_id), like int_snapshot_reactions.
with edits as not materialized (
    select * from stg_edits
),

bot_comments as not materialized (
    select * from int_bot_comments
),

in_latest_snapshot as (
    select edits.*
    from edits
    semi join bot_comments
        on edits.comment_id = bot_comments.comment_id
        and edits.crawled_at = bot_comments.hydrated_at
        and edits.run_id = bot_comments.hydrated_run_id
)

select * from in_latest_snapshot
