-- The revisions in force: members of each comment's latest snapshot, matched on
-- (comment_id, crawled_at, run_id), like int_snapshot_reactions.
with edits as not materialized (
    select * from stg_edits
),

snapshots as not materialized (
    select * from int_snapshots
),

in_latest_snapshot as (
    select edits.*
    from edits
    semi join snapshots
        on edits.comment_id = snapshots.comment_id
        and edits.crawled_at = snapshots.crawled_at
        and edits.run_id = snapshots.run_id
)

select * from in_latest_snapshot
