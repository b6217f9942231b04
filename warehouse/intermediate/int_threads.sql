-- The latest landed state of each thread (greatest crawled_at, then run_id).
with threads as not materialized (
    select * from stg_threads
),

latest_per_thread as (
    select *
    from threads
    qualify row_number() over (
        partition by thread_id order by crawled_at desc, run_id desc
    ) = 1
)

select * from latest_per_thread
