-- 5W: people reached per activity line by sex and age band.
create table harmonised.activity_reached (
    source               varchar not null,
    load_id              varchar not null,
    activity_id          varchar not null,
    period_start         date not null,
    admin1_pcode         varchar not null,
    admin2_pcode         varchar not null,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    sex                  varchar not null,
    age_range            varchar not null,
    min_age              integer,
    max_age              integer,
    persons              bigint not null,
    primary key (source, activity_id, sex, age_range)
);
comment on table harmonised.activity_reached is 'People reached by each 5W activity line, by sex and age band (long format).';
comment on column harmonised.activity_reached.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.activity_reached.load_id is 'Fingerprint of the input file this row came from.';
comment on column harmonised.activity_reached.activity_id is 'The activity line (harmonised.operational_presence.activity_id).';
comment on column harmonised.activity_reached.period_start is 'First day of the 5W reporting month.';
comment on column harmonised.activity_reached.admin1_pcode is 'Region P-code.';
comment on column harmonised.activity_reached.admin2_pcode is 'Cercle P-code.';
comment on column harmonised.activity_reached.provider_admin1_name is 'Region as the provider wrote it.';
comment on column harmonised.activity_reached.provider_admin2_name is 'Cercle as the provider wrote it.';
comment on column harmonised.activity_reached.sex is 'f, m, u (unknown) or all.';
comment on column harmonised.activity_reached.age_range is 'Age band as the source defines it (0-17, 18+, 60+, unknown, all).';
comment on column harmonised.activity_reached.min_age is 'Lowest age in the band, NULL when unknown.';
comment on column harmonised.activity_reached.max_age is 'Highest age in the band, NULL when open-ended or unknown.';
comment on column harmonised.activity_reached.persons is 'People reached.';
