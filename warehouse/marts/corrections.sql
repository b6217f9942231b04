-- One row per bot comment a human edited: the bot's answer, the humans' latest text, and how
-- far apart they are. Rules in int_correction_pairs and int_corrections.
-- uncompressed: before_text, after_text, diff, word_diff (compressing them at the checkpoint
-- cost a 1M build 0.6 s)
with corrections as not materialized (
    select * from int_corrections
),

bot_comments as (
    select comment_id, org, repo, thread_id, url from int_bot_comments
),

final as (
    select
        ---------- ids
        corrections.comment_id,
        bot_comments.org,
        bot_comments.repo,
        bot_comments.thread_id,
        bot_comments.url,
        ---------- the two texts
        corrections.before_text,
        corrections.after_text,
        corrections.before_revision_index,
        corrections.after_revision_index,
        corrections.before_edited_at,
        corrections.after_edited_at,
        ---------- the change
        corrections.diff,
        corrections.word_diff,
        corrections.edit_distance,
        corrections.similarity,
        corrections.is_whitespace_only,
        corrections.is_trivial,
        corrections.is_usable,
        ---------- who
        corrections.editor_login,
        corrections.human_rounds,
        corrections.human_editors
    from corrections
    inner join bot_comments on corrections.comment_id = bot_comments.comment_id
    order by bot_comments.org, bot_comments.repo, corrections.comment_id
)

select * from final
