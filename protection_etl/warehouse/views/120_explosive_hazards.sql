-- Per cercle and month: the mine-action working group's incidents, protection monitoring's explosive incidents and
-- the mine-action partners present, side by side (objective 1.4).
create or replace view analysis.explosive_hazards as

with cercle_month as (
    select * from analysis.cercle_month
),

monitored_incidents as (
    select * from analysis.monitored_incidents
),

admin as (
    select * from harmonised.admin
),

monitoring as (
    select
        admin2_pcode,
        month,
        count(distinct (source, kobo_id)) as incidents
    from monitored_incidents
    where violation = 'explosive_ordnance'
    group by all
),

side_by_side as (
    select
        cercle_month.admin1_pcode,
        cercle_month.admin1_name,
        cercle_month.admin2_pcode,
        cercle_month.admin2_name,
        cercle_month.month,
        cercle_month.explosive_incidents as gtlham_incidents,
        cercle_month.civilians_killed,
        cercle_month.civilians_injured,
        case when cercle_month.pm_incidents is not null then coalesce(monitoring.incidents, 0) end
            as pm_explosive_incidents,
        cercle_month.partners_mine_action
    from cercle_month
    left join monitoring
        on cercle_month.admin2_pcode = monitoring.admin2_pcode and cercle_month.month = monitoring.month
),

final as (
    select
        side_by_side.*,
        -- victims, and no partner doing risk education or victim assistance there that month (a 5W was sent)
        coalesce(side_by_side.civilians_killed + side_by_side.civilians_injured > 0
                 and side_by_side.partners_mine_action = 0
                 and not admin.is_unspecified, false) as victims_without_partner
    from side_by_side
    inner join admin on side_by_side.admin2_pcode = admin.pcode
    where side_by_side.gtlham_incidents > 0 or side_by_side.pm_explosive_incidents > 0
)

select * from final;

comment on view analysis.explosive_hazards is 'Cercles and months with explosive ordnance incidents in either mechanism: the mine-action working group''s (GT-LHAM) incidents and civilian victims, protection monitoring''s explosive incidents, and the mine-action (PRO-MIN) partners with an ongoing activity in the 5W. The same incident is often in both mechanisms: compare them, do not add them.';
comment on column analysis.explosive_hazards.admin1_pcode is 'Region P-code.';
comment on column analysis.explosive_hazards.admin1_name is 'Region name.';
comment on column analysis.explosive_hazards.admin2_pcode is 'Cercle P-code.';
comment on column analysis.explosive_hazards.admin2_name is 'Cercle name.';
comment on column analysis.explosive_hazards.month is 'First day of the month.';
comment on column analysis.explosive_hazards.gtlham_incidents is 'Incidents recorded by the GT-LHAM that month; NULL when it sent nothing for the month.';
comment on column analysis.explosive_hazards.civilians_killed is 'Civilians killed in those incidents (GT-LHAM).';
comment on column analysis.explosive_hazards.civilians_injured is 'Civilians injured in those incidents (GT-LHAM).';
comment on column analysis.explosive_hazards.pm_explosive_incidents is 'Explosive ordnance incidents reported by protection monitoring (KoBo) that month; NULL when monitoring did not report that month.';
comment on column analysis.explosive_hazards.partners_mine_action is 'Organisations with an ongoing mine-action (PRO-MIN) activity in the 5W; NULL when no 5W covers the month.';
comment on column analysis.explosive_hazards.victims_without_partner is 'True when civilians were killed or injured and no mine-action partner was present (a 5W was sent that month): a service gap.';
