-- One row per issue or pull request that holds a bot comment, in its latest landed state: the
-- context of the bot's answers, kept apart from bot_comments, which would otherwise repeat
-- each thread's body once per bot comment.
-- uncompressed: body (long, distinct texts: compressing them cost a 1M build about 1 s)
with threads as not materialized (
    select * from int_bot_threads
),

bot_comments as not materialized (
    select * from int_bot_comments
),

bot_comment_counts as (
    select thread_id, count(*) as bot_comment_count
    from bot_comments
    group by thread_id
),

final as (
    select
        ---------- ids
        threads.thread_id,
        threads.org,
        threads.repo,
        threads.thread_number,
        ---------- the thread
        threads.thread_kind,
        threads.title,
        threads.body,
        threads.url,
        threads.author_login,
        threads.author_type,
        threads.state,
        threads.created_at,
        threads.updated_at,
        ---------- its bot comments
        bot_comment_counts.bot_comment_count,
        ---------- crawl
        threads.crawled_at,
        threads.run_id
    from threads
    join bot_comment_counts on threads.thread_id = bot_comment_counts.thread_id
    order by org, repo, thread_number
)

select * from final
