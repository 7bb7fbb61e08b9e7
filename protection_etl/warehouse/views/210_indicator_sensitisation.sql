-- Strategy indicator 2.1: sensitisation sessions and participants by sex, theme and cercle (5W).
create or replace view analysis.indicator_sensitisation as

with operational_presence as (
    select * from harmonised.operational_presence
),

activity_reached as (
    select * from harmonised.activity_reached
),

-- the 5W has no theme column: the theme is what the activity says after "Sensibilisation (sur)";
-- explosive ordnance risk education sessions are sensitisation too
sessions as (
    select
        source,
        activity_id,
        cast(date_trunc('month', period_start) as date) as period,
        admin1_pcode,
        admin2_pcode,
        coalesce(
            nullif(trim(regexp_replace(
                activity,
                '^\s*(sessions? de )?(sensibilisation|sensitisation|sensitization|awareness[- ]raising)'
                || '( communautaire)?\s*(sur les|sur la|sur le|sur l''|sur|aux|au|à la|a la|à|de la|des|du|de|on|about)?\s*',
                '',
                'i'
            )), ''),
            'non précisé'
        ) as theme,
        reached_total
    from operational_presence
    where regexp_matches(lower(strip_accents(activity)), 'sensibilis|sensitis|sensitiz|awareness|education aux risques|risk education')
        and coalesce(status, 'unknown') <> 'planned'
),

-- per sex, a source's own total over ages (age_range = all) replaces its age bands
reached_by_sex as (
    select
        *,
        bool_or(age_range = 'all') over (partition by source, activity_id, sex) as has_age_total
    from activity_reached
    where sex <> 'all'
),

participants_by_sex as (
    select
        source,
        activity_id,
        sex,
        sum(persons) as persons
    from reached_by_sex
    where age_range = 'all' or not has_age_total
    group by all
),

participants_by_session as (
    select
        sessions.source,
        sessions.activity_id,
        coalesce(sessions.reached_total, sum(participants_by_sex.persons)) as persons
    from sessions
    left join participants_by_sex
        on sessions.source = participants_by_sex.source
        and sessions.activity_id = participants_by_sex.activity_id
    group by sessions.source, sessions.activity_id, sessions.reached_total
),

session_counts as (
    select
        '2.1-sessions' as indicator_code,
        period, admin1_pcode, admin2_pcode, 'all' as sex, theme,
        cast(count(*) as double) as value
    from sessions
    group by all
),

participant_totals as (
    select
        '2.1-participants' as indicator_code,
        sessions.period, sessions.admin1_pcode, sessions.admin2_pcode, 'all' as sex, sessions.theme,
        cast(coalesce(sum(participants_by_session.persons), 0) as double) as value
    from sessions
    inner join participants_by_session
        on sessions.source = participants_by_session.source
        and sessions.activity_id = participants_by_session.activity_id
    group by all
),

participants_per_sex as (
    select
        '2.1-participants' as indicator_code,
        sessions.period, sessions.admin1_pcode, sessions.admin2_pcode, participants_by_sex.sex, sessions.theme,
        cast(sum(participants_by_sex.persons) as double) as value
    from sessions
    inner join participants_by_sex
        on sessions.source = participants_by_sex.source
        and sessions.activity_id = participants_by_sex.activity_id
    group by all
),

figures as (
    select * from session_counts
    union all
    select * from participant_totals
    union all
    select * from participants_per_sex
),

final as (
    select
        indicator_code,
        case indicator_code
            when '2.1-sessions' then 'Sessions de sensibilisation (lignes d''activité 5W)'
            else 'Participants aux sessions de sensibilisation'
        end as label_fr,
        case indicator_code
            when '2.1-sessions' then 'Sensitisation sessions (5W activity lines)'
            else 'Participants in sensitisation sessions'
        end as label_en,
        period,
        admin1_pcode,
        admin2_pcode,
        sex,
        theme,
        value
    from figures
)

select * from final;

comment on view analysis.indicator_sensitisation is 'Strategy indicator 2.1 from the 5W: sensitisation activities (activity text mentioning sensibilisation, sensitisation, awareness raising or risk education; planned ones left out) per month, cercle and theme. 2.1-sessions counts activity lines; 2.1-participants counts people reached, in total (sex = all) and by sex.';
comment on column analysis.indicator_sensitisation.indicator_code is '2.1-sessions (activity lines) or 2.1-participants (people reached).';
comment on column analysis.indicator_sensitisation.label_fr is 'Indicator label in French.';
comment on column analysis.indicator_sensitisation.label_en is 'Indicator label in English.';
comment on column analysis.indicator_sensitisation.period is 'First day of the 5W reporting month.';
comment on column analysis.indicator_sensitisation.admin1_pcode is 'Region P-code.';
comment on column analysis.indicator_sensitisation.admin2_pcode is 'Cercle P-code.';
comment on column analysis.indicator_sensitisation.sex is 'all, or f, m, u for participants by sex.';
comment on column analysis.indicator_sensitisation.theme is 'Theme: the activity text after "Sensibilisation (sur ...)", as reported; "non précisé" when the text names none.';
comment on column analysis.indicator_sensitisation.value is 'Number of sessions or participants.';
