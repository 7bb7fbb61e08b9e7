-- Protection monitoring (KoBo): one row per interview loaded, whether or not it reported an incident. An interview
-- whose mapping's `incident_when` does not hold (e.g. incident_survenu = non) reported no incident: it is a row
-- here and none in protection_incident, so monitoring coverage can be counted without counting it as an incident.
create table harmonised.protection_interview (
    source               varchar not null,
    load_id              varchar not null,
    kobo_id              bigint not null,
    submission_uuid      varchar,
    submitted_at         timestamp,
    admin1_pcode         varchar,
    admin2_pcode         varchar,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    incident_reported    boolean not null,
    deleted_at           timestamp,
    primary key (source, kobo_id)
);
comment on table harmonised.protection_interview is 'Protection monitoring interviews (KoBo), one per submission loaded, with or without an incident; no personal data.';
comment on column harmonised.protection_interview.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.protection_interview.load_id is 'KoBo submission version loaded (_uuid based fingerprint).';
comment on column harmonised.protection_interview.kobo_id is 'KoBo submission _id.';
comment on column harmonised.protection_interview.submission_uuid is 'KoBo _uuid of the version loaded (changes when the submission is edited).';
comment on column harmonised.protection_interview.submitted_at is 'When the interview was submitted to KoBo (UTC).';
comment on column harmonised.protection_interview.admin1_pcode is 'Region P-code of the interview.';
comment on column harmonised.protection_interview.admin2_pcode is 'Cercle P-code of the interview (the region''s unspecified cercle when only the region is known).';
comment on column harmonised.protection_interview.provider_admin1_name is 'Region as the form answered it.';
comment on column harmonised.protection_interview.provider_admin2_name is 'Cercle as the form answered it.';
comment on column harmonised.protection_interview.incident_reported is 'False when the mapping''s incident_when did not hold (no incident reported): the interview has no row in protection_incident.';
comment on column harmonised.protection_interview.deleted_at is 'When the submission was found deleted on KoBo (NULL while it exists).';
