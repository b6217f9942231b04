-- Bot comments (the crawler's decision: a Bot author, a recognised header or a configured
-- login) with their latest snapshot. The current body is the one of the later of the two
-- observations (the comment row of discovery, the snapshot of hydration). `updated_at` is the
-- later of the two: a bot's own edit does not bump the thread, so discovery may not see it;
-- nor does minimizing it. A comment whose latest snapshot is a tombstone (the crawler found it
-- gone) and that no later listing saw is left out: it was deleted.
-- materialized: temp (read by most models)
with comments as not materialized (
    select * from int_comments
),

snapshots as not materialized (
    select * from int_snapshots
),

bot_comments as (
    select * from comments where is_bot_comment
),

with_snapshot as (
    select
        bot_comments.* exclude (body, updated_at, is_minimized, minimized_reason),
        greatest(bot_comments.updated_at, snapshots.updated_at) as updated_at,
        case
            when snapshots.is_minimized is not null and snapshots.crawled_at >= bot_comments.crawled_at
                then snapshots.is_minimized
            else bot_comments.is_minimized
        end as is_minimized,
        case
            when snapshots.is_minimized is not null and snapshots.crawled_at >= bot_comments.crawled_at
                then snapshots.minimized_reason
            else bot_comments.minimized_reason
        end as minimized_reason,
        snapshots.crawled_at as hydrated_at,
        snapshots.run_id as hydrated_run_id,
        snapshots.edit_count as snapshot_edit_count,
        snapshots.reaction_count as snapshot_reaction_count,
        snapshots.comment_id is not null as is_hydrated,
        case
            when snapshots.body is not null and snapshots.crawled_at >= bot_comments.crawled_at
                then snapshots.body
            else coalesce(bot_comments.body, snapshots.body)
        end as current_body,
        coalesce(
            snapshots.includes_created_edit, bot_comments.includes_created_edit, false
        ) as history_includes_original,
        -- the later of the two: an edit after the last hydration shows in the listing only
        greatest(snapshots.last_edited_at, bot_comments.last_edited_at) as history_last_edited_at
    from bot_comments
    left join snapshots on bot_comments.comment_id = snapshots.comment_id
    where not coalesce(snapshots.is_deleted and snapshots.crawled_at >= bot_comments.crawled_at, false)
),

with_parse_key as (
    select
        *,
        parse_key(author_login, author_type, current_body) as current_parse_key
    from with_snapshot
)

select * from with_parse_key
