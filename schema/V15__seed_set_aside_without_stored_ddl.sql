-- seed-data sets secondary indexes, foreign keys and some triggers aside for its bulk load. It used to keep
-- their definitions as text in etl.seed_deferred_ddl and run that text afterwards: whoever could write that
-- table had seed-data run any SQL. Now nothing is kept as text: the indexes and foreign keys of each table
-- stay alive on an empty shadow table in etl (seed-data rebuilds them from the shadow's catalog), and this
-- table holds only catalog references (regclass, oid), never SQL.
CREATE TABLE etl.seed_set_aside (
    position     integer     GENERATED ALWAYS AS IDENTITY,
    seeded       regclass    NOT NULL,
    shadow       regclass,
    shadow_index regclass,
    tablespace   oid,
    trigger_oid  oid,
    set_aside_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seed_set_aside_pkey PRIMARY KEY (position),
    -- one of: a table's shadow; the tablespace of a partition's index (of the shadow's index); a disabled trigger
    CONSTRAINT seed_set_aside_kind CHECK (num_nonnulls(shadow, shadow_index, trigger_oid) = 1
                                          AND (tablespace IS NULL OR shadow_index IS NOT NULL))
);

COMMENT ON TABLE etl.seed_set_aside IS
    'What seed-data set aside for its bulk load and has not restored yet (restart the run, or run seed-data '
    'again): shadow tables carrying the indexes and foreign keys, the tablespaces of partitions'' indexes, '
    'disabled triggers.';

-- Definitions an older seed-data run left here (it was killed between its drop and its re-create) are not
-- run by this version: finish that run with the older version first.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM etl.seed_deferred_ddl) THEN
        RAISE EXCEPTION 'etl.seed_deferred_ddl holds % definitions an older seed-data run set aside and did not restore: restart that run with the version that started it, then migrate',
            (SELECT count(*) FROM etl.seed_deferred_ddl);
    END IF;
END $$;

DROP TABLE etl.seed_deferred_ddl;
