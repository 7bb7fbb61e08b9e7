-- GBVIMS: aggregated monthly incidents by place, GBV type, sex and age band.
create table harmonised.gbv_incident (
    source               varchar not null,
    load_id              varchar not null,
    period_start         date not null,
    admin1_pcode         varchar not null,
    admin2_pcode         varchar not null,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    gbv_type             varchar not null,
    sex                  varchar not null,
    age_range            varchar not null,
    min_age              integer,
    max_age              integer,
    incidents            bigint not null,
    primary key (source, period_start, admin2_pcode, gbv_type, sex, age_range)
);
comment on table harmonised.gbv_incident is 'GBVIMS aggregated statistics: incidents per month, cercle, GBV type, sex and age band. No individual data.';
comment on column harmonised.gbv_incident.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.gbv_incident.load_id is 'Fingerprint of the input file.';
comment on column harmonised.gbv_incident.period_start is 'First day of the month reported.';
comment on column harmonised.gbv_incident.admin1_pcode is 'Region P-code.';
comment on column harmonised.gbv_incident.admin2_pcode is 'Cercle P-code (the region''s unspecified cercle when only the region is known).';
comment on column harmonised.gbv_incident.provider_admin1_name is 'Region as the provider wrote it.';
comment on column harmonised.gbv_incident.provider_admin2_name is 'Cercle as the provider wrote it.';
comment on column harmonised.gbv_incident.gbv_type is 'GBVIMS core type: rape, sexual_assault, physical_assault, forced_marriage, denial_of_resources, psychological_abuse.';
comment on column harmonised.gbv_incident.sex is 'Survivor sex: f, m, u or all.';
comment on column harmonised.gbv_incident.age_range is 'GBVIMS age band: 0-11, 12-17, 18-25, 26-40, 41-60, 61+, unknown.';
comment on column harmonised.gbv_incident.min_age is 'Lowest age in the band.';
comment on column harmonised.gbv_incident.max_age is 'Highest age in the band, NULL when open-ended or unknown.';
comment on column harmonised.gbv_incident.incidents is 'Incidents reported.';
