package dev.pgbatch.seed;

import java.time.LocalDate;

import dev.pgbatch.core.ParameterDefinition;

import org.springframework.batch.core.job.parameters.JobParameter;
import org.springframework.batch.core.job.parameters.JobParameters;

/** How much to generate and from what: the job's parameters, with the counts they imply. */
record SeedPlan(double scale, long seed, LocalDate asOf, boolean reset, boolean analyze) {

	/** How far back task executions (and tasks) reach. */
	static final int HISTORY_MONTHS = 18;

	private static final long DAY_SECONDS = 86_400;

	static SeedPlan of(JobParameters parameters) {
		return new SeedPlan(parameters.getDouble("scale"), parameters.getLong("seed"),
				parameters.getLocalDate(ParameterDefinition.AS_OF), flag(parameters, "reset", false), flag(parameters, "analyze", true));
	}

	long customers() {
		return scaled(2000);
	}

	long products() {
		return Math.max(SeedModel.STORES.size(), scaled(500));
	}

	long transactions() {
		return scaled(5000);
	}

	long users() {
		return scaled(50);
	}

	long agents() {
		return scaled(100);
	}

	long tasks() {
		return scaled(2000);
	}

	long taskExecutions() {
		return scaled(10000);
	}

	/**
	 * Seconds since the epoch at which the seeded history begins (midnight UTC). Called for most generated rows:
	 * days times seconds, not a ZonedDateTime (a tenth of the generator threads' time went into those).
	 */
	long historyStartEpochSecond() {
		return this.asOf.minusMonths(HISTORY_MONTHS).toEpochDay() * DAY_SECONDS;
	}

	/** Seconds since the epoch at the start of the as-of day (UTC): every generated time is before it. */
	long asOfEpochSecond() {
		return this.asOf.toEpochDay() * DAY_SECONDS;
	}

	/** A flag, or its default for an execution launched before the flag existed (when restarted). */
	private static boolean flag(JobParameters parameters, String name, boolean absent) {
		JobParameter<?> parameter = parameters.getParameter(name);
		return (parameter == null) ? absent : Boolean.TRUE.equals(parameter.value());
	}

	private long scaled(long atScaleOne) {
		return Math.max(1, Math.round(atScaleOne * this.scale));
	}

}
