-- One run's row.
select run_id, started_at, finished_at, status, message, message_i18n
from audit.runs
where run_id = $run_id
