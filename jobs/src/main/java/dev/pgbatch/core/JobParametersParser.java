package dev.pgbatch.core;

import java.time.Clock;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

/**
 * Turns {@code name=value} arguments into job parameters, applying defaults and checks. Every problem
 * is a {@link UsageException} with a one-line message that names the parameter.
 */
public final class JobParametersParser {

	/** Identifies each launch, so that the same parameters can run again (reset=true reseeds). */
	public static final String RUN_ID = "run.id";

	static final String OUTSIDE_WINDOW = "%s: %s is more than a year from today (%s); give force=true if that is meant";

	private final Clock clock;

	public JobParametersParser(Clock clock) {
		this.clock = clock;
	}

	public Map<String, Object> parse(JobDefinition job, List<String> arguments) {
		Map<String, String> given = new LinkedHashMap<>();
		for (String argument : arguments) {
			int equals = argument.indexOf('=');
			if (equals <= 0) {
				throw new UsageException("parameter '" + argument + "' is not of the form name=value");
			}
			String name = argument.substring(0, equals).strip();
			if (job.parameter(name).isEmpty()) {
				throw new UsageException("unknown parameter '" + name + "' for job " + job.name() + (job.parameters().isEmpty()
						? " (it takes none)" : " (known: " + job.parameters().stream().map(ParameterDefinition::name)
							.collect(Collectors.joining(", ")) + ")"));
			}
			if (given.put(name, argument.substring(equals + 1)) != null) {
				throw new UsageException("parameter '" + name + "' is given twice");
			}
		}
		Map<String, Object> values = new LinkedHashMap<>();
		for (ParameterDefinition parameter : job.parameters()) {
			String text = given.get(parameter.name());
			Object value;
			try {
				value = (text != null) ? parameter.type().parse(text) : parameter.defaultValue().apply(this.clock);
			}
			catch (IllegalArgumentException ex) {
				throw new UsageException(parameter.name() + ": " + ex.getMessage());
			}
			String problem = parameter.check().problem(value);
			if (problem != null) {
				throw new UsageException(parameter.name() + ": " + problem);
			}
			values.put(parameter.name(), value);
		}
		if (!Boolean.TRUE.equals(values.get(ParameterDefinition.FORCE.name()))) {
			LocalDate today = LocalDate.now(this.clock);
			for (ParameterDefinition parameter : job.parameters()) {
				if (values.get(parameter.name()) instanceof LocalDate date
						&& (date.isBefore(today.minus(ParameterDefinition.DATE_WINDOW))
								|| date.isAfter(today.plus(ParameterDefinition.DATE_WINDOW)))) {
					throw new UsageException(String.format(OUTSIDE_WINDOW, parameter.name(), date, today));
				}
			}
		}
		return values;
	}

	/** The job parameters of a new launch: the parsed values plus a run id that makes the launch unique. */
	public JobParameters toJobParameters(JobDefinition job, Map<String, Object> values) {
		JobParametersBuilder builder = new JobParametersBuilder();
		values.forEach((name, value) -> add(builder, job.parameter(name).orElseThrow().type(), name, value));
		builder.addLong(RUN_ID, this.clock.millis());
		return builder.toJobParameters();
	}

	@SuppressWarnings("unchecked")
	private static void add(JobParametersBuilder builder, ParameterType type, String name, Object value) {
		builder.addJobParameter(name, value, (Class<Object>) type.javaType(), true);
	}

}
