-- The Mali gazetteer: regions, cercles (with one "unspecified" cercle per region) and communes.
create table harmonised.admin (
    pcode          varchar primary key,
    name           varchar not null,
    level          integer not null,
    parent_pcode   varchar,
    admin1_pcode   varchar not null,
    is_unspecified boolean not null default false,
    valid_from     date,
    source         varchar not null,
    load_id        varchar
);
comment on table harmonised.admin is 'Mali administrative units (COD P-codes): level 1 region, 2 cercle, 3 commune.';
comment on column harmonised.admin.pcode is 'P-code (ML01, ML0101, ML010101). Cercle codes ending in 00 are the region''s unspecified cercle.';
comment on column harmonised.admin.name is 'Official name, without accents as in the COD.';
comment on column harmonised.admin.level is '1 region, 2 cercle, 3 commune.';
comment on column harmonised.admin.parent_pcode is 'P-code of the unit one level up (MLI for regions).';
comment on column harmonised.admin.admin1_pcode is 'P-code of the region containing the unit.';
comment on column harmonised.admin.is_unspecified is 'True for the region-level "cercle non précisé" rows that carry figures known only by region.';
comment on column harmonised.admin.valid_from is 'Date from which the P-code is valid.';
comment on column harmonised.admin.source is 'Where the row comes from (gazetteer file).';
comment on column harmonised.admin.load_id is 'Fingerprint of the gazetteer file loaded.';
