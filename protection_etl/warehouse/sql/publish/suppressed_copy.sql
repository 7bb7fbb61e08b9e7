-- One table copied into the analyst snapshot with its withheld counts NULL and a `suppressed` flag per row.
-- Filled in by publish.py: {target} the snapshot table, {imo} the IMO catalog, {table} the harmonised table,
-- {cells} its scratch table of flagged cells, {category_column} and {count_column} its registry Suppress rule.
create table {target} as

with counts as (
    select * from {imo}.harmonised.{table}
),

cells as (
    select * from {cells}
),

final as (
    select
        counts.* replace (
            case when cells.suppressed then null else counts.{count_column} end as {count_column}
        ),
        cells.suppressed
    from counts
    inner join cells
        on counts.source = cells.source
        and counts.period_start = cells.period_start
        and counts.admin2_pcode = cells.admin2_pcode
        and counts.{category_column} = cells.category
        and counts.sex = cells.sex
        and counts.age_range = cells.age_range
)

select * from final
