-- Strategy indicator 3.3: partners offering the holistic GBV package (medical, psychosocial, legal) per cercle.
create or replace view analysis.indicator_gbv_holistic_package as

with operational_presence as (
    select * from harmonised.operational_presence
),

lines as (
    select
        cast(date_trunc('month', period_start) as date) as period,
        admin1_pcode,
        admin2_pcode,
        sector,
        status,
        lower(trim(coalesce(org_name, org_acronym))) as organisation,
        lower(strip_accents(coalesce(activity, ''))) as activity_text
    from operational_presence
),

-- the 5W has no service column: the service is read from the activity text, in French or English
gbv_services as (
    select
        period,
        admin1_pcode,
        admin2_pcode,
        organisation,
        regexp_matches(activity_text, 'medic|clinique|clinical|soins') as medical,
        regexp_matches(activity_text, 'psycho|\bpss\b') as psychosocial,
        regexp_matches(activity_text, 'juridi|judiciaire|legal|justice') as legal
    from lines
    where sector = 'PRO-GBV' and status = 'ongoing'
),

organisations as (
    select
        period,
        admin1_pcode,
        admin2_pcode,
        organisation,
        bool_or(medical) and bool_or(psychosocial) and bool_or(legal) as holistic
    from gbv_services
    group by all
),

-- every cercle with a 5W line that month gets a row, so a cercle without the package shows 0
cercles as (
    select distinct period, admin1_pcode, admin2_pcode
    from lines
),

counted as (
    select
        cercles.period,
        cercles.admin1_pcode,
        cercles.admin2_pcode,
        count(distinct organisations.organisation) filter (where organisations.holistic) as partners
    from cercles
    left join organisations
        on cercles.period = organisations.period
        and cercles.admin2_pcode = organisations.admin2_pcode
    group by all
),

final as (
    select
        '3.3' as indicator_code,
        'Partenaires offrant le paquet holistique VBG (médical, psychosocial, juridique)' as label_fr,
        'Partners offering the holistic GBV package (medical, psychosocial, legal)' as label_en,
        period,
        admin1_pcode,
        admin2_pcode,
        'all' as sex,
        cast(null as varchar) as theme,
        cast(partners as double) as value
    from counted
)

select * from final;

comment on view analysis.indicator_gbv_holistic_package is 'Strategy indicator 3.3: per cercle and month, organisations whose ongoing PRO-GBV activities in that cercle cover medical, psychosocial (PSS) and legal (juridique) assistance, read from the activity text. Every cercle with a 5W line that month has a row.';
comment on column analysis.indicator_gbv_holistic_package.indicator_code is 'Strategy indicator code (3.3).';
comment on column analysis.indicator_gbv_holistic_package.label_fr is 'Indicator label in French.';
comment on column analysis.indicator_gbv_holistic_package.label_en is 'Indicator label in English.';
comment on column analysis.indicator_gbv_holistic_package.period is 'First day of the 5W reporting month.';
comment on column analysis.indicator_gbv_holistic_package.admin1_pcode is 'Region P-code.';
comment on column analysis.indicator_gbv_holistic_package.admin2_pcode is 'Cercle P-code.';
comment on column analysis.indicator_gbv_holistic_package.sex is 'Always all.';
comment on column analysis.indicator_gbv_holistic_package.theme is 'Always NULL.';
comment on column analysis.indicator_gbv_holistic_package.value is 'Number of organisations offering all three services in the cercle.';
