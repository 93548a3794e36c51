-- V14: every table mcp_user writes is audited (issue 14, 5; findings of a third hostile review, of V13).
--
-- 1. sales_transaction_items and product_embeddings, which mcp_user may write like the other three tables of
--    a store, had no audit trigger: an item or an embedding changed by mcp_user left no trace. They get the
--    same trigger as the others. An embedding's vector is left out of the audited values (thousands of numbers
--    derived from embedding_text, which is kept): retail.audit_trigger now leaves out the columns named after
--    the key column, as ops.audit_trigger always has. The embed job writes its vectors with the skip on, as
--    seed-data and archive write theirs (an audit row per vector would double what it writes).

-- As V13's, but the columns named after the key column left out.
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
    i       integer;
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
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        v_old := v_old - TG_ARGV[i];
        v_new := v_new - TG_ARGV[i];
    END LOOP;
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

-- The two new audit triggers, made as V13 made the others (their WHEN names the owner by oid). The text
-- 'pgbatch.skip_audit' stays in their definition: seed-data finds them by it (DeferredDdl).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT x.trigger_name, x.table_name::regclass AS rel, x.call, c.relowner AS owner
        FROM (VALUES ('sales_transaction_items_audit_trigger', 'retail.sales_transaction_items',
                      'retail.audit_trigger(''item_id'')'),
                     ('product_embeddings_audit_trigger', 'retail.product_embeddings',
                      'retail.audit_trigger(''embedding_id'', ''embedding'')'))
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
