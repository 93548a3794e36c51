-- V19: etl.seed_revoked names its grantees instead of referring to them as regrole (review 3a, finding 8).
-- A logical backup writes a regrole as the role's name, and reading it back fails for a role the target
-- cluster lacks: the COPY of the whole table failed, so a restore without one recorded role either failed
-- altogether (pg_restore --exit-on-error, as bin/etl backup restore runs it) or kept none of the rows, and
-- no privilege was ever given back, while the dump's ACLs restored the revoked state. As a name it restores
-- anywhere; the grant-back skips a role that does not exist, as it did a role dropped meanwhile.
-- NULL is PUBLIC (aclexplode's grantee 0, which regrole printed as '-').

-- a role dropped since its privileges were revoked: nothing to give back (the grant-back skipped it too)
DELETE FROM etl.seed_revoked r
WHERE r.grantee::oid <> 0 AND NOT EXISTS (SELECT 1 FROM pg_roles g WHERE g.oid = r.grantee::oid);

ALTER TABLE etl.seed_revoked
    ALTER COLUMN grantee DROP NOT NULL,
    ALTER COLUMN grantee TYPE name USING CASE WHEN grantee::oid <> 0 THEN pg_get_userbyid(grantee::oid) END;

COMMENT ON COLUMN etl.seed_revoked.grantee IS 'The role''s name (not a regrole: a restore without the role keeps the other rows); NULL: PUBLIC.';
