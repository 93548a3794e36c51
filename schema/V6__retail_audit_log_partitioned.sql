-- retail.audit_log becomes range-partitioned by month on created_at, like ops.audit_log, so that
-- partition-rollover creates its months ahead and archive tiers and exports them. A partitioned
-- table's primary key must hold the partition key: (log_id, created_at). Existing rows land in the
-- default partition; partition-rollover moves them into their months.
ALTER TABLE retail.audit_log RENAME TO audit_log_unpartitioned;
ALTER TABLE retail.audit_log_unpartitioned DROP CONSTRAINT audit_log_pkey;
DROP INDEX retail.idx_audit_log_table_name, retail.idx_audit_log_action, retail.idx_audit_log_user_name,
    retail.idx_audit_log_store_id, retail.idx_audit_log_created_at, retail.idx_audit_log_record_id;

CREATE TABLE retail.audit_log (
    LIKE retail.audit_log_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS,
    CONSTRAINT audit_log_pkey PRIMARY KEY (log_id, created_at)
) PARTITION BY RANGE (created_at);

CREATE TABLE retail.audit_log_default PARTITION OF retail.audit_log DEFAULT;

CREATE INDEX idx_audit_log_table_name ON retail.audit_log (table_name);
CREATE INDEX idx_audit_log_action ON retail.audit_log (action);
CREATE INDEX idx_audit_log_user_name ON retail.audit_log (user_name);
CREATE INDEX idx_audit_log_store_id ON retail.audit_log (store_id);
CREATE INDEX idx_audit_log_created_at ON retail.audit_log (created_at);
CREATE INDEX idx_audit_log_record_id ON retail.audit_log (record_id);

INSERT INTO retail.audit_log SELECT * FROM retail.audit_log_unpartitioned;
DROP TABLE retail.audit_log_unpartitioned;
