-- GT-LHAM (mine action): one row per explosive ordnance incident; no victim identities.
create table harmonised.explosive_incident (
    source               varchar not null,
    load_id              varchar not null,
    period_start         date not null,
    incident_ref         varchar not null,
    incident_date        date not null,
    admin1_pcode         varchar not null,
    admin2_pcode         varchar not null,
    admin3_pcode         varchar,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    provider_admin3_name varchar,
    locality             varchar,
    device_type          varchar not null,
    incident_type        varchar not null,
    primary key (source, incident_ref)
);
comment on table harmonised.explosive_incident is 'GT-LHAM explosive ordnance incidents, one row per incident as the mine-action working group exported it. No victim identities: victims are counted in harmonised.explosive_victim.';
comment on column harmonised.explosive_incident.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.explosive_incident.load_id is 'Fingerprint of the input file.';
comment on column harmonised.explosive_incident.period_start is 'First day of the reporting month of the export that carried the incident (re-sending that month replaces it).';
comment on column harmonised.explosive_incident.incident_ref is 'The agency''s own incident reference (IMSMA code), not a person''s.';
comment on column harmonised.explosive_incident.incident_date is 'Date of the incident.';
comment on column harmonised.explosive_incident.admin1_pcode is 'Region P-code.';
comment on column harmonised.explosive_incident.admin2_pcode is 'Cercle P-code (the region''s unspecified cercle when only the region is known).';
comment on column harmonised.explosive_incident.admin3_pcode is 'Commune P-code, NULL when the commune is not given.';
comment on column harmonised.explosive_incident.provider_admin1_name is 'Region as the provider wrote it.';
comment on column harmonised.explosive_incident.provider_admin2_name is 'Cercle as the provider wrote it.';
comment on column harmonised.explosive_incident.provider_admin3_name is 'Commune as the provider wrote it.';
comment on column harmonised.explosive_incident.locality is 'Village, road or site as the provider wrote it.';
comment on column harmonised.explosive_incident.device_type is 'Type of device: ied (improvised explosive device), erw (explosive remnant of war), landmine or unknown.';
comment on column harmonised.explosive_incident.incident_type is 'What happened: road (vehicle or pedestrian on a road), handling, activation, attack, discovery, other or unknown.';
