-- The comments to copy onto the analyst snapshot's harmonised tables, in one query: each IMO table's own (column
-- NULL) and its columns' that the snapshot's copy has (withheld columns are not there). Parameters: $1 the IMO
-- catalog, $2 the snapshot catalog.
with imo_tables as (
    select table_name, comment from duckdb_tables()
    where database_name = $1 and schema_name = 'harmonised' and coalesce(comment, '') <> ''
),

imo_columns as (
    select table_name, column_name, comment from duckdb_columns()
    where database_name = $1 and schema_name = 'harmonised' and comment is not null
),

snapshot_columns as (
    select table_name, column_name from duckdb_columns()
    where database_name = $2 and schema_name = 'harmonised'
),

final as (
    select table_name, null as column_name, comment
    from imo_tables
    where table_name in (select table_name from snapshot_columns)
    union all
    select table_name, column_name, comment
    from imo_columns
    semi join snapshot_columns using (table_name, column_name)
)

select * from final
order by table_name, column_name nulls first
