-- Gold is staged, reconciled, then published (ARCHITECTURE 4).
--
-- `tripclick gold load` COPYs a date's marts into these tables first; the reconciliation
-- checks the staged totals; only when it passes does one transaction move the date's rows
-- into gold.mart_* (tripclick_spark.gold_db.publish). Readers keep the previously published
-- day, or nothing, until then, and never see a day that failed. A failed day's staged rows
-- stay here to be looked at, until the date's next load replaces them. Readers of `gold` have
-- no grant on this schema.
-- Created here only when missing: CREATE SCHEMA IF NOT EXISTS asks for the CREATE privilege
-- on the database even when the schema is there, and the fleet's loader owns its schemas
-- (the postgresql role makes them) without that privilege.
do $$
begin
  if not exists (select 1 from pg_namespace where nspname = 'gold_stage') then
    create schema gold_stage;
  end if;
end
$$;

create table gold_stage.mart_daily_traffic (like gold.mart_daily_traffic including all);
create table gold_stage.mart_session_analysis (like gold.mart_session_analysis including all);
create table gold_stage.mart_clinical_areas (like gold.mart_clinical_areas including all);
create table gold_stage.mart_popular_documents (like gold.mart_popular_documents including all);
