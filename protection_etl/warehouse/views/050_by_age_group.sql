-- Every mechanism's figures by cercle, month, sex and age group (child, adult, elderly, unknown), side by side.
create or replace view analysis.by_age_group as

with monitored_incidents as (
    select * from analysis.monitored_incidents
),

gbv_incident as (
    select * from harmonised.gbv_incident
),

child_protection as (
    select * from harmonised.child_protection
),

displacement_month as (
    select * from analysis.displacement_month
),

activity_reached as (
    select * from harmonised.activity_reached
),

operational_presence as (
    select * from harmonised.operational_presence
),

age_band_groups as (
    select * from analysis.age_band_groups
),

-- one row per figure and age band, before the bands are rolled up; withheld = a count NULLed in the snapshot
banded as (
    select
        'protection_incident' as table_name, source, month, admin1_pcode, admin2_pcode,
        violation as category, sex, age_range, min_age, max_age,
        kobo_id, victims as value, false as withheld
    from monitored_incidents
    union all
    select
        'gbv_incident', source, cast(date_trunc('month', period_start) as date), admin1_pcode, admin2_pcode,
        gbv_type, sex, age_range, min_age, max_age,
        null, incidents, incidents is null
    from gbv_incident
    union all
    select
        'child_protection', source, cast(date_trunc('month', period_start) as date), admin1_pcode, admin2_pcode,
        concern, sex, age_range, min_age, max_age,
        null, cases, cases is null
    from child_protection
    union all
    -- persons with a disability (disability = yes) are a subset of the totals: keep the totals only
    select
        'displacement', source, month, admin1_pcode, admin2_pcode,
        population_group, sex, age_range, min_age, max_age,
        null, persons, false
    from displacement_month
    where disability = 'all'
    union all
    select
        'activity_reached', activity_reached.source, cast(date_trunc('month', activity_reached.period_start) as date),
        activity_reached.admin1_pcode, activity_reached.admin2_pcode,
        operational_presence.sector, activity_reached.sex, activity_reached.age_range,
        activity_reached.min_age, activity_reached.max_age,
        null, activity_reached.persons, false
    from activity_reached
    left join operational_presence
        on activity_reached.source = operational_presence.source
        and activity_reached.activity_id = operational_presence.activity_id
),

-- totals rows (age_range = all) are not an age group; a row without any band is of unknown age. Read by the two
-- sums below: not materialized, DuckDB computes it for each instead of holding all its rows in memory (publishing
-- 100,000 KoBo submissions failed under 40 MB with it held, and passes so)
with_groups as not materialized (
    select
        banded.*,
        coalesce(age_band_groups.age_group, 'unknown') as age_group
    from banded
    left join age_band_groups
        on banded.table_name = age_band_groups.table_name
        and banded.age_range = age_band_groups.age_range
        and banded.min_age is not distinct from age_band_groups.min_age
        and banded.max_age is not distinct from age_band_groups.max_age
    where banded.age_range is distinct from 'all'
),

-- a withheld (NULL) count makes the group's figure withheld too: a partial sum would understate it
rolled_up as (
    select
        table_name,
        case table_name
            when 'protection_incident' then 'victims'
            when 'gbv_incident' then 'incidents'
            when 'child_protection' then 'cases'
            when 'displacement' then 'persons'
            else 'persons_reached'
        end as measure,
        source, month, admin1_pcode, admin2_pcode, category, sex, age_group,
        case when bool_or(withheld) then null else cast(coalesce(sum(value), 0) as bigint) end as value,
        bool_or(withheld) as suppressed
    from with_groups
    group by all
),

-- monitoring also counts incidents, not only victims
monitored_incident_counts as (
    select
        table_name, 'incidents' as measure,
        source, month, admin1_pcode, admin2_pcode, category, sex, age_group,
        count(distinct kobo_id) as value,
        false as suppressed
    from with_groups
    where table_name = 'protection_incident'
    group by all
),

final as (
    select * from rolled_up
    union all
    select * from monitored_incident_counts
)

select * from final;

comment on view analysis.by_age_group is 'Figures of every mechanism by cercle, month, category, sex and age group, with age bands rolled up exactly through analysis.age_band_groups (a band straddling 17/18 or 59/60 is counted as unknown, never split). Rows with sex = all are the source''s own totals over sexes: do not add them to the f, m and u rows.';
comment on column analysis.by_age_group.table_name is 'Harmonised table the figure comes from: protection_incident, gbv_incident, child_protection, displacement or activity_reached.';
comment on column analysis.by_age_group.measure is 'What value counts: incidents or victims (protection_incident), incidents (gbv_incident), cases (child_protection), persons (displacement, latest round of the month, all disabilities), persons_reached (activity_reached).';
comment on column analysis.by_age_group.source is 'Source name as configured in pipeline.toml.';
comment on column analysis.by_age_group.month is 'First day of the month.';
comment on column analysis.by_age_group.admin1_pcode is 'Region P-code.';
comment on column analysis.by_age_group.admin2_pcode is 'Cercle P-code.';
comment on column analysis.by_age_group.category is 'Violation (protection_incident), GBV type (gbv_incident), concern (child_protection), population group (displacement) or sector (activity_reached).';
comment on column analysis.by_age_group.sex is 'f, m, u or all (the source''s own total over sexes).';
comment on column analysis.by_age_group.age_group is 'child, adult, elderly or unknown (see analysis.age_band_groups; a row without an age band is unknown).';
comment on column analysis.by_age_group.value is 'The figure; NULL when withheld in the analyst snapshot.';
comment on column analysis.by_age_group.suppressed is 'True when a GBV or child protection count in this group is withheld (analyst snapshot only); value is then NULL.';
