-- Strategy indicator 3.1: protection partners mapped in the 5W, nationally and per cercle.
create or replace view analysis.indicator_partners_mapped as

with operational_presence as (
    select * from harmonised.operational_presence
),

-- the same organisation is often written with different capitals or spaces from one line to the next
protection_lines as (
    select
        cast(date_trunc('month', period_start) as date) as period,
        admin1_pcode,
        admin2_pcode,
        lower(trim(coalesce(org_name, org_acronym))) as organisation
    from operational_presence
    where sector = 'PRO' or sector like 'PRO-%'
),

national as (
    select
        period,
        cast(null as varchar) as admin1_pcode,
        cast(null as varchar) as admin2_pcode,
        count(distinct organisation) as partners
    from protection_lines
    group by period
),

per_cercle as (
    select
        period,
        admin1_pcode,
        admin2_pcode,
        count(distinct organisation) as partners
    from protection_lines
    group by all
),

both_levels as (
    select * from national
    union all
    select * from per_cercle
),

final as (
    select
        '3.1' as indicator_code,
        'Partenaires de protection cartographiés dans le 5W' as label_fr,
        'Protection partners mapped in the 5W' as label_en,
        period,
        admin1_pcode,
        admin2_pcode,
        'all' as sex,
        cast(null as varchar) as theme,
        cast(partners as double) as value
    from both_levels
)

select * from final;

comment on view analysis.indicator_partners_mapped is 'Strategy indicator 3.1: distinct organisations with at least one protection line (PRO or PRO-*) in the 5W that month, whatever its status; one row for the whole country (P-codes NULL) and one per cercle.';
comment on column analysis.indicator_partners_mapped.indicator_code is 'Strategy indicator code (3.1).';
comment on column analysis.indicator_partners_mapped.label_fr is 'Indicator label in French.';
comment on column analysis.indicator_partners_mapped.label_en is 'Indicator label in English.';
comment on column analysis.indicator_partners_mapped.period is 'First day of the 5W reporting month.';
comment on column analysis.indicator_partners_mapped.admin1_pcode is 'Region P-code; NULL on the national row.';
comment on column analysis.indicator_partners_mapped.admin2_pcode is 'Cercle P-code; NULL on the national row.';
comment on column analysis.indicator_partners_mapped.sex is 'Always all.';
comment on column analysis.indicator_partners_mapped.theme is 'Always NULL.';
comment on column analysis.indicator_partners_mapped.value is 'Number of distinct organisations (the national figure is not the sum of the cercles: one organisation works in several).';
