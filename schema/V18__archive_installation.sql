-- The archive's installation id (review 3a #3): every cold segment's manifest names it, and `archive list`
-- and `archive adopt` take a segment for this installation's own by it (not by the cluster's system
-- identifier and the database's name: a dump restored into another cluster or under another name changed
-- those, and a PITR clone kept both). One row, in the database, so that a logical dump carries it: a dump
-- restored anywhere is the same installation, and the segments it wrote are its own. A copy that lives on
-- beside the original (a PITR clone, a promoted standby, a staging database made from production) keeps
-- it too, and must take a new one or another prefix (docs/jobs/archive.md).
CREATE TABLE ops.archive_installation (
    one         boolean     NOT NULL DEFAULT true,
    archive_id  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT archive_installation_pkey PRIMARY KEY (one),
    CONSTRAINT archive_installation_one CHECK (one)
);

INSERT INTO ops.archive_installation (archive_id) VALUES (gen_random_uuid());
