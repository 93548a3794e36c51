package dev.pgbatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.core.UsageException;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsTests {

	private static final String WRITE = "pgbatch.settings.write";

	private static final UnaryOperator<String> NO_VARIABLES = name -> null;

	private static final String GENERATED_BEGIN = "<!-- generated from jobs/src/main/resources/application.properties by SettingsTests -->";

	private static final String GENERATED_END = "<!-- end of the generated table -->";

	@Test
	void everySettingOfApplicationPropertiesIsCheckedAndHasABadValueRow() throws IOException {
		assertThat(Settings.CHECKS.keySet()).containsAll(declared().keySet());
		assertThat(SettingsTestRows.BAD_VALUES.keySet()).containsExactlyInAnyOrderElementsOf(Settings.CHECKS.keySet());
	}

	/** A removed setting still set is said (a WARN at start), not refused and not ignored in silence. */
	@Test
	void aRemovedSettingThatIsSetIsSaidOnce() {
		assertThat(Settings.removed(Map.of("ETL_SCHEDULER_BACKUP_HOLD", "6h")::get)).containsExactly(
				"ETL_SCHEDULER_BACKUP_HOLD was removed: physical backups no longer wait for the nightly");
		assertThat(Settings.removed(NO_VARIABLES)).isEmpty();
		Settings.check(Map.of("ETL_SCHEDULER_BACKUP_HOLD", "6h")::get);
	}

	@Test
	void everyDefaultOfApplicationPropertiesPasses() throws IOException {
		declared().forEach((name, value) -> assertThat(Settings.problem(name, value)).as(name + "=" + value).isNull());
	}

	@Test
	void everyBadValueIsRefusedOnOneLineNamingTheSettingAndNeverShowingASecret() {
		SettingsTestRows.BAD_VALUES.forEach((name, values) -> {
			for (String value : values) {
				Map<String, String> environment = Map.of(name, value);
				assertThatThrownBy(() -> Settings.check(environment::get)).as(name + "=" + value)
					.isInstanceOf(UsageException.class)
					.hasMessageStartingWith(name + ": ");
				if (!name.endsWith("_FILE") && (name.contains("PASSWORD") || name.contains("SECRET") || name.contains("API_KEY"))) {
					assertThatThrownBy(() -> Settings.check(environment::get)).message().doesNotContain(value);
				}
			}
		});
	}

	/**
	 * A secret given as a java option (ETL_JAVA_OPTS='-DETL_DB_PASSWORD=...') is on the command line, which every
	 * local user reads in ps: refused by either of its names, in any relaxed spelling, naming the option and the
	 * way to give it instead, never the value. The files' settings and other options pass.
	 */
	@Test
	void aSecretGivenAsAJavaOptionIsRefusedNamingItsFileAndNeverShowingIt() {
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of("-Xmx1g", "-DETL_DB_PASSWORD=hunter2"), NO_VARIABLES))
			.isInstanceOf(UsageException.class)
			.hasMessage("ETL_DB_PASSWORD: given as -DETL_DB_PASSWORD, a java option every local user can read (ps, /proc);"
					+ " give it as ETL_DB_PASSWORD_FILE (a file holding it) or in the environment");
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of("-DOPENAI_API_KEY=hunter2"), NO_VARIABLES))
			.hasMessage("OPENAI_API_KEY: given as -DOPENAI_API_KEY, a java option every local user can read (ps, /proc);"
					+ " give it in the environment");
		Map.of("-Dspring.datasource.password=hunter2", "ETL_DB_PASSWORD: ", "-Dspring.datasource[password]=hunter2",
				"ETL_DB_PASSWORD: ", "-Dspring.datasource.hikari.password=hunter2", "spring.datasource.hikari.password: ",
				"-Dspring.flyway.password=hunter2", "spring.flyway.password: ",
				"-Daws.secretAccessKey=hunter2", "aws.secretAccessKey: ", "-Detl.s3.secretKey=hunter2",
				"ETL_S3_SECRET_KEY: ", "-DETL_SEARCH_PASSWORD=hunter2", "ETL_SEARCH_PASSWORD: ",
				"-Detl.search.password=hunter2", "ETL_SEARCH_PASSWORD: ", "-Detl.embed.openai-api-key=hunter2",
				"OPENAI_API_KEY: ")
			.forEach((option, named) -> assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of(option), NO_VARIABLES)).as(option)
				.isInstanceOf(UsageException.class)
				.hasMessageStartingWith(named)
				.message()
				.doesNotContain("hunter2"));

		Settings.refuseSecretsAmong(List.of("-DETL_DB_PASSWORD_FILE=/run/secrets/db", "-Detl.secret-file.s3-secret-key=/s3",
				"-DETL_S3_ACCESS_KEY=pgbatch", "-DETL_S3_BUCKET=b", "-Dfile.encoding=UTF-8", "-Dquiet",
				"-DETL_DB_URL=jdbc:postgresql://h/db?sslmode=verify-full&user=etl",
				"-Dspring.application.json={\"etl\":{\"s3\":{\"bucket\":\"b\"}},\"ETL_DB_PASSWORD_FILE\":\"/f\"}"), NO_VARIABLES);
	}

	/**
	 * The other ways a java option carries a secret: a database URL with password= (PgJDBC takes it from there), and
	 * spring.application.json holding a secret property or such a URL, in any spelling; each refused on one line
	 * naming the file setting, never the value. An option of JAVA_TOOL_OPTIONS or JDK_JAVA_OPTIONS is not on the
	 * command line that ps shows, but java prints it as it starts: refused, saying so.
	 */
	@Test
	void aPasswordInAUrlOrInApplicationJsonOrFromJavasVariablesIsRefusedSayingWhere() {
		String url = "jdbc:postgresql://h/db?sslmode=require&password=hunter2";
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of("-Dspring.datasource.hikari.jdbc-url=" + url),
				NO_VARIABLES)).isInstanceOf(UsageException.class).message().doesNotContain("hunter2").contains("password=");
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(
				List.of("-Dspring.datasource.hikari.data-source-properties.sslpassword=hunter2"), NO_VARIABLES))
			.hasMessageStartingWith("spring.datasource.hikari.data-source-properties.sslpassword: ");
		Map.of("-DETL_DB_URL=" + url, "ETL_DB_URL: given as -DETL_DB_URL with password=, " + Settings.READ_BY_EVERY_USER
				+ "; give " + Settings.URL_PASSWORD, "-Dspring.datasource.url=jdbc:postgresql://h/db?PassWord=hunter2",
				"ETL_DB_URL: given as -Dspring.datasource.url with PassWord=, " + Settings.READ_BY_EVERY_USER + "; give "
						+ Settings.URL_PASSWORD,
				"-Dspring.application.json={\"spring\":{\"datasource\":{\"password\":\"hunter2\"}}}",
				"ETL_DB_PASSWORD: given as spring.datasource.password in -Dspring.application.json, "
						+ Settings.READ_BY_EVERY_USER + "; give it as ETL_DB_PASSWORD_FILE (a file holding it) or in the environment",
				"-DSPRING_APPLICATION_JSON={\"etl.s3.secret-key\":\"hunter2\"}", "ETL_S3_SECRET_KEY: given as etl.s3.secret-key in"
						+ " -DSPRING_APPLICATION_JSON, " + Settings.READ_BY_EVERY_USER + "; give it as ETL_S3_SECRET_KEY_FILE (a file"
						+ " holding it) or in the environment",
				"-Dspring.application.json={\"ETL_DB_URL\":\"" + url + "\"}", "ETL_DB_URL: given as ETL_DB_URL in"
						+ " -Dspring.application.json with password=, " + Settings.READ_BY_EVERY_USER + "; give " + Settings.URL_PASSWORD)
			.forEach((option, message) -> assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of(option), NO_VARIABLES))
				.as(option)
				.isInstanceOf(UsageException.class)
				.hasMessage(message));

		Map<String, String> variables = Map.of("JAVA_TOOL_OPTIONS", "-Xmx1g -DETL_DB_PASSWORD=hunter2", "JDK_JAVA_OPTIONS",
				"\"-DETL_DB_URL=" + url + "\"");
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of("-Xmx1g", "-DETL_DB_PASSWORD=hunter2"), variables::get))
			.hasMessage("ETL_DB_PASSWORD: given as -DETL_DB_PASSWORD, a java option from JAVA_TOOL_OPTIONS, which java prints"
					+ " as it starts; give it as ETL_DB_PASSWORD_FILE (a file holding it) or in the environment");
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of("-DETL_DB_URL=" + url), variables::get))
			.hasMessage("ETL_DB_URL: given as -DETL_DB_URL with password=, a java option from JDK_JAVA_OPTIONS, which java"
					+ " prints as it starts; give " + Settings.URL_PASSWORD);
		// the same name, but on the command line: a variable's other option does not count
		assertThatThrownBy(() -> Settings.refuseSecretsAmong(List.of("-DETL_DB_PASSWORD=hunter2"),
				Map.of("JAVA_TOOL_OPTIONS", "-DETL_DB_PASSWORD_FILE=/f")::get))
			.hasMessageContaining(Settings.READ_BY_EVERY_USER);
	}

	@Test
	void goodValuesPass() {
		Map<String, String> environment = Map.of("ETL_ROLLOVER_BATCH_ROWS", "1", "ETL_REFRESH_LOCK_TIMEOUT", "1500ms",
				"ETL_S3_ENDPOINT", "https://minio.example.com:9000/", "ETL_REFRESH_SCHEMAS", "ops, retail",
				"ETL_DB_URL", "jdbc:postgresql://db.example.com:5432/pgbatch?sslmode=verify-full", "ETL_LOG_LEVEL", "debug",
				"ETL_ARCHIVE_PREFIX", "cold/archive-1", "ETL_PG_BIN", "/usr/bin", "ETL_EMBED_INDEX_MEMORY_MAX", "512MB");
		Settings.check(environment::get);
	}

	/**
	 * docs/settings.md's table is generated from application.properties: a setting without a meaning there, or a
	 * documented one that is gone, fails here. The settings declared elsewhere are in the hand-written table below it,
	 * which must cover every other setting Settings checks, and none twice.
	 */
	@Test
	void docsSettingsMdIsGeneratedFromApplicationProperties() throws IOException {
		Path file = settingsDoc();
		String doc = Files.readString(file);
		int begin = doc.indexOf(GENERATED_BEGIN);
		int end = doc.indexOf(GENERATED_END);
		assertThat(begin).as(file + " has the markers of its generated table").isNotNegative().isLessThan(end);
		String generated = doc.substring(0, begin) + GENERATED_BEGIN + "\n" + table(DeclaredSettings.read())
				+ doc.substring(end);
		if (Boolean.getBoolean(WRITE)) {
			Files.writeString(file, generated);
		}
		else {
			assertThat(doc).as(file + " is out of date: regenerate it with ./mvnw -B -q -o test -Dtest=SettingsTests -D"
					+ WRITE + "=true").isEqualTo(generated);
		}

		Set<String> declared = declared().keySet();
		Set<String> elsewhere = new TreeSet<>();
		Matcher row = Pattern.compile("(?m)^\\| `([A-Z0-9_]+)` \\|").matcher(doc.substring(end));
		while (row.find()) {
			elsewhere.add(row.group(1));
		}
		assertThat(elsewhere).as("settings of the hand-written table that application.properties declares")
			.doesNotContainAnyElementsOf(declared);
		Set<String> checked = new TreeSet<>(Settings.CHECKS.keySet());
		checked.removeAll(declared);
		assertThat(elsewhere).as("the hand-written table covers the checked settings not declared").containsAll(checked);
	}

	/** The settings table, one row per setting in the order declared. */
	private static String table(List<DeclaredSettings.Setting> settings) {
		StringBuilder table = new StringBuilder("| variable | default | meaning |\n| --- | --- | --- |\n");
		for (DeclaredSettings.Setting setting : settings) {
			String shown = setting.shownDefault();
			table.append("| `").append(setting.name()).append("` | ").append(shown.isEmpty() ? "empty" : "`" + shown + "`")
				.append(" | ").append(setting.meaning()).append(" |\n");
		}
		return table.toString();
	}

	/** docs/settings.md of the checkout, found from the working directory (the module's, or the checkout's). */
	private static Path settingsDoc() {
		for (Path directory = Path.of("").toAbsolutePath(); directory != null; directory = directory.getParent()) {
			if (Files.isRegularFile(directory.resolve("jobs/pom.xml"))) {
				return directory.resolve("docs/settings.md");
			}
		}
		throw new IllegalStateException("no checkout above " + Path.of("").toAbsolutePath());
	}

	/** The settings application.properties declares, with their defaults as Spring resolves them. */
	private static Map<String, String> declared() throws IOException {
		Map<String, String> declared = new TreeMap<>();
		for (DeclaredSettings.Setting setting : DeclaredSettings.read()) {
			declared.put(setting.name(), setting.resolvedDefault());
		}
		return declared;
	}

}
