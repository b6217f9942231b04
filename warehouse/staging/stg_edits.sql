-- Revisions (GitHub UserContentEdits) of bot comments as landed with each hydration; `body`
-- is the full text of that revision (GitHub's misnamed `diff`), null when deleted from history
-- or older than GitHub's edit history (early 2018). A snapshot member, like reactions.
with source as not materialized (
    select * from raw_edits
),

renamed as (
    select
        ---------- ids
        comment_id,
        edit_id,
        run_id,
        ---------- properties
        editor_login,
        editor_type,
        lower(editor_login) as editor_key,
        body,
        deleted_by_login,
        ---------- timestamps
        edited_at,
        deleted_at,
        crawled_at
    from source
)

select * from renamed
