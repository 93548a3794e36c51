package dev.pgbatch.embed;

import dev.pgbatch.core.ExecutionReport;

import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemStream;

/**
 * What a run did, kept in its step's execution context (so `status` and `run --json` show it) and committed
 * with each chunk. Embedded, refused and selected carry over a restart; unchanged and skipped are counted
 * again, since a restart reads every product again.
 */
final class EmbedCounts implements ItemStream {

	static final String EMBEDDED = ExecutionReport.SUMMARY + "embedded";

	static final String FAILED = ExecutionReport.SUMMARY + "failed";

	static final String SKIPPED = ExecutionReport.SUMMARY + "skipped";

	static final String UNCHANGED = ExecutionReport.SUMMARY + "unchanged";

	private static final String SELECTED = "embed.selected";

	long embedded;

	long failed;

	long skipped;

	long unchanged;

	/** Products handed to the writer, the ones that failed included: what limit bounds. */
	long selected;

	@Override
	public void open(ExecutionContext context) {
		this.embedded = context.getLong(EMBEDDED, 0L);
		this.failed = context.getLong(FAILED, 0L);
		this.selected = context.getLong(SELECTED, 0L);
		this.skipped = 0;
		this.unchanged = 0;
	}

	@Override
	public void update(ExecutionContext context) {
		context.putLong(EMBEDDED, this.embedded);
		context.putLong(FAILED, this.failed);
		context.putLong(SKIPPED, this.skipped);
		context.putLong(UNCHANGED, this.unchanged);
		context.putLong(SELECTED, this.selected);
	}

}
