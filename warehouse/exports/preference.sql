-- Preference pairs. From corrections: chosen = the human's text, rejected = the bot's own
-- final text, for usable, non-trivial corrections. From several answers to one question:
-- chosen = the answer scored at least $min_pair_margin higher, rejected = the other; an
-- answer a human corrected is never chosen (people fixed it: not a positive example).
with answers as not materialized (
    select * from export_answers
),

from_corrections as (
    select
        *,
        'corrected' as source,
        null::varchar as rejected_comment_id,
        after_text as chosen_text,
        before_text as rejected_text,
        null::double as margin
    from answers
    where has_correction and correction_is_usable and not correction_is_trivial
),

answer_pairs as (
    select
        chosen.*,
        'answers' as source,
        rejected.comment_id as rejected_comment_id,
        chosen.bot_text as chosen_text,
        rejected.bot_text as rejected_text,
        chosen.score - rejected.score as margin
    from answers as chosen
    join answers as rejected
        on chosen.question_comment_id = rejected.question_comment_id
        and chosen.comment_id <> rejected.comment_id
    where chosen.question_comment_id is not null
        and chosen.score - rejected.score >= $min_pair_margin
        and not chosen.is_corrected
),

pairs as (
    select * from from_corrections
    union all
    select * from answer_pairs
)

select * from pairs
order by source, margin desc nulls first, score desc, created_at, comment_id, rejected_comment_id
