-- One pass of secondary suppression over one kind of total: in every group of cells that adds up to a total
-- ({partition}: over sexes per age band, over age bands per sex, or over the whole category of a cercle and month)
-- holding exactly one withheld cell, withhold the next smallest cell too, so that the withheld one cannot be
-- recomputed as the total minus the others. publish.py repeats the passes until none withholds anything more.
update {cells} as cell set suppressed = true
from (
    with cells as (
        select * from {cells}
    ),

    ranked as (
        select
            *,
            count(*) filter (where suppressed) over by_group as withheld,
            count(*) over by_group as cells_in_group,
            -- rank 1 is the smallest cell not yet withheld (false sorts first); ties broken by sex and band
            row_number() over (by_group order by suppressed, value, sex, age_range) as rank
        from cells
        window by_group as (partition by {partition})
    ),

    final as (
        select source, period_start, admin2_pcode, category, sex, age_range
        from ranked
        where withheld = 1 and cells_in_group > 1 and rank = 1 and not suppressed
    )

    select * from final
) as pick
where cell.source = pick.source
    and cell.period_start = pick.period_start
    and cell.admin2_pcode = pick.admin2_pcode
    and cell.category = pick.category
    and cell.sex = pick.sex
    and cell.age_range = pick.age_range
