-- Protection monitoring incidents that count: not deleted on KoBo, placed in a cercle and a month.
create or replace view analysis.monitored_incidents as

with incidents as (
    select * from harmonised.protection_incident
),

admin as (
    select * from harmonised.admin
),

unspecified_cercles as (
    select
        admin1_pcode,
        pcode as admin2_pcode
    from admin
    where level = 2 and is_unspecified
),

-- a submission deleted on KoBo is kept in the warehouse for the audit trail, but no longer counts
kept as (
    select * from incidents
    where deleted_at is null
),

placed as (
    select
        kept.source,
        kept.kobo_id,
        kept.item_index,
        kept.submitted_at,
        kept.incident_date,
        -- an incident without a date is counted in the month it was submitted
        cast(date_trunc('month', coalesce(kept.incident_date, cast(kept.submitted_at as date))) as date) as month,
        kept.admin1_pcode,
        -- an incident known only by region goes to the region's unspecified cercle, never to a guessed one
        coalesce(kept.admin2_pcode, unspecified_cercles.admin2_pcode) as admin2_pcode,
        kept.violation,
        case when kept.violation = 'explosive_ordnance' then 'PRO-MIN' else 'PRO' end as aor,
        kept.sex,
        kept.age_range,
        kept.min_age,
        kept.max_age,
        kept.disability,
        kept.victims
    from kept
    left join unspecified_cercles
        on kept.admin2_pcode is null and kept.admin1_pcode = unspecified_cercles.admin1_pcode
),

final as (
    select * from placed
)

select * from final;

comment on view analysis.monitored_incidents is 'Protection monitoring (KoBo) incident rows that count in the analysis: submissions deleted on KoBo are left out; each row is placed in a cercle and a month.';
comment on column analysis.monitored_incidents.source is 'Source name as configured in pipeline.toml.';
comment on column analysis.monitored_incidents.kobo_id is 'KoBo submission _id; one incident, whatever the number of rows it has.';
comment on column analysis.monitored_incidents.item_index is 'Position in the form''s repeat group (0 when the form does not repeat).';
comment on column analysis.monitored_incidents.submitted_at is 'When the submission reached KoBo (UTC).';
comment on column analysis.monitored_incidents.incident_date is 'Date the incident happened.';
comment on column analysis.monitored_incidents.month is 'First day of the month the incident happened (of the submission month when the incident date is missing).';
comment on column analysis.monitored_incidents.admin1_pcode is 'Region P-code of the incident.';
comment on column analysis.monitored_incidents.admin2_pcode is 'Cercle P-code of the incident; the region''s unspecified cercle when only the region is known.';
comment on column analysis.monitored_incidents.violation is 'Harmonised violation code.';
comment on column analysis.monitored_incidents.aor is 'Area of responsibility that responds: PRO-MIN for explosive ordnance incidents, PRO for the others.';
comment on column analysis.monitored_incidents.sex is 'Survivor sex: f, m, u or all.';
comment on column analysis.monitored_incidents.age_range is 'Survivor age band as the form defines it.';
comment on column analysis.monitored_incidents.min_age is 'Lowest age in the band.';
comment on column analysis.monitored_incidents.max_age is 'Highest age in the band, NULL when open-ended.';
comment on column analysis.monitored_incidents.disability is 'Survivor with a disability: yes, no or unknown.';
comment on column analysis.monitored_incidents.victims is 'Number of victims counted by this row.';
