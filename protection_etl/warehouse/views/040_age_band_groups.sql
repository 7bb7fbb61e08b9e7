-- Every age band found in the harmonised tables and the age group (child, adult, elderly, unknown) it rolls up to.
create or replace view analysis.age_band_groups as

with protection_incident as (
    select * from harmonised.protection_incident
),

gbv_incident as (
    select * from harmonised.gbv_incident
),

child_protection as (
    select * from harmonised.child_protection
),

displacement as (
    select * from harmonised.displacement
),

activity_reached as (
    select * from harmonised.activity_reached
),

bands as (
    select 'protection_incident' as table_name, age_range, min_age, max_age from protection_incident
    union
    select 'gbv_incident', age_range, min_age, max_age from gbv_incident
    union
    select 'child_protection', age_range, min_age, max_age from child_protection
    union
    select 'displacement', age_range, min_age, max_age from displacement
    union
    select 'activity_reached', age_range, min_age, max_age from activity_reached
),

-- a band is never split by guess: one that straddles 17/18 or 59/60 stays unknown
grouped as (
    select
        table_name,
        age_range,
        min_age,
        max_age,
        case
            when max_age <= 17 then 'child'
            when min_age >= 60 then 'elderly'
            when min_age >= 18 and max_age <= 59 then 'adult'
            -- an open band that starts as an adult (18+, 25+) is how these sources count adults
            when min_age between 18 and 59 and max_age is null then 'adult'
            else 'unknown'
        end as age_group
    from bands
    where age_range is not null and age_range <> 'all'
),

final as (
    select * from grouped
)

select * from final;

comment on view analysis.age_band_groups is 'Each age band found in the harmonised tables and the age group it rolls up to: child (max_age <= 17), adult (18 to 59, or an open band starting between 18 and 59 such as 18+), elderly (min_age >= 60), otherwise unknown. A band straddling 17/18 or 59/60 stays unknown. Totals rows (age_range = all) are left out.';
comment on column analysis.age_band_groups.table_name is 'Harmonised table the band appears in.';
comment on column analysis.age_band_groups.age_range is 'Age band as the source defines it.';
comment on column analysis.age_band_groups.min_age is 'Lowest age in the band, NULL when unknown.';
comment on column analysis.age_band_groups.max_age is 'Highest age in the band, NULL when open-ended or unknown.';
comment on column analysis.age_band_groups.age_group is 'child, adult, elderly or unknown.';
