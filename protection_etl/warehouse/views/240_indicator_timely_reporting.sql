-- Share of protection monitoring incidents reported within 48 hours of occurring, per month, nationally and by region.
create or replace view analysis.indicator_timely_reporting as

with monitored_incidents as (
    select * from analysis.monitored_incidents
),

incidents as (
    select distinct source, kobo_id, month, admin1_pcode, incident_date, submitted_at
    from monitored_incidents
    -- a submission dated before the incident has a wrong date: it cannot be timed
    where incident_date is not null
        and submitted_at is not null
        and cast(submitted_at as date) >= incident_date
),

-- incident dates carry no time: submitted on the day or the day after means at most 48 hours later
timed as (
    select
        *,
        cast(submitted_at as date) <= incident_date + 1 as within_48h
    from incidents
),

shares as (
    select
        month as period,
        admin1_pcode,
        round(100.0 * count(*) filter (where within_48h) / count(*), 1) as value
    from timed
    group by grouping sets ((month), (month, admin1_pcode))
),

final as (
    select
        'PM-48H' as indicator_code,
        'Part des incidents du monitoring de protection rapportés dans les 48 heures (%)' as label_fr,
        'Share of protection monitoring incidents reported within 48 hours (%)' as label_en,
        period,
        admin1_pcode,
        cast(null as varchar) as admin2_pcode,
        'all' as sex,
        cast(null as varchar) as theme,
        cast(value as double) as value
    from shares
)

select * from final;

comment on view analysis.indicator_timely_reporting is 'Share (%) of protection monitoring incidents submitted on KoBo within 48 hours of occurring, by month of the incident, for the whole country (admin1_pcode NULL) and by region. Incident dates carry no time, so an incident counts as timely when submitted on the day it happened or the day after. Incidents without dates, or submitted before their date, are left out.';
comment on column analysis.indicator_timely_reporting.indicator_code is 'Indicator code (PM-48H).';
comment on column analysis.indicator_timely_reporting.label_fr is 'Indicator label in French.';
comment on column analysis.indicator_timely_reporting.label_en is 'Indicator label in English.';
comment on column analysis.indicator_timely_reporting.period is 'First day of the month the incidents happened.';
comment on column analysis.indicator_timely_reporting.admin1_pcode is 'Region P-code; NULL on the national row.';
comment on column analysis.indicator_timely_reporting.admin2_pcode is 'Always NULL: the share is given by region and nationally.';
comment on column analysis.indicator_timely_reporting.sex is 'Always all.';
comment on column analysis.indicator_timely_reporting.theme is 'Always NULL.';
comment on column analysis.indicator_timely_reporting.value is 'Percentage of timed incidents reported within 48 hours, rounded to 1 decimal.';
