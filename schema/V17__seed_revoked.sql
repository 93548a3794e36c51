-- V18: a seed without audit (the default, ETL_SEED_AUDIT=false) disables the audit triggers of the tables it
-- loads until its finish steps, or a later run's recover, enable them again. Between the two, and for good
-- after a run killed there, mcp_user and every other role with write privileges wrote those tables with no
-- audit row (review 1 of session 12, finding 3). Now the transaction that disables a table's audit trigger
-- also revokes INSERT, UPDATE, DELETE and TRUNCATE on it (and on its partitions) from every role but the
-- table's owner, and the transaction that enables the trigger grants them back: meanwhile such writes are
-- refused, never unaudited, whatever happens to the run. This table holds what was revoked, as catalog
-- references only (a table, a column number, a role), so that exactly that is granted back. regclass and
-- regrole, as etl.seed_set_aside's regclass: a logical backup names them, so a restore elsewhere keeps them.
CREATE TABLE etl.seed_revoked (
    position   integer     GENERATED ALWAYS AS IDENTITY,
    seeded     regclass    NOT NULL,
    -- a privilege on one column (GRANT UPDATE (col)); NULL: on the table
    attnum     smallint,
    -- 0 ('-') is PUBLIC, as in aclexplode
    grantee    regrole     NOT NULL,
    privilege  text        NOT NULL,
    grantable  boolean     NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seed_revoked_pkey PRIMARY KEY (position),
    -- keywords of a GRANT, never anything else
    CONSTRAINT seed_revoked_privilege CHECK (privilege IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
                                             AND (attnum IS NULL OR privilege IN ('INSERT', 'UPDATE')))
);

COMMENT ON TABLE etl.seed_revoked IS
    'Write privileges seed-data revoked from the tables whose audit triggers it disabled for its bulk load, '
    'granted back when it enables them again (restart the run, or run seed-data again).';
