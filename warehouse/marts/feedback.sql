-- One row per bot comment: counted reactions by kind, human edits, the weighted score and its
-- label. Rules in int_feedback; the weights used are in param_reaction_weights and
-- param_feedback.
with feedback as not materialized (
    select * from int_feedback
),

final as (
    select
        comment_id,
        org,
        repo,
        score,
        label,
        reaction_score,
        correction_score,
        thumbs_up,
        thumbs_down,
        laugh,
        hooray,
        confused,
        heart,
        rocket,
        eyes,
        counted_reactions,
        voters,
        bot_reactions,
        self_reactions,
        human_edits,
        bot_edits,
        is_corrected
    from feedback
    order by org, repo, comment_id
)

select * from final
