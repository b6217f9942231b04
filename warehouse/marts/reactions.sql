-- One row per current reaction on a bot comment (the comment's latest snapshot), with whether
-- it counts towards feedback (not by a bot, not by the comment's author) and its weight.
with reactions as not materialized (
    select * from int_reactions
),

final as (
    select
        comment_id,
        org,
        repo,
        content,
        reactor_login,
        reactor_type,
        reacted_at,
        is_bot_reactor,
        is_self_reaction,
        is_counted,
        weight
    from reactions
    order by comment_id, reacted_at, content, reactor_login
)

select * from final
