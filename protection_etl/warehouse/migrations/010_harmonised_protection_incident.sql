-- Protection monitoring (KoBo): one row per incident (or per victim, where the form repeats).
create table harmonised.protection_incident (
    source               varchar not null,
    load_id              varchar not null,
    kobo_id              bigint not null,
    item_index           integer not null default 0,
    submission_uuid      varchar,
    submitted_at         timestamp,
    incident_date        date,
    admin1_pcode         varchar,
    admin2_pcode         varchar,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    violation            varchar,
    sex                  varchar,
    age_range            varchar,
    min_age              integer,
    max_age              integer,
    disability           varchar,
    victims              integer,
    respondent_key       varchar,
    deleted_at           timestamp,
    primary key (source, kobo_id, item_index)
);
comment on table harmonised.protection_incident is 'Incidents reported by protection monitoring (KoBo), without personal data.';
comment on column harmonised.protection_incident.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.protection_incident.load_id is 'KoBo submission version loaded (_uuid based fingerprint).';
comment on column harmonised.protection_incident.kobo_id is 'KoBo submission _id.';
comment on column harmonised.protection_incident.item_index is 'Position in the form''s repeat group (0 when the form does not repeat).';
comment on column harmonised.protection_incident.submission_uuid is 'KoBo _uuid of the version loaded (changes when the submission is edited).';
comment on column harmonised.protection_incident.submitted_at is 'When the submission reached KoBo (UTC).';
comment on column harmonised.protection_incident.incident_date is 'Date the incident happened.';
comment on column harmonised.protection_incident.admin1_pcode is 'Region P-code of the incident.';
comment on column harmonised.protection_incident.admin2_pcode is 'Cercle P-code of the incident.';
comment on column harmonised.protection_incident.provider_admin1_name is 'Region as answered in the form.';
comment on column harmonised.protection_incident.provider_admin2_name is 'Cercle as answered in the form.';
comment on column harmonised.protection_incident.violation is 'Harmonised violation code (killing, injury, abduction, arbitrary_arrest, extortion, gbv, child_recruitment, attack_on_civilians, forced_displacement, movement_restriction, explosive_ordnance, other).';
comment on column harmonised.protection_incident.sex is 'Survivor sex: f, m, u or all.';
comment on column harmonised.protection_incident.age_range is 'Survivor age band as the form defines it.';
comment on column harmonised.protection_incident.min_age is 'Lowest age in the band.';
comment on column harmonised.protection_incident.max_age is 'Highest age in the band, NULL when open-ended.';
comment on column harmonised.protection_incident.disability is 'Survivor with a disability: yes, no or unknown.';
comment on column harmonised.protection_incident.victims is 'Number of victims counted by this row.';
comment on column harmonised.protection_incident.respondent_key is 'Keyed HMAC pseudonym of the respondent, never the identity itself.';
comment on column harmonised.protection_incident.deleted_at is 'When the submission was found deleted on KoBo; the row is kept.';
