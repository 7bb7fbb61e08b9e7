-- GT-LHAM (mine action): victims of each incident by group, outcome, sex and age band; counts only.
create table harmonised.explosive_victim (
    source        varchar not null,
    load_id       varchar not null,
    period_start  date not null,
    incident_ref  varchar not null,
    incident_date date not null,
    admin1_pcode  varchar not null,
    admin2_pcode  varchar not null,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    victim_group  varchar not null,
    outcome       varchar not null,
    sex           varchar not null,
    age_range     varchar not null,
    min_age       integer,
    max_age       integer,
    persons       bigint not null,
    primary key (source, incident_ref, victim_group, outcome, sex, age_range)
);
comment on table harmonised.explosive_victim is 'Victims of GT-LHAM explosive ordnance incidents: persons per incident, victim group, outcome, sex and age band. A group given without a sex and age breakdown has one sex=all, age_range=all row. No individual data.';
comment on column harmonised.explosive_victim.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.explosive_victim.load_id is 'Fingerprint of the input file.';
comment on column harmonised.explosive_victim.period_start is 'First day of the reporting month of the export that carried the incident.';
comment on column harmonised.explosive_victim.incident_ref is 'The incident (harmonised.explosive_incident.incident_ref).';
comment on column harmonised.explosive_victim.incident_date is 'Date of the incident (as in harmonised.explosive_incident).';
comment on column harmonised.explosive_victim.admin1_pcode is 'Region P-code of the incident.';
comment on column harmonised.explosive_victim.admin2_pcode is 'Cercle P-code of the incident.';
comment on column harmonised.explosive_victim.provider_admin1_name is 'Region as the provider wrote it.';
comment on column harmonised.explosive_victim.provider_admin2_name is 'Cercle as the provider wrote it.';
comment on column harmonised.explosive_victim.victim_group is 'civilian, national_forces, peacekeepers or unknown.';
comment on column harmonised.explosive_victim.outcome is 'killed or injured.';
comment on column harmonised.explosive_victim.sex is 'f, m, u or all.';
comment on column harmonised.explosive_victim.age_range is 'Age band as the source gave it (0-17 for girls and boys, 18+ for women and men), unknown, or all.';
comment on column harmonised.explosive_victim.min_age is 'Lowest age in the band.';
comment on column harmonised.explosive_victim.max_age is 'Highest age in the band, NULL when open-ended or unknown.';
comment on column harmonised.explosive_victim.persons is 'Victims counted.';
