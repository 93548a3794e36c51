-- A cold segment that can no longer be restored (its object or manifest lost) is marked 'forgotten' by
-- `bin/etl archive forget`, on purpose and logged: it no longer holds a seed-data reset back (which is
-- refused while segments are not restored). Its log row and its objects stay; nothing is deleted.
ALTER TABLE ops.archive_log DROP CONSTRAINT archive_log_status_check;
ALTER TABLE ops.archive_log ADD CONSTRAINT archive_log_status_check
    CHECK (status IN ('running', 'completed', 'failed', 'restored', 'forgotten'));
