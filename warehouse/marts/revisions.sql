-- One row per revision of a bot comment, oldest first (revision_index 0 = the original where
-- GitHub kept it: see is_original). Rules in int_revision_history.
-- uncompressed: body (long, mostly distinct texts: compressing them cost a 1M build 6-9 s)
with revisions as not materialized (
    select * from int_revisions
),

final as (
    select
        ---------- ids
        comment_id,
        org,
        repo,
        revision_index,
        revision_count,
        edit_id,
        ---------- who and when
        edited_at,
        editor_login,
        editor_type,
        origin,
        ---------- the text
        body,
        ---------- flags
        is_original,
        is_current,
        is_placeholder,
        is_deleted,
        is_text_missing,
        deleted_at,
        deleted_by_login
    from revisions
    order by comment_id, revision_index
)

select * from final
