-- The KoBo sweep's diff: submissions up to $watermark that the sweep lists (temp table kobo_sweep) and that are
-- stored under another _uuid (edited on KoBo, `missing` false) or not stored at all (set aside by an earlier run,
-- `missing` true), except those this run ($run_id) has just set aside again.
with stored as (
    select
        kobo_id,
        any_value(submission_uuid) as submission_uuid
    from harmonised.protection_incident
    where source = $source
    group by kobo_id
),

set_aside_now as (
    select distinct row_number as kobo_id
    from audit.quarantine
    where run_id = $run_id and source = $source and row_number is not null
),

final as (
    select
        sweep.kobo_id,
        stored.kobo_id is null as missing
    from kobo_sweep as sweep
    left join stored using (kobo_id)
    where sweep.kobo_id <= $watermark
      and (stored.kobo_id is null or stored.submission_uuid is distinct from sweep.submission_uuid)
      and sweep.kobo_id not in (select kobo_id from set_aside_now)
)

select * from final
order by kobo_id
