-- Every text the dialect parser must read, once per place it occurs: the current body of each
-- bot comment and the body of each revision, with the comment's author (see
-- macros/parse_key.sql). The parse stage leaves out the keys its cache holds, then keeps one
-- row per key: the texts are only gathered for the keys still to parse.
-- materialized: view (a nightly build parses a few thousand of 1.7M keys: grouping every
-- text first cost a 1M-comment build 8 s)
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
    -- a revision with the current body's text (most current revisions) is listed above
    where parse_key is not null and parse_key is distinct from current_parse_key
)

select * from all_bodies
