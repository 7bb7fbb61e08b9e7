-- How many rows the warehouse held for a source after each of its loads, so the report can chart them over time.
alter table audit.source_loads add column rows_held bigint;
comment on column audit.source_loads.rows_held is 'Rows of this source in the harmonised tables once this load ended (NULL before this column existed).';
