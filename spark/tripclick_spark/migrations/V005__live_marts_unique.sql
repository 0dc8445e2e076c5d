-- The two big live partials get their uniqueness back: a unique index on their grain.
--
-- V003 dropped their primary keys to keep a catch-up batch's COPY fast, trusting the grain
-- to stay unique by construction. Two runs of one date at once broke that trust (both
-- replaced the same batch and both inserted). The unique index leads with (event_date,
-- batch_id), so it also serves write_batch's delete and replaces V003's batch index: one
-- index per table, as before V003, but without a constraint name to keep. Measured on
-- 800,000 session-minute rows (one catch-up batch, local PostgreSQL): COPY 2.2 s with
-- V003's indexes, 3.3 s with this one (bench/README.md). Writers of one date also take a
-- transaction lock per date (tripclick_spark.live_marts), so a second writer of a batch
-- waits and replaces it instead of failing on this index.

-- Rows doubled before this migration: keep one per key (they are one batch's aggregate).
delete from gold.live_session_minutes a
using gold.live_session_minutes b
where a.ctid > b.ctid
  and (a.event_date, a.batch_id, a.session_id, a.minute, a.click_minute)
    = (b.event_date, b.batch_id, b.session_id, b.minute, b.click_minute);
delete from gold.live_document_minutes a
using gold.live_document_minutes b
where a.ctid > b.ctid
  and (a.event_date, a.batch_id, a.document_id, a.minute)
    = (b.event_date, b.batch_id, b.document_id, b.minute);

create unique index live_session_minutes_grain_key
    on gold.live_session_minutes (event_date, batch_id, session_id, minute, click_minute);
drop index gold.live_session_minutes_batch_idx;

create unique index live_document_minutes_grain_key
    on gold.live_document_minutes (event_date, batch_id, document_id, minute);
drop index gold.live_document_minutes_batch_idx;
