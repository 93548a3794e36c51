package dev.pgbatch.seed;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.LongStream;

import dev.pgbatch.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Values written by {@link BinaryCopy}, loaded with binary COPY into columns of their types and read back
 * as text: PostgreSQL checks the encoding (binary input refuses what it cannot read), and the text must be
 * exactly what the same value given as text would show. Numerics go into unconstrained numeric columns, so
 * the number of decimal places shown is the one BinaryCopy sent.
 */
class BinaryCopyIntegrationTests {

	private static final List<String> COLUMNS = List.of("n", "i", "cents", "thousandths", "t", "v", "u", "ts", "d", "b",
			"j", "a");

	private Connection connection;

	@BeforeEach
	void table() throws SQLException {
		this.connection = TestDatabase.connect();
		try (Statement statement = this.connection.createStatement()) {
			statement.execute("SET TimeZone = 'UTC'");
			statement.execute("""
					CREATE TEMP TABLE edge (n int4, i int4, cents numeric, thousandths numeric, t text, v varchar(20),
					                        u uuid, ts timestamptz, d date, b bool, j jsonb, a text[])
					""");
		}
	}

	@AfterEach
	void close() throws SQLException {
		this.connection.close();
	}

	@Test
	void numericsKeepTheirSignDigitsAndDecimalPlaces() throws SQLException {
		long[] cents = { 0, 5, -5, 7, 99, 100, -250, 10_000, 1_000_000, 100_000_000, 1_234_567_890, 999_999_999_999L,
				-1_234_567_890 };
		String[] centsText = { "0.00", "0.05", "-0.05", "0.07", "0.99", "1.00", "-2.50", "100.00", "10000.00",
				"1000000.00", "12345678.90", "9999999999.99", "-12345678.90" };
		long[] thousandths = { 0, 7, -7, 10, 1_005, 10_000, 123_456_789, 900_200_000, -1, 50 };
		String[] thousandthsText = { "0.000", "0.007", "-0.007", "0.010", "1.005", "10.000", "123456.789", "900200.000",
				"-0.001", "0.050" };
		copy((rows, copy) -> {
			for (int n = 0; n < Math.max(cents.length, thousandths.length); n++) {
				rows.int4(n).nul();
				if (n < cents.length) {
					rows.cents(cents[n]);
				}
				else {
					rows.nul();
				}
				if (n < thousandths.length) {
					rows.thousandths(thousandths[n]);
				}
				else {
					rows.nul();
				}
				rows.nul().nul().nul().nul().nul().nul().nul().nul().endRow();
			}
		});
		for (int n = 0; n < cents.length; n++) {
			assertThat(value("cents", n)).as("%d cents", cents[n]).isEqualTo(centsText[n]);
		}
		for (int n = 0; n < thousandths.length; n++) {
			assertThat(value("thousandths", n)).as("%d thousandths", thousandths[n]).isEqualTo(thousandthsText[n]);
		}
		// values to compute with, not only to show
		assertThat(value("sum(cents)", "true")).isEqualTo(BigDecimal.valueOf(LongStream.of(cents).sum(), 2).toPlainString());
		assertThat(value("sum(thousandths)", "true"))
			.isEqualTo(BigDecimal.valueOf(LongStream.of(thousandths).sum(), 3).toPlainString());
	}

	@Test
	void textUuidTimesDatesBooleansJsonAndArrays() throws SQLException {
		UUID seeded = RowRandomness.uuid(42, SeedModel.ITEM, 7, 1_700_000_000_000L);
		copy((rows, copy) -> {
			rows.int4(0).int4(Integer.MIN_VALUE).nul().nul().text("Zoë Ångström, 東京 🙂").text("").uuid(seeded)
				.timestamp(0).date(LocalDate.of(1999, 12, 31)).bool(true).jsonb("{\"a\": [1, \"ü\"], \"b\": null}")
				.textArray(List.of()).endRow();
			rows.int4(1).int4(Integer.MAX_VALUE).nul().nul().text("tab\tline\nback\\slash").text(null)
				.uuid(UUID.fromString("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"))
				.timestamp(946_684_799).date(LocalDate.of(2000, 1, 1)).bool(false).jsonb("[]")
				.textArray(List.of("eco-friendly", "two words", "ü")).endRow();
			rows.int4(2).int4(-1).nul().nul().nul().nul().nul()
				.timestamp(LocalDateTime.of(2026, 1, 2, 3, 4, 5).toEpochSecond(ZoneOffset.UTC))
				.date(LocalDate.of(2024, 2, 29)).nul().nul().nul().endRow();
			rows.int4(3).int4(0).nul().nul().nul().nul().nul()
				.timestamp(LocalDateTime.of(1950, 6, 15, 23, 59, 59).toEpochSecond(ZoneOffset.UTC))
				.date(LocalDate.of(1950, 6, 15)).nul().nul().nul().endRow();
		});
		assertThat(row(0)).containsExactly("0", "-2147483648", null, null, "Zoë Ångström, 東京 🙂", "", seeded.toString(),
				"1970-01-01 00:00:00+00", "1999-12-31", "true", "{\"a\": [1, \"ü\"], \"b\": null}", "{}");
		assertThat(row(1)).containsExactly("1", "2147483647", null, null, "tab\tline\nback\\slash", null,
				"f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "1999-12-31 23:59:59+00", "2000-01-01", "false", "[]",
				"{eco-friendly,\"two words\",ü}");
		assertThat(row(2)).containsExactly("2", "-1", null, null, null, null, null, "2026-01-02 03:04:05+00",
				"2024-02-29", null, null, null);
		assertThat(row(3)).containsExactly("3", "0", null, null, null, null, null, "1950-06-15 23:59:59+00",
				"1950-06-15", null, null, null);
		assertThat(value("cardinality(a)", "n = 0")).isEqualTo("0");
	}

	@Test
	void rowsSentInPartsAndValuesLargerThanTheBufferArriveWhole() throws SQLException {
		String large = "x".repeat(300_000) + "é";
		copy((rows, copy) -> {
			for (int n = 0; n < 50_000; n++) {
				rows.int4(n).int4(n).cents(n).thousandths(n).text(n == 777 ? large : "row " + n).nul().nul().nul().nul()
					.bool(n % 2 == 0).nul().nul().endRow();
				if (rows.length() >= 1 << 16) {
					rows.sendTo(copy);
				}
			}
		});
		assertThat(value("count(*)", "t = 'row ' || n AND i = n AND cents * 100 = n AND thousandths * 1000 = n"))
			.isEqualTo("49999");
		assertThat(value("(t = '" + large + "')::text", "n = 777")).isEqualTo("true");
	}

	/** One binary COPY into the table: {@code fill} writes rows and may send them on; then the rest follows. */
	private void copy(Fill fill) throws SQLException {
		BinaryCopy rows = new BinaryCopy();
		CopyIn copy = this.connection.unwrap(PGConnection.class)
			.getCopyAPI()
			.copyIn(BinaryCopy.statement("edge (" + String.join(", ", COLUMNS) + ")"));
		fill.rows(rows, copy);
		rows.end();
		rows.sendTo(copy);
		copy.endCopy();
	}

	private String value(String expression, String where) throws SQLException {
		try (Statement statement = this.connection.createStatement();
				ResultSet result = statement.executeQuery("SELECT " + expression + " FROM edge WHERE " + where)) {
			assertThat(result.next()).isTrue();
			return result.getString(1);
		}
	}

	private String value(String column, int n) throws SQLException {
		return value(column + "::text", "n = " + n);
	}

	private List<String> row(int n) throws SQLException {
		try (Statement statement = this.connection.createStatement();
				ResultSet result = statement.executeQuery(
						"SELECT " + String.join("::text, ", COLUMNS) + "::text FROM edge WHERE n = " + n)) {
			assertThat(result.next()).isTrue();
			List<String> values = new ArrayList<>();
			for (int i = 1; i <= result.getMetaData().getColumnCount(); i++) {
				values.add(result.getString(i));
			}
			return values;
		}
	}

	private interface Fill {

		void rows(BinaryCopy rows, CopyIn copy) throws SQLException;

	}

}
