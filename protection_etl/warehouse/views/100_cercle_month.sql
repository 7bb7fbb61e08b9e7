-- One row per cercle and month: every mechanism's figures side by side (0 = reported none, NULL = not reported).
create or replace view analysis.cercle_month as

with admin as (
    select * from harmonised.admin
),

monitored_incidents as (
    select * from analysis.monitored_incidents
),

case_totals as (
    select * from analysis.case_totals
),

displacement_month as (
    select * from analysis.displacement_month
),

operational_presence as (
    select * from harmonised.operational_presence
),

explosive_month as (
    select * from analysis.explosive_month
),

regions as (
    select pcode as admin1_pcode, name as admin1_name
    from admin
    where level = 1
),

cercles as (
    select
        cercle.admin1_pcode,
        regions.admin1_name,
        cercle.pcode as admin2_pcode,
        cercle.name as admin2_name
    from admin as cercle
    left join regions on cercle.admin1_pcode = regions.admin1_pcode
    where cercle.level = 2
),

presence as (
    select
        *,
        cast(date_trunc('month', period_start) as date) as month,
        lower(trim(coalesce(org_name, org_acronym))) as organisation
    from operational_presence
),

-- a mechanism "reported" a month when it has any row for any cercle that month
reported_months as (
    select distinct 'pm' as mechanism, month from monitored_incidents
    union
    select distinct case aor when 'PRO-GBV' then 'gbv' else 'cp' end, month from case_totals
    union
    select distinct 'cmp', month from displacement_month
    union
    select distinct '5w', month from presence
    union
    select distinct 'ma', month from explosive_month
),

months as (
    select cast(range as date) as month
    from range(
        (select min(month) from reported_months),
        (select max(month) from reported_months) + interval 1 month,
        interval 1 month
    )
),

reported as (
    select
        months.month,
        coalesce(bool_or(reported_months.mechanism = 'pm'), false) as pm,
        coalesce(bool_or(reported_months.mechanism = 'gbv'), false) as gbv,
        coalesce(bool_or(reported_months.mechanism = 'cp'), false) as cp,
        coalesce(bool_or(reported_months.mechanism = 'cmp'), false) as cmp,
        coalesce(bool_or(reported_months.mechanism = '5w'), false) as fivew,
        coalesce(bool_or(reported_months.mechanism = 'ma'), false) as ma
    from months
    left join reported_months on months.month = reported_months.month
    group by months.month
),

pm_figures as (
    select
        admin2_pcode,
        month,
        count(distinct (source, kobo_id)) as incidents,
        cast(coalesce(sum(victims), 0) as bigint) as victims
    from monitored_incidents
    group by all
),

case_figures as (
    select
        admin2_pcode,
        month,
        aor,
        case when bool_or(suppressed) then null else cast(sum(cases) as bigint) end as cases,
        bool_or(suppressed) as suppressed
    from case_totals
    group by all
),

idp_figures as (
    select
        admin2_pcode,
        month,
        cast(sum(persons) as bigint) as idps
    from displacement_month
    where population_group = 'idp' and sex = 'all' and age_range = 'all' and disability = 'all'
    group by all
),

partner_figures as (
    select
        admin2_pcode,
        month,
        count(distinct organisation) filter (where sector = 'PRO') as protection,
        count(distinct organisation) filter (where sector = 'PRO-GBV') as gbv,
        count(distinct organisation) filter (where sector = 'PRO-CPN') as cp,
        count(distinct organisation) filter (where sector = 'PRO-MIN') as mine_action
    from presence
    where status = 'ongoing'
    group by all
),

joined as (
    select
        cercles.admin1_pcode,
        cercles.admin1_name,
        cercles.admin2_pcode,
        cercles.admin2_name,
        reported.month,
        case when reported.pm then coalesce(pm_figures.incidents, 0) end as pm_incidents,
        case when reported.pm then coalesce(pm_figures.victims, 0) end as pm_victims,
        case when reported.gbv and not coalesce(gbv.suppressed, false) then coalesce(gbv.cases, 0) end
            as gbv_incidents,
        coalesce(gbv.suppressed, false) as gbv_suppressed,
        case when reported.cp and not coalesce(cp.suppressed, false) then coalesce(cp.cases, 0) end as cp_cases,
        coalesce(cp.suppressed, false) as cp_suppressed,
        case when reported.cmp then coalesce(idp_figures.idps, 0) end as idps,
        case when reported.fivew then coalesce(partner_figures.protection, 0) end as partners_protection,
        case when reported.fivew then coalesce(partner_figures.gbv, 0) end as partners_gbv,
        case when reported.fivew then coalesce(partner_figures.cp, 0) end as partners_cp,
        case when reported.fivew then coalesce(partner_figures.mine_action, 0) end as partners_mine_action,
        case when reported.ma then coalesce(explosive_month.incidents, 0) end as explosive_incidents,
        case when reported.ma then coalesce(explosive_month.civilians_killed, 0) end as civilians_killed,
        case when reported.ma then coalesce(explosive_month.civilians_injured, 0) end as civilians_injured
    from cercles
    cross join reported
    left join pm_figures
        on cercles.admin2_pcode = pm_figures.admin2_pcode and reported.month = pm_figures.month
    left join case_figures as gbv
        on cercles.admin2_pcode = gbv.admin2_pcode and reported.month = gbv.month and gbv.aor = 'PRO-GBV'
    left join case_figures as cp
        on cercles.admin2_pcode = cp.admin2_pcode and reported.month = cp.month and cp.aor = 'PRO-CPN'
    left join idp_figures
        on cercles.admin2_pcode = idp_figures.admin2_pcode and reported.month = idp_figures.month
    left join partner_figures
        on cercles.admin2_pcode = partner_figures.admin2_pcode and reported.month = partner_figures.month
    left join explosive_month
        on cercles.admin2_pcode = explosive_month.admin2_pcode and reported.month = explosive_month.month
),

final as (
    select
        admin1_pcode,
        admin1_name,
        admin2_pcode,
        admin2_name,
        month,
        pm_incidents,
        pm_victims,
        gbv_incidents,
        cp_cases,
        idps,
        partners_protection,
        partners_gbv,
        partners_cp,
        partners_mine_action,
        explosive_incidents,
        civilians_killed,
        civilians_injured,
        case when idps > 0 then round(pm_incidents * 10000.0 / idps, 2) end as incidents_per_10k_idps,
        gbv_suppressed,
        cp_suppressed
    from joined
)

select * from final;

comment on view analysis.cercle_month is 'One row per cercle and month, from the first to the last month with data in any source. A figure is 0 when its source reported that month (a row for any cercle) but nothing for this cercle, and NULL when the source did not report that month.';
comment on column analysis.cercle_month.admin1_pcode is 'Region P-code.';
comment on column analysis.cercle_month.admin1_name is 'Region name (COD, without accents).';
comment on column analysis.cercle_month.admin2_pcode is 'Cercle P-code; the region''s unspecified cercle (harmonised.admin.is_unspecified, ML0100) for figures known only by region.';
comment on column analysis.cercle_month.admin2_name is 'Cercle name (COD, without accents).';
comment on column analysis.cercle_month.month is 'First day of the month.';
comment on column analysis.cercle_month.pm_incidents is 'Incidents reported by protection monitoring that happened in the cercle that month (KoBo submissions deleted on KoBo do not count).';
comment on column analysis.cercle_month.pm_victims is 'Victims of those incidents (rows without a victim count add nothing).';
comment on column analysis.cercle_month.gbv_incidents is 'GBV incidents reported by GBVIMS, all types, sexes and ages; NULL when not reported or when withheld in the analyst snapshot (see gbv_suppressed).';
comment on column analysis.cercle_month.cp_cases is 'Child protection cases reported by CPIMS / MRM, all concerns, sexes and ages; NULL when not reported or when withheld in the analyst snapshot (see cp_suppressed).';
comment on column analysis.cercle_month.idps is 'Internally displaced persons counted by the CMP (totals row: all sexes, ages and disabilities) in the cercle''s latest round of the month.';
comment on column analysis.cercle_month.partners_protection is 'Organisations with an ongoing general protection (PRO) activity in the cercle that month (5W).';
comment on column analysis.cercle_month.partners_gbv is 'Organisations with an ongoing GBV (PRO-GBV) activity in the cercle that month (5W).';
comment on column analysis.cercle_month.partners_cp is 'Organisations with an ongoing child protection (PRO-CPN) activity in the cercle that month (5W).';
comment on column analysis.cercle_month.partners_mine_action is 'Organisations with an ongoing mine action (PRO-MIN) activity in the cercle that month (5W).';
comment on column analysis.cercle_month.explosive_incidents is 'Explosive ordnance incidents recorded by the mine-action working group (GT-LHAM) that happened in the cercle that month.';
comment on column analysis.cercle_month.civilians_killed is 'Civilians killed in those incidents (GT-LHAM).';
comment on column analysis.cercle_month.civilians_injured is 'Civilians injured in those incidents (GT-LHAM).';
comment on column analysis.cercle_month.incidents_per_10k_idps is 'pm_incidents per 10,000 IDPs, rounded to 2 decimals; NULL when monitoring did not report that month or no IDPs were counted.';
comment on column analysis.cercle_month.gbv_suppressed is 'True when gbv_incidents is withheld because it includes a small count (analyst snapshot only).';
comment on column analysis.cercle_month.cp_suppressed is 'True when cp_cases is withheld because it includes a small count (analyst snapshot only).';
