-- Phrase weights of the export's repositories: the $top_phrases strongest to prefer and to
-- avoid per repository.
with phrase_weights as not materialized (
    select * from phrase_weights
),

scope as not materialized (
    select * from export_scope
),

in_scope as (
    select phrase_weights.*
    from phrase_weights
    where exists (
        select 1 from scope
        where lower(phrase_weights.org) = scope.org
            and (scope.repo is null or lower(phrase_weights.repo) = scope.repo)
    )
),

ranked as (
    select
        *,
        case when weight > 0 then 'prefer' else 'avoid' end as advice,
        row_number() over (
            partition by org, repo, weight > 0 order by abs(weight) desc, support desc, phrase
        ) as rank
    from in_scope
    where weight <> 0
)

select org, repo, advice, phrase, n, weight, support
from ranked
where rank <= $top_phrases
order by org, repo, advice desc, rank
