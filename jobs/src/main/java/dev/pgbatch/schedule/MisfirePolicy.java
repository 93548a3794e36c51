package dev.pgbatch.schedule;

import java.util.Arrays;
import java.util.stream.Collectors;

import org.quartz.CronTrigger;

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

	/** Quartz's misfire instruction of a cron trigger for this policy. */
	int cronInstruction() {
		return (this == FIRE_NOW) ? CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW : CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING;
	}

	static MisfirePolicy of(String text) {
		return Arrays.stream(values())
			.filter(policy -> policy.text.equals(text))
			.findFirst()
			.orElseThrow(() -> new IllegalArgumentException("unknown misfire policy '" + text + "' (known: "
					+ Arrays.stream(values()).map(MisfirePolicy::text).collect(Collectors.joining(", ")) + ")"));
	}

}
