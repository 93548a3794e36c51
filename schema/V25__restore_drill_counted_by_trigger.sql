-- V25: etl.restore_drill.counted set by the server from target (review 13 #10). V24 added it NOT NULL without a
-- default, so a runner of the build before it (a scheduler daemon left running while a new bin/etl migrated) failed
-- its drill's INSERT, and the drill's result was lost. A trigger, not a generated column: a runner of V24's build
-- still writes counted, which a generated column refuses; the trigger takes every build's INSERT and sets the value
-- (a BEFORE trigger runs before the NOT NULL check). The rule is exact: a drill to a time records the instant
-- (Instant.toString(), always with ':'), a drill to a point the point's name, which V20's check keeps free of ':';
-- V24 filled the rows before it with the same rule.
CREATE FUNCTION etl.restore_drill_counted() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    NEW.counted := position(':' IN NEW.target) = 0;
    RETURN NEW;
END
$$;
CREATE TRIGGER restore_drill_counted BEFORE INSERT OR UPDATE OF target, counted ON etl.restore_drill
    FOR EACH ROW EXECUTE FUNCTION etl.restore_drill_counted();
