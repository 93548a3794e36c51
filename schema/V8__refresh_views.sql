-- V8: the retail materialized views a store manager reads, and the log of the refresh-views job.
--
-- Created WITH NO DATA: on a database that already holds years of sales the migration stays instant
-- and takes no long lock; the first refresh-views run fills them (plainly: a view that was never
-- populated cannot be refreshed concurrently), later runs refresh them concurrently. Each has the
-- unique index that REFRESH ... CONCURRENTLY needs (on plain columns, not partial).
--
-- Materialized views have no row-level security, so mcp_user (the per-store role) gets no grant on them.

-- Sales per store and UTC day. Items are summed per transaction before the join, so a transaction's
-- amounts are counted once whatever its number of items. Returns are counted apart and subtracted
-- (their amounts are stored positive).
CREATE MATERIALIZED VIEW retail.daily_store_sales AS
WITH items AS (
    SELECT transaction_id, sum(quantity) AS units
    FROM retail.sales_transaction_items
    GROUP BY transaction_id
)
SELECT t.store_id,
       (t.transaction_date AT TIME ZONE 'UTC')::date                                  AS sales_day,
       count(*)                                                                      AS transactions,
       count(*) FILTER (WHERE t.transaction_type = 'return')                         AS returns,
       coalesce(sum(i.units) FILTER (WHERE t.transaction_type <> 'return'), 0)       AS items_sold,
       coalesce(sum(i.units) FILTER (WHERE t.transaction_type = 'return'), 0)        AS items_returned,
       coalesce(sum(t.total_amount) FILTER (WHERE t.transaction_type <> 'return'), 0) AS gross_sales,
       coalesce(sum(t.total_amount) FILTER (WHERE t.transaction_type = 'return'), 0)  AS returned_amount,
       coalesce(sum(t.total_amount) FILTER (WHERE t.transaction_type <> 'return'), 0)
         - coalesce(sum(t.total_amount) FILTER (WHERE t.transaction_type = 'return'), 0) AS revenue,
       coalesce(sum(t.discount_amount), 0)                                           AS discounts,
       count(DISTINCT t.customer_id)                                                 AS customers,
       now()                                                                         AS refreshed_at
FROM retail.sales_transactions t
LEFT JOIN items i ON i.transaction_id = t.transaction_id
GROUP BY t.store_id, (t.transaction_date AT TIME ZONE 'UTC')::date
WITH NO DATA;

CREATE UNIQUE INDEX uq_daily_store_sales_store_day ON retail.daily_store_sales (store_id, sales_day);
CREATE INDEX idx_daily_store_sales_day ON retail.daily_store_sales (sales_day);

-- Every product of a store with what it sold in the 30 days before the refresh (now() at refresh time):
-- products that sold nothing are there too, with 0 units, as the slow movers a manager looks for.
CREATE MATERIALIZED VIEW retail.product_sales_30d AS
WITH sold AS (
    SELECT i.product_id,
           count(DISTINCT t.transaction_id)                                                   AS transactions,
           coalesce(sum(i.quantity) FILTER (WHERE t.transaction_type <> 'return'), 0)         AS units_sold,
           coalesce(sum(i.quantity) FILTER (WHERE t.transaction_type = 'return'), 0)          AS units_returned,
           coalesce(sum(i.total_price) FILTER (WHERE t.transaction_type <> 'return'), 0)
             - coalesce(sum(i.total_price) FILTER (WHERE t.transaction_type = 'return'), 0)   AS revenue,
           max(t.transaction_date)                                                            AS last_sold_at
    FROM retail.sales_transaction_items i
    JOIN retail.sales_transactions t ON t.transaction_id = i.transaction_id
    WHERE t.transaction_date >= now() - interval '30 days' AND t.transaction_date < now()
    GROUP BY i.product_id
)
SELECT p.product_id,
       p.store_id,
       p.sku,
       p.product_name,
       coalesce(s.transactions, 0)   AS transactions,
       coalesce(s.units_sold, 0)     AS units_sold,
       coalesce(s.units_returned, 0) AS units_returned,
       coalesce(s.revenue, 0)        AS revenue,
       s.last_sold_at,
       p.current_stock,
       now() - interval '30 days'    AS period_start,
       now()                         AS refreshed_at
FROM retail.products p
LEFT JOIN sold s ON s.product_id = p.product_id
WITH NO DATA;

CREATE UNIQUE INDEX uq_product_sales_30d_store_product ON retail.product_sales_30d (store_id, product_id);
CREATE INDEX idx_product_sales_30d_store_revenue ON retail.product_sales_30d (store_id, revenue DESC);

-- One row per view a refresh-views execution refreshed, failed to refresh or skipped. A restart of a
-- failed run skips the views its job instance already refreshed (status ok): the row is written in the
-- refresh's own transaction, so a refresh that committed is never repeated, even after kill -9.
CREATE TABLE etl.view_refresh_log (
    refresh_id        bigint      GENERATED ALWAYS AS IDENTITY,
    job_execution_id  bigint      NOT NULL,
    view_name         text        NOT NULL,
    mode              text,
    started_at        timestamptz NOT NULL,
    duration_ms       bigint,
    rows_after        bigint,
    status            text        NOT NULL,
    error             text,
    CONSTRAINT view_refresh_log_pkey PRIMARY KEY (refresh_id),
    CONSTRAINT view_refresh_log_mode_check CHECK (mode IN ('concurrently', 'plain')),
    CONSTRAINT view_refresh_log_status_check CHECK (status IN ('ok', 'failed', 'skipped')),
    -- ok: how it was refreshed, in how long, with how many rows; failed or skipped: why
    CONSTRAINT view_refresh_log_outcome_check CHECK (
        (status = 'ok' AND mode IS NOT NULL AND duration_ms IS NOT NULL AND rows_after IS NOT NULL AND error IS NULL)
        OR (status <> 'ok' AND error IS NOT NULL))
);

CREATE INDEX idx_view_refresh_log_execution ON etl.view_refresh_log (job_execution_id);
CREATE INDEX idx_view_refresh_log_view ON etl.view_refresh_log (view_name, started_at DESC);

COMMENT ON TABLE etl.view_refresh_log IS
'refresh-views: one row per materialized view and execution: mode concurrently|plain, duration, rows after '
'the refresh, status ok|failed|skipped and the error of a view that failed or was skipped.';
