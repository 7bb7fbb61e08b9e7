-- One row per pipeline run.
create table audit.runs (
    run_id      varchar primary key,
    started_at  timestamp not null,
    finished_at timestamp,
    status      varchar not null,
    trigger     varchar,
    sources     varchar[],
    message     varchar
);
comment on table audit.runs is 'One row per pipeline run (nightly, manual or replay).';
comment on column audit.runs.run_id is 'Run identifier: UTC start time and a short random suffix.';
comment on column audit.runs.started_at is 'When the run started (UTC).';
comment on column audit.runs.finished_at is 'When the run ended (UTC); NULL while running or if the process died.';
comment on column audit.runs.status is 'running, succeeded, succeeded with warnings or failed.';
comment on column audit.runs.trigger is 'What started the run: run, demo, schedule, replay.';
comment on column audit.runs.sources is 'Names of the sources selected for this run.';
comment on column audit.runs.message is 'Short human-readable outcome.';
