-- Each bot comment's latest snapshot (harvester/land.py, "Snapshot rule"): its hydration with
-- the greatest crawled_at, ties to the greatest run_id.
-- materialized: view (read once, by int_bot_comments, which keeps each snapshot's keys for
-- int_snapshot_edits and int_snapshot_reactions: the hydrated bodies need not stay in memory)
with hydrations as not materialized (
    select * from stg_hydrations
),

latest_per_comment as (
    select *
    from hydrations
    qualify row_number() over (
        partition by comment_id order by crawled_at desc, run_id desc
    ) = 1
)

select * from latest_per_comment
