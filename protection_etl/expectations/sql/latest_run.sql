-- The most recent run, by start time.
select run_id
from audit.runs
order by started_at desc, run_id desc
limit 1
