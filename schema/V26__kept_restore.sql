-- V26: a kept point-in-time restore holds its set from retention. bin/etl backup restore --to ... --data-dir DIR that
-- stops before it ends keeps DIR, whose replay resumes at its next start, fetching WAL from the repository: the set it
-- was restored from, and the WAL from it on, must outlive every runner's retention until the operator is done. Each
-- restore records its hold here as soon as DIR holds the set, before postgres starts there (under the restore lock,
-- which retention's expire takes too), and releases it when it is promoted or removes what it made; one kept stays until
-- bin/etl backup restore --release DIR. One row per directory of a host: a new restore into DIR (emptied) replaces it.
CREATE TABLE etl.kept_restore (
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    host          text        NOT NULL,
    data_dir      text        NOT NULL,
    stanza        text        NOT NULL,
    -- the pgBackRest set restored into data_dir; its full (and the WAL from it on) is what retention keeps
    backup_label  text        NOT NULL,
    -- what the replay goes to, as the restore described it
    target        text        NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kept_restore_pkey PRIMARY KEY (id),
    CONSTRAINT kept_restore_place UNIQUE (host, data_dir)
);
