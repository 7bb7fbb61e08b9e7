-- One row per source per run.
create table audit.source_loads (
    run_id           varchar not null,
    source           varchar not null,
    kind             varchar not null,
    load_id          varchar,
    status           varchar not null,
    rows_read        bigint default 0,
    rows_loaded      bigint default 0,
    rows_quarantined bigint default 0,
    latest_period    date,
    started_at       timestamp,
    finished_at      timestamp,
    raw_path         varchar,
    message          varchar,
    primary key (run_id, source)
);
comment on table audit.source_loads is 'Outcome of each source in each run.';
comment on column audit.source_loads.run_id is 'The run (audit.runs.run_id).';
comment on column audit.source_loads.source is 'Source name as configured in pipeline.toml.';
comment on column audit.source_loads.kind is 'Source kind: kobo, cmp, gbvims, cpims or 5w.';
comment on column audit.source_loads.load_id is 'Fingerprint of the input batch (sha256 prefix); the same input gives the same load_id.';
comment on column audit.source_loads.status is 'loaded, loaded with warnings, unchanged, failed, refused or skipped.';
comment on column audit.source_loads.rows_read is 'Data rows read from the input.';
comment on column audit.source_loads.rows_loaded is 'Harmonised rows merged into the warehouse.';
comment on column audit.source_loads.rows_quarantined is 'Input rows sent to audit.quarantine.';
comment on column audit.source_loads.latest_period is 'Latest data period (month or date) in the input.';
comment on column audit.source_loads.started_at is 'When this source started (UTC).';
comment on column audit.source_loads.finished_at is 'When this source ended (UTC).';
comment on column audit.source_loads.raw_path is 'Folder of the raw landing zone holding this input.';
comment on column audit.source_loads.message is 'Error or summary message.';
