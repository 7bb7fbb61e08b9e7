-- Each harmonised table that carries a `source` column, with the column that dates its rows: the first of
-- period_start, reference_date, incident_date, submitted_at it has (the month chart counts rows by that month).
with

dated as (
    select
        table_name,
        column_name,
        list_position(['period_start', 'reference_date', 'incident_date', 'submitted_at'], column_name) as preference
    from duckdb_columns()
    where schema_name = 'harmonised'
      and database_name = current_database()
      and column_name in ('period_start', 'reference_date', 'incident_date', 'submitted_at')
),

with_source as (
    select table_name
    from duckdb_columns()
    where schema_name = 'harmonised' and database_name = current_database() and column_name = 'source'
      and table_name <> 'admin'
),

final as (
    select dated.table_name, dated.column_name
    from dated
    inner join with_source using (table_name)
    qualify row_number() over (partition by dated.table_name order by dated.preference) = 1
)

select * from final
order by table_name
