-- The KoBo sweep's diff: submissions up to $watermark that the sweep lists (temp table kobo_sweep) and that are
-- stored under another _uuid (edited on KoBo: `missing` false), or not stored (`missing` true) and either never
-- recorded as set aside, or set aside under another _uuid (edited since), or set aside by a rule that has changed
-- since ($scope_rule for out-of-scope ones, $mapping_rule for data problems: a fixed mapping).
with stored as (
    -- one row a submission (the table's primary key); every stored submission has one (migration 042)
    select kobo_id, submission_uuid from harmonised.protection_interview where source = $source
),

set_aside as (
    select
        kobo_id,
        submission_uuid as set_aside_uuid,
        case reason when 'out_of_scope' then $scope_rule else $mapping_rule end as current_rule,
        rule
    from audit.kobo_set_aside
    where source = $source
),

final as (
    select
        sweep.kobo_id,
        stored.kobo_id is null as missing
    from kobo_sweep as sweep
    left join stored using (kobo_id)
    left join set_aside using (kobo_id)
    where sweep.kobo_id <= $watermark
      and (
          (stored.kobo_id is not null and stored.submission_uuid is distinct from sweep.submission_uuid)
          or (
              stored.kobo_id is null
              and (
                  set_aside.kobo_id is null
                  or set_aside.set_aside_uuid is distinct from sweep.submission_uuid
                  or set_aside.rule <> set_aside.current_rule
              )
          )
      )
)

select * from final
order by kobo_id
