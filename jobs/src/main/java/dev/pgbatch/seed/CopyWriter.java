package dev.pgbatch.seed;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.batch.infrastructure.item.ItemWriter;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * Generates the rows of a chunk of row numbers and streams them into PostgreSQL with COPY, on the
 * chunk's own transaction: the rows and the restart point commit together. Rows of the first table are
 * streamed in binary COPY format while they are made, so PostgreSQL stores one part while the next is
 * generated; rows of further tables (transaction items) follow in a second COPY of the same transaction.
 */
final class CopyWriter implements ItemWriter<Long>, StepExecutionListener {

	private static final int FLUSH_BYTES = 1 << 16;

	private static final String SYNCHRONOUS_COMMIT_OFF = "SET LOCAL synchronous_commit = off";

	private static final String SKIP_AUDIT = "SET LOCAL pgbatch.skip_audit = 'on'";

	private final SeedTable table;

	private final SeedModels models;

	private final DataSource dataSource;

	private final boolean audit;

	private SeedModel model;

	CopyWriter(SeedTable table, SeedModels models, DataSource dataSource, boolean audit) {
		this.table = table;
		this.models = models;
		this.dataSource = dataSource;
		this.audit = audit;
	}

	@Override
	public void beforeStep(StepExecution stepExecution) {
		this.model = this.models.of(stepExecution.getJobParameters());
	}

	@Override
	public void write(Chunk<? extends Long> rows) throws SQLException {
		Connection connection = DataSourceUtils.getConnection(this.dataSource);
		try (Statement statement = connection.createStatement()) {
			// No wait for the WAL flush: the rows commit with their restart point, so a crash loses both or neither.
			statement.execute(this.audit ? SYNCHRONOUS_COMMIT_OFF : SYNCHRONOUS_COMMIT_OFF + "; " + SKIP_AUDIT);
		}
		CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
		List<String> targets = this.table.copyTargets();
		List<BinaryCopy> out = new ArrayList<>(targets.size());
		for (int i = 0; i < targets.size(); i++) {
			out.add(new BinaryCopy());
		}
		BinaryCopy first = out.get(0);
		copy(copy, targets.get(0), first, streaming -> {
			for (Long row : rows) {
				this.table.write(this.model, row, out);
				if (first.length() >= FLUSH_BYTES) {
					first.sendTo(streaming);
				}
			}
		});
		for (int i = 1; i < targets.size(); i++) {
			copy(copy, targets.get(i), out.get(i), streaming -> {
			});
		}
	}

	/** One COPY: {@code generate} writes rows into {@code rows} and may send them on; then the rest follows. */
	private static void copy(CopyManager copy, String target, BinaryCopy rows, Generator generate) throws SQLException {
		CopyIn streaming = copy.copyIn(BinaryCopy.statement(target));
		try {
			generate.run(streaming);
			rows.end();
			rows.sendTo(streaming);
			streaming.endCopy();
		}
		finally {
			if (streaming.isActive()) {
				streaming.cancelCopy();
			}
		}
	}

	private interface Generator {

		void run(CopyIn streaming) throws SQLException;

	}

}
