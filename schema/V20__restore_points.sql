-- V20: bin/etl backup point NAME, and the point each physical backup ends with (issue 15, point 4). A point is a
-- PostgreSQL restore point (pg_create_restore_point: a named record in the WAL, which a point-in-time restore
-- replays up to) with the exact row count of every managed table at it: the counts are taken under SHARE locks on
-- those tables, which no write can pass, and the point is made before they are released, in one transaction.
CREATE TABLE etl.restore_point (
    -- letters, digits, '.', '_', '-': it goes into recovery_target_name of a restored cluster's configuration
    name         text        NOT NULL,
    -- where the point's record is in the WAL, as pg_create_restore_point returned it
    lsn          pg_lsn      NOT NULL,
    -- the server's clock at the point
    created_at   timestamptz NOT NULL,
    -- the pgBackRest backup set this point ends, for a physical backup's own point; NULL: bin/etl backup point
    backup_label text,
    CONSTRAINT restore_point_pkey PRIMARY KEY (name),
    CONSTRAINT restore_point_name_check CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')
);

CREATE TABLE etl.restore_point_count (
    point      text   NOT NULL,
    -- schema-qualified, each part quoted as format('%I.%I') spells it
    table_name text   NOT NULL,
    row_count  bigint NOT NULL,
    CONSTRAINT restore_point_count_pkey PRIMARY KEY (point, table_name),
    CONSTRAINT restore_point_count_point_fkey FOREIGN KEY (point) REFERENCES etl.restore_point (name) ON DELETE CASCADE,
    CONSTRAINT restore_point_count_row_count_check CHECK (row_count >= 0)
);
