package dev.pgbatch.schedule;

import java.util.Arrays;
import java.util.stream.Collectors;

import org.quartz.CronScheduleBuilder;

/**
 * What a schedule does about a firing that passed while no scheduler ran (or while its previous run
 * still went on) for longer than the misfire threshold.
 */
public enum MisfirePolicy {

	/** Run once as soon as possible, however many firings were missed (Quartz: fire once now). */
	FIRE_NOW("fire-now"),

	/** Forget the missed firings and wait for the next one (Quartz: do nothing). */
	SKIP("skip");

	private final String text;

	MisfirePolicy(String text) {
		this.text = text;
	}

	public String text() {
		return this.text;
	}

	CronScheduleBuilder applyTo(CronScheduleBuilder schedule) {
		return (this == FIRE_NOW) ? schedule.withMisfireHandlingInstructionFireAndProceed()
				: schedule.withMisfireHandlingInstructionDoNothing();
	}

	static MisfirePolicy of(String text) {
		return Arrays.stream(values())
			.filter(policy -> policy.text.equals(text))
			.findFirst()
			.orElseThrow(() -> new IllegalArgumentException("unknown misfire policy '" + text + "' (known: "
					+ Arrays.stream(values()).map(MisfirePolicy::text).collect(Collectors.joining(", ")) + ")"));
	}

}
