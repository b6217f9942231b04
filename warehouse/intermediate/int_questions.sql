-- The comments that some bot answer answers (int_question_links), with what bot_comments shows
-- of them. Narrow and small (the linked questions only), so that int_human_comments, every
-- human comment with its body, is dropped before bot_comments joins and sorts.
-- materialized: temp (read by bot_comments)
with comments as not materialized (
    select * from int_human_comments
),

question_links as not materialized (
    select * from int_question_links
),

questions as (
    select
        comments.comment_id,
        comments.author_login,
        comments.created_at,
        trim_whitespace(comments.body) as question_text
    from comments
    semi join question_links on comments.comment_id = question_links.question_comment_id
)

select * from questions
