-- The two big live partials lose their primary keys for a plain (event_date, batch_id) index.
--
-- A catch-up batch stores about one session-minute row per click, and keeping the wide
-- five-column key up to date doubled the cost of its COPY (measured: 802k rows in 8.2 s
-- with the key and the minute index, 4.5 s with these two indexes). The rows stay unique
-- per key by construction: each batch's partials are one Spark aggregation grouped by
-- exactly those columns, and a batch's rows are only ever replaced as a whole
-- (tripclick_spark.live_marts.write_batch deletes by event_date and batch_id, which is
-- what the new index serves).
alter table gold.live_session_minutes drop constraint live_session_minutes_pkey;
create index live_session_minutes_batch_idx on gold.live_session_minutes (event_date, batch_id);

alter table gold.live_document_minutes drop constraint live_document_minutes_pkey;
create index live_document_minutes_batch_idx on gold.live_document_minutes (event_date, batch_id);
