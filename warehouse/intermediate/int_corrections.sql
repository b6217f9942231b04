-- Corrections with their diffs (int_correction_diffs, Python) and the triviality rule: an
-- edit is trivial when it only changes whitespace, or when its character edit distance is at
-- most feedback.trivial_edit_distance.
-- materialized: temp (read by three models)
with pairs as not materialized (
    select * from int_correction_pairs
),

diffs as not materialized (
    select * from int_correction_diffs
),

settings as not materialized (
    select * from param_feedback
),

with_diffs as (
    select
        pairs.*,
        pairs.before_text is not null and pairs.after_text is not null as is_usable,
        diffs.diff,
        diffs.word_diff,
        diffs.edit_distance,
        diffs.similarity,
        diffs.added_phrases,
        diffs.removed_phrases
    from pairs
    left join diffs on pairs.pair_key = diffs.pair_key
),

flagged as (
    select
        with_diffs.*,
        case
            when is_usable then without_whitespace(before_text) = without_whitespace(after_text)
        end as is_whitespace_only
    from with_diffs
),

judged as (
    select
        flagged.*,
        case
            when is_usable then
                is_whitespace_only or edit_distance <= settings.trivial_edit_distance
        end as is_trivial
    from flagged
    cross join settings
)

select * from judged
