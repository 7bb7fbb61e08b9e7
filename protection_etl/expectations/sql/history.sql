-- Loaded, quarantined and held rows (in the warehouse once the load ended) of each source of a run over the last
-- $runs runs up to and including it; a run in which the source did not take part gives NULL counts.
with

this_run as (
    select run_id, started_at
    from audit.runs
    where run_id = $run_id
),

recent_runs as (
    select runs.run_id, runs.started_at
    from audit.runs as runs, this_run
    where runs.started_at < this_run.started_at
       or (runs.started_at = this_run.started_at and runs.run_id <= this_run.run_id)
    order by runs.started_at desc, runs.run_id desc
    limit $runs
),

run_sources as (
    select source
    from audit.source_loads
    where run_id = $run_id
),

final as (
    select
        run_sources.source,
        recent_runs.run_id,
        recent_runs.started_at,
        loads.status,
        loads.rows_loaded,
        loads.rows_quarantined,
        loads.rows_held
    from run_sources
    cross join recent_runs
    left join audit.source_loads as loads
        on loads.run_id = recent_runs.run_id
       and loads.source = run_sources.source
)

select * from final
order by source, started_at, run_id
