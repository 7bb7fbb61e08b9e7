-- The harmonised tables that carry a `source` column (every one but the gazetteer), to count rows per source.
select table_name
from duckdb_columns()
where schema_name = 'harmonised'
  and column_name = 'source'
  and table_name <> 'admin'
order by table_name
