-- Failed and crashed expectations of one run: crashed first, then errors, then warnings.
select
    source,
    table_name,
    expectation,
    severity,
    why,
    unexpected_count,
    examples,
    crashed
from audit.quality_results
where run_id = $run_id
  and not success
order by
    source,
    crashed desc,
    case severity when 'error' then 0 else 1 end,
    table_name,
    expectation
