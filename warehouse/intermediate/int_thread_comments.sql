-- The question linker's input (harvester/questions.py): the comments of each thread that
-- holds an LLM answer that can matter, in time order: the answers and the humans' comments
-- (only humans ask). thread_key changes whenever any of them does, so the linker's cache
-- (int_question_links) is reused for unchanged threads.
-- materialized: temp (the question stage pages through it by thread)
with comments as not materialized (
    select * from int_comments
),

answers as (
    select comment_id, thread_id from int_bot_comments_parsed where comment_kind = 'llm_answer'
),

threads_with_answers as (
    select distinct thread_id from answers
),

thread_comments as (
    select
        comments.thread_id,
        comments.comment_id,
        comments.kind,
        comments.author_login,
        comments.author_type,
        comments.is_bot_comment or comments.author_type = 'Bot' as is_bot,
        case
            when not (comments.is_bot_comment or comments.author_type = 'Bot') then comments.body
        end as body,
        coalesce(comments.created_at, '1970-01-01 00:00:00+00'::timestamptz) as created_at,
        comments.reply_to_id,
        comments.database_id,
        answers.comment_id is not null as is_answer
    from comments
    inner join threads_with_answers on comments.thread_id = threads_with_answers.thread_id
    left join answers on comments.comment_id = answers.comment_id
),

that_matter as (
    select * from thread_comments where is_answer or not is_bot
),

thread_keys as (
    select
        thread_id,
        hash(
            thread_id,
            count(*),
            bit_xor(
                hash(
                    comment_id, kind, author_login, author_type, is_bot, body, created_at,
                    reply_to_id, is_answer
                )
            )
        ) as thread_key
    from that_matter
    group by thread_id
),

keyed as (
    select thread_keys.thread_key, that_matter.*
    from that_matter
    inner join thread_keys on that_matter.thread_id = thread_keys.thread_id
    -- GitHub's times are whole seconds: within one, the database id is the order of creation
    order by
        that_matter.thread_id,
        that_matter.created_at,
        that_matter.database_id nulls last,
        that_matter.comment_id
)

select * from keyed
