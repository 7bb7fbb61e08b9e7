-- GBVIMS incidents and CPIMS / MRM cases per source, cercle, month and type, counting each person once.
create or replace view analysis.case_totals as

with gbv_incident as (
    select * from harmonised.gbv_incident
),

child_protection as (
    select * from harmonised.child_protection
),

cells as (
    select
        'PRO-GBV' as aor, source, period_start, admin1_pcode, admin2_pcode,
        gbv_type as category, sex, age_range, incidents as cases
    from gbv_incident
    union all
    select
        'PRO-CPN' as aor, source, period_start, admin1_pcode, admin2_pcode,
        concern as category, sex, age_range, cases
    from child_protection
),

-- sources may send their own totals (sex = 'all', age_range = 'all') next to the detail; find them
margins as (
    select
        *,
        bool_or(sex = 'all' and age_range = 'all') over type_cells as has_grand_total,
        bool_or(sex = 'all' and age_range <> 'all') over type_cells as has_sex_totals,
        bool_or(sex = 'all') over (
            partition by aor, source, period_start, admin2_pcode, category, age_range
        ) as has_sex_total_for_band,
        bool_or(age_range = 'all') over (
            partition by aor, source, period_start, admin2_pcode, category, sex
        ) as has_age_total_for_sex
    from cells
    window type_cells as (partition by aor, source, period_start, admin2_pcode, category)
),

-- keep the most aggregated rows only, so a person is never counted both in a detail and in a total
uncovered as (
    select * from margins
    where case
        when sex = 'all' and age_range = 'all' then true
        when sex = 'all' then not has_grand_total
        when age_range = 'all' then not (has_grand_total or has_sex_totals)
        else not (
            has_grand_total
            or has_sex_total_for_band
            or (has_age_total_for_sex and not has_sex_totals)
        )
    end
),

-- a withheld (NULL) count makes the total withheld too: a partial sum would understate it
totals as (
    select
        aor,
        source,
        cast(date_trunc('month', period_start) as date) as month,
        admin1_pcode,
        admin2_pcode,
        category,
        case when bool_or(cases is null) then null else cast(sum(cases) as bigint) end as cases,
        bool_or(cases is null) as suppressed
    from uncovered
    group by all
),

final as (
    select * from totals
)

select * from final;

comment on view analysis.case_totals is 'GBVIMS incidents and CPIMS / MRM cases per source, cercle, month and type. Where a source sends its own totals next to the detail, the totals are used, so no one is counted twice.';
comment on column analysis.case_totals.aor is 'Area of responsibility: PRO-GBV (GBVIMS) or PRO-CPN (CPIMS / MRM).';
comment on column analysis.case_totals.source is 'Source name as configured in pipeline.toml.';
comment on column analysis.case_totals.month is 'First day of the month reported.';
comment on column analysis.case_totals.admin1_pcode is 'Region P-code.';
comment on column analysis.case_totals.admin2_pcode is 'Cercle P-code (the region''s unspecified cercle when only the region is known).';
comment on column analysis.case_totals.category is 'GBV type (GBVIMS) or concern / grave violation (CPIMS, MRM).';
comment on column analysis.case_totals.cases is 'Incidents (GBVIMS) or cases (CPIMS / MRM), all sexes and ages; NULL when withheld in the analyst snapshot.';
comment on column analysis.case_totals.suppressed is 'True when a count that makes up this total is withheld (analyst snapshot only); the total is then NULL.';
