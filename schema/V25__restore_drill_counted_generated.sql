-- V25: etl.restore_drill.counted computed by the server from target (review 13 #10). V24 added it NOT NULL without a
-- default, so a runner of the build before it (a scheduler daemon left running while a new bin/etl migrated) failed
-- its drill's INSERT, and the drill's result was lost. The rule is exact: a drill to a time records the instant
-- (Instant.toString(), always with ':'), a drill to a point the point's name, which V20's check keeps free of ':';
-- V24 filled the rows before it with the same rule, and the runner wrote the same since. Dropped and added again, the
-- column takes its value from the rule for every row.
ALTER TABLE etl.restore_drill DROP COLUMN counted;
ALTER TABLE etl.restore_drill ADD COLUMN counted boolean GENERATED ALWAYS AS (position(':' IN target) = 0) STORED;
