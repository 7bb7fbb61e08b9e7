-- GT-LHAM explosive ordnance incidents and their victims per cercle and month of the incident.
create or replace view analysis.explosive_month as

with explosive_incident as (
    select * from harmonised.explosive_incident
),

explosive_victim as (
    select * from harmonised.explosive_victim
),

incidents as (
    select
        admin1_pcode,
        admin2_pcode,
        cast(date_trunc('month', incident_date) as date) as month,
        count(*) as incidents,
        count(*) filter (where device_type = 'ied') as ied_incidents
    from explosive_incident
    group by all
),

-- each victim group has a sex 'all', age 'all' row with its total: count those, never the breakdown too
victims as (
    select
        admin2_pcode,
        cast(date_trunc('month', incident_date) as date) as month,
        sum(persons) filter (where victim_group = 'civilian' and outcome = 'killed') as civilians_killed,
        sum(persons) filter (where victim_group = 'civilian' and outcome = 'injured') as civilians_injured,
        sum(persons) filter (where outcome = 'killed') as killed,
        sum(persons) filter (where outcome = 'injured') as injured
    from explosive_victim
    where sex = 'all' and age_range = 'all'
    group by all
),

final as (
    select
        incidents.admin1_pcode,
        incidents.admin2_pcode,
        incidents.month,
        incidents.incidents,
        incidents.ied_incidents,
        cast(coalesce(victims.civilians_killed, 0) as bigint) as civilians_killed,
        cast(coalesce(victims.civilians_injured, 0) as bigint) as civilians_injured,
        cast(coalesce(victims.killed, 0) as bigint) as killed,
        cast(coalesce(victims.injured, 0) as bigint) as injured
    from incidents
    left join victims
        on incidents.admin2_pcode = victims.admin2_pcode and incidents.month = victims.month
)

select * from final;

comment on view analysis.explosive_month is 'GT-LHAM explosive ordnance incidents per cercle and month of the incident, with their victims (the victim groups'' totals, so nobody is counted twice).';
comment on column analysis.explosive_month.admin1_pcode is 'Region P-code.';
comment on column analysis.explosive_month.admin2_pcode is 'Cercle P-code (the region''s unspecified cercle when only the region is known).';
comment on column analysis.explosive_month.month is 'First day of the month of the incidents.';
comment on column analysis.explosive_month.incidents is 'Explosive ordnance incidents.';
comment on column analysis.explosive_month.ied_incidents is 'Of which with an improvised explosive device.';
comment on column analysis.explosive_month.civilians_killed is 'Civilians killed.';
comment on column analysis.explosive_month.civilians_injured is 'Civilians injured.';
comment on column analysis.explosive_month.killed is 'People killed, all groups (civilians, national forces, peacekeepers, unknown).';
comment on column analysis.explosive_month.injured is 'People injured, all groups.';
