-- One row per bot comment, in its latest state: who wrote it where, what the parser read in
-- it (dialect, plugin, answer, metadata) and the question it answers. The thread's body and
-- URL are in `threads` (one row per thread, not repeated per comment).
-- uncompressed: body, answer_text (long, nearly all distinct: compressing them cost 4-6 s)
with bot_comments as not materialized (
    select * from int_bot_comments_parsed
),

threads as not materialized (
    select * from threads
),

question_links as not materialized (
    select * from int_question_links
),

questions as not materialized (
    select * from int_questions
),

revision_counts as not materialized (
    select * from int_revision_counts
),

-- Materialized: the joins finish (and free their hash tables) before the sort starts; a
-- 1M-comment build ran out of a 3GB memory limit with both at once.
joined as materialized (
    select
        ---------- ids
        bot_comments.comment_id,
        bot_comments.org,
        bot_comments.repo,
        bot_comments.thread_id,
        threads.thread_number,
        bot_comments.database_id,
        bot_comments.reply_to_id,
        bot_comments.review_id,
        ---------- the comment
        bot_comments.kind,
        bot_comments.url,
        bot_comments.author_login,
        bot_comments.author_type,
        bot_comments.bot_reason,
        bot_comments.created_at,
        bot_comments.updated_at,
        bot_comments.history_last_edited_at as last_edited_at,
        bot_comments.current_body as body,
        bot_comments.is_minimized,
        bot_comments.minimized_reason,
        bot_comments.path,
        bot_comments.diff_hunk,
        bot_comments.review_state,
        ---------- what the parser read
        bot_comments.answer_text,
        bot_comments.dialect,
        bot_comments.is_bot_output,
        bot_comments.plugin,
        bot_comments.comment_kind,
        bot_comments.caller,
        bot_comments.header_name,
        bot_comments.header_class,
        bot_comments.version,
        bot_comments.instigator,
        bot_comments.run_url,
        bot_comments.metadata::json as metadata,
        bot_comments.markers,
        bot_comments.is_placeholder,
        bot_comments.parse_error,
        ---------- the question and its context
        question_links.question_comment_id,
        question_links.question_rule,
        question.author_login as question_author_login,
        question.created_at as question_created_at,
        question.question_text,
        threads.thread_kind,
        threads.title as thread_title,
        ---------- history
        coalesce(revision_counts.revision_count, 0) as revision_count,
        coalesce(revision_counts.human_edits, 0) as human_edits,
        bot_comments.is_hydrated,
        bot_comments.hydrated_at,
        bot_comments.hydrated_run_id,
        bot_comments.crawled_at,
        bot_comments.run_id
    from bot_comments
    left join threads on bot_comments.thread_id = threads.thread_id
    left join question_links on bot_comments.comment_id = question_links.answer_comment_id
    left join questions as question on question_links.question_comment_id = question.comment_id
    left join revision_counts on bot_comments.comment_id = revision_counts.comment_id
),

ordered as (
    select * from joined order by org, repo, thread_number, created_at, comment_id
)

select * from ordered
