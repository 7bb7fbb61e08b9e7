-- Each source's outcome in one run, in the order the sources ran, with how many checks ran on it and the latest
-- period the warehouse holds for it (as `status` says: its successful loads up to this run, not this batch only).
with

this_run as (
    select started_at from audit.runs where run_id = $run_id
),

checks as (
    select source, count(*) as checks_run
    from audit.quality_results
    where run_id = $run_id
    group by source
),

held as (
    select loads.source, max(loads.latest_period) as latest_period
    from audit.source_loads as loads
    inner join audit.runs as runs using (run_id)
    cross join this_run
    where loads.status in ('loaded', 'loaded with warnings', 'unchanged')
      and runs.started_at <= this_run.started_at
    group by loads.source
),

final as (
    select
        loads.source,
        loads.kind,
        loads.status,
        coalesce(loads.rows_read, 0)        as rows_read,
        coalesce(loads.rows_loaded, 0)      as rows_loaded,
        coalesce(loads.rows_quarantined, 0) as rows_quarantined,
        held.latest_period,
        loads.message,
        loads.message_i18n,
        coalesce(checks.checks_run, 0)      as checks_run,
        loads.started_at
    from audit.source_loads as loads
    left join checks using (source)
    left join held using (source)
    where loads.run_id = $run_id
)

select * exclude (started_at) from final
order by started_at nulls last, source
