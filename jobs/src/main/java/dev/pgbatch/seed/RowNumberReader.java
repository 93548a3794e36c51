package dev.pgbatch.seed;

import dev.pgbatch.core.ProgressMonitor;

import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemStreamReader;

/**
 * Reads the row numbers 0 .. count-1 of a seeded table. The next number is saved with every committed
 * chunk, so a restart continues exactly after the last committed row.
 */
final class RowNumberReader implements ItemStreamReader<Long>, StepExecutionListener {

	private static final String NEXT = "rows.next";

	private final SeedTable table;

	private final SeedModels models;

	private long next;

	private long count;

	RowNumberReader(SeedTable table, SeedModels models) {
		this.table = table;
		this.models = models;
	}

	@Override
	public void beforeStep(StepExecution stepExecution) {
		this.count = this.table.count(this.models.of(stepExecution.getJobParameters()));
		stepExecution.getExecutionContext().putLong(ProgressMonitor.TOTAL, this.count);
	}

	@Override
	public void open(ExecutionContext executionContext) {
		this.next = executionContext.getLong(NEXT, 0L);
	}

	@Override
	public void update(ExecutionContext executionContext) {
		executionContext.putLong(NEXT, this.next);
	}

	@Override
	public Long read() {
		return (this.next < this.count) ? this.next++ : null;
	}

}
