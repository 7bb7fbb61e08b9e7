-- Protection monitoring: an interview row for each submission whose incidents were loaded before interviews were
-- kept (020). Every stored submission then has its interview: it counts in analysis.interviews, and the KoBo sweep
-- compares what KoBo lists with one table. The columns are the submission's own, the same on each of its incident
-- rows; those incidents were reported, so incident_reported is true.
insert into harmonised.protection_interview (
    source, load_id, kobo_id, submission_uuid, submitted_at, admin1_pcode, admin2_pcode,
    provider_admin1_name, provider_admin2_name, incident_reported, deleted_at
)
select
    incident.source,
    any_value(incident.load_id),
    incident.kobo_id,
    any_value(incident.submission_uuid),
    any_value(incident.submitted_at),
    any_value(incident.admin1_pcode),
    any_value(incident.admin2_pcode),
    any_value(incident.provider_admin1_name),
    any_value(incident.provider_admin2_name),
    true,
    max(incident.deleted_at)
from harmonised.protection_incident as incident
where not exists (
    select 1
    from harmonised.protection_interview as interview
    where interview.source = incident.source and interview.kobo_id = incident.kobo_id
)
group by incident.source, incident.kobo_id;
