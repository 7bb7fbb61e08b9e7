-- The cells of one table whose small counts are withheld in the analyst snapshot, into a scratch table:
-- one row per (source, month, cercle, category, sex, age band), flagged `suppressed` when the count is from 1 to
-- [privacy].min_cell - 1. Filled in by publish.py: {cells} the scratch table, {imo} the IMO catalog, {table} the
-- harmonised table, {category} (a column, or several joined) and {count_column} from its registry Suppress rule,
-- {min_cell} an integer, {totals_filter} empty, or a where clause leaving out the totals a rule publishes.
create table {cells} as

with counts as (
    select * from {imo}.harmonised.{table}
),

final as (
    select
        source,
        period_start,
        admin2_pcode,
        {category} as category,
        sex,
        age_range,
        {count_column} as value,
        ({count_column} > 0 and {count_column} < {min_cell}) as suppressed
    from counts
    {totals_filter}
)

select * from final
