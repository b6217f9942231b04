-- For each bot comment a human edited: the bot's answer before the first human revision and
-- the latest human text.
--
-- Human revisions are origin 'human' and not the original. before = the latest revision
-- preceding the first human revision that is the bot's own (origin 'bot'), has text and is
-- not a placeholder: the answer the bot settled on. after = the latest human revision that has
-- text (a deleted one has none). Either can be missing (the human replaced a placeholder, or
-- every human revision was deleted from history): the row stays, with is_usable false.
-- pair_key identifies the two texts (the diff stage's cache key).
-- materialized: temp (read by the diff stage and int_corrections)
with revisions as not materialized (
    select * from int_revisions
),

human_revisions as (
    select * from revisions where origin = 'human' and not is_original
),

rounds as (
    select
        comment_id,
        count(*) as human_rounds,
        count(distinct coalesce(editor_key, '')) as human_editors,
        min(revision_index) as first_human_index,
        max(revision_index) filter (where body is not null) as after_index,
        max(revision_index) as last_human_index
    from human_revisions
    group by comment_id
),

bot_answer_before_humans as (
    select
        revisions.comment_id,
        max(revisions.revision_index) as before_index
    from revisions
    inner join rounds on revisions.comment_id = rounds.comment_id
    where revisions.revision_index < rounds.first_human_index
        and revisions.origin = 'bot'
        and revisions.body is not null
        and not revisions.is_placeholder
    group by revisions.comment_id
),

pairs as (
    select
        rounds.comment_id,
        rounds.human_rounds,
        rounds.human_editors,
        rounds.first_human_index,
        bot_answer_before_humans.before_index as before_revision_index,
        rounds.after_index as after_revision_index,
        before_revision.answer_text as before_text,
        before_revision.edited_at as before_edited_at,
        after_revision.answer_text as after_text,
        after_revision.edited_at as after_edited_at,
        coalesce(after_revision.editor_login, last_human.editor_login) as editor_login,
        case
            when before_revision.answer_text is not null and after_revision.answer_text is not null
                then hash(before_revision.answer_text, after_revision.answer_text)
        end as pair_key
    from rounds
    left join bot_answer_before_humans
        on rounds.comment_id = bot_answer_before_humans.comment_id
    left join revisions as before_revision
        on before_revision.comment_id = rounds.comment_id
        and before_revision.revision_index = bot_answer_before_humans.before_index
    left join revisions as after_revision
        on after_revision.comment_id = rounds.comment_id
        and after_revision.revision_index = rounds.after_index
    left join revisions as last_human
        on last_human.comment_id = rounds.comment_id
        and last_human.revision_index = rounds.last_human_index
)

select * from pairs
