-- The latest landed state (greatest crawled_at, then run_id) of each thread that holds a bot
-- comment, with only the columns bot_comments shows.
-- materialized: temp (narrow and filtered first: ranking every thread's full row inside
-- bot_comments cost a 1M-comment build 11 s)
with threads as not materialized (
    select * from stg_threads
),

bot_comments as not materialized (
    select * from int_bot_comments
),

bot_threads as (
    select thread_id, thread_number, thread_kind, title, body, url, crawled_at, run_id
    from threads
    semi join bot_comments on threads.thread_id = bot_comments.thread_id
),

latest_per_thread as (
    select * exclude (crawled_at, run_id)
    from bot_threads
    qualify row_number() over (
        partition by thread_id order by crawled_at desc, run_id desc
    ) = 1
)

select * from latest_per_thread
