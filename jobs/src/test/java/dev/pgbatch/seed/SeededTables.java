package dev.pgbatch.seed;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.pgbatch.TestDatabase;

/** Fingerprints of the seeded tables: row count and an md5 of all rows in order, timestamps included. */
public final class SeededTables {

	private SeededTables() {
	}

	public static Map<String, String> fingerprints() throws SQLException {
		Map<String, String> fingerprints = new LinkedHashMap<>();
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement()) {
			for (String table : SeedTablesTasklets.SEEDED_TABLES) {
				try (ResultSet result = statement.executeQuery("SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, "
						+ "E'\\n' ORDER BY t::text)), '-') FROM " + table + " t")) {
					result.next();
					fingerprints.put(table, result.getString(1));
				}
			}
		}
		return fingerprints;
	}

	public static long count(String table) throws SQLException {
		try (Connection connection = TestDatabase.connect(); Statement statement = connection.createStatement();
				ResultSet result = statement.executeQuery("SELECT count(*) FROM " + table)) {
			result.next();
			return result.getLong(1);
		}
	}

}
