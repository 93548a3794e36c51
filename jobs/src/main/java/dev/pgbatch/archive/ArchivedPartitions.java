package dev.pgbatch.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.pgbatch.core.RefusedException;
import dev.pgbatch.core.SqlNames;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.crypto.AuthenticationFailedException;
import dev.pgbatch.crypto.KeysetProperties;
import dev.pgbatch.partition.PartitionProperties;
import dev.pgbatch.store.ObjectStore;
import dev.pgbatch.store.SealedObjects;
import dev.pgbatch.store.TeeInputStream;
import org.postgresql.PGConnection;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/** What archive put in the object store, and bringing a partition back from it. */
@Component
public class ArchivedPartitions {

	static final String NOT_ARCHIVED = "%s %s has no completed cold archive (see: etl archive list)";

	static final String PRESENT = "%s.%s exists already: nothing to restore";

	static final String RESTORE_MISMATCH = "%s: the object's rows do not match its manifest (%d rows, sha256 %s; manifest: %d rows, sha256 %s); nothing restored";

	private static final JsonMapper JSON = JsonMapper.builder().build();

	/** One archived step of one partition, as `archive list` prints it. */
	public record Entry(String table, String partition, OffsetDateTime rangeStart, OffsetDateTime rangeEnd, String tier,
			String status, Long rows, Long bytes, String objectKey, OffsetDateTime finishedAt) {
	}

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final TransactionTemplate transactions;

	private final ObjectStore store;

	private final KeysetProperties keyset;

	private final PartitionProperties partitions;

	ArchivedPartitions(DataSource dataSource, JdbcTemplate jdbc, TransactionTemplate transactions, ObjectStore store,
			KeysetProperties keyset, PartitionProperties partitions) {
		this.dataSource = dataSource;
		this.jdbc = jdbc;
		this.transactions = transactions;
		this.store = store;
		this.keyset = keyset;
		this.partitions = partitions;
	}

	/** The newest step of every partition archive moved, newest first. */
	public List<Entry> list() {
		return this.jdbc.query("""
				SELECT DISTINCT ON (table_name, partition_name) table_name, partition_name, range_start, range_end, tier,
				       status, row_count, bytes, object_key, finished_at
				FROM ops.archive_log ORDER BY table_name, partition_name, started_at DESC
				""", (rs, i) -> new Entry(rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class),
				rs.getObject(4, OffsetDateTime.class), rs.getString(5), rs.getString(6), (Long) rs.getObject(7),
				(Long) rs.getObject(8), rs.getString(9), rs.getObject(10, OffsetDateTime.class)))
			.stream()
			.sorted((a, b) -> b.partition().compareTo(a.partition()))
			.toList();
	}

	/**
	 * Downloads a cold export, authenticates and checks it against its manifest while loading it into a new
	 * table, and attaches that table as the partition again, in one transaction: an object that fails any
	 * check restores nothing. Returns the rows restored.
	 */
	public long restore(String table, String partition) {
		String checkedTable = SqlNames.checkedTable(table);
		SqlNames.quote(partition);
		this.partitions.policies().select(checkedTable);
		List<Map<String, Object>> archived = this.jdbc.queryForList("""
				SELECT archive_id, object_key FROM ops.archive_log
				WHERE table_name = ? AND partition_name = ? AND tier = 'cold' AND status IN ('completed', 'restored')
				ORDER BY started_at DESC LIMIT 1
				""", checkedTable, partition);
		if (archived.isEmpty()) {
			throw new UsageException(String.format(NOT_ARCHIVED, checkedTable, partition));
		}
		String schema = checkedTable.substring(0, checkedTable.indexOf('.'));
		if (this.jdbc.queryForObject("SELECT to_regclass(?)", String.class, schema + "." + partition) != null) {
			throw new RefusedException(String.format(PRESENT, schema, partition));
		}
		String objectKey = (String) archived.get(0).get("object_key");
		Manifest manifest;
		try (InputStream in = this.store.get(Archiving.manifestKey(objectKey))) {
			manifest = JSON.readValue(in, Manifest.class);
		}
		catch (IOException ex) {
			throw new RefusedException(objectKey + ": the manifest cannot be read: " + ex.getMessage());
		}
		Long rows = this.transactions.execute(status -> {
			try {
				return load(schema, checkedTable, partition, objectKey, manifest);
			}
			catch (IOException | SQLException ex) {
				throw new RefusedException(objectKey + ": " + ex.getMessage());
			}
		});
		this.jdbc.update("UPDATE ops.archive_log SET status = 'restored', restored_at = clock_timestamp() WHERE archive_id = ?",
				archived.get(0).get("archive_id"));
		return rows;
	}

	private long load(String schema, String table, String partition, String objectKey, Manifest manifest)
			throws IOException, SQLException {
		String qualified = SqlNames.quote(schema) + "." + SqlNames.quote(partition);
		String parent = SqlNames.quoteTable(table);
		this.jdbc.execute("CREATE TABLE " + qualified + " (LIKE " + parent
				+ " INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)");
		RowDigest read = new RowDigest(OutputStream.nullOutputStream());
		Connection connection = DataSourceUtils.getConnection(this.dataSource);
		try (InputStream in = new SealedObjects(this.store, this.keyset.load()).open(objectKey);
				InputStream tee = new TeeInputStream(in, read)) {
			connection.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + qualified + " FROM STDIN", tee);
		}
		catch (SQLException ex) {
			// the COPY reports the stream's failure as its own: say what it was
			if (ex.getCause() instanceof AuthenticationFailedException authentication) {
				throw authentication;
			}
			throw ex;
		}
		if (read.rows() != manifest.rows() || !read.sha256().equals(manifest.rowsSha256())) {
			throw new IOException(String.format(RESTORE_MISMATCH, objectKey, read.rows(), read.sha256(), manifest.rows(),
					manifest.rowsSha256()));
		}
		this.jdbc.execute("ALTER TABLE " + parent + " ATTACH PARTITION " + qualified + " " + manifest.partitionBound());
		return read.rows();
	}

}
