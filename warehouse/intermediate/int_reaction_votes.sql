-- One vote per person and comment: of the counted reactions with a non-zero weight, each
-- person's latest (reacted_at, ties by content) decides their vote. A reactor whose account
-- is gone (null login) cannot be told apart from another, so each such reaction is a vote.
with reactions as (
    select * from int_reactions where is_counted and weight <> 0
),

latest_per_person as (
    select *
    from reactions
    qualify reactor_key is null or row_number() over (
        partition by comment_id, reactor_key order by reacted_at desc nulls last, content desc
    ) = 1
)

select * from latest_per_person
