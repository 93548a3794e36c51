-- Secondary indexes and foreign keys that seed-data drops before its bulk COPY and re-creates after it
-- (building an index once is many times cheaper than updating it row by row, as pg_restore knows),
-- and the statement triggers with transition tables it disables meanwhile (their presence alone makes
-- COPY into a partitioned table insert row by row).
-- The definitions live here, not in memory, so that a run killed in between loses none of them: the
-- next seed-data run, or the restart of this one, re-creates whatever is listed before anything else.
CREATE TABLE etl.seed_deferred_ddl (
    position    integer     GENERATED ALWAYS AS IDENTITY,
    table_name  text        NOT NULL,
    object_name text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('index', 'foreign key', 'trigger')),
    create_ddl  text        NOT NULL,
    dropped_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seed_deferred_ddl_pkey PRIMARY KEY (position)
);

COMMENT ON TABLE etl.seed_deferred_ddl IS
    'Indexes, foreign keys and triggers seed-data set aside for its bulk load and has not restored yet; '
    'seed-data re-creates them (restart the run, or run seed-data again).';
