-- Doubtful pairs for human review (Label Studio): corrections small enough to be a matter of
-- taste (similarity >= $doubtful_similarity), corrections of answers people had liked
-- (reaction score above 0), and answers to one question whose scores differ by less than
-- $doubtful_margin.
with answers as not materialized (
    select * from export_answers
),

corrections as (
    select
        *,
        case
            when similarity >= $doubtful_similarity then 'small_correction'
            else 'liked_then_corrected'
        end as reason,
        null::varchar as other_comment_id,
        after_text as human_text,
        before_text as bot_answer_text,
        null::varchar as other_text
    from answers
    where has_correction and correction_is_usable and not correction_is_trivial
        and (similarity >= $doubtful_similarity or reaction_score > 0)
),

close_answers as (
    select
        first.*,
        'close_scores' as reason,
        second.comment_id as other_comment_id,
        null::varchar as human_text,
        first.bot_text as bot_answer_text,
        second.bot_text as other_text
    from answers as first
    join answers as second
        on first.question_comment_id = second.question_comment_id
        and first.comment_id < second.comment_id
    where first.question_comment_id is not null
        and abs(first.score - second.score) < $doubtful_margin
),

doubtful as (
    select * from corrections
    union all
    select * from close_answers
)

select * from doubtful
order by reason, created_at, comment_id, other_comment_id
