-- Protection monitoring coverage: interviews per cercle and month, with and without an incident reported.
-- An interview that reported no incident (the mapping's incident_when) counts here and never as an incident.
create or replace view analysis.interviews as

with interviews as (
    select * from harmonised.protection_interview
),

-- a submission deleted on KoBo is kept in the warehouse for the audit trail, but no longer counts
kept as (
    select * from interviews
    where deleted_at is null
),

final as (
    select
        source,
        admin1_pcode,
        admin2_pcode,
        cast(date_trunc('month', submitted_at) as date) as month,
        count(*) as interviews,
        count(*) filter (where incident_reported) as with_incident,
        count(*) filter (where not incident_reported) as without_incident
    from kept
    group by all
)

select * from final
order by source, admin1_pcode, admin2_pcode, month
;
comment on view analysis.interviews is 'Protection monitoring coverage (KoBo): interviews per cercle and month, with and without an incident reported; submissions deleted on KoBo are left out.';
comment on column analysis.interviews.source is 'Source name as configured in pipeline.toml.';
comment on column analysis.interviews.admin1_pcode is 'Region P-code of the interviews.';
comment on column analysis.interviews.admin2_pcode is 'Cercle P-code of the interviews (the region''s unspecified cercle when only the region is known).';
comment on column analysis.interviews.month is 'First day of the month the interviews were submitted.';
comment on column analysis.interviews.interviews is 'Interviews loaded.';
comment on column analysis.interviews.with_incident is 'Interviews that reported an incident (rows in protection_incident).';
comment on column analysis.interviews.without_incident is 'Interviews that reported no incident (the mapping''s incident_when did not hold).';
