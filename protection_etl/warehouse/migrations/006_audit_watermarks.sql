-- Incremental state per source (KoBo: the highest _id loaded).
create table audit.watermarks (
    source     varchar primary key,
    last_id    bigint,
    updated_at timestamp not null,
    run_id     varchar
);
comment on table audit.watermarks is 'Incremental position per source.';
comment on column audit.watermarks.source is 'Source name as configured in pipeline.toml.';
comment on column audit.watermarks.last_id is 'Highest KoBo _id merged so far.';
comment on column audit.watermarks.updated_at is 'When the watermark last moved (UTC).';
comment on column audit.watermarks.run_id is 'The run that moved it.';
