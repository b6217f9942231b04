-- Per bot comment: how many revisions it has, and how many of them are human or bot edits
-- (origin as in int_revision_history; the original is no edit). Narrow, so that the marts
-- that only count revisions do not keep the revision texts alive.
-- materialized: temp (read by int_feedback and bot_comments)
with history as not materialized (
    select * from int_revision_history
),

counts as (
    select
        comment_id,
        count(*) as revision_count,
        -- edits are revisions of the edit history: an edited comment not hydrated yet has
        -- one revision, its current body, by an editor nobody knows yet
        count(*) filter (where origin = 'human' and not is_original and from_edit_history)
            as human_edits,
        count(*) filter (where origin = 'bot' and not is_original and from_edit_history)
            as bot_edits
    from history
    group by comment_id
)

select * from counts
