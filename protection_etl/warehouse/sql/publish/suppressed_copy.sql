-- One table copied into the analyst snapshot with its withheld counts NULL and a `suppressed` flag per row.
-- Filled in by publish.py: {target} the snapshot table, {imo} the IMO catalog, {table} the harmonised table,
-- {cells} its scratch table of flagged cells, {category} and {count_column} from its registry Suppress rule. A row
-- with no cell (a total its rule publishes) is copied as it is.
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
        coalesce(cells.suppressed, false) as suppressed
    from counts
    left join cells
        on counts.source = cells.source
        and counts.period_start = cells.period_start
        and counts.admin2_pcode = cells.admin2_pcode
        and {category} = cells.category
        and counts.sex = cells.sex
        and counts.age_range = cells.age_range
)

select * from final
