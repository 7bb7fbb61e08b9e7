-- Displacement files count returnees and refugees beside the IDPs: each is its own population group.
comment on column harmonised.displacement.population_group is 'idp, returnee or refugee.';
comment on column harmonised.operational_presence.sector is 'Global cluster / area of responsibility code: PRO, PRO-GBV, PRO-CPN, PRO-MIN, PRO-HLP, EDU, SHL, WSH, MPC (multipurpose cash), CSS (coordination and common services), MS (multi-sector), ...';
