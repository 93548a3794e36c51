package dev.pgbatch.backup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import dev.pgbatch.core.SqlNames;

/** What a restored database takes over from the database it replaces. */
final class DatabaseHandover {

	private static final Set<String> DATABASE_PRIVILEGES = Set.of("CREATE", "CONNECT", "TEMPORARY");

	/** Settings whose stored value is a list of identifiers (GUC_LIST_QUOTE in PostgreSQL). */
	private static final Set<String> LIST_SETTINGS = Set.of("search_path", "temp_tablespaces", "local_preload_libraries",
			"session_preload_libraries", "shared_preload_libraries");

	private DatabaseHandover() {
	}

	/**
	 * Gives {@code staging} what belongs to the database it replaces rather than to its contents: owner,
	 * privileges (datacl), connection limit, and its settings (ALTER DATABASE SET, ALTER ROLE IN DATABASE
	 * SET). pg_restore --no-owner carries none of them, and the applications connecting to the database
	 * depend on them. Names and values from the catalogue go in quoted (role names by quote_ident: any name a
	 * role may have), never as SQL text.
	 */
	static void carryOver(Connection admin, String target, String staging) throws SQLException {
		String into = SqlNames.quote(staging);
		carrySettings(admin, target, into);
		try (Statement statement = admin.createStatement();
				PreparedStatement database = admin.prepareStatement(
						"SELECT quote_ident(pg_get_userbyid(datdba)), datconnlimit, datacl IS NULL FROM pg_database WHERE datname = ?")) {
			database.setString(1, target);
			try (ResultSet rs = database.executeQuery()) {
				rs.next();
				statement.execute("ALTER DATABASE " + into + " OWNER TO " + rs.getString(1));
				statement.execute("ALTER DATABASE " + into + " CONNECTION LIMIT " + rs.getInt(2));
				if (rs.getBoolean(3)) {
					// the defaults, as the new database has them
					return;
				}
			}
			statement.execute("REVOKE ALL ON DATABASE " + into + " FROM PUBLIC");
			try (PreparedStatement acl = admin.prepareStatement("""
					SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE quote_ident(pg_get_userbyid(a.grantee)) END, a.privilege_type, a.is_grantable
					FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = ?""")) {
				acl.setString(1, target);
				try (ResultSet rs = acl.executeQuery()) {
					while (rs.next()) {
						if (!DATABASE_PRIVILEGES.contains(rs.getString(2))) {
							throw new IllegalStateException("unexpected database privilege " + rs.getString(2));
						}
						statement.execute("GRANT " + rs.getString(2) + " ON DATABASE " + into + " TO "
								+ (rs.getString(1) == null ? "PUBLIC" : rs.getString(1))
								+ (rs.getBoolean(3) ? " WITH GRANT OPTION" : ""));
					}
				}
			}
			RestoreChecks.requireDone(statement);
		}
	}

	private static void carrySettings(Connection admin, String target, String into) throws SQLException {
		try (Statement statement = admin.createStatement();
				PreparedStatement settings = admin.prepareStatement("""
						SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE quote_ident(pg_get_userbyid(s.setrole)) END, c.setting
						FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c(setting)
						WHERE d.datname = ?""")) {
			settings.setString(1, target);
			try (ResultSet rs = settings.executeQuery()) {
				while (rs.next()) {
					String[] setting = rs.getString(2).split("=", 2);
					String role = rs.getString(1);
					statement.execute((role == null ? "ALTER DATABASE " + into : "ALTER ROLE " + role
							+ " IN DATABASE " + into) + " SET " + settingName(setting[0]) + " = " + settingValue(setting[0], setting[1]));
				}
			}
		}
	}

	/** A setting's name as the catalogue stores it (work_mem, or a prefixed one like pg_trgm.similarity_threshold). */
	private static String settingName(String name) {
		if (!name.matches("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?")) {
			throw new IllegalStateException("unexpected setting name in pg_db_role_setting: " + name);
		}
		return name;
	}

	/**
	 * A stored setting as SQL literals: the list settings whose elements PostgreSQL quotes as identifiers
	 * (search_path: "a, b" stored as {@code a, "B c"}) as one literal per element, any other as one literal.
	 */
	private static String settingValue(String name, String value) {
		if (!LIST_SETTINGS.contains(name.toLowerCase(Locale.ROOT))) {
			return literal(value);
		}
		List<String> elements = new ArrayList<>();
		StringBuilder element = new StringBuilder();
		boolean quoted = false;
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if (c == '"' && quoted && i + 1 < value.length() && value.charAt(i + 1) == '"') {
				element.append('"');
				i++;
			}
			else if (c == '"') {
				quoted = !quoted;
			}
			else if (c == ',' && !quoted) {
				elements.add(element.toString().strip());
				element.setLength(0);
			}
			else {
				element.append(c);
			}
		}
		elements.add(element.toString().strip());
		return String.join(", ", elements.stream().map(DatabaseHandover::literal).toList());
	}

	static String literal(String value) {
		return "'" + value.replace("'", "''") + "'";
	}

}
