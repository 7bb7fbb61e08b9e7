-- The gazetteer is configuration ([reference] in pipeline.toml): Mali by default, or any country's COD table.
comment on table harmonised.admin is 'Administrative units of the configured country (COD P-codes; Mali by default): level 1 region, 2 cercle (admin 2), 3 commune (admin 3).';
comment on column harmonised.admin.pcode is 'P-code in the gazetteer''s own spelling (ML01, ML0101, ML010101; NE004, NE004007). is_unspecified marks each region''s unspecified cercle.';
comment on column harmonised.admin.parent_pcode is 'P-code of the unit one level up (the country''s ISO3 code, MLI, for regions).';
comment on column harmonised.admin.is_unspecified is 'True for the region-level "cercle non précisé" (unspecified admin 2) rows that carry figures known only by region: the region''s code and zeros (ML0100), or nines where zeros are a real code (BF1399).';
comment on column harmonised.admin.source is 'Where the row comes from (the gazetteer file: bundled mli_admin.csv or the configured COD table).';
comment on column harmonised.admin.load_id is 'Fingerprint of the gazetteer file and country loaded.';
