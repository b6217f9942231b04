-- The feedback on each bot comment: counted reactions by kind, human edits, and the score.
--
-- score = reaction_score + correction_score, where reaction_score is the sum of the votes'
-- weights (param_reaction_weights, one vote per person: int_reaction_votes) and
-- correction_score is feedback.correction_weight when a human made a usable, non-trivial
-- correction (int_corrections), else 0. label: 'positive' when score >= min_positive_score,
-- 'negative' when score <= max_negative_score, else 'none' (the [export] thresholds).
-- materialized: temp (read by the feedback mart and the phrase documents)
with bot_comments as (
    select comment_id, org, repo from int_bot_comments
),

reactions as not materialized (
    select * from int_reactions
),

votes as not materialized (
    select * from int_reaction_votes
),

edit_counts as not materialized (
    select * from int_revision_counts
),

corrections as not materialized (
    select * from int_corrections
),

settings as not materialized (
    select * from param_feedback
),

reaction_counts as (
    select
        comment_id,
        count(*) filter (where is_counted and content = 'THUMBS_UP') as thumbs_up,
        count(*) filter (where is_counted and content = 'THUMBS_DOWN') as thumbs_down,
        count(*) filter (where is_counted and content = 'LAUGH') as laugh,
        count(*) filter (where is_counted and content = 'HOORAY') as hooray,
        count(*) filter (where is_counted and content = 'CONFUSED') as confused,
        count(*) filter (where is_counted and content = 'HEART') as heart,
        count(*) filter (where is_counted and content = 'ROCKET') as rocket,
        count(*) filter (where is_counted and content = 'EYES') as eyes,
        count(*) filter (where is_counted) as counted_reactions,
        count(*) filter (where is_bot_reactor) as bot_reactions,
        count(*) filter (where is_self_reaction and not is_bot_reactor) as self_reactions
    from reactions
    group by comment_id
),

vote_totals as (
    select
        comment_id,
        count(*) as voters,
        sum(weight) as reaction_score
    from votes
    group by comment_id
),

correction_scores as (
    select
        corrections.comment_id,
        corrections.is_usable and not corrections.is_trivial as is_corrected,
        case
            when corrections.is_usable and not corrections.is_trivial
                then settings.correction_weight
            else 0.0
        end as correction_score
    from corrections
    cross join settings
),

joined as (
    select
        bot_comments.comment_id,
        bot_comments.org,
        bot_comments.repo,
        coalesce(reaction_counts.thumbs_up, 0) as thumbs_up,
        coalesce(reaction_counts.thumbs_down, 0) as thumbs_down,
        coalesce(reaction_counts.laugh, 0) as laugh,
        coalesce(reaction_counts.hooray, 0) as hooray,
        coalesce(reaction_counts.confused, 0) as confused,
        coalesce(reaction_counts.heart, 0) as heart,
        coalesce(reaction_counts.rocket, 0) as rocket,
        coalesce(reaction_counts.eyes, 0) as eyes,
        coalesce(reaction_counts.counted_reactions, 0) as counted_reactions,
        coalesce(reaction_counts.bot_reactions, 0) as bot_reactions,
        coalesce(reaction_counts.self_reactions, 0) as self_reactions,
        coalesce(vote_totals.voters, 0) as voters,
        coalesce(edit_counts.human_edits, 0) as human_edits,
        coalesce(edit_counts.bot_edits, 0) as bot_edits,
        coalesce(correction_scores.is_corrected, false) as is_corrected,
        coalesce(vote_totals.reaction_score, 0.0) as reaction_score,
        coalesce(correction_scores.correction_score, 0.0) as correction_score
    from bot_comments
    left join reaction_counts on bot_comments.comment_id = reaction_counts.comment_id
    left join vote_totals on bot_comments.comment_id = vote_totals.comment_id
    left join edit_counts on bot_comments.comment_id = edit_counts.comment_id
    left join correction_scores on bot_comments.comment_id = correction_scores.comment_id
),

scored as (
    select
        joined.*,
        joined.reaction_score + joined.correction_score as score,
        case
            when joined.reaction_score + joined.correction_score >= settings.min_positive_score
                then 'positive'
            when joined.reaction_score + joined.correction_score <= settings.max_negative_score
                then 'negative'
            else 'none'
        end as label
    from joined
    cross join settings
)

select * from scored
