-- Strategy indicator for mine action: civilian victims of explosive ordnance by sex and age, per cercle and month.
create or replace view analysis.indicator_mine_action_victims as

with explosive_victim as (
    select * from harmonised.explosive_victim
),

civilians as (
    select
        cast(date_trunc('month', incident_date) as date) as period,
        admin1_pcode,
        admin2_pcode,
        outcome,
        sex,
        age_range,
        -- a withheld (NULL) count makes the sum withheld too: a partial sum would understate it
        case when bool_or(persons is null) then null else sum(persons) end as persons
    from explosive_victim
    where victim_group = 'civilian'
    group by all
),

final as (
    select
        case outcome when 'killed' then 'MA-KILLED' else 'MA-INJURED' end as indicator_code,
        case outcome
            when 'killed' then 'Civils tués par des engins explosifs'
            else 'Civils blessés par des engins explosifs'
        end as label_fr,
        case outcome
            when 'killed' then 'Civilians killed by explosive ordnance'
            else 'Civilians injured by explosive ordnance'
        end as label_en,
        period,
        admin1_pcode,
        admin2_pcode,
        sex,
        age_range,
        cast(null as varchar) as theme,
        cast(persons as double) as value
    from civilians
)

select * from final;

comment on view analysis.indicator_mine_action_victims is 'Mine-action indicators MA-KILLED and MA-INJURED: civilians killed or injured by explosive ordnance (GT-LHAM) per cercle and month of the incident; sex all / age_range all is the total, the other rows its breakdown by sex and age band where the working group gave one.';
comment on column analysis.indicator_mine_action_victims.indicator_code is 'MA-KILLED or MA-INJURED.';
comment on column analysis.indicator_mine_action_victims.label_fr is 'Indicator label in French.';
comment on column analysis.indicator_mine_action_victims.label_en is 'Indicator label in English.';
comment on column analysis.indicator_mine_action_victims.period is 'First day of the month of the incidents.';
comment on column analysis.indicator_mine_action_victims.admin1_pcode is 'Region P-code.';
comment on column analysis.indicator_mine_action_victims.admin2_pcode is 'Cercle P-code.';
comment on column analysis.indicator_mine_action_victims.sex is 'f, m, u, or all on the total row.';
comment on column analysis.indicator_mine_action_victims.age_range is 'Age band (0-17 for girls and boys, 18+ for women and men), or all on the total row.';
comment on column analysis.indicator_mine_action_victims.theme is 'Always NULL.';
comment on column analysis.indicator_mine_action_victims.value is 'Civilians killed or injured; NULL when withheld in the analyst snapshot (a small count by sex and age).';
