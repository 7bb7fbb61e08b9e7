-- Rows one run kept aside, located as the provider would look for them.
select source, file, sheet, row_number, column_name, value, reason, reason_i18n, severity
from audit.quarantine
where run_id = $run_id
order by source, file nulls first, sheet nulls first, row_number nulls first, column_name
