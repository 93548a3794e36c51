package dev.pgbatch.seed;

import java.io.ByteArrayInputStream;
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
 * streamed while they are made, so PostgreSQL parses one part while the next is generated; rows of
 * further tables (transaction items) follow in a second COPY of the same transaction.
 */
final class CopyWriter implements ItemWriter<Long>, StepExecutionListener {

	private static final int FLUSH_CHARS = 1 << 16;

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
		if (!this.audit) {
			try (Statement statement = connection.createStatement()) {
				statement.execute("SET LOCAL pgbatch.skip_audit = 'on'");
			}
		}
		CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
		List<String> statements = this.table.copyStatements();
		List<CopyText> out = new ArrayList<>(statements.size());
		for (int i = 0; i < statements.size(); i++) {
			out.add(new CopyText());
		}
		CopyIn streaming = copy.copyIn(statements.get(0));
		try {
			CopyText first = out.get(0);
			for (Long row : rows) {
				this.table.write(this.model, row, out);
				if (first.length() >= FLUSH_CHARS) {
					byte[] bytes = first.drain();
					streaming.writeToCopy(bytes, 0, bytes.length);
				}
			}
			byte[] rest = first.drain();
			streaming.writeToCopy(rest, 0, rest.length);
			streaming.endCopy();
		}
		finally {
			if (streaming.isActive()) {
				streaming.cancelCopy();
			}
		}
		for (int i = 1; i < statements.size(); i++) {
			try {
				copy.copyIn(statements.get(i), new ByteArrayInputStream(out.get(i).drain()));
			}
			catch (java.io.IOException ex) {
				throw new SQLException("COPY of " + this.table.name() + " failed: " + ex.getMessage(), ex);
			}
		}
	}

}
