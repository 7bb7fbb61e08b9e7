-- CPIMS / MRM: aggregated monthly cases by place, concern, sex and age band.
create table harmonised.child_protection (
    source               varchar not null,
    load_id              varchar not null,
    period_start         date not null,
    admin1_pcode         varchar not null,
    admin2_pcode         varchar not null,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    concern              varchar not null,
    sex                  varchar not null,
    age_range            varchar not null,
    min_age              integer,
    max_age              integer,
    cases                bigint not null,
    primary key (source, period_start, admin2_pcode, concern, sex, age_range)
);
comment on table harmonised.child_protection is 'CPIMS / MRM aggregated figures: cases per month, cercle, concern or grave violation, sex and age band. No individual data.';
comment on column harmonised.child_protection.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.child_protection.load_id is 'Fingerprint of the input file.';
comment on column harmonised.child_protection.period_start is 'First day of the month reported.';
comment on column harmonised.child_protection.admin1_pcode is 'Region P-code.';
comment on column harmonised.child_protection.admin2_pcode is 'Cercle P-code (the region''s unspecified cercle when only the region is known).';
comment on column harmonised.child_protection.provider_admin1_name is 'Region as the provider wrote it.';
comment on column harmonised.child_protection.provider_admin2_name is 'Cercle as the provider wrote it.';
comment on column harmonised.child_protection.concern is 'Concern or grave violation code (mrm_killing, mrm_maiming, mrm_recruitment, mrm_sexual_violence, mrm_abduction, mrm_attack_school, mrm_attack_hospital, mrm_denial_access, unaccompanied_child, separated_child, psychosocial_distress, child_labour, other).';
comment on column harmonised.child_protection.sex is 'f (girls), m (boys), u (unknown) or all.';
comment on column harmonised.child_protection.age_range is 'Age band as the source defines it.';
comment on column harmonised.child_protection.min_age is 'Lowest age in the band.';
comment on column harmonised.child_protection.max_age is 'Highest age in the band, NULL when unknown.';
comment on column harmonised.child_protection.cases is 'Cases reported.';
