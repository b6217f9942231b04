-- KTO examples: the bot's own text with the label its feedback gives (positive -> desirable,
-- negative -> undesirable; `none` is left out). A thumbs-up on an answer a human then
-- corrected is not a positive label for the original, so those are left out too.
with answers as not materialized (
    select * from export_answers
),

labelled as (
    select *, bot_text as completion_text, label = 'positive' as desirable
    from answers
    where label in ('positive', 'negative')
        and not (label = 'positive' and is_corrected)
)

select * from labelled
order by desirable desc, abs(score) desc, created_at, comment_id
