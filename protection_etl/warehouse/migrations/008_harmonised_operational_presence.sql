-- 5W: one row per partner activity line.
create table harmonised.operational_presence (
    source               varchar not null,
    load_id              varchar not null,
    activity_id          varchar not null,
    period_start         date not null,
    org_name             varchar,
    org_acronym          varchar,
    org_type             varchar,
    sector               varchar not null,
    activity             varchar,
    admin1_pcode         varchar not null,
    admin2_pcode         varchar not null,
    admin3_pcode         varchar,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    status               varchar,
    start_date           date,
    end_date             date,
    reached_total        bigint,
    primary key (source, activity_id)
);
comment on table harmonised.operational_presence is 'Partner presence from the 5W: one row per activity line (who, what, where, when).';
comment on column harmonised.operational_presence.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.operational_presence.load_id is 'Fingerprint of the input file this row came from.';
comment on column harmonised.operational_presence.activity_id is 'Stable key of the activity line (hash of its content and position among identical lines).';
comment on column harmonised.operational_presence.period_start is 'First day of the 5W reporting month.';
comment on column harmonised.operational_presence.org_name is 'Organisation name as reported.';
comment on column harmonised.operational_presence.org_acronym is 'Organisation acronym as reported.';
comment on column harmonised.operational_presence.org_type is 'Organisation type (ONG nationale, ONG internationale, Agence UN, Gouvernement, ...).';
comment on column harmonised.operational_presence.sector is 'Global cluster / area of responsibility code: PRO, PRO-GBV, PRO-CPN, PRO-MIN, PRO-HLP, EDU, SHL, ...';
comment on column harmonised.operational_presence.activity is 'Activity as reported.';
comment on column harmonised.operational_presence.admin1_pcode is 'Region P-code.';
comment on column harmonised.operational_presence.admin2_pcode is 'Cercle P-code (the region''s unspecified cercle when only the region is known).';
comment on column harmonised.operational_presence.admin3_pcode is 'Commune P-code when reported and matched.';
comment on column harmonised.operational_presence.provider_admin1_name is 'Region as the provider wrote it.';
comment on column harmonised.operational_presence.provider_admin2_name is 'Cercle as the provider wrote it.';
comment on column harmonised.operational_presence.status is 'ongoing, completed, planned or unknown.';
comment on column harmonised.operational_presence.start_date is 'Activity start date.';
comment on column harmonised.operational_presence.end_date is 'Activity end date.';
comment on column harmonised.operational_presence.reached_total is 'People reached, all sexes and ages.';
