-- Revisions with what the parser read in them: the answer text (metadata blocks and
-- placeholders removed) and whether a bot revision is a placeholder ("Thinking...").
-- A human's text is never a placeholder: a person writing "Thinking..." meant it.
with history as not materialized (
    select * from int_revision_history
),

parsed as (
    select parse_key, answer_text, is_placeholder from int_parsed_bodies
),

with_parse as (
    select
        history.*,
        parsed.answer_text,
        history.origin = 'bot' and coalesce(parsed.is_placeholder, false) as is_placeholder
    from history
    left join parsed on history.parse_key = parsed.parse_key
)

select * from with_parse
