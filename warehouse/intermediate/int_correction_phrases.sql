-- The phrases humans added to and removed from LLM answers in usable, non-trivial
-- corrections (from int_correction_diffs: phrases of the after text missing from the before
-- text, and back), counted per org, repo and phrase.
with corrections as (
    select * from int_corrections where is_usable and not is_trivial
),

answers as (
    select comment_id, org, repo from int_bot_comments_parsed where comment_kind = 'llm_answer'
),

answer_corrections as (
    select answers.org, answers.repo, corrections.added_phrases, corrections.removed_phrases
    from corrections
    inner join answers on corrections.comment_id = answers.comment_id
),

added as (
    select org, repo, unnest(added_phrases) as phrase, 'added' as evidence
    from answer_corrections
),

removed as (
    select org, repo, unnest(removed_phrases) as phrase, 'removed' as evidence
    from answer_corrections
),

counted as (
    select
        org,
        repo,
        phrase,
        length(phrase) - length(replace(phrase, ' ', '')) + 1 as n,
        evidence,
        count(*) as documents
    from (select * from added union all select * from removed) as changes
    group by org, repo, phrase, evidence
)

select * from counted
