-- The latest landed state (greatest crawled_at, then run_id) of each thread that holds a bot
-- comment: threads without one are left out before the ranking.
-- materialized: view (read once, by the threads mart)
with threads as not materialized (
    select * from stg_threads
),

bot_comments as not materialized (
    select * from int_bot_comments
),

bot_threads as (
    select *
    from threads
    semi join bot_comments on threads.thread_id = bot_comments.thread_id
),

latest_per_thread as (
    select *
    from bot_threads
    qualify row_number() over (
        partition by thread_id order by crawled_at desc, run_id desc
    ) = 1
)

select * from latest_per_thread
