-- V3: schema ops (the "digital employee" operations design of seed 000, sections 2-6), fixed:
--   * task_executions and audit_log partitioned by RANGE (created_at), monthly, each with a DEFAULT
--     partition and no monthly partition here (they depend on the data's dates): the
--     partition-rollover job calls ops.ensure_monthly_partition(), which is idempotent and also
--     works when the default partition already holds rows of the month
--   * partition months are UTC months (the seed: "all timestamps in UTC")
--   * agents.config defaults to a value that satisfies config_structure_check (the seed's '{}' did not)
--   * the audit trigger reads the row through to_jsonb() and takes the key column from TG_ARGV[0]
--     (the seed read NEW.id, which no table has); secrets are left out of the logged values
--   * agent_performance_summary is maintained set-based by statement-level triggers with
--     transition tables on the partitioned task_executions (fires for INSERT and COPY into the parent)
--   * agent_task_summary counts tasks and executions without the seed's join fan-out, has a
--     unique index (REFRESH ... CONCURRENTLY) and is created WITH DATA (empty but populated)
--   * no index predicate on CURRENT_DATE (not immutable), indexes as separate statements
--   * tablespaces (hot/warm/cold, seed 6.2.1) are not created here: CREATE TABLESPACE cannot run in
--     a transaction and needs directories; bin/stack creates them and the archive job moves
--     partitions with ALTER TABLE ... SET TABLESPACE, recording every step in ops.archive_log

CREATE SCHEMA IF NOT EXISTS ops;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

-- Seed 2.1.1 (ER) and 5.1.1 (encrypted PII). email is the plain, validated address of the ER model;
-- deployments that keep PII encrypted leave it NULL and fill email_encrypted/email_hash instead
-- (pgp_sym_encrypt output, sha256 hex of the normalised address for look-ups).
CREATE TABLE ops.users (
    user_id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    username         varchar(50)   NOT NULL,
    email            varchar(100),
    password_hash    varchar(255)  NOT NULL,
    email_encrypted  bytea,
    phone_encrypted  bytea,
    email_hash       varchar(64),
    phone_hash       varchar(64),
    roles            jsonb         NOT NULL DEFAULT '[]',
    is_active        boolean       NOT NULL DEFAULT true,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (user_id),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_format_check
        CHECK (email IS NULL OR email ~* '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    CONSTRAINT users_roles_check CHECK (jsonb_typeof(roles) = 'array')
);

CREATE TABLE ops.agents (
    agent_id    uuid         NOT NULL DEFAULT gen_random_uuid(),
    agent_type  varchar(50)  NOT NULL,
    version     varchar(20)  NOT NULL DEFAULT '1.0.0',
    config      jsonb        NOT NULL DEFAULT '{"max_concurrent_tasks": 1, "timeout_seconds": 300}',
    status      varchar(20)  NOT NULL DEFAULT 'inactive',
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now(),
    created_by  uuid,
    CONSTRAINT agents_pkey PRIMARY KEY (agent_id),
    CONSTRAINT agents_type_version_key UNIQUE (agent_type, version),
    CONSTRAINT agents_created_by_fk FOREIGN KEY (created_by) REFERENCES ops.users (user_id),
    CONSTRAINT agents_status_check CHECK (status IN ('active', 'inactive', 'suspended', 'deleted')),
    CONSTRAINT agents_config_check CHECK (jsonb_typeof(config) = 'object'),
    CONSTRAINT config_structure_check CHECK (
        config ? 'max_concurrent_tasks' AND
        config ? 'timeout_seconds' AND
        jsonb_typeof(config -> 'max_concurrent_tasks') = 'number' AND
        jsonb_typeof(config -> 'timeout_seconds') = 'number')
);

CREATE TABLE ops.tasks (
    task_id         uuid         NOT NULL DEFAULT gen_random_uuid(),
    task_type       varchar(50)  NOT NULL,
    priority        varchar(20)  NOT NULL DEFAULT 'medium',
    data            jsonb        NOT NULL DEFAULT '{}',
    status          varchar(20)  NOT NULL DEFAULT 'pending',
    deadline        timestamptz,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    assigned_agent  uuid,
    CONSTRAINT tasks_pkey PRIMARY KEY (task_id),
    CONSTRAINT tasks_assigned_agent_fk FOREIGN KEY (assigned_agent) REFERENCES ops.agents (agent_id),
    CONSTRAINT tasks_priority_check CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT tasks_status_check
        CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    CONSTRAINT tasks_data_check CHECK (jsonb_typeof(data) = 'object')
);

-- Seed 4.1.2, monthly range partitions on created_at. execution_time is the duration in seconds.
CREATE TABLE ops.task_executions (
    execution_id    uuid           NOT NULL DEFAULT gen_random_uuid(),
    task_id         uuid           NOT NULL,
    agent_id        uuid           NOT NULL,
    status          varchar(20)    NOT NULL,
    execution_time  numeric(10,3),
    error_message   text,
    created_at      timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT task_executions_pkey PRIMARY KEY (execution_id, created_at),
    CONSTRAINT task_executions_task_fk FOREIGN KEY (task_id) REFERENCES ops.tasks (task_id),
    CONSTRAINT task_executions_agent_fk FOREIGN KEY (agent_id) REFERENCES ops.agents (agent_id),
    CONSTRAINT task_executions_status_check
        CHECK (status IN ('running', 'completed', 'failed', 'timeout', 'cancelled')),
    CONSTRAINT task_executions_execution_time_check CHECK (execution_time IS NULL OR execution_time >= 0)
) PARTITION BY RANGE (created_at);

CREATE TABLE ops.task_executions_default PARTITION OF ops.task_executions DEFAULT;

-- Seed 5.3.1 (data-change audit), partitioned monthly; the seed's changed_at is created_at here.
CREATE TABLE ops.audit_log (
    audit_id    uuid         NOT NULL DEFAULT gen_random_uuid(),
    table_name  varchar(50)  NOT NULL,
    record_id   uuid         NOT NULL,
    operation   varchar(10)  NOT NULL,
    old_values  jsonb,
    new_values  jsonb,
    changed_by  uuid,
    created_at  timestamptz  NOT NULL DEFAULT now(),
    ip_address  inet,
    user_agent  text,
    CONSTRAINT audit_log_pkey PRIMARY KEY (audit_id, created_at),
    CONSTRAINT audit_log_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
) PARTITION BY RANGE (created_at);

CREATE TABLE ops.audit_log_default PARTITION OF ops.audit_log DEFAULT;

-- Seed 6.2.2, extended to one row per archival step of one partition:
--   hot  -> warm : partition moved to the warm tablespace (tablespace_name), stays attached
--   warm -> cold : partition exported to object storage (object_key, bytes, checksum), then
--                  detached and dropped
--   restore      : status 'restored' on the cold row once the data is back (restored_at)
-- A step starts as 'running' and ends 'completed' or 'failed' (error says why).
CREATE TABLE ops.archive_log (
    archive_id       uuid          NOT NULL DEFAULT gen_random_uuid(),
    table_name       text          NOT NULL,     -- parent, schema-qualified: 'ops.task_executions'
    partition_name   text          NOT NULL,     -- 'task_executions_p2024_01'
    range_start      timestamptz,                -- partition bounds [range_start, range_end)
    range_end        timestamptz,
    source_tier      varchar(10),
    tier             varchar(10)   NOT NULL,     -- tier the partition is moved to by this step
    tablespace_name  text,
    row_count        bigint,
    bytes            bigint,                     -- on disk (hot/warm) or stored object size (cold)
    object_key       text,                       -- object-store key of the export (cold)
    checksum         text,                       -- e.g. 'sha256:<hex>' of the stored object
    status           varchar(20)   NOT NULL DEFAULT 'running',
    started_at       timestamptz   NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    restored_at      timestamptz,
    error            text,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    updated_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT archive_log_pkey PRIMARY KEY (archive_id),
    CONSTRAINT archive_log_tier_check CHECK (tier IN ('hot', 'warm', 'cold')),
    CONSTRAINT archive_log_source_tier_check
        CHECK (source_tier IS NULL OR source_tier IN ('hot', 'warm', 'cold')),
    CONSTRAINT archive_log_status_check
        CHECK (status IN ('running', 'completed', 'failed', 'restored')),
    CONSTRAINT archive_log_counts_check
        CHECK ((row_count IS NULL OR row_count >= 0) AND (bytes IS NULL OR bytes >= 0)),
    CONSTRAINT archive_log_range_check
        CHECK (range_start IS NULL OR range_end IS NULL OR range_start < range_end),
    CONSTRAINT archive_log_finished_check
        CHECK (finished_at IS NULL OR finished_at >= started_at),
    CONSTRAINT archive_log_cold_object_check
        CHECK (tier <> 'cold' OR status NOT IN ('completed', 'restored')
               OR (object_key IS NOT NULL AND checksum IS NOT NULL)),
    CONSTRAINT archive_log_failed_error_check CHECK (status <> 'failed' OR error IS NOT NULL)
);

-- Seed 3.1.2 (denormalised statistics). Maintained by triggers on ops.task_executions; counters
-- are cumulative (archiving or dropping partitions does not decrease them; use
-- ops.rebuild_agent_performance_summary() to recount from what is stored).
--   successful_tasks: executions 'completed'; failed_tasks: 'failed' or 'timeout'
--   average_execution_time = total_execution_time / timed_executions (seconds)
CREATE TABLE ops.agent_performance_summary (
    agent_id                uuid           NOT NULL,
    agent_type              varchar(50)    NOT NULL,
    agent_name              varchar(100)   NOT NULL,   -- config->>'name', else agent_type
    created_at              timestamptz    NOT NULL,   -- the agent's created_at
    total_tasks_executed    bigint         NOT NULL DEFAULT 0,
    successful_tasks        bigint         NOT NULL DEFAULT 0,
    failed_tasks            bigint         NOT NULL DEFAULT 0,
    timed_executions        bigint         NOT NULL DEFAULT 0,
    total_execution_time    numeric(20,3)  NOT NULL DEFAULT 0,
    average_execution_time  numeric(10,3)  NOT NULL DEFAULT 0,
    last_execution_at       timestamptz,
    last_updated            timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT agent_performance_summary_pkey PRIMARY KEY (agent_id),
    CONSTRAINT fk_agent_id FOREIGN KEY (agent_id) REFERENCES ops.agents (agent_id) ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------------

CREATE INDEX idx_users_email_hash ON ops.users (email_hash);
CREATE INDEX idx_users_phone_hash ON ops.users (phone_hash);
CREATE INDEX idx_users_active ON ops.users (is_active) WHERE is_active;

CREATE INDEX idx_agents_agent_type ON ops.agents (agent_type);
CREATE INDEX idx_agents_status ON ops.agents (status);
CREATE INDEX idx_agents_created_at ON ops.agents (created_at);
CREATE INDEX idx_agents_created_by ON ops.agents (created_by);
CREATE INDEX idx_agents_config_gin ON ops.agents USING gin (config);
CREATE INDEX idx_agents_config_max_tasks ON ops.agents ((config ->> 'max_concurrent_tasks'));
CREATE INDEX idx_agents_capabilities ON ops.agents USING gin ((config -> 'capabilities'));

CREATE INDEX idx_tasks_assigned_agent ON ops.tasks (assigned_agent);
CREATE INDEX idx_tasks_status ON ops.tasks (status);
CREATE INDEX idx_tasks_created_at ON ops.tasks (created_at);
CREATE INDEX idx_tasks_composite ON ops.tasks (status, priority, created_at);
CREATE INDEX idx_tasks_active ON ops.tasks (assigned_agent) WHERE status IN ('pending', 'running');
-- the seed's version had "WHERE created_at >= CURRENT_DATE - 30 days", which PostgreSQL rejects
-- (index predicates must be immutable) and would go stale anyway
CREATE INDEX idx_tasks_agent_created ON ops.tasks (assigned_agent, created_at);

-- partitioned indexes: every partition (default, monthly, attached) gets its own
CREATE INDEX idx_task_executions_task_id ON ops.task_executions (task_id);
CREATE INDEX idx_task_executions_agent_created ON ops.task_executions (agent_id, created_at);
CREATE INDEX idx_task_executions_status ON ops.task_executions (status);
CREATE INDEX idx_task_executions_created_at ON ops.task_executions (created_at);

CREATE INDEX idx_ops_audit_log_table_record ON ops.audit_log (table_name, record_id);
CREATE INDEX idx_ops_audit_log_created_at ON ops.audit_log (created_at);
CREATE INDEX idx_ops_audit_log_changed_by ON ops.audit_log (changed_by);

CREATE INDEX idx_archive_log_partition ON ops.archive_log (table_name, partition_name, started_at);
CREATE INDEX idx_archive_log_status ON ops.archive_log (status);
CREATE INDEX idx_archive_log_tier ON ops.archive_log (tier);
CREATE INDEX idx_archive_log_started_at ON ops.archive_log (started_at);

CREATE INDEX idx_agent_performance_summary_type ON ops.agent_performance_summary (agent_type);

-- ---------------------------------------------------------------------------------------------
-- updated_at triggers
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION ops.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END
$$;

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON ops.users
    FOR EACH ROW EXECUTE FUNCTION ops.set_updated_at();
CREATE TRIGGER agents_set_updated_at BEFORE UPDATE ON ops.agents
    FOR EACH ROW EXECUTE FUNCTION ops.set_updated_at();
CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON ops.tasks
    FOR EACH ROW EXECUTE FUNCTION ops.set_updated_at();
CREATE TRIGGER archive_log_set_updated_at BEFORE UPDATE ON ops.archive_log
    FOR EACH ROW EXECUTE FUNCTION ops.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- Audit trigger (seed 5.3.1, fixed)
-- ---------------------------------------------------------------------------------------------

-- TG_ARGV[0]: primary-key column (a uuid); TG_ARGV[1..]: columns never written to the log
-- (password hashes, encrypted PII). changed_by: app.current_user_id when it holds a uuid.
-- ip_address: the client's address. Skipped when pgbatch.skip_audit = 'on' (bulk seeding).
CREATE FUNCTION ops.audit_trigger() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, ops
AS $$
DECLARE
    v_old   jsonb;
    v_new   jsonb;
    v_user  text;
    i       integer;
BEGIN
    IF current_setting('pgbatch.skip_audit', true) = 'on' THEN
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
REVOKE ALL ON FUNCTION ops.audit_trigger() FROM PUBLIC;

CREATE TRIGGER audit_users_trigger
    AFTER INSERT OR UPDATE OR DELETE ON ops.users
    FOR EACH ROW
    WHEN (current_setting('pgbatch.skip_audit', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION ops.audit_trigger('user_id', 'password_hash', 'email_encrypted', 'phone_encrypted');
CREATE TRIGGER audit_agents_trigger
    AFTER INSERT OR UPDATE OR DELETE ON ops.agents
    FOR EACH ROW
    WHEN (current_setting('pgbatch.skip_audit', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION ops.audit_trigger('agent_id');

-- ---------------------------------------------------------------------------------------------
-- agent_performance_summary maintenance (set-based)
-- ---------------------------------------------------------------------------------------------

-- One statement-level trigger per statement, reading the transition tables: an INSERT ... SELECT
-- or a COPY of a million executions into ops.task_executions runs one aggregate + one upsert.
-- INSERT adds the new rows; UPDATE adds the new versions and subtracts the old ones (status
-- running -> completed, a corrected duration). Rows written straight into a partition (not
-- through ops.task_executions) do not fire it.
CREATE FUNCTION ops.agent_performance_apply() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, ops
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ops.agent_performance_summary AS s
               (agent_id, agent_type, agent_name, created_at, total_tasks_executed, successful_tasks,
                failed_tasks, timed_executions, total_execution_time, average_execution_time,
                last_execution_at, last_updated)
        SELECT a.agent_id, a.agent_type, left(coalesce(a.config ->> 'name', a.agent_type), 100),
               a.created_at, d.n, d.ok, d.bad, d.timed, d.secs,
               coalesce(round(d.secs / nullif(d.timed, 0), 3), 0), d.last_at, now()
        FROM (SELECT r.agent_id,
                     count(*)                                             AS n,
                     count(*) FILTER (WHERE r.status = 'completed')           AS ok,
                     count(*) FILTER (WHERE r.status IN ('failed', 'timeout')) AS bad,
                     count(r.execution_time)                              AS timed,
                     coalesce(sum(r.execution_time), 0)                   AS secs,
                     max(r.created_at)                                    AS last_at
              FROM new_rows r
              GROUP BY r.agent_id) d
        JOIN ops.agents a ON a.agent_id = d.agent_id
        ORDER BY a.agent_id
        ON CONFLICT (agent_id) DO UPDATE SET
            total_tasks_executed   = s.total_tasks_executed + EXCLUDED.total_tasks_executed,
            successful_tasks       = s.successful_tasks + EXCLUDED.successful_tasks,
            failed_tasks           = s.failed_tasks + EXCLUDED.failed_tasks,
            timed_executions       = s.timed_executions + EXCLUDED.timed_executions,
            total_execution_time   = s.total_execution_time + EXCLUDED.total_execution_time,
            average_execution_time = coalesce(round((s.total_execution_time + EXCLUDED.total_execution_time)
                                         / nullif(s.timed_executions + EXCLUDED.timed_executions, 0), 3), 0),
            last_execution_at      = greatest(s.last_execution_at, EXCLUDED.last_execution_at),
            last_updated           = now();
    ELSIF TG_OP = 'UPDATE' THEN
        -- a row for every agent the new versions point to (an update may move an execution to
        -- an agent without executions so far), then the deltas: new versions minus old ones
        INSERT INTO ops.agent_performance_summary (agent_id, agent_type, agent_name, created_at)
        SELECT a.agent_id, a.agent_type, left(coalesce(a.config ->> 'name', a.agent_type), 100), a.created_at
        FROM ops.agents a
        WHERE a.agent_id IN (SELECT r.agent_id FROM new_rows r)
        ORDER BY a.agent_id
        ON CONFLICT (agent_id) DO NOTHING;

        UPDATE ops.agent_performance_summary s SET
            total_tasks_executed   = s.total_tasks_executed + d.n,
            successful_tasks       = s.successful_tasks + d.ok,
            failed_tasks           = s.failed_tasks + d.bad,
            timed_executions       = s.timed_executions + d.timed,
            total_execution_time   = s.total_execution_time + d.secs,
            average_execution_time = coalesce(round((s.total_execution_time + d.secs)
                                         / nullif(s.timed_executions + d.timed, 0), 3), 0),
            last_execution_at      = greatest(s.last_execution_at, d.last_at),
            last_updated           = now()
        FROM (SELECT x.agent_id,
                     sum(x.sgn)                                                           AS n,
                     coalesce(sum(x.sgn) FILTER (WHERE x.status = 'completed'), 0)            AS ok,
                     coalesce(sum(x.sgn) FILTER (WHERE x.status IN ('failed', 'timeout')), 0) AS bad,
                     coalesce(sum(x.sgn) FILTER (WHERE x.execution_time IS NOT NULL), 0)      AS timed,
                     coalesce(sum(x.sgn * x.execution_time), 0)                           AS secs,
                     max(x.created_at) FILTER (WHERE x.sgn > 0)                           AS last_at
              FROM (SELECT r.agent_id, 1 AS sgn, r.status, r.execution_time, r.created_at
                    FROM new_rows r
                    UNION ALL
                    SELECT o.agent_id, -1, o.status, o.execution_time, o.created_at
                    FROM old_rows o) x
              GROUP BY x.agent_id) d
        WHERE s.agent_id = d.agent_id;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops.agent_performance_apply() FROM PUBLIC;

-- PostgreSQL 15 accepts statement-level triggers with transition tables on a partitioned table
-- (not row-level ones); they fire for INSERT and COPY into the parent, with the rows routed to
-- every partition. Cost to know: COPY into a partitioned table that has such a trigger inserts
-- row by row instead of in multi-row batches (see copyfrom.c); measured figures are in the notes
-- of this schema's hand-over.
CREATE TRIGGER task_executions_performance_insert
    AFTER INSERT ON ops.task_executions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.agent_performance_apply();
CREATE TRIGGER task_executions_performance_update
    AFTER UPDATE ON ops.task_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ops.agent_performance_apply();

-- Recount the whole summary from the executions stored now (after archival, after rows were
-- written straight into partitions, or to repair it). Returns the number of agents summarised.
CREATE FUNCTION ops.rebuild_agent_performance_summary() RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, ops
AS $$
DECLARE
    v_count bigint;
BEGIN
    LOCK TABLE ops.agent_performance_summary IN EXCLUSIVE MODE;
    DELETE FROM ops.agent_performance_summary;
    INSERT INTO ops.agent_performance_summary
           (agent_id, agent_type, agent_name, created_at, total_tasks_executed, successful_tasks,
            failed_tasks, timed_executions, total_execution_time, average_execution_time,
            last_execution_at, last_updated)
    SELECT a.agent_id, a.agent_type, left(coalesce(a.config ->> 'name', a.agent_type), 100),
           a.created_at, d.n, d.ok, d.bad, d.timed, d.secs,
           coalesce(round(d.secs / nullif(d.timed, 0), 3), 0), d.last_at, now()
    FROM (SELECT e.agent_id,
                 count(*)                                                 AS n,
                 count(*) FILTER (WHERE e.status = 'completed')           AS ok,
                 count(*) FILTER (WHERE e.status IN ('failed', 'timeout')) AS bad,
                 count(e.execution_time)                                  AS timed,
                 coalesce(sum(e.execution_time), 0)                       AS secs,
                 max(e.created_at)                                        AS last_at
          FROM ops.task_executions e
          GROUP BY e.agent_id) d
    JOIN ops.agents a ON a.agent_id = d.agent_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
REVOKE ALL ON FUNCTION ops.rebuild_agent_performance_summary() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Monthly partitions
-- ---------------------------------------------------------------------------------------------

-- Creates (if absent) the partition <parent>_pYYYY_MM of a table partitioned by RANGE on one
-- timestamptz/timestamp/date column, for [first day of p_month, first day of the next month),
-- UTC, in the parent's schema, and returns its schema-qualified name either way.
-- If the parent's DEFAULT partition already holds rows of that month (written before the
-- partition existed), the partition is created detached (LIKE parent INCLUDING DEFAULTS
-- INCLUDING CONSTRAINTS), those rows are moved out of the default (INSERT ... SELECT; DELETE) and
-- it is then attached; the default partition is locked meanwhile. All in the caller's
-- transaction: an error leaves nothing behind. A table of that name that is not a partition of
-- p_parent is an error (e.g. a detached, archived partition: restore or drop it first).
CREATE FUNCTION ops.ensure_monthly_partition(p_parent regclass, p_month date) RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    v_schema     text;
    v_table      text;
    v_name       text;
    v_qualified  text;
    v_key        text;
    v_key_type   regtype;
    v_default    regclass;
    v_tablespace text;
    v_start      date := date_trunc('month', p_month)::date;
    v_end        date := (date_trunc('month', p_month) + interval '1 month')::date;
    v_from       text;
    v_to         text;
    v_existing   oid;
    v_columns    text;
    v_has_rows   boolean := false;
BEGIN
    IF p_parent IS NULL OR p_month IS NULL THEN
        RAISE EXCEPTION 'ensure_monthly_partition: parent and month are required';
    END IF;

    SELECT n.nspname, c.relname, ts.spcname
      INTO v_schema, v_table, v_tablespace
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
    WHERE c.oid = p_parent;

    SELECT a.attname, a.atttypid::regtype, nullif(pt.partdefid, 0)::regclass
      INTO v_key, v_key_type, v_default
    FROM pg_partitioned_table pt
    JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
    WHERE pt.partrelid = p_parent AND pt.partstrat = 'r' AND pt.partnatts = 1;
    IF v_key IS NULL THEN
        RAISE EXCEPTION '% is not partitioned by range on a single column', p_parent;
    END IF;
    IF v_key_type NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype) THEN
        RAISE EXCEPTION 'partition key %.% is %, not a date or timestamp', p_parent, v_key, v_key_type;
    END IF;

    v_name := v_table || '_p' || to_char(v_start, 'YYYY_MM');
    v_qualified := format('%I.%I', v_schema, v_name);
    -- bounds are UTC month starts for timestamptz keys
    IF v_key_type = 'timestamptz'::regtype THEN
        v_from := to_char(v_start, 'YYYY-MM-DD') || ' 00:00:00+00';
        v_to   := to_char(v_end, 'YYYY-MM-DD') || ' 00:00:00+00';
    ELSE
        v_from := to_char(v_start, 'YYYY-MM-DD');
        v_to   := to_char(v_end, 'YYYY-MM-DD');
    END IF;

    -- serialise concurrent callers for the same parent
    PERFORM pg_advisory_xact_lock(hashtext('ops.ensure_monthly_partition'), hashtext(p_parent::text));

    SELECT c.oid INTO v_existing
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = v_schema AND c.relname = v_name;
    IF v_existing IS NOT NULL THEN
        IF EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = v_existing AND i.inhparent = p_parent) THEN
            RETURN v_qualified;
        END IF;
        RAISE EXCEPTION '% exists but is not a partition of %', v_qualified, p_parent;
    END IF;

    IF v_default IS NOT NULL THEN
        -- no writer may add rows of this month to the default while we move them / attach
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', v_default);
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= %L::%s AND %I < %L::%s)',
                       v_default, v_key, v_from, v_key_type, v_key, v_to, v_key_type)
           INTO v_has_rows;
    END IF;

    IF NOT v_has_rows THEN
        EXECUTE format('CREATE TABLE %s PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                       v_qualified, p_parent, v_from, v_to);
        RETURN v_qualified;
    END IF;

    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum)
      INTO v_columns
    FROM pg_attribute a
    WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped;

    EXECUTE format('CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)%s',
                   v_qualified, p_parent,
                   CASE WHEN v_tablespace IS NOT NULL THEN format(' TABLESPACE %I', v_tablespace) ELSE '' END);
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %s WHERE %I >= %L::%s AND %I < %L::%s',
                   v_qualified, v_columns, v_columns, v_default,
                   v_key, v_from, v_key_type, v_key, v_to, v_key_type);
    EXECUTE format('DELETE FROM %s WHERE %I >= %L::%s AND %I < %L::%s',
                   v_default, v_key, v_from, v_key_type, v_key, v_to, v_key_type);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                   p_parent, v_qualified, v_from, v_to);
    RETURN v_qualified;
END
$$;

COMMENT ON FUNCTION ops.ensure_monthly_partition(regclass, date) IS
'Idempotently creates the monthly range partition <parent>_pYYYY_MM (UTC month of p_month) of '
'p_parent and returns its qualified name; moves rows of that month out of the DEFAULT partition '
'first if there are any. Runs in the caller''s transaction.';

-- ---------------------------------------------------------------------------------------------
-- agent_task_summary (seed 6.1.2), fixed
-- ---------------------------------------------------------------------------------------------

-- Tasks and executions are aggregated separately before the join (the seed joined agents ->
-- tasks -> executions and so counted each task once per execution). Executions are attributed
-- through their own agent_id. "recent" = the 7 days before the refresh. Created WITH DATA: the
-- tables are empty at migration time, so it is populated (empty) at once and
-- REFRESH MATERIALIZED VIEW CONCURRENTLY works from the start (it needs the unique index below
-- and a populated view).
CREATE MATERIALIZED VIEW ops.agent_task_summary AS
WITH t AS (
    SELECT tk.assigned_agent                                              AS agent_id,
           count(*)                                                       AS total_task_count,
           count(*) FILTER (WHERE tk.created_at >= now() - interval '7 days') AS recent_task_count,
           count(*) FILTER (WHERE tk.status = 'pending')                  AS pending_tasks,
           count(*) FILTER (WHERE tk.status = 'running')                  AS running_tasks,
           count(*) FILTER (WHERE tk.status = 'completed')                AS completed_tasks,
           count(*) FILTER (WHERE tk.status = 'failed')                   AS failed_tasks,
           count(*) FILTER (WHERE tk.status = 'cancelled')                AS cancelled_tasks
    FROM ops.tasks tk
    WHERE tk.assigned_agent IS NOT NULL
    GROUP BY tk.assigned_agent
), e AS (
    SELECT ex.agent_id,
           count(*)                                                       AS total_executions,
           count(*) FILTER (WHERE ex.status = 'completed')                AS completed_executions,
           count(*) FILTER (WHERE ex.status = 'failed')                   AS failed_executions,
           count(*) FILTER (WHERE ex.status = 'timeout')                  AS timeout_executions,
           count(*) FILTER (WHERE ex.status = 'running')                  AS running_executions,
           count(*) FILTER (WHERE ex.status = 'cancelled')                AS cancelled_executions,
           round(avg(ex.execution_time), 3)                               AS avg_execution_time,
           max(ex.execution_time)                                         AS max_execution_time,
           max(ex.created_at)                                             AS last_execution_at
    FROM ops.task_executions ex
    GROUP BY ex.agent_id
)
SELECT a.agent_id,
       a.agent_type,
       a.version,
       a.status,
       coalesce(t.total_task_count, 0)     AS total_task_count,
       coalesce(t.recent_task_count, 0)    AS recent_task_count,
       coalesce(t.pending_tasks, 0)        AS pending_tasks,
       coalesce(t.running_tasks, 0)        AS running_tasks,
       coalesce(t.completed_tasks, 0)      AS completed_tasks,
       coalesce(t.failed_tasks, 0)         AS failed_tasks,
       coalesce(t.cancelled_tasks, 0)      AS cancelled_tasks,
       coalesce(e.total_executions, 0)     AS total_executions,
       coalesce(e.completed_executions, 0) AS completed_executions,
       coalesce(e.failed_executions, 0)    AS failed_executions,
       coalesce(e.timeout_executions, 0)   AS timeout_executions,
       coalesce(e.running_executions, 0)   AS running_executions,
       coalesce(e.cancelled_executions, 0) AS cancelled_executions,
       e.avg_execution_time,
       e.max_execution_time,
       e.last_execution_at,
       now()                               AS refreshed_at
FROM ops.agents a
LEFT JOIN t ON t.agent_id = a.agent_id
LEFT JOIN e ON e.agent_id = a.agent_id
WITH DATA;

CREATE UNIQUE INDEX uq_agent_task_summary_agent_id ON ops.agent_task_summary (agent_id);
CREATE INDEX idx_agent_task_summary_type ON ops.agent_task_summary (agent_type);

-- REFRESH ... CONCURRENTLY when the view is populated (readers are not blocked), plain REFRESH
-- otherwise (e.g. after a restore WITH NO DATA). May run inside a transaction.
CREATE FUNCTION ops.refresh_agent_task_summary() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, ops
AS $$
BEGIN
    IF (SELECT c.relispopulated FROM pg_class c WHERE c.oid = 'ops.agent_task_summary'::regclass) THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY ops.agent_task_summary;
    ELSE
        REFRESH MATERIALIZED VIEW ops.agent_task_summary;
    END IF;
END
$$;
