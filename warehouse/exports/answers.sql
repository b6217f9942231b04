-- The LLM answers of one export's scope with their feedback and correction: every training
-- subset is cut from this. `export_scope` (org, repo lower-cased; a null repo is the whole
-- org) is the partner's; nothing outside it is read.
with bot_comments as not materialized (
    select * from bot_comments
),

threads as not materialized (
    select * from threads
),

feedback as not materialized (
    select * from feedback
),

corrections as not materialized (
    select * from corrections
),

scope as not materialized (
    select * from export_scope
),

answers_in_scope as (
    select bot_comments.*
    from bot_comments
    where bot_comments.comment_kind = 'llm_answer'
        and exists (
            select 1 from scope
            where lower(bot_comments.org) = scope.org
                and (scope.repo is null or lower(bot_comments.repo) = scope.repo)
        )
),

joined as (
    select
        ---------- ids and provenance
        answers.comment_id,
        answers.org,
        answers.repo,
        answers.thread_id,
        answers.url,
        answers.run_id,
        answers.hydrated_run_id,
        answers.created_at,
        ---------- the prompt's parts
        answers.kind,
        answers.thread_kind,
        answers.thread_number,
        answers.thread_title,
        threads.body as thread_body,
        answers.path,
        answers.diff_hunk,
        answers.question_comment_id,
        answers.question_author_login,
        answers.question_text,
        ---------- texts: the current answer, and the bot's own text people rated
        answers.answer_text,
        case
            when corrections.comment_id is not null then corrections.before_text
            else answers.answer_text
        end as bot_text,
        answers.human_edits,
        ---------- feedback
        feedback.score,
        feedback.reaction_score,
        feedback.label,
        feedback.is_corrected,
        ---------- the correction, if any
        corrections.comment_id is not null as has_correction,
        corrections.before_text,
        corrections.after_text,
        coalesce(corrections.is_usable, false) as correction_is_usable,
        coalesce(corrections.is_trivial, false) as correction_is_trivial,
        corrections.similarity,
        corrections.edit_distance,
        corrections.word_diff,
        corrections.editor_login as corrected_by,
        corrections.after_edited_at as corrected_at
    from answers_in_scope as answers
    join feedback on answers.comment_id = feedback.comment_id
    left join threads on answers.thread_id = threads.thread_id
    left join corrections on answers.comment_id = corrections.comment_id
)

select * from joined
