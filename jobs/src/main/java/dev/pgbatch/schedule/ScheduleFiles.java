package dev.pgbatch.schedule;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.pgbatch.JobCatalog;
import dev.pgbatch.core.JobDefinition;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.Settings;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.core.YamlLists;
import org.quartz.CronExpression;

/**
 * Reads every {@code *.yml} and {@code *.yaml} of the schedules directory, each a list {@code schedules} of
 * entries, and checks all of them before anything is scheduled: a problem is a {@link UsageException} naming
 * the file and the entry. A directory without any schedule is refused: it is far likelier a mistake (a wrong
 * path, a mount not there yet) than a cluster meant to run nothing.
 */
public final class ScheduleFiles {

	/** Where the schedules are: ETL_SCHEDULES_DIR, which bin/etl sets to the project's schedules/ by default. */
	public static final String DIRECTORY_VARIABLE = "ETL_SCHEDULES_DIR";

	private static final Set<String> KEYS = Set.of("name", "job", "cron", "time-zone", "parameters", "misfire",
			"enabled");

	private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

	private ScheduleFiles() {
	}

	/** The directory ETL_SCHEDULES_DIR names, or schedules/ under the working directory. */
	public static Path directory() {
		String configured = Settings.value(DIRECTORY_VARIABLE);
		return Path.of((configured == null || configured.isBlank()) ? "schedules" : configured);
	}

	public static List<Schedule> load(Path directory) {
		List<Schedule> schedules = loadAny(directory);
		if (schedules.isEmpty()) {
			throw new UsageException("schedules directory " + directory + " holds no schedule (*.yml, *.yaml files with a list 'schedules'; "
					+ DIRECTORY_VARIABLE + ")");
		}
		return schedules;
	}

	/**
	 * The schedules of a directory that may hold none, or be missing (for listing what the cluster
	 * stores); a file that is there must still be right.
	 */
	public static List<Schedule> loadAny(Path directory) {
		if (!Files.exists(directory)) {
			return List.of();
		}
		if (!Files.isDirectory(directory)) {
			throw new UsageException("schedules directory " + directory + " does not exist (" + DIRECTORY_VARIABLE + ")");
		}
		List<Path> files;
		try (Stream<Path> listing = Files.list(directory)) {
			files = listing.filter(file -> file.getFileName().toString().endsWith(".yml")
					|| file.getFileName().toString().endsWith(".yaml")).sorted().toList();
		}
		catch (IOException ex) {
			throw new UsageException("schedules directory " + directory + " cannot be read: " + ex.getMessage());
		}
		List<Schedule> schedules = new ArrayList<>();
		for (Path file : files) {
			try (InputStream in = Files.newInputStream(file)) {
				for (Schedule schedule : parse(in, file.toString())) {
					schedules.stream().filter(other -> other.name().equals(schedule.name())).findFirst().ifPresent(other -> {
						throw new UsageException(schedule.source() + ", entry '" + schedule.name()
								+ "': the name is taken by an entry of " + other.source());
					});
					schedules.add(schedule);
				}
			}
			catch (IOException ex) {
				throw new UsageException(file + ": cannot be read (" + ex.getMessage() + ")");
			}
		}
		return List.copyOf(schedules);
	}

	static List<Schedule> parse(InputStream in, String source) {
		List<?> entries = YamlLists.entries(in, source, "schedules", UsageException::new);
		List<Schedule> schedules = new ArrayList<>();
		for (int i = 0; i < entries.size(); i++) {
			Object entry = entries.get(i);
			String where = source + ", entry " + ((entry instanceof Map<?, ?> fields && fields.get("name") instanceof String name)
					? "'" + name + "'" : (i + 1));
			if (!(entry instanceof Map<?, ?> fields)) {
				throw new UsageException(where + ": a mapping is expected");
			}
			try {
				Schedule schedule = schedule(fields, source);
				if (schedules.stream().anyMatch(other -> other.name().equals(schedule.name()))) {
					throw new IllegalArgumentException("the name is used twice in this file");
				}
				schedules.add(schedule);
			}
			catch (IllegalArgumentException | UsageException ex) {
				throw new UsageException(where + ": " + ex.getMessage());
			}
		}
		return schedules;
	}

	private static Schedule schedule(Map<?, ?> fields, String source) {
		YamlLists.requireKnownKeys(fields, KEYS);
		String name = text(fields, "name");
		if (!NAME.matcher(name).matches()) {
			throw new IllegalArgumentException("name '" + name
					+ "' must be lower-case letters, digits, '-' or '_', at most 63 characters");
		}
		JobDefinition job = JobCatalog.get(text(fields, "job"));
		String cron = text(fields, "cron");
		ZoneId zone;
		String zoneText = fields.containsKey("time-zone") ? text(fields, "time-zone") : "UTC";
		try {
			zone = ZoneId.of(zoneText);
		}
		catch (DateTimeException ex) {
			throw new IllegalArgumentException("unknown time zone '" + zoneText + "'");
		}
		// Quartz reads a trigger's zone as a java.util.TimeZone, which takes an id it does not know (UTC+5) for GMT
		if (!TimeZone.getTimeZone(zone).toZoneId().getRules().equals(zone.getRules())) {
			throw new IllegalArgumentException("time zone '" + zoneText
					+ "' cannot be used for a cron: name a region (Asia/Karachi) or an offset (+05:00)");
		}
		CronExpression expression;
		try {
			expression = new CronExpression(cron);
		}
		catch (ParseException ex) {
			throw new IllegalArgumentException("bad cron '" + cron + "': " + ex.getMessage());
		}
		// Quartz refuses to store such a trigger, which would be found only after other schedules were stored
		expression.setTimeZone(TimeZone.getTimeZone(zone));
		if (expression.getNextValidTimeAfter(new Date()) == null) {
			throw new IllegalArgumentException("cron '" + cron + "' never fires again");
		}
		Map<String, String> parameters = new LinkedHashMap<>();
		Object given = fields.get("parameters");
		if (given instanceof Map<?, ?> map) {
			map.forEach((key, value) -> parameters.put(String.valueOf(key), String.valueOf(value)));
		}
		else if (given != null) {
			throw new IllegalArgumentException("parameters must be a mapping of name: value");
		}
		MisfirePolicy misfire = MisfirePolicy.of(fields.containsKey("misfire") ? text(fields, "misfire") : "fire-now");
		Object enabled = fields.containsKey("enabled") ? fields.get("enabled") : Boolean.TRUE;
		if (!(enabled instanceof Boolean)) {
			throw new IllegalArgumentException("enabled must be true or false, got '" + enabled + "'");
		}
		Schedule schedule = new Schedule(name, job.name(), cron, zone, Collections.unmodifiableMap(parameters), misfire,
				(Boolean) enabled, source);
		// The job's own checks, as `bin/etl run` applies them: unknown parameters, bad values.
		new JobParametersParser(Clock.system(zone)).parse(job, schedule.parameterArguments());
		return schedule;
	}

	private static String text(Map<?, ?> fields, String key) {
		Object value = fields.get(key);
		if (value == null) {
			throw new IllegalArgumentException("'" + key + "' is missing");
		}
		if (!(value instanceof String text) || text.isBlank()) {
			throw new IllegalArgumentException("'" + key + "' must be text, got '" + value + "'");
		}
		return text.strip();
	}

}
