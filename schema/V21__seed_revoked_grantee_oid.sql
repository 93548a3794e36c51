-- V21: etl.seed_revoked keeps the grantee's oid beside its name, and the cluster it was recorded on (review 5,
-- finding 6). V19 made the grantee a name so that a logical backup restores anywhere, but the grant-back then
-- looked the role up by name only: a role renamed while a killed seed's rows waited for the next run, and another
-- made under the old name (a service account rotated), got the writes the first one had, which silently lost
-- them. On the cluster that recorded a row, its oid says which role it was: the grant-back gives the privilege
-- back only while that oid still has that name, and otherwise keeps the row and says so. A logical backup
-- restored on another cluster (another system identifier) has other oids: there the name is all it has.

ALTER TABLE etl.seed_revoked
    ADD COLUMN grantee_oid oid,
    ADD COLUMN system_identifier bigint;

-- rows recorded before: the role of that name now, on this cluster; a name no role has (a dump's, restored from
-- another cluster) stays a name only, as the grant-back read it until now
UPDATE etl.seed_revoked r
SET grantee_oid = g.oid, system_identifier = (SELECT s.system_identifier FROM pg_control_system() s)
FROM pg_roles g
WHERE g.rolname = r.grantee;

COMMENT ON COLUMN etl.seed_revoked.grantee_oid IS 'The role''s oid on the cluster of system_identifier (NULL: PUBLIC, or not known).';
COMMENT ON COLUMN etl.seed_revoked.system_identifier IS 'pg_control_system()''s system_identifier of the cluster that recorded the row: elsewhere grantee_oid means nothing and the name is used.';
