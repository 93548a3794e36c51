-- V13: every store context leaves a trace a rollback cannot erase; only the tables' owner may skip the audit;
-- mcp_user writes no reference to another store's rows
-- (issue 14, 5; findings of a hostile review of V12).
--
-- 1. set_store_context's audit row is part of the caller's transaction: BEGIN; set_store_context('bellevue');
--    read; ROLLBACK read a store's rows and left no row. Now each call also writes a line to the server log,
--    which no rollback takes back (as pgAudit does), before the context takes effect:
--      pgbatch audit: store_context_set store="bellevue" session_user="pgbatch_search" role="none" pid=... xact=... database="pgbatch"
--    RAISE LOG reaches the server log under every log_min_messages but FATAL and PANIC, which only a superuser
--    sets, and by default is not sent to the client (client_min_messages ranks LOG below NOTICE). Every name is a JSON
--    string (quotes, backslashes and control characters escaped), so no value can end the line and forge
--    another. An autonomous write (dblink back into the database) would need a password or trust in the
--    database and an extension: the log needs neither.
-- 2. pgbatch.skip_audit (bulk seeding, archiving) is a setting anyone may set: mcp_user set it and wrote
--    unaudited. The audit is skipped now only when the session user is a member of the table's owner (who may
--    disable the trigger anyway); the triggers' WHEN conditions name that owner (read here, when they are
--    made) so that a skipped row costs no catalog lookup, and the functions check the owner themselves for a
--    trigger made without that condition. session_user, not current_user: a SECURITY DEFINER function of the
--    owner that a caller runs changes current_user, not session_user.
-- 3. A foreign key is checked without row-level security: mcp_user in seattle wrote a sale of a bellevue
--    customer and an item of a bellevue product (which bellevue then could not delete). The policies' WITH
--    CHECK now want the customer and the product of the store that writes.

CREATE OR REPLACE FUNCTION retail.set_store_context(p_store_id text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_xact xid8 := pg_current_xact_id();
    v_role text := CASE WHEN current_setting('role') <> 'none' THEN current_setting('role')
                        ELSE session_user::text END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM retail.stores s WHERE s.store_id = p_store_id AND s.is_active) THEN
        RAISE EXCEPTION 'invalid or inactive store: %', p_store_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- the durable trace, before the context exists (the format is documented above and in the README)
    RAISE LOG 'pgbatch audit: store_context_set store=% session_user=% role=% pid=% xact=% database=%',
        to_jsonb(p_store_id)::text, to_jsonb(session_user::text)::text, to_jsonb(current_setting('role'))::text,
        pg_backend_pid(), v_xact, to_jsonb(current_database()::text)::text;

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
    VALUES ('security_context', 'store_context_set', v_role, p_store_id,
            jsonb_build_object('timestamp', now(), 'session_user', session_user::text,
                               'backend_pid', pg_backend_pid(), 'xact', v_xact::text));
END
$$;

COMMENT ON FUNCTION retail.set_store_context(text) IS
'Checks that the store exists and is active, writes a "pgbatch audit: store_context_set" line to the server '
'log (kept whatever the transaction does), makes the store the context of the current transaction (read by '
'the row-level security policies through retail.current_store_id()) and writes one retail.audit_log row '
'(security_context / store_context_set, gone if the transaction rolls back). The only way to set the context: '
'call it inside the transaction whose queries it guards, e.g. BEGIN; SELECT retail.set_store_context(''seattle''); '
'...; COMMIT. It ends with the transaction, so a pooled connection never hands a store context to its next borrower.';

-- As V12's, but the skip is honoured only for a member of the table's owner.
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
    IF current_setting('pgbatch.skip_audit', true) = 'on'
       AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
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

-- As V3's, but the skip is honoured only for a member of the table's owner (and pg_temp last, as in V12).
CREATE OR REPLACE FUNCTION ops.audit_trigger() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, ops, pg_temp
AS $$
DECLARE
    v_old   jsonb;
    v_new   jsonb;
    v_user  text;
    i       integer;
BEGIN
    IF current_setting('pgbatch.skip_audit', true) = 'on'
       AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
        RETURN NULL;
    END IF;
    IF TG_NARGS < 1 THEN
        RAISE EXCEPTION 'ops.audit_trigger() on %.% needs the primary-key column name as argument',
            TG_TABLE_SCHEMA, TG_TABLE_NAME;
    END IF;

    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        v_old := to_jsonb(OLD);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        v_new := to_jsonb(NEW);
    END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        v_old := v_old - TG_ARGV[i];
        v_new := v_new - TG_ARGV[i];
    END LOOP;

    v_user := nullif(current_setting('app.current_user_id', true), '');
    IF v_user !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        v_user := NULL;
    END IF;

    INSERT INTO ops.audit_log (table_name, record_id, operation, old_values, new_values,
                               changed_by, ip_address)
    VALUES (TG_TABLE_NAME,
            (coalesce(v_new, v_old) ->> TG_ARGV[0])::uuid,
            TG_OP, v_old, v_new, v_user::uuid, inet_client_addr());
    RETURN NULL;   -- AFTER trigger: result ignored
END
$$;

-- The audit triggers of V2 and V3 again, their WHEN naming the owner of each table as it is now, by oid: a
-- renamed owner keeps its skip, a dropped one matches no one (coalesce: never NULL, which would skip the audit). The text
-- 'pgbatch.skip_audit' stays in their definition: seed-data finds them by it (DeferredDdl).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT x.trigger_name, x.table_name::regclass AS rel, x.call, c.relowner AS owner
        FROM (VALUES ('customers_audit_trigger', 'retail.customers', 'retail.audit_trigger(''customer_id'')'),
                     ('products_audit_trigger', 'retail.products', 'retail.audit_trigger(''product_id'')'),
                     ('sales_transactions_audit_trigger', 'retail.sales_transactions',
                      'retail.audit_trigger(''transaction_id'')'),
                     ('audit_users_trigger', 'ops.users',
                      'ops.audit_trigger(''user_id'', ''password_hash'', ''email_encrypted'', ''phone_encrypted'')'),
                     ('audit_agents_trigger', 'ops.agents', 'ops.audit_trigger(''agent_id'')'))
             AS x(trigger_name, table_name, call)
        JOIN pg_class c ON c.oid = x.table_name::regclass
    LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
                       'WHEN (current_setting(''pgbatch.skip_audit'', true) IS DISTINCT FROM ''on'' '
                       'OR NOT coalesce(pg_has_role(session_user, %s::oid, ''MEMBER''), false)) EXECUTE FUNCTION %s',
                       t.trigger_name, t.rel, t.owner, t.call);
    END LOOP;
END
$$;

-- 3. What mcp_user writes refers to its own store's customers and products only (USING, what it reads, is V12's).
ALTER POLICY sales_transactions_store_isolation ON retail.sales_transactions
    WITH CHECK (store_id = (SELECT retail.current_store_id())
                AND (customer_id IS NULL
                     OR EXISTS (SELECT 1 FROM retail.customers c
                                WHERE c.customer_id = sales_transactions.customer_id
                                  AND c.store_id = (SELECT retail.current_store_id()))));

ALTER POLICY sales_transaction_items_store_isolation ON retail.sales_transaction_items
    WITH CHECK (EXISTS (SELECT 1 FROM retail.sales_transactions t
                        WHERE t.transaction_id = sales_transaction_items.transaction_id
                          AND t.store_id = (SELECT retail.current_store_id()))
                AND EXISTS (SELECT 1 FROM retail.products p
                            WHERE p.product_id = sales_transaction_items.product_id
                              AND p.store_id = (SELECT retail.current_store_id())));

-- The last SECURITY DEFINER functions whose search_path searched pg_temp first (for relations): pinned last, as
-- V12 did for retail's. Only the owner fires or runs them today; a caller's temporary table must never stand in
-- for one of ops's.
ALTER FUNCTION ops.agent_performance_apply() SET search_path = pg_catalog, ops, pg_temp;
ALTER FUNCTION ops.rebuild_agent_performance_summary() SET search_path = pg_catalog, ops, pg_temp;
