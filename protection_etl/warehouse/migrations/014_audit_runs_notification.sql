-- What became of each run's email: sent, kept in the outbox, or not needed.
alter table audit.runs add column notification varchar;
alter table audit.runs add column report_path varchar;
comment on column audit.runs.notification is 'Email outcome: sent, not needed, or why it was kept in the outbox.';
comment on column audit.runs.report_path is 'Path of the run''s HTML quality report.';
