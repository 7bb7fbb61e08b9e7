-- Per source: its latest load, its last successful load and latest data period, and the failed expectations of
-- its latest load ("open" quality failures: the next good load closes them).
with

loads as (
    select * from audit.source_loads
),

latest_load as (
    select source, kind, run_id, status, finished_at
    from loads
    qualify row_number() over (partition by source order by finished_at desc nulls last, run_id desc) = 1
),

successful as (
    select
        source,
        max(finished_at)   as last_success_at,
        max(latest_period) as latest_period
    from loads
    where status in ('loaded', 'loaded with warnings', 'unchanged')
    group by source
),

open_failures as (
    select
        results.source,
        count(*) filter (where results.severity = 'error') as failed_errors,
        count(*) filter (where results.severity <> 'error') as failed_warnings
    from audit.quality_results as results
    inner join latest_load
        on results.run_id = latest_load.run_id
       and results.source = latest_load.source
    where not results.success
    group by results.source
),

final as (
    select
        latest_load.source,
        latest_load.kind,
        latest_load.run_id      as last_run_id,
        latest_load.status      as last_status,
        latest_load.finished_at as last_load_at,
        successful.last_success_at,
        successful.latest_period,
        coalesce(open_failures.failed_errors, 0)   as failed_errors,
        coalesce(open_failures.failed_warnings, 0) as failed_warnings
    from latest_load
    left join successful using (source)
    left join open_failures using (source)
)

select * from final
order by source
