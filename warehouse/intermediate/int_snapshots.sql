-- Each bot comment's latest snapshot (harvester/land.py, "Snapshot rule"): its hydration with
-- the greatest crawled_at, ties to the greatest run_id.
-- materialized: temp (read by three models; the window runs once)
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
