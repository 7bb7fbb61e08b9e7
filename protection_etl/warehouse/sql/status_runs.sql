-- The last $limit runs, newest first, with how long each took (NULL while running or if the process died).
select
    run_id,
    started_at,
    finished_at,
    date_diff('second', started_at, finished_at) as duration_seconds,
    status,
    trigger,
    message
from audit.runs
order by started_at desc, run_id desc
limit $limit
