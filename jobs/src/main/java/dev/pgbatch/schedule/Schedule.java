package dev.pgbatch.schedule;

import java.time.ZoneId;
import java.util.List;
import java.util.Map;

/**
 * One entry of a schedule file: which job runs when (a Quartz cron expression in a time zone), with
 * which parameters, and what happens to a firing the scheduler missed. {@code source} names the file.
 */
public record Schedule(String name, String job, String cron, ZoneId zone, Map<String, String> parameters,
		MisfirePolicy misfire, boolean enabled, String source) {

	/** The parameters as the command line takes them: name=value. */
	public List<String> parameterArguments() {
		return this.parameters.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
	}

}
