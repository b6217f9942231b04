-- The reactions in force: members of each comment's latest snapshot, matched on
-- (comment_id, crawled_at, run_id). A reaction missing from the latest snapshot was removed;
-- rows of a crashed run (no hydrations row) never match.
with reactions as not materialized (
    select * from stg_reactions
),

snapshots as not materialized (
    select * from int_snapshots
),

in_latest_snapshot as (
    select reactions.*
    from reactions
    semi join snapshots
        on reactions.comment_id = snapshots.comment_id
        and reactions.crawled_at = snapshots.crawled_at
        and reactions.run_id = snapshots.run_id
)

select * from in_latest_snapshot
