-- A quarantine reason as a message for translation, so reports show it in the run's language.
alter table audit.quarantine add column reason_i18n varchar;
comment on column audit.quarantine.reason_i18n is 'The reason as a message: JSON {"id": English template (the gettext msgid), "params": {...}}; reason holds its English text. NULL for a reason stored before this column, or one that is a msgid as it is.';
