-- The latest landed state of each comment (greatest crawled_at, then run_id).
-- materialized: temp (read by three models; the window runs once)
with comments as not materialized (
    select * from stg_comments
),

latest_per_comment as (
    select *
    from comments
    qualify row_number() over (
        partition by comment_id order by crawled_at desc, run_id desc
    ) = 1
)

select * from latest_per_comment
