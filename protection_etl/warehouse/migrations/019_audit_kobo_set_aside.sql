-- KoBo submissions a run did not load: out of scope (the mapping's keep_when) or set aside for a data problem.
-- Only the submission's _id and _uuid are kept (no answer), so the sweep refetches a submission only when KoBo
-- shows it edited (new _uuid) or when the rule that set it aside changed since (a fixed mapping), never nightly.
create table audit.kobo_set_aside (
    source          varchar not null,
    kobo_id         bigint not null,
    submission_uuid varchar,
    reason          varchar not null,
    rule            varchar not null,
    run_id          varchar not null,
    primary key (source, kobo_id)
);
comment on table audit.kobo_set_aside is 'KoBo submissions not loaded (out of scope or set aside for a problem): _id and _uuid only, so that they are refetched only when edited or when the mapping changed.';
comment on column audit.kobo_set_aside.source is 'Source name as configured in pipeline.toml.';
comment on column audit.kobo_set_aside.kobo_id is 'The submission _id on KoBo.';
comment on column audit.kobo_set_aside.submission_uuid is 'The submission _uuid when it was set aside (a new one on KoBo means it was edited).';
comment on column audit.kobo_set_aside.reason is 'out_of_scope (keep_when did not hold) or problem (a located data problem, see audit.quarantine).';
comment on column audit.kobo_set_aside.rule is 'Fingerprint of what decided it: the keep_when rule (out_of_scope) or the whole mapping (problem).';
comment on column audit.kobo_set_aside.run_id is 'The run that set it aside.';
