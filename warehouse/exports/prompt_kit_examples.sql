-- The best corrected examples per repository: usable, non-trivial corrections, those whose
-- answers people liked most first, then the newest; $top_examples per repository.
with answers as not materialized (
    select * from export_answers
),

corrected as (
    select
        *,
        row_number() over (
            partition by org, repo
            order by reaction_score desc, corrected_at desc, comment_id
        ) as rank
    from answers
    where has_correction and correction_is_usable and not correction_is_trivial
)

select * from corrected
where rank <= $top_examples
order by org, repo, rank
