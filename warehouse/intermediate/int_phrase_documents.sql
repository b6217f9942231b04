-- The rated answers phrase weights learn from: LLM answers (the weights end up in an LLM's
-- prompt) of comments labelled positive or negative, the bot's own text (for a corrected
-- comment, its text before the humans' edits). Only the most recent
-- phrase_answers_per_label per org, repo and label: the weights follow the bot as it is now,
-- and the cost stays flat however long the history.
-- materialized: temp (read twice; the phrase stage pages through it by text_key)
with answers as (
    select comment_id, org, repo, created_at, answer_text
    from int_bot_comments_parsed
    where comment_kind = 'llm_answer'
),

feedback as (
    select comment_id, label from int_feedback
),

corrections as (
    select comment_id, before_text from int_corrections
),

settings as not materialized (
    select * from param_feedback
),

rated_answers as (
    select
        answers.org,
        answers.repo,
        answers.comment_id,
        feedback.label,
        -- a corrected answer's current text is the human's: the bot's is the before text
        case
            when corrections.comment_id is null then answers.answer_text
            else corrections.before_text
        end as text,
        row_number() over (
            partition by answers.org, answers.repo, feedback.label
            order by answers.created_at desc, answers.comment_id desc
        ) as recency_rank
    from answers
    inner join feedback on answers.comment_id = feedback.comment_id
    left join corrections on answers.comment_id = corrections.comment_id
    where
        feedback.label in ('positive', 'negative')
        -- a human replaced the bot's text, and its own revisions are gone: no bot text
        and (corrections.comment_id is null or corrections.before_text is not null)
),

recent_rated_answers as (
    select rated_answers.* exclude (recency_rank)
    from rated_answers
    cross join settings
    where rated_answers.recency_rank <= settings.phrase_answers_per_label
),

keyed as (
    select *, hash(coalesce(text, '')) as text_key
    from recent_rated_answers
    order by text_key
)

select * from keyed
