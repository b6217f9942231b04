-- Every revision of every bot comment, oldest first, before any parsing.
--
-- Revisions come from the latest snapshot's edits (GitHub's UserContentEdits, sorted here by
-- edited_at because GitHub sends them newest first). A comment never edited has exactly one
-- revision: its current body. revision_index 0 is the original only where GitHub kept it
-- (includesCreatedEdit); otherwise it is the oldest revision available and is_original is
-- false. Deleted revisions stay in place with a null body. The newest revision is the current
-- body: where GitHub kept no text for it (before 2018) the current body fills it in.
--
-- origin: 'unknown' for a ghost (null) editor; 'bot' for the comment's author, any Bot or a
-- configured bot login; 'human' for a User (or Mannequin / EnterpriseUserAccount); else
-- 'unknown'.
-- materialized: temp (read twice, and the parse stage pages through its keys)
with bot_comments as not materialized (
    select * from int_bot_comments
),

edits as not materialized (
    select * from int_snapshot_edits
),

bot_logins as not materialized (
    select * from param_bot_logins
),

edited as (
    select
        comment_id,
        edit_id,
        edited_at,
        editor_login,
        editor_type,
        editor_key,
        body,
        deleted_at,
        deleted_by_login,
        true as from_edit_history,
        row_number() over (
            partition by comment_id order by edited_at, edit_id
        ) - 1 as revision_index,
        count(*) over (partition by comment_id) as revision_count
    from edits
),

never_edited as (
    select
        bot_comments.comment_id,
        null::varchar as edit_id,
        bot_comments.created_at as edited_at,
        bot_comments.author_login as editor_login,
        bot_comments.author_type as editor_type,
        bot_comments.author_key as editor_key,
        bot_comments.current_body as body,
        null::timestamptz as deleted_at,
        null::varchar as deleted_by_login,
        false as from_edit_history,
        0::bigint as revision_index,
        1::bigint as revision_count
    from bot_comments
    anti join edits on bot_comments.comment_id = edits.comment_id
),

all_revisions as (
    select * from edited
    union all by name
    select * from never_edited
),

with_comment as (
    select
        all_revisions.*,
        bot_comments.org,
        bot_comments.repo,
        bot_comments.author_login,
        bot_comments.author_type,
        bot_comments.author_key,
        bot_comments.history_includes_original,
        bot_comments.history_last_edited_at,
        bot_comments.current_body,
        bot_comments.current_parse_key
    from all_revisions
    inner join bot_comments on all_revisions.comment_id = bot_comments.comment_id
),

classified as (
    select
        *,
        case
            when editor_login is null then 'unknown'
            when editor_key = author_key then 'bot'
            when editor_type = 'Bot' then 'bot'
            when editor_key in (select login from bot_logins) then 'bot'
            when editor_type in ('User', 'Mannequin', 'EnterpriseUserAccount') then 'human'
            else 'unknown'
        end as origin,
        deleted_at is not null as is_deleted,
        revision_index = revision_count - 1 as is_current,
        -- without its edit history (not hydrated yet), an edited comment's one revision is its
        -- current body, not the original
        revision_index = 0 and (
            (from_edit_history and history_includes_original)
            or (not from_edit_history and history_last_edited_at is null)
        ) as is_original
    from with_comment
),

filled_in as (
    select
        * exclude (current_body) replace (
            case
                when body is null and is_current and not is_deleted then current_body
                else body
            end as body
        )
    from classified
),

keyed as (
    select
        *,
        body is null and not is_deleted as is_text_missing,
        case
            when body is not null then parse_key(author_login, author_type, body)
        end as parse_key
    from filled_in
)

select * from keyed
