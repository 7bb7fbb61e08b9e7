-- The strategy indicators the data can compute, in one long table.
create or replace view analysis.indicators as

with cmp_disaggregation as (
    select * from analysis.indicator_cmp_disaggregation
),

sensitisation as (
    select * from analysis.indicator_sensitisation
),

partners_mapped as (
    select * from analysis.indicator_partners_mapped
),

gbv_holistic_package as (
    select * from analysis.indicator_gbv_holistic_package
),

timely_reporting as (
    select * from analysis.indicator_timely_reporting
),

mine_action_victims as (
    select * from analysis.indicator_mine_action_victims
),

unioned as (
    select * from cmp_disaggregation
    union all by name
    select * from sensitisation
    union all by name
    select * from partners_mapped
    union all by name
    select * from gbv_holistic_package
    union all by name
    select * from timely_reporting
    union all by name
    select * from mine_action_victims
),

final as (
    select
        indicator_code,
        label_fr,
        label_en,
        period,
        admin1_pcode,
        admin2_pcode,
        sex,
        coalesce(age_range, 'all') as age_range,
        theme,
        value
    from unioned
)

select * from final;

comment on view analysis.indicators is 'Strategy indicators computed from the data, one row per indicator, month, place and breakdown: 1.3 (CMP reports disaggregated), 2.1-sessions and 2.1-participants (sensitisation, 5W), 3.1 (partners mapped), 3.3 (holistic GBV package), PM-48H (monitoring incidents reported within 48 hours), MA-KILLED and MA-INJURED (civilian victims of explosive ordnance, GT-LHAM). NULL P-codes mean the whole country (or the region when only admin2_pcode is NULL).';
comment on column analysis.indicators.indicator_code is 'Indicator code: 1.3, 2.1-sessions, 2.1-participants, 3.1, 3.3, PM-48H, MA-KILLED or MA-INJURED.';
comment on column analysis.indicators.label_fr is 'Indicator label in French.';
comment on column analysis.indicators.label_en is 'Indicator label in English.';
comment on column analysis.indicators.period is 'First day of the month the value is for.';
comment on column analysis.indicators.admin1_pcode is 'Region P-code; NULL for a national value.';
comment on column analysis.indicators.admin2_pcode is 'Cercle P-code; NULL for a national or regional value.';
comment on column analysis.indicators.sex is 'all, or f, m, u where the indicator is broken down by sex (2.1-participants, MA-KILLED, MA-INJURED).';
comment on column analysis.indicators.age_range is 'all, or the age band where the indicator is broken down by age (MA-KILLED, MA-INJURED).';
comment on column analysis.indicators.theme is 'Sensitisation theme (2.1 only), else NULL.';
comment on column analysis.indicators.value is 'The indicator value (a count, a 0/1 flag for 1.3, a percentage for PM-48H).';
