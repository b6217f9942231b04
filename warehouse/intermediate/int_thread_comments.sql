-- The question linker's input (harvester/questions.py): the comments of each thread that
-- holds an LLM answer that can matter, in time order: the answers and the humans' comments
-- (only humans ask). thread_key changes whenever any of them does, so the linker's cache
-- (int_question_links) is reused for unchanged threads.
-- materialized: temp (the question stage pages through it by thread)
with human_comments as not materialized (
    select * from int_human_comments
),

answers as (
    select * from int_bot_comments_parsed where comment_kind = 'llm_answer'
),

threads_with_answers as (
    select distinct thread_id from answers
),

-- what matters: the answers, and the humans' comments of their threads (other bot comments
-- neither ask nor answer)
that_matter as (
    select
        answers.thread_id,
        answers.comment_id,
        answers.kind,
        answers.author_login,
        answers.author_type,
        true as is_bot,
        null::varchar as body,
        coalesce(answers.created_at, '1970-01-01 00:00:00+00'::timestamptz) as created_at,
        answers.reply_to_id,
        answers.database_id,
        true as is_answer
    from answers
    union all
    select
        human_comments.thread_id,
        human_comments.comment_id,
        human_comments.kind,
        human_comments.author_login,
        human_comments.author_type,
        false as is_bot,
        human_comments.body,
        coalesce(human_comments.created_at, '1970-01-01 00:00:00+00'::timestamptz) as created_at,
        human_comments.reply_to_id,
        human_comments.database_id,
        false as is_answer
    from human_comments
    semi join threads_with_answers on human_comments.thread_id = threads_with_answers.thread_id
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
