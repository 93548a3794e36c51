-- V22: bin/etl backup drill (issue 15, point 5). Each drill restores a pgBackRest set into a scratch cluster up to
-- a restore point, and checks it there: every managed table's rows equal what the point recorded, and pg_amcheck
-- finds no corruption. The drill is recorded here, passed or not, with what failed.
CREATE TABLE etl.restore_drill (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    started_at      timestamptz NOT NULL,
    -- the restore point drilled to (etl.restore_point.name; kept when that point is deleted)
    target          text        NOT NULL,
    -- the pgBackRest backup set restored; NULL when the drill failed before one was chosen
    backup_label    text,
    -- pgBackRest's restore, then the cluster's start, WAL replay to the point and promotion
    restore_seconds numeric,
    replay_seconds  numeric,
    passed          boolean     NOT NULL,
    -- what failed, one line each; empty when passed
    problems        text        NOT NULL DEFAULT '',
    CONSTRAINT restore_drill_pkey PRIMARY KEY (id)
);
