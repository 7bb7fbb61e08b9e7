-- CMP figures of each cercle and month, taken from the cercle's latest round in that month.
create or replace view analysis.displacement_month as

with displacement as (
    select * from harmonised.displacement
),

dated as (
    select
        *,
        cast(date_trunc('month', reference_date) as date) as month
    from displacement
),

-- displacement is a stock, not a flow: two rounds in one month must not be added up
latest as (
    select
        *,
        max(reference_date) over (partition by source, admin2_pcode, month) as latest_reference_date
    from dated
),

final as (
    select
        source,
        month,
        reference_date,
        admin1_pcode,
        admin2_pcode,
        admin3_pcode,
        origin_admin1_pcode,
        population_group,
        sex,
        age_range,
        min_age,
        max_age,
        disability,
        households,
        persons
    from latest
    where reference_date = latest_reference_date
)

select * from final;

comment on view analysis.displacement_month is 'CMP movement tracker rows of the latest round of each cercle in each month (two rounds in one month are not added up: displacement is a stock).';
comment on column analysis.displacement_month.source is 'Source name as configured in pipeline.toml.';
comment on column analysis.displacement_month.month is 'First day of the month of the round.';
comment on column analysis.displacement_month.reference_date is 'Date of the CMP round, the latest of that cercle in that month.';
comment on column analysis.displacement_month.admin1_pcode is 'Region P-code where the people are.';
comment on column analysis.displacement_month.admin2_pcode is 'Cercle P-code where the people are.';
comment on column analysis.displacement_month.admin3_pcode is 'Commune P-code where the people are; the cercle P-code when the commune is not reported.';
comment on column analysis.displacement_month.origin_admin1_pcode is 'Region of origin P-code; ''unknown'' when not reported.';
comment on column analysis.displacement_month.population_group is 'idp, returnee or refugee.';
comment on column analysis.displacement_month.sex is 'f, m or all.';
comment on column analysis.displacement_month.age_range is 'CMP age band (0-4, 5-11, 12-17, 18-59, 60+) or all.';
comment on column analysis.displacement_month.min_age is 'Lowest age in the band.';
comment on column analysis.displacement_month.max_age is 'Highest age in the band, NULL when open-ended.';
comment on column analysis.displacement_month.disability is 'all, or yes for the count of persons with a disability.';
comment on column analysis.displacement_month.households is 'Households (only on the totals row).';
comment on column analysis.displacement_month.persons is 'Individuals.';
