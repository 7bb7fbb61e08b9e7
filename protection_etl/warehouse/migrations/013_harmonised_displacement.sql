-- CMP movement tracker: displaced people by date, place, origin, sex and age band.
create table harmonised.displacement (
    source               varchar not null,
    load_id              varchar not null,
    reference_date       date not null,
    admin1_pcode         varchar not null,
    admin2_pcode         varchar not null,
    admin3_pcode         varchar not null,
    provider_admin1_name varchar,
    provider_admin2_name varchar,
    provider_admin3_name varchar,
    origin_admin1_pcode  varchar not null,
    population_group     varchar not null,
    households           bigint,
    sex                  varchar not null,
    age_range            varchar not null,
    min_age              integer,
    max_age              integer,
    disability           varchar not null,
    persons              bigint not null,
    primary key (source, reference_date, admin3_pcode, origin_admin1_pcode, population_group, sex, age_range, disability)
);
comment on table harmonised.displacement is 'CMP movement tracker: people by reference date, place (commune), region of origin, group, sex, age band and disability. The sex=all, age_range=all, disability=all row carries the totals and households.';
comment on column harmonised.displacement.source is 'Source name as configured in pipeline.toml.';
comment on column harmonised.displacement.load_id is 'Fingerprint of the input file.';
comment on column harmonised.displacement.reference_date is 'Date of the CMP round (first day of its month when only the month is known).';
comment on column harmonised.displacement.admin1_pcode is 'Region P-code where the people are.';
comment on column harmonised.displacement.admin2_pcode is 'Cercle P-code where the people are.';
comment on column harmonised.displacement.admin3_pcode is 'Commune P-code where the people are; the cercle P-code when the commune is not reported.';
comment on column harmonised.displacement.provider_admin1_name is 'Region as the CMP wrote it.';
comment on column harmonised.displacement.provider_admin2_name is 'Cercle as the CMP wrote it.';
comment on column harmonised.displacement.provider_admin3_name is 'Commune as the CMP wrote it.';
comment on column harmonised.displacement.origin_admin1_pcode is 'Region of origin P-code; ''unknown'' when not reported.';
comment on column harmonised.displacement.population_group is 'idp or returnee.';
comment on column harmonised.displacement.households is 'Households (only on the totals row).';
comment on column harmonised.displacement.sex is 'f, m or all.';
comment on column harmonised.displacement.age_range is 'CMP age band (0-4, 5-11, 12-17, 18-59, 60+) or all.';
comment on column harmonised.displacement.min_age is 'Lowest age in the band.';
comment on column harmonised.displacement.max_age is 'Highest age in the band, NULL when open-ended.';
comment on column harmonised.displacement.disability is 'all, or yes for the count of persons with a disability.';
comment on column harmonised.displacement.persons is 'Individuals.';
