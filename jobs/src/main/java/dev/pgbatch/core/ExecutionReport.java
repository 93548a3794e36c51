package dev.pgbatch.core;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameter;
import org.springframework.batch.core.step.StepExecution;

/**
 * What an execution did, as the commands print it (and as one JSON document with json). {@code orphaned}
 * marks an execution recorded as running whose process is gone: restart continues it. {@code superseded} marks
 * one that a later execution of its job came after (a restart of it, or another run): restart refuses it.
 */
public record ExecutionReport(long executionId, String job, String status, boolean orphaned, boolean superseded,
		String exitCode,
		String exitDescription, Instant start, Instant end, Double seconds, Map<String, String> parameters,
		List<StepReport> steps) {

	/**
	 * Read, write and skip counts of one step, and what the step itself reports in its execution context under
	 * {@link #SUMMARY} keys (embed-products: embedded, failed, skipped, unchanged).
	 */
	public record StepReport(String step, String status, long read, long written, long skipped, long commits,
			long rollbacks, Instant start, Instant end, Double seconds, Map<String, Object> summary) {

		static StepReport of(StepExecution step) {
			Map<String, Object> summary = new TreeMap<>();
			for (Map.Entry<String, Object> entry : step.getExecutionContext().entrySet()) {
				if (entry.getKey().startsWith(SUMMARY)) {
					summary.put(entry.getKey().substring(SUMMARY.length()), entry.getValue());
				}
			}
			return new StepReport(step.getStepName(), step.getStatus().name(), step.getReadCount(),
					step.getWriteCount(), step.getSkipCount(), step.getCommitCount(), step.getRollbackCount(),
					instant(step.getStartTime()), instant(step.getEndTime()),
					ExecutionReport.seconds(step.getStartTime(), step.getEndTime()),
					summary);
		}

	}

	static final String STOPPED = "stopped on request (bin/etl stop, SIGTERM or the scheduler's shutdown)";

	private static final Pattern BARE_EXCEPTION = Pattern.compile("[\\w.$]+(Exception|Error)");

	/** The prefix of the execution-context keys a step reports its own counts under. */
	public static final String SUMMARY = "summary.";

	public static ExecutionReport of(JobExecution execution, boolean orphaned) {
		return of(execution, orphaned, false);
	}

	public static ExecutionReport of(JobExecution execution, boolean orphaned, boolean superseded) {
		Map<String, String> parameters = new LinkedHashMap<>();
		for (JobParameter<?> parameter : execution.getJobParameters()) {
			parameters.put(parameter.name(), String.valueOf(parameter.value()));
		}
		List<StepReport> steps = execution.getStepExecutions()
			.stream()
			.sorted(Comparator.comparing(StepExecution::getId))
			.map(StepReport::of)
			.toList();
		return new ExecutionReport(execution.getId(), execution.getJobInstance().getJobName(),
				execution.getStatus().name(), orphaned, superseded, execution.getExitStatus().getExitCode(),
				whatWentWrong(execution),
				instant(execution.getStartTime()),
				instant(execution.getEndTime()), seconds(execution.getStartTime(), execution.getEndTime()), parameters, steps);
	}

	/**
	 * Spring Batch records local times of the JVM that ran the step (LocalDateTime.now()), and every runner's JVM
	 * runs in UTC (PgBatchApplication.main; the tests' JVMs by the build's argLine).
	 */
	private static Instant instant(LocalDateTime time) {
		return (time == null) ? null : time.toInstant(ZoneOffset.UTC);
	}

	private static Double seconds(LocalDateTime start, LocalDateTime end) {
		return (start == null || end == null) ? null : Duration.between(start, end).toMillis() / 1000.0;
	}

	/**
	 * The failed step's own message when there is one: a job's exit description in a flow only says that
	 * the flow ended, its steps say why.
	 */
	private static String whatWentWrong(JobExecution execution) {
		for (StepExecution step : execution.getStepExecutions()) {
			String description = firstLine(step.getExitStatus().getExitDescription());
			if (step.getStatus().isUnsuccessful() && description != null) {
				return step.getStepName() + ": " + rootMessage(description);
			}
		}
		String description = firstLine(execution.getExitStatus().getExitDescription());
		// a stop leaves the bare name of the exception that carried it (JobInterruptedException)
		if (execution.getStatus() == BatchStatus.STOPPED
				&& (description == null || BARE_EXCEPTION.matcher(description).matches())) {
			return STOPPED;
		}
		return description;
	}

	/** "java.lang.IllegalStateException: retail.customers already holds rows" reads better without the class. */
	private static String rootMessage(String description) {
		int colon = description.indexOf(": ");
		String head = colon < 0 ? "" : description.substring(0, colon);
		return BARE_EXCEPTION.matcher(head).matches() ? description.substring(colon + 2) : description;
	}

	/** Exit descriptions hold whole stack traces; the first line says what went wrong. */
	private static String firstLine(String description) {
		if (description == null || description.isBlank()) {
			return null;
		}
		int newline = description.indexOf('\n');
		return (newline < 0 ? description : description.substring(0, newline)).strip();
	}

}
