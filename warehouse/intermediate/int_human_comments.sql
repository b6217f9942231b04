-- The latest state of every comment no bot wrote (neither a bot comment nor a Bot author):
-- the questions the linker may choose and their text. Bot comments are in int_bot_comments,
-- so int_comments, with every bot body, is dropped before the revisions are built.
-- materialized: temp (read by int_thread_comments and int_questions)
with comments as not materialized (
    select * from int_comments
),

human_comments as (
    select * from comments where not (is_bot_comment or author_type = 'Bot')
)

select * from human_comments
