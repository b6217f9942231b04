-- SFT demonstrations: the human's text of every usable, non-trivial correction, and the
-- bot's answer where people rated it positive and nobody edited it. Human texts first, then
-- the best-rated: the first of two duplicates is the one kept.
with answers as not materialized (
    select * from export_answers
),

corrected as (
    select *, 'corrected' as source, after_text as completion_text, 0 as source_rank
    from answers
    where has_correction and correction_is_usable and not correction_is_trivial
),

rated as (
    select *, 'rated' as source, answer_text as completion_text, 1 as source_rank
    from answers
    where label = 'positive' and human_edits = 0
),

demonstrations as (
    select * from corrected
    union all
    select * from rated
)

select * from demonstrations
order by source_rank, score desc, created_at, comment_id
