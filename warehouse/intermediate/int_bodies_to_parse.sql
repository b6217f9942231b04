-- Every distinct text the dialect parser must read: the current body of each bot comment and
-- the body of each revision, with the comment's author (see macros/parse_key.sql). Sorted by
-- parse_key so that the parse stage can page through it by key range.
-- materialized: temp (the parse stage pages through it by key)
with bot_comments as not materialized (
    select * from int_bot_comments
),

revisions as not materialized (
    select * from int_revision_history
),

all_bodies as (
    select current_parse_key as parse_key, author_login, author_type, current_body as body
    from bot_comments
    union all
    select parse_key, author_login, author_type, body
    from revisions
    where parse_key is not null
),

one_per_key as (
    select
        parse_key,
        any_value(body) as body,
        any_value(author_login) as author_login,
        any_value(author_type) as author_type
    from all_bodies
    group by parse_key
    order by parse_key
)

select * from one_per_key
