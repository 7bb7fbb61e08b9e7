-- Input rows that could not be harmonised, with where they came from and why.
create table audit.quarantine (
    run_id      varchar not null,
    source      varchar not null,
    file        varchar,
    sheet       varchar,
    row_number  integer,
    column_name varchar,
    value       varchar,
    reason      varchar not null,
    severity    varchar not null default 'warning'
);
comment on table audit.quarantine is 'Input rows and problems kept aside by a run: never loaded, never deleted.';
comment on column audit.quarantine.run_id is 'The run that found the problem.';
comment on column audit.quarantine.source is 'Source name as configured in pipeline.toml.';
comment on column audit.quarantine.file is 'Input file name (or KoBo page).';
comment on column audit.quarantine.sheet is 'Worksheet name, for Excel inputs.';
comment on column audit.quarantine.row_number is 'Row number as the provider sees it in the file (1 = first line).';
comment on column audit.quarantine.column_name is 'Column (header as written by the provider).';
comment on column audit.quarantine.value is 'The offending value, as read.';
comment on column audit.quarantine.reason is 'What was expected.';
comment on column audit.quarantine.severity is 'warning (row kept aside) or error (batch refused).';
