package dev.pgbatch.embed;

import dev.pgbatch.core.ExecutionReport;

import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemStream;

/**
 * What an execution did, kept in its step's execution context (so `status` and `run --json` show it) and
 * committed with each chunk. Every product the execution read is counted once: embedded, failed, skipped,
 * unchanged or over-limit, so the counts add up to the step's read count and embedded is its write count.
 * A restart reads every product again: what the stopped execution embedded is unchanged to it, so only
 * selected (what the limit bounds, for the whole run) carries over.
 */
final class EmbedCounts implements ItemStream {

	static final String EMBEDDED = ExecutionReport.SUMMARY + "embedded";

	static final String FAILED = ExecutionReport.SUMMARY + "failed";

	static final String SKIPPED = ExecutionReport.SUMMARY + "skipped";

	static final String UNCHANGED = ExecutionReport.SUMMARY + "unchanged";

	static final String OVER_LIMIT = ExecutionReport.SUMMARY + "over-limit";

	private static final String SELECTED = "embed.selected";

	long embedded;

	long failed;

	long skipped;

	long unchanged;

	/** Products that needed embedding once the run's limit was reached: left for the next run. */
	long overLimit;

	/** Products handed to the writer, the ones that failed included: what limit bounds. */
	long selected;

	@Override
	public void open(ExecutionContext context) {
		this.selected = context.getLong(SELECTED, 0L);
	}

	@Override
	public void update(ExecutionContext context) {
		context.putLong(EMBEDDED, this.embedded);
		context.putLong(FAILED, this.failed);
		context.putLong(SKIPPED, this.skipped);
		context.putLong(UNCHANGED, this.unchanged);
		context.putLong(OVER_LIMIT, this.overLimit);
		context.putLong(SELECTED, this.selected);
	}

}
