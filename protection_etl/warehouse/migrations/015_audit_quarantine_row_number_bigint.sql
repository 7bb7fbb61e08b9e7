-- KoBo problems are located by submission _id, which outgrows a 32-bit integer on large servers.
alter table audit.quarantine alter column row_number type bigint;
comment on column audit.quarantine.row_number is 'Row number as the provider sees it in the file (1 = first line); for KoBo, the submission _id.';
