-- Every data-quality expectation evaluated in a run.
create table audit.quality_results (
    run_id           varchar not null,
    source           varchar not null,
    table_name       varchar not null,
    expectation      varchar not null,
    severity         varchar not null,
    success          boolean not null,
    unexpected_count bigint,
    examples         varchar,
    why              varchar,
    crashed          boolean not null default false
);
comment on table audit.quality_results is 'Result of every Great Expectations check of every run.';
comment on column audit.quality_results.run_id is 'The run.';
comment on column audit.quality_results.source is 'Source name as configured in pipeline.toml.';
comment on column audit.quality_results.table_name is 'Harmonised table checked.';
comment on column audit.quality_results.expectation is 'The expectation, readable (type and column).';
comment on column audit.quality_results.severity is 'error (rejects the batch) or warning (quarantines rows).';
comment on column audit.quality_results.success is 'Whether the expectation held.';
comment on column audit.quality_results.unexpected_count is 'Rows that failed it.';
comment on column audit.quality_results.examples is 'A few failing values that are safe to show.';
comment on column audit.quality_results.why is 'Why the check matters, for a human.';
comment on column audit.quality_results.crashed is 'True when the check itself could not run (a pipeline error, not a data failure).';
