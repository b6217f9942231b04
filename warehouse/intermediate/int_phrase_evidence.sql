-- How many of the recent rated answers of each org, repo and label contain each phrase:
-- evidence 'rated_good' (label positive) or 'rated_bad' (label negative).
with documents as not materialized (
    select * from int_phrase_documents
),

text_phrases as not materialized (
    select * from int_text_phrases
),

occurrences as (
    select
        documents.org,
        documents.repo,
        documents.label,
        unnest(text_phrases.phrases) as phrase
    from documents
    inner join text_phrases on documents.text_key = text_phrases.text_key
),

counted as (
    select
        org,
        repo,
        phrase,
        length(phrase) - length(replace(phrase, ' ', '')) + 1 as n,
        case label when 'positive' then 'rated_good' else 'rated_bad' end as evidence,
        count(*) as documents
    from occurrences
    group by org, repo, phrase, label
)

select * from counted
