-- V23: bin/etl backup verify --physical (issue 15, point 7). Each verify runs pgBackRest's verify on the stanza and
-- checks that the WAL archive has no gap from the oldest full set's WAL start to the newest archived segment. It is
-- recorded here, passed or not, with what was wrong, so that backup list --physical and the health and gauges of the
-- scheduler can tell when the repository was last shown sound.
CREATE TABLE etl.physical_verify (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    verified_at   timestamptz NOT NULL,
    stanza        text        NOT NULL,
    -- the backup sets pgbackrest info listed
    sets          integer     NOT NULL,
    -- the WAL range checked for gaps (segment names); NULL when the check did not get that far
    wal_from      text,
    wal_to        text,
    passed        boolean     NOT NULL,
    -- what was wrong, one line each; empty when passed
    problems      text        NOT NULL DEFAULT '',
    CONSTRAINT physical_verify_pkey PRIMARY KEY (id)
);
