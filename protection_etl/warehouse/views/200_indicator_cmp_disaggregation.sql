-- Strategy indicator 1.3: months with a CMP report disaggregated by age, sex and disability.
create or replace view analysis.indicator_cmp_disaggregation as

with displacement as (
    select * from harmonised.displacement
),

months as (
    select
        cast(date_trunc('month', reference_date) as date) as period,
        bool_or(sex <> 'all') as by_sex,
        bool_or(age_range <> 'all') as by_age,
        bool_or(disability <> 'all') as by_disability
    from displacement
    group by all
),

final as (
    select
        '1.3' as indicator_code,
        'Mois avec un rapport CMP désagrégé par âge, sexe et handicap' as label_fr,
        'Months with a CMP report disaggregated by age, sex and disability' as label_en,
        period,
        cast(null as varchar) as admin1_pcode,
        cast(null as varchar) as admin2_pcode,
        'all' as sex,
        cast(null as varchar) as theme,
        cast(case when by_sex and by_age and by_disability then 1 else 0 end as double) as value
    from months
)

select * from final;

comment on view analysis.indicator_cmp_disaggregation is 'Strategy indicator 1.3, one row per month with a CMP report: value 1 when that month''s report has figures by sex, by age band and for persons with a disability, else 0. Sum value over a year to count the months.';
comment on column analysis.indicator_cmp_disaggregation.indicator_code is 'Strategy indicator code (1.3).';
comment on column analysis.indicator_cmp_disaggregation.label_fr is 'Indicator label in French.';
comment on column analysis.indicator_cmp_disaggregation.label_en is 'Indicator label in English.';
comment on column analysis.indicator_cmp_disaggregation.period is 'First day of the month of the CMP report.';
comment on column analysis.indicator_cmp_disaggregation.admin1_pcode is 'Always NULL: the indicator is national.';
comment on column analysis.indicator_cmp_disaggregation.admin2_pcode is 'Always NULL: the indicator is national.';
comment on column analysis.indicator_cmp_disaggregation.sex is 'Always all.';
comment on column analysis.indicator_cmp_disaggregation.theme is 'Always NULL.';
comment on column analysis.indicator_cmp_disaggregation.value is '1 when the month''s CMP report is disaggregated by age, sex and disability, else 0.';
