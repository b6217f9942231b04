-- One row per hydration of a bot comment (the snapshot marker of harvester/land.py): the
-- comment's state when its complete reaction and edit sets were fetched.
with source as not materialized (
    select * from raw_hydrations
),

renamed as (
    select
        ---------- ids
        comment_id,
        run_id,
        ---------- snapshot
        reaction_count,
        edit_count,
        includes_created_edit,
        body,
        is_minimized,
        minimized_reason,
        -- landed before tombstones existed: a hydration that found the comment
        coalesce(is_deleted, false) as is_deleted,
        ---------- timestamps
        last_edited_at,
        updated_at,
        crawled_at
    from source
)

select * from renamed
