-- Per org and repo, the 1-3 word phrases humans prefer (weight > 0) or avoid (weight < 0) in
-- LLM answers, from corrections (phrases added / removed) and rated answers.
--
-- Per (org, repo): G good documents (positive answers + corrections, their after side), B bad
-- documents (negative answers + corrections, their before side); per phrase, g good and b
-- bad documents saying so (a phrase a correction added counts as good, one it removed as bad,
-- one in a positive / negative answer as good / bad). With the pooled rate
-- pi = (g + b + 1) / (G + B + 2) as a prior worth m = phrase_prior_docs documents:
--   good_rate = (g + m*pi) / (G + m),   bad_rate = (b + m*pi) / (B + m)
--   weight = logit(good_rate) - logit(bad_rate)   (a log odds ratio shrunk towards 0)
-- support = g + b; phrases with support below phrase_min_support are left out.
with rated as not materialized (
    select * from int_phrase_evidence
),

corrected as not materialized (
    select * from int_correction_phrases
),

documents as not materialized (
    select * from int_phrase_documents
),

corrections as (
    select comment_id from int_corrections where is_usable and not is_trivial
),

answers as (
    select comment_id, org, repo from int_bot_comments_parsed where comment_kind = 'llm_answer'
),

settings as not materialized (
    select * from param_feedback
),

evidence as (
    select org, repo, phrase, n, evidence, documents from rated
    union all
    select org, repo, phrase, n, evidence, documents from corrected
),

answer_totals as (
    select
        org,
        repo,
        count(*) filter (where label = 'positive') as positive_answers,
        count(*) filter (where label = 'negative') as negative_answers
    from documents
    group by org, repo
),

correction_totals as (
    select answers.org, answers.repo, count(*) as corrections
    from corrections
    inner join answers on corrections.comment_id = answers.comment_id
    group by answers.org, answers.repo
),

document_totals as (
    select
        coalesce(answer_totals.org, correction_totals.org) as org,
        coalesce(answer_totals.repo, correction_totals.repo) as repo,
        coalesce(answer_totals.positive_answers, 0) + coalesce(correction_totals.corrections, 0)
            as good_documents,
        coalesce(answer_totals.negative_answers, 0) + coalesce(correction_totals.corrections, 0)
            as bad_documents
    from answer_totals
    full outer join correction_totals
        on answer_totals.org = correction_totals.org and answer_totals.repo = correction_totals.repo
),

phrase_counts as (
    select
        org,
        repo,
        phrase,
        any_value(n) as n,
        sum(documents) filter (where evidence in ('rated_good', 'added')) as good,
        sum(documents) filter (where evidence in ('rated_bad', 'removed')) as bad,
        sum(documents) filter (where evidence = 'added') as added,
        sum(documents) filter (where evidence = 'removed') as removed,
        sum(documents) filter (where evidence = 'rated_good') as rated_good,
        sum(documents) filter (where evidence = 'rated_bad') as rated_bad
    from evidence
    group by org, repo, phrase
),

phrase_totals as (
    select
        org,
        repo,
        phrase,
        n,
        coalesce(good, 0)::bigint as good,
        coalesce(bad, 0)::bigint as bad,
        coalesce(added, 0)::bigint as added,
        coalesce(removed, 0)::bigint as removed,
        coalesce(rated_good, 0)::bigint as rated_good,
        coalesce(rated_bad, 0)::bigint as rated_bad
    from phrase_counts
),

supported as (
    select
        phrase_totals.*,
        phrase_totals.good + phrase_totals.bad as support,
        document_totals.good_documents,
        document_totals.bad_documents,
        (phrase_totals.good + phrase_totals.bad + 1.0)
        / (document_totals.good_documents + document_totals.bad_documents + 2.0) as pooled_rate,
        settings.phrase_prior_docs as prior_docs
    from phrase_totals
    inner join document_totals
        on phrase_totals.org = document_totals.org and phrase_totals.repo = document_totals.repo
    cross join settings
    where phrase_totals.good + phrase_totals.bad >= settings.phrase_min_support
),

rates as (
    select
        *,
        (good + prior_docs * pooled_rate) / (good_documents + prior_docs) as good_rate,
        (bad + prior_docs * pooled_rate) / (bad_documents + prior_docs) as bad_rate
    from supported
),

weighted as (
    select
        org,
        repo,
        phrase,
        n,
        -- a repository without good or without bad documents has nothing to contrast: the
        -- prior alone would still tilt the weight
        case
            when good_documents = 0 or bad_documents = 0 then 0.0
            else ln(good_rate / (1 - good_rate)) - ln(bad_rate / (1 - bad_rate))
        end as weight,
        support,
        good,
        bad,
        added,
        removed,
        rated_good,
        rated_bad,
        good_documents,
        bad_documents
    from rates
),

final as (
    select * from weighted order by org, repo, weight desc, phrase
)

select * from final
