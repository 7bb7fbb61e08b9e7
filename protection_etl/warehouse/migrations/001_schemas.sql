-- The three schemas of the IMO database: harmonised tables, analysis views, audit trail.
create schema if not exists harmonised;
create schema if not exists analysis;
create schema if not exists audit;
