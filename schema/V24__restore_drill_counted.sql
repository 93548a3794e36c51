-- V24: whether a drill compared row counts (review 10 #18). A drill to a restore point compares every managed
-- table's rows with the point's counts; a drill to a time (backup drill --to-time) has no counts and runs pg_amcheck
-- only. The gauges pgbatch_drill_last_passed and pgbatch_drill_last_age_seconds read the last counted drill, so that
-- a passing drill to a time does not hide a failed one to a point.
ALTER TABLE etl.restore_drill ADD COLUMN counted boolean;
-- the drills before: a time's target is an instant (2026-12-03T02:40:00Z), a point's name has no ':' (V20's check)
UPDATE etl.restore_drill SET counted = position(':' IN target) = 0;
ALTER TABLE etl.restore_drill ALTER COLUMN counted SET NOT NULL;
