-- Current reactions (latest snapshot) with who gave them and whether they count: reactions by
-- a Bot or a configured bot login, and by the comment's own author, do not count.
-- materialized: temp (read by three models)
with reactions as not materialized (
    select * from int_snapshot_reactions
),

bot_comments as (
    select comment_id, org, repo, author_key from int_bot_comments
),

bot_logins as not materialized (
    select * from param_bot_logins
),

weights as not materialized (
    select * from param_reaction_weights
),

flagged as (
    select
        reactions.comment_id,
        bot_comments.org,
        bot_comments.repo,
        reactions.content,
        reactions.reactor_login,
        reactions.reactor_type,
        reactions.reactor_key,
        reactions.reacted_at,
        coalesce(
            reactions.reactor_type = 'Bot'
            or reactions.reactor_key in (select login from bot_logins),
            false
        ) as is_bot_reactor,
        coalesce(reactions.reactor_key = bot_comments.author_key, false) as is_self_reaction,
        coalesce(weights.weight, 0.0) as weight
    from reactions
    inner join bot_comments on reactions.comment_id = bot_comments.comment_id
    left join weights on reactions.content = weights.content
),

counted as (
    select
        *,
        not is_bot_reactor and not is_self_reaction as is_counted
    from flagged
)

select * from counted
