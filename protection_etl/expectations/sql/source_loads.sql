-- Each source's outcome in one run, in the order the sources ran.
select
    source,
    kind,
    status,
    coalesce(rows_read, 0)        as rows_read,
    coalesce(rows_loaded, 0)      as rows_loaded,
    coalesce(rows_quarantined, 0) as rows_quarantined,
    latest_period,
    message
from audit.source_loads
where run_id = $run_id
order by started_at nulls last, source
