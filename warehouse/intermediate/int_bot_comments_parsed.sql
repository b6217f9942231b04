-- Bot comments with what the dialect parser read in their current body.
with bot_comments as not materialized (
    select * from int_bot_comments
),

parsed as not materialized (
    select * from int_parsed_bodies
),

-- Only the parses of current bodies (1M of the 1.67M at 1M comments): the join's hash table
-- holds fewer wide rows (4.1-4.7 s against 5.5-7.0 s, measured alone).
current_parses as (
    select *
    from parsed
    semi join bot_comments on parsed.parse_key = bot_comments.current_parse_key
),

with_parse as (
    select
        bot_comments.*,
        parsed.dialect,
        parsed.is_bot_output,
        parsed.plugin,
        parsed.comment_kind,
        parsed.caller,
        parsed.header_name,
        parsed.header_class,
        parsed.version,
        parsed.instigator,
        parsed.run_url,
        parsed.metadata,
        parsed.markers,
        parsed.answer_text,
        coalesce(parsed.is_placeholder, false) as is_placeholder,
        parsed.parse_error
    from bot_comments
    left join current_parses as parsed on bot_comments.current_parse_key = parsed.parse_key
)

select * from with_parse
