-- Cercle x month x area of responsibility where incidents were reported but no partner had an ongoing activity.
create or replace view analysis.service_gaps as

with cercle_month as (
    select * from analysis.cercle_month
),

monitored_incidents as (
    select * from analysis.monitored_incidents
),

admin as (
    select * from harmonised.admin
),

monitoring_by_aor as (
    select
        admin2_pcode,
        month,
        aor,
        count(distinct (source, kobo_id)) as incidents
    from monitored_incidents
    group by all
),

-- partners_* are NULL in months without a 5W, so such months never show a gap: no 5W is no evidence
needs as (
    select
        cercle_month.admin1_pcode, cercle_month.admin1_name, cercle_month.admin2_pcode,
        cercle_month.admin2_name, cercle_month.month, monitoring_by_aor.aor,
        monitoring_by_aor.incidents, false as suppressed,
        case monitoring_by_aor.aor
            when 'PRO-MIN' then cercle_month.partners_mine_action
            else cercle_month.partners_protection
        end as partners
    from monitoring_by_aor
    inner join cercle_month
        on monitoring_by_aor.admin2_pcode = cercle_month.admin2_pcode
        and monitoring_by_aor.month = cercle_month.month
    union all
    -- a withheld count is a small positive count: incidents were reported
    select
        admin1_pcode, admin1_name, admin2_pcode, admin2_name, month, 'PRO-GBV',
        gbv_incidents, gbv_suppressed, partners_gbv
    from cercle_month
    where gbv_incidents > 0 or gbv_suppressed
    union all
    select
        admin1_pcode, admin1_name, admin2_pcode, admin2_name, month, 'PRO-CPN',
        cp_cases, cp_suppressed, partners_cp
    from cercle_month
    where cp_cases > 0 or cp_suppressed
    union all
    -- the mine-action working group's incidents with civilian victims
    select
        admin1_pcode, admin1_name, admin2_pcode, admin2_name, month, 'PRO-MIN',
        explosive_incidents, false, partners_mine_action
    from cercle_month
    where civilians_killed + civilians_injured > 0
),

-- a region's unspecified cercle is not a place a partner can be absent from
-- the same explosive incident is often in both monitoring and the GT-LHAM: take the larger count, never the sum
gaps as (
    select
        needs.admin1_pcode, needs.admin1_name, needs.admin2_pcode, needs.admin2_name, needs.month, needs.aor,
        max(needs.incidents) as incidents,
        bool_or(needs.suppressed) as suppressed
    from needs
    inner join admin on needs.admin2_pcode = admin.pcode
    where needs.partners = 0 and not admin.is_unspecified
    group by all
),

final as (
    select
        admin1_pcode,
        admin1_name,
        admin2_pcode,
        admin2_name,
        month,
        aor,
        incidents,
        suppressed
    from gaps
)

select * from final;

comment on view analysis.service_gaps is 'Cercle, month and area of responsibility where incidents were reported but no partner had an ongoing activity of that sector in the 5W: GBVIMS incidents (PRO-GBV), CPIMS / MRM cases (PRO-CPN), explosive ordnance incidents of protection monitoring or of the mine-action working group with civilian victims (PRO-MIN) and its other incidents (PRO). Months without a 5W and the regions'' unspecified cercles are left out.';
comment on column analysis.service_gaps.admin1_pcode is 'Region P-code.';
comment on column analysis.service_gaps.admin1_name is 'Region name.';
comment on column analysis.service_gaps.admin2_pcode is 'Cercle P-code.';
comment on column analysis.service_gaps.admin2_name is 'Cercle name.';
comment on column analysis.service_gaps.month is 'First day of the month.';
comment on column analysis.service_gaps.aor is 'Area of responsibility (5W sector code) with no ongoing activity: PRO, PRO-GBV, PRO-CPN or PRO-MIN.';
comment on column analysis.service_gaps.incidents is 'Incidents (cases for PRO-CPN) reported in the cercle that month; for PRO-MIN the larger of the two mechanisms'' counts (the same incident is often in both); NULL when withheld in the analyst snapshot.';
comment on column analysis.service_gaps.suppressed is 'True when incidents is withheld because it includes a small count (analyst snapshot only).';
