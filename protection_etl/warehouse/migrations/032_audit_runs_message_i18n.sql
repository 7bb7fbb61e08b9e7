-- A run's outcome message as a message for translation, so reports show it in the run's language.
alter table audit.runs add column message_i18n varchar;
comment on column audit.runs.message_i18n is 'The message as JSON {"id": English template (the gettext msgid), "params": {...}}; message holds its English text. NULL when stored before this column.';
