-- Rows per source in one harmonised table ($table, e.g. 'harmonised.gbv_incident', from status_rows.sql).
select
    source,
    count(*) as row_count
from query_table($table)
group by source
