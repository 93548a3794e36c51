-- V12: the store context of row-level security is set only through retail.set_store_context (issue 14, 5).
--
-- The policies of V2 trusted the setting app.current_store_id, which any role may set with set_config():
-- mcp_user read another store's rows without set_store_context and without an audit row. Now the context is
-- a row of retail.store_context, which only set_store_context (SECURITY DEFINER) writes, keyed by the
-- caller's top-level transaction id (xid8: never reused in a cluster, so no other backend and no later
-- transaction of this one can match it). The policies read it through retail.current_store_id(). The
-- context still ends with the transaction (a pooled connection never hands a store to its next borrower)
-- and with a rollback to a savepoint taken before it.
--
-- Also: the materialized views (no row-level security) stay closed to PUBLIC and mcp_user; retail's and
-- ops's functions are executable by their owner and by whom they are granted to, not by PUBLIC; the
-- stores table shows mcp_user its own store only; every SECURITY DEFINER function of retail pins its
-- search_path with pg_temp last (else temporary objects are searched first).

CREATE TABLE retail.store_context (
    xact         xid8         NOT NULL,   -- pg_current_xact_id() of the transaction it holds for
    backend_pid  integer      NOT NULL,   -- for the operator's eyes only (the key is xact)
    store_id     varchar(50)  NOT NULL,
    set_at       timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT store_context_pkey PRIMARY KEY (xact)
);
REVOKE ALL ON retail.store_context FROM PUBLIC;

COMMENT ON TABLE retail.store_context IS
'The store context of row-level security, one row per transaction that called retail.set_store_context; '
'written only by that function. Rows of ended transactions mean nothing and are removed by later calls.';

-- SECURITY DEFINER: mcp_user has no right on store_context. PARALLEL UNSAFE (the default) like
-- pg_current_xact_id_if_assigned(), which it calls: mcp_user's queries run without parallel workers.
-- No transaction id yet means set_store_context was not called in this transaction: no context.
CREATE FUNCTION retail.current_store_id() RETURNS text
    LANGUAGE sql
    STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.store_id::text FROM retail.store_context c WHERE c.xact = pg_current_xact_id_if_assigned()
$$;

COMMENT ON FUNCTION retail.current_store_id() IS
'The store set by retail.set_store_context in the current transaction, else NULL (no row is visible to '
'mcp_user then). Read by the row-level security policies of retail.';

CREATE OR REPLACE FUNCTION retail.set_store_context(p_store_id text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_xact xid8 := pg_current_xact_id();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM retail.stores s WHERE s.store_id = p_store_id AND s.is_active) THEN
        RAISE EXCEPTION 'invalid or inactive store: %', p_store_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- the rows of transactions that ended (a rolled back one took its row along); SKIP LOCKED: never wait
    -- for another transaction that is removing the same rows
    DELETE FROM retail.store_context c
    WHERE c.xact IN (SELECT o.xact FROM retail.store_context o
                     WHERE o.xact <> v_xact AND pg_xact_status(o.xact) IS DISTINCT FROM 'in progress'
                     FOR UPDATE SKIP LOCKED);

    INSERT INTO retail.store_context (xact, backend_pid, store_id)
    VALUES (v_xact, pg_backend_pid(), p_store_id)
    ON CONFLICT (xact) DO UPDATE SET store_id = EXCLUDED.store_id, backend_pid = EXCLUDED.backend_pid,
                                     set_at = EXCLUDED.set_at;

    INSERT INTO retail.audit_log (table_name, action, user_name, store_id, metadata)
    VALUES ('security_context', 'store_context_set',
            CASE WHEN current_setting('role') <> 'none' THEN current_setting('role')
                 ELSE session_user::text END,
            p_store_id,
            jsonb_build_object('timestamp', now(), 'session_user', session_user::text,
                               'backend_pid', pg_backend_pid(), 'xact', v_xact::text));
END
$$;

COMMENT ON FUNCTION retail.set_store_context(text) IS
'Checks that the store exists and is active, makes it the store context of the current transaction (read '
'by the row-level security policies through retail.current_store_id()) and writes one retail.audit_log row '
'(security_context / store_context_set). The only way to set the context: call it inside the transaction '
'whose queries it guards, e.g. BEGIN; SELECT retail.set_store_context(''seattle''); ...; COMMIT. It ends '
'with the transaction, so a pooled connection never hands a store context to its next borrower.';

-- The policies, through the function: (SELECT ...) makes it one evaluation per query, not one per row.
ALTER POLICY customers_store_isolation ON retail.customers
    USING (store_id = (SELECT retail.current_store_id()))
    WITH CHECK (store_id = (SELECT retail.current_store_id()));

ALTER POLICY products_store_isolation ON retail.products
    USING (store_id = (SELECT retail.current_store_id()))
    WITH CHECK (store_id = (SELECT retail.current_store_id()));

ALTER POLICY sales_transactions_store_isolation ON retail.sales_transactions
    USING (store_id = (SELECT retail.current_store_id()))
    WITH CHECK (store_id = (SELECT retail.current_store_id()));

ALTER POLICY sales_transaction_items_store_isolation ON retail.sales_transaction_items
    USING (EXISTS (SELECT 1 FROM retail.sales_transactions t
                   WHERE t.transaction_id = sales_transaction_items.transaction_id
                     AND t.store_id = (SELECT retail.current_store_id())))
    WITH CHECK (EXISTS (SELECT 1 FROM retail.sales_transactions t
                        WHERE t.transaction_id = sales_transaction_items.transaction_id
                          AND t.store_id = (SELECT retail.current_store_id())));

ALTER POLICY product_embeddings_store_isolation ON retail.product_embeddings
    USING (store_id = (SELECT retail.current_store_id()))
    WITH CHECK (store_id = (SELECT retail.current_store_id()));

-- The other stores are rows of other stores too (ENABLE, not FORCE: the owner and foreign keys see all).
ALTER TABLE retail.stores ENABLE ROW LEVEL SECURITY;
CREATE POLICY stores_store_isolation ON retail.stores
    FOR SELECT TO mcp_user
    USING (store_id = (SELECT retail.current_store_id()));

-- The audit trigger took the store of a row without store_id from the setting: now from the context.
CREATE OR REPLACE FUNCTION retail.audit_trigger() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_old   jsonb;
    v_new   jsonb;
    v_row   jsonb;
    v_key   text;
    v_meta  jsonb;
    v_actor text;
BEGIN
    IF current_setting('pgbatch.skip_audit', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_NARGS < 1 THEN
        RAISE EXCEPTION 'retail.audit_trigger() on %.% needs the primary-key column name as argument',
            TG_TABLE_SCHEMA, TG_TABLE_NAME;
    END IF;

    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_old := to_jsonb(OLD);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_new := to_jsonb(NEW);
    END IF;
    v_row := coalesce(v_new, v_old);
    v_key := v_row ->> TG_ARGV[0];
    IF v_key IS NOT NULL
       AND v_key !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        v_meta := jsonb_build_object('record_key', v_key);
        v_key := NULL;
    END IF;
    v_actor := CASE WHEN current_setting('role') <> 'none' THEN current_setting('role')
                    ELSE session_user::text END;

    INSERT INTO retail.audit_log (table_name, action, user_name, store_id, record_id,
                                  old_values, new_values, metadata)
    VALUES (TG_TABLE_NAME, TG_OP, v_actor, coalesce(v_row ->> 'store_id', retail.current_store_id()),
            v_key::uuid, v_old, v_new, v_meta);
    RETURN NULL;   -- AFTER trigger: result ignored
END
$$;

-- The search reads the store from the context; CREATE OR REPLACE resets the function's settings, so the
-- search_path pin and hnsw.iterative_scan of V2 are set again below.
CREATE OR REPLACE FUNCTION retail.search_products_by_similarity(
    search_embedding      vector,
    p_model               text,
    max_results           integer          DEFAULT 20,
    similarity_threshold  double precision DEFAULT 0)
RETURNS TABLE (product_id uuid, product_name text, brand text, price numeric, similarity double precision)
    LANGUAGE plpgsql
    STABLE
    SECURITY INVOKER
AS $$
DECLARE
    v_store text := retail.current_store_id();
    v_dims  integer;
BEGIN
    IF v_store IS NULL THEN
        RAISE EXCEPTION 'no store context: call retail.set_store_context() in this transaction first'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF search_embedding IS NULL OR p_model IS NULL THEN
        RAISE EXCEPTION 'search_embedding and p_model are required' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_results IS NULL OR max_results < 1 THEN
        RAISE EXCEPTION 'max_results must be at least 1, got %', max_results
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_dims := vector_dims(search_embedding);

    -- nearest first through the index (a materialized CTE keeps the ORDER BY ... LIMIT on the
    -- index scan), then the threshold: if the k nearest miss it, nothing farther meets it either
    RETURN QUERY EXECUTE format($sql$
        WITH nearest AS MATERIALIZED (
            SELECT e.product_id,
                   e.embedding::vector(%1$s) <=> $1::vector(%1$s) AS distance
            FROM retail.product_embeddings e
            WHERE e.embedding_model = $2
              AND e.store_id = $3
            ORDER BY e.embedding::vector(%1$s) <=> $1::vector(%1$s)
            LIMIT $4)
        SELECT p.product_id, p.product_name::text, p.brand::text, p.price,
               (1 - n.distance)::double precision AS similarity
        FROM nearest n
        JOIN retail.products p ON p.product_id = n.product_id
        WHERE p.is_active
          AND p.store_id = $3
          AND 1 - n.distance >= $5
        ORDER BY n.distance
        $sql$, v_dims)
    USING search_embedding, p_model, v_store, max_results, coalesce(similarity_threshold, 0);
END
$$;

DO $$
DECLARE
    v_schema text;
BEGIN
    SELECT n.nspname INTO v_schema
    FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
    WHERE x.extname = 'vector';
    EXECUTE format('ALTER FUNCTION retail.search_products_by_similarity(vector, text, integer, double precision) '
                   'SET search_path = pg_catalog, %I, retail, pg_temp', v_schema);
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'hnsw.iterative_scan') THEN
        EXECUTE 'ALTER FUNCTION retail.search_products_by_similarity(vector, text, integer, double precision) '
                'SET hnsw.iterative_scan = ''relaxed_order''';
    END IF;
END
$$;

-- What mcp_user may run: these three, and nothing else of retail or ops (functions are executable by
-- PUBLIC unless revoked; trigger functions fire whatever their grants).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA retail FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ops FROM PUBLIC;
-- and the functions this role makes later (a per-schema default cannot revoke what the global one grants)
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retail.current_store_id() TO mcp_user;
GRANT EXECUTE ON FUNCTION retail.set_store_context(text) TO mcp_user;
GRANT EXECUTE ON FUNCTION retail.search_products_by_similarity(vector, text, integer, double precision) TO mcp_user;

-- Materialized views have no row-level security: no one but their owner reads them.
REVOKE ALL ON retail.daily_store_sales, retail.product_sales_30d, ops.agent_task_summary FROM PUBLIC, mcp_user;
