-- Reactions on bot comments as landed with each hydration (a snapshot member: it counts only
-- when its (comment_id, crawled_at, run_id) is the comment's latest snapshot).
with source as not materialized (
    select * from raw_reactions
),

renamed as (
    select
        ---------- ids
        comment_id,
        run_id,
        ---------- properties
        upper(content) as content,
        reactor_login,
        reactor_type,
        lower(reactor_login) as reactor_key,
        ---------- timestamps
        reacted_at,
        crawled_at
    from source
)

select * from renamed
