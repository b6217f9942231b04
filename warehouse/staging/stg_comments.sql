-- Comments of threads that hold a bot comment (humans' too: they hold the questions), as
-- landed: one row per comment per crawl that saw it.
with source as not materialized (
    select * from raw_comments
),

renamed as (
    select
        ---------- ids
        comment_id,
        thread_id,
        org,
        repo,
        reply_to_id,
        review_id,
        database_id,
        ---------- properties
        kind,
        author_login,
        author_type,
        lower(author_login) as author_key,
        body,
        editor_login,
        editor_type,
        includes_created_edit,
        coalesce(is_minimized, false) as is_minimized,
        minimized_reason,
        path,
        diff_hunk,
        review_state,
        url,
        coalesce(is_bot_comment, false) as is_bot_comment,
        bot_reason,
        ---------- timestamps
        created_at,
        updated_at,
        last_edited_at,
        ---------- crawl
        crawled_at,
        run_id
    from source
)

select * from renamed
