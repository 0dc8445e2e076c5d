-- Day-level live partials: what the serving layer (V009) sums into a date's speed figures.
--
-- The minute and hour partials of V002 cannot give a day's marts: document minutes are kept
-- for each batch's last hour only, and no partial holds sessions per document or per
-- clinical area. These tables hold, per micro-batch, one row per session, document and
-- area, written with the other partials in the batch's transaction
-- (tripclick_spark.live_marts.write_batch), replay-safe the same way.
--
-- Sums over batches are exact for clicks, first/last clicks and titles. `documents` and
-- `sessions` are distinct within the batch only: a session whose clicks fall into two
-- batches is counted in both, so their sums over-count. That is the speed layer's known
-- error; serving.speed_accuracy records it against gold when a date is published.
--
-- No primary keys: a unique index on each grain, led by (event_date, batch_id) so it also
-- serves the batch's delete (as V005).

create table gold.live_session_days (
    event_date     date        not null,
    batch_id       bigint      not null check (batch_id >= 0),
    session_id     text        not null,
    clicks         integer     not null check (clicks > 0),
    -- distinct documents of the session within the batch
    documents      integer     not null check (documents > 0),
    first_click_ts timestamptz not null,
    last_click_ts  timestamptz not null
);
create unique index live_session_days_grain_key
    on gold.live_session_days (event_date, batch_id, session_id);

create table gold.live_document_days (
    event_date    date        not null,
    batch_id      bigint      not null check (batch_id >= 0),
    document_id   bigint      not null,
    -- the title of the document's latest click in the batch, and that click's time
    title         text        not null,
    last_click_ts timestamptz not null,
    clicks        integer     not null check (clicks > 0),
    -- distinct sessions within the batch
    sessions      integer     not null check (sessions > 0)
);
create unique index live_document_days_grain_key
    on gold.live_document_days (event_date, batch_id, document_id);

-- A click with several areas counts once in each; clicks without an area are not here.
create table gold.live_area_days (
    event_date    date    not null,
    batch_id      bigint  not null check (batch_id >= 0),
    clinical_area text    not null,
    clicks        integer not null check (clicks > 0),
    sessions      integer not null check (sessions > 0)
);
create unique index live_area_days_grain_key
    on gold.live_area_days (event_date, batch_id, clinical_area);
