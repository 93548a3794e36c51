package dev.pgbatch;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.core.SecretFiles;
import dev.pgbatch.core.UsageException;
import dev.pgbatch.embed.EmbedProductsJob;
import dev.pgbatch.partition.PartitionProperties;

import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.json.JsonParserFactory;
import org.springframework.util.unit.DataSize;

/**
 * Checks every setting (the ETL_* environment variables application.properties reads, and the few read
 * elsewhere) before any command starts Spring, so that a bad value stops it with one line naming the variable,
 * exit 2, before a migration or anything else is written. A value is looked up as Spring resolves the
 * placeholders: a system property of that name first, then the environment. An unset variable takes its
 * default, which is valid. Each setting's bounds are here, next to one another.
 */
public final class Settings {

	/** Settings whose value is never shown in a message. */
	private static final Set<String> SECRETS = Set.of("ETL_DB_PASSWORD", "ETL_S3_SECRET_KEY", "ETL_SEARCH_PASSWORD",
			"OPENAI_API_KEY");

	private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

	private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

	private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

	private static final Pattern JDBC_URL = Pattern.compile("jdbc:postgresql://([^/?#\\s]+)/[^/?#\\s]+(\\?\\S*)?");

	private static final Pattern HOST_PORT = Pattern.compile("(?:\\[[0-9a-fA-F:.]+]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?");

	private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

	/** Each setting and what is wrong with a value of it, or null when it is fine. */
	static final Map<String, Function<String, String>> CHECKS = checks();

	private Settings() {
	}

	private static Map<String, Function<String, String>> checks() {
		Map<String, Function<String, String>> checks = new LinkedHashMap<>();
		checks.put("ETL_DB_URL", Settings::jdbcUrl);
		checks.put("ETL_DB_USER", value -> text(value, 1, 63));
		checks.put("ETL_DB_PASSWORD", value -> text(value, 0, 1000));
		// archive and refresh-views hold two connections at once
		checks.put("ETL_DB_PASSWORD_FILE", value -> value.isEmpty() ? null : readableFile(value));
		checks.put("ETL_SEARCH_USER", value -> text(value, 1, 63));
		checks.put("ETL_SEARCH_PASSWORD", value -> text(value, 0, 1000));
		checks.put("ETL_SEARCH_PASSWORD_FILE", value -> value.isEmpty() ? null : readableFile(value));
		checks.put("ETL_DB_POOL_SIZE", value -> whole(value, 2, 1000));
		checks.put("ETL_DB_MIGRATE", Settings::bool);
		checks.put("ETL_LOG_LEVEL", value -> oneOf(value.toUpperCase(Locale.ROOT), "TRACE", "DEBUG", "INFO", "WARN",
				"ERROR", "OFF"));
		checks.put("ETL_SEED_CHUNK_ROWS", value -> whole(value, 1, 1_000_000));
		checks.put("ETL_SEED_AUDIT", Settings::bool);
		checks.put("ETL_S3_ENDPOINT", value -> httpUrl(value, false));
		// S3 and MinIO take access keys of 3 to 128 characters
		checks.put("ETL_S3_ACCESS_KEY", value -> text(value, 3, 128));
		checks.put("ETL_S3_SECRET_KEY", value -> text(value, 0, 1000));
		checks.put("ETL_S3_SECRET_KEY_FILE", value -> value.isEmpty() ? null : readableFile(value));
		checks.put("ETL_S3_BUCKET", value -> matches(value, BUCKET,
				"an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'"));
		checks.put("ETL_S3_REGION", value -> matches(value, Pattern.compile("[a-z0-9-]{1,32}"),
				"a region name such as us-east-1"));
		// S3's limits of a multipart upload's part: 5 MiB to 5 GiB
		checks.put("ETL_S3_PART_SIZE", value -> whole(value, 5L << 20, 5L << 30));
		checks.put("ETL_EMBED_TEMPLATE", EmbedProductsJob::templateProblem);
		checks.put("ETL_EMBED_BULK_LOAD_ROWS", value -> whole(value, 1, 1_000_000_000));
		// PostgreSQL's maintenance_work_mem: 1 MB to 2147483647 kB
		checks.put("ETL_EMBED_INDEX_MEMORY_MAX", value -> dataSize(value, DataSize.ofMegabytes(1),
				DataSize.ofKilobytes(Integer.MAX_VALUE)));
		checks.put("OPENAI_API_KEY", value -> text(value, 0, 1000));
		checks.put("ETL_OPENAI_BASE_URL", value -> httpUrl(value, true));
		checks.put("ETL_OPENAI_REQUEST_TOKENS", value -> whole(value, 1, 10_000_000));
		checks.put("ETL_OPENAI_RETRIES", value -> whole(value, 0, 100));
		checks.put("ETL_OPENAI_TIMEOUT", value -> duration(value, Duration.ofMillis(1), Duration.ofHours(1)));
		checks.put("ETL_OPENAI_MAX_BACKOFF", value -> duration(value, Duration.ofMillis(1), Duration.ofHours(1)));
		checks.put("ETL_PARTITION_POLICY", Settings::policy);
		checks.put("ETL_ROLLOVER_BATCH_ROWS", value -> whole(value, 1, 10_000_000));
		// 0 would be PostgreSQL's "wait forever"
		checks.put("ETL_PARTITION_LOCK_TIMEOUT", value -> duration(value, Duration.ofMillis(1), Duration.ofHours(1)));
		checks.put("ETL_PARTITION_LOCK_TRIES", value -> whole(value, 1, 1000));
		// it becomes a lock_timeout, where 0 would mean "wait forever"
		checks.put("ETL_PARTITION_LOCK_WAIT", value -> duration(value, Duration.ofMillis(1), Duration.ofHours(24)));
		checks.put("ETL_LOCK_CHECK_INTERVAL", value -> duration(value, Duration.ofMillis(100), Duration.ofHours(1)));
		checks.put("ETL_NIGHTLY_WAIT_FOR_RUNNING", value -> duration(value, Duration.ZERO, Duration.ofHours(24)));
		checks.put("ETL_NIGHTLY_RESTORE_POINT", Settings::bool);
		// an upload younger than this may still be written by another runner: never less than ten minutes
		checks.put("ETL_BACKUP_ABANDONED_AFTER", value -> duration(value, Duration.ofMinutes(10), Duration.ofDays(365)));
		checks.put("ETL_STACK_DIR", Settings::path);
		checks.put("ETL_TABLESPACE_WARM", Settings::identifier);
		checks.put("ETL_TABLESPACE_COLD", Settings::identifier);
		checks.put("ETL_ARCHIVE_SALES_DAYS", value -> whole(value, 1, 36_500));
		checks.put("ETL_ARCHIVE_SALES_BATCH_ROWS", value -> whole(value, 1, 1_000_000));
		checks.put("ETL_BACKUP_KEYSET", Settings::path);
		checks.put("ETL_ARCHIVE_PREFIX", Settings::prefix);
		checks.put("ETL_REFRESH_SCHEMAS", Settings::identifiers);
		// 0 would be PostgreSQL's "wait forever"
		checks.put("ETL_REFRESH_LOCK_TIMEOUT", value -> duration(value, Duration.ofMillis(1), Duration.ofHours(24)));
		checks.put("ETL_BACKUP_PREFIX", Settings::prefix);
		// one folder name of the backups' keys: no '/', and never '.' or '..'
		checks.put("ETL_BACKUP_SERVER_NAME", value -> value.isEmpty() ? null
				: value.equals(".") || value.equals("..") ? "must not be '.' or '..'"
						: matches(value, Pattern.compile("[A-Za-z0-9_.-]{1,100}"), "letters, digits, '.', '-' and '_', at most 100"));
		checks.put("ETL_PG_BIN", value -> value.isEmpty() ? null : directory(value));
		// absolute: a relative name would be looked up on the PATH, where a directory another user may write can come first
		checks.put("ETL_PGBACKREST_BIN", value -> path(value) == null && Path.of(value).isAbsolute() ? null
				: "must be an absolute path");
		// a path only: whether this user may read it (pgBackRest's file is often its owner's only) backup check says
		checks.put("ETL_PGBACKREST_CONFIG", value -> value.isEmpty() ? null : path(value));
		// pgBackRest's own rule for a stanza's name; it goes on pgbackrest's command line as --stanza=NAME
		// pgBackRest's own bounds of repo1-retention-full; at least 1: the newest full backup is never expired
		checks.put("ETL_BACKUP_POINT_LOCK_TIMEOUT", value -> duration(value, Duration.ofMillis(1), Duration.ofHours(1)));
		// it goes into postgres's options (no space or quote) and holds a socket (whose path has at most 107 bytes)
		checks.put("ETL_PGBACKREST_DRILL_DIR", value -> matches(value, Pattern.compile("/[A-Za-z0-9/._-]{0,79}"),
				"an absolute path of at most 80 letters, digits, '/', '.', '-' and '_'"));
		checks.put("ETL_PGBACKREST_LOCK_WAIT", value -> duration(value, Duration.ZERO, Duration.ofHours(24)));
		checks.put("ETL_PGBACKREST_RETENTION_FULL", value -> whole(value, 1, 9_999_999));
		checks.put("ETL_PGBACKREST_STANZA", value -> matches(value, Pattern.compile("[A-Za-z0-9_.-]{1,64}"),
				"letters, digits, '.', '-' and '_', at most 64"));
		// Quartz's sched_name column holds 120 characters
		checks.put("ETL_SCHEDULER_NAME", value -> matches(value, Pattern.compile("[A-Za-z0-9_.-]{1,120}"),
				"letters, digits, '.', '-' and '_', at most 120"));
		checks.put("ETL_SCHEDULER_CHECKIN_MS", value -> whole(value, 100, 600_000));
		checks.put("ETL_SCHEDULER_MISFIRE_THRESHOLD_MS", value -> whole(value, 100, 86_400_000));
		checks.put("ETL_SCHEDULER_THREADS", value -> whole(value, 1, 100));
		checks.put("ETL_SCHEDULER_RETRY_MS", value -> whole(value, 100, 86_400_000));
		checks.put("ETL_SCHEDULER_OVERDUE_GRACE", value -> duration(value, Duration.ZERO, Duration.ofHours(24)));
		checks.put("ETL_SCHEDULER_PORT", value -> whole(value, 1, 65_535));
		checks.put("ETL_SCHEDULES_DIR", Settings::path);
		return Map.copyOf(checks);
	}

	/**
	 * The value of a setting as the runner takes it: a system property first, then the environment (Spring's order
	 * for ${NAME}, and for every property through {@link SystemPropertiesFirst}); null when unset.
	 */
	public static String value(String name) {
		String property = System.getProperty(name);
		return (property != null) ? property : System.getenv(name);
	}

	/**
	 * The runner's environment as the programs it starts inherit it (pgBackRest reads its own PGBACKREST_* variables
	 * there, never a system property): for code that must say what such a program reads.
	 */
	public static Map<String, String> inherited() {
		return System.getenv();
	}

	/**
	 * Settings a version removed, and what replaced them: one still set is said at start ({@link #removed}), neither
	 * ignored in silence nor refused (an environment file of the version before must not stop the runner).
	 */
	private static final Map<String, String> REMOVED = Map.of("ETL_SCHEDULER_BACKUP_HOLD",
			"physical backups no longer wait for the nightly");

	static final String REMOVED_SETTING = "%s was removed: %s";

	/** What to say of the removed settings that are set, one line each (a WARN at start). */
	static List<String> removed(UnaryOperator<String> lookup) {
		return REMOVED.entrySet()
			.stream()
			.filter(setting -> lookup.apply(setting.getKey()) != null)
			.sorted(Map.Entry.comparingByKey())
			.map(setting -> REMOVED_SETTING.formatted(setting.getKey(), setting.getValue()))
			.toList();
	}

	/** Refuses the first bad setting with a {@link UsageException} of one line naming it. */
	public static void check() {
		refuseSecretsAmong(ManagementFactory.getRuntimeMXBean().getInputArguments(), System::getenv);
		check(Settings::value);
	}

	/** A secret among the java options: the setting, how it was given, why that is refused, what to do instead. */
	static final String SECRET_OPTION = "%s: given as %s, %s; give %s";

	static final String READ_BY_EVERY_USER = "a java option every local user can read (ps, /proc)";

	/** The JVM takes these variables' options too, and prints them to stderr as it starts ("Picked up ..."). */
	static final String PRINTED_AT_START = "a java option from %s, which java prints as it starts";

	static final String URL_PASSWORD = "the password as ETL_DB_PASSWORD_FILE (a file holding it), or the URL in the environment";

	private static final List<String> OPTION_VARIABLES = List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS");

	/** The secret without a file form (SecretFiles has the others), and the property Spring binds it to. */
	private static final Map<String, String> SECRET_PROPERTIES = Map.of("OPENAI_API_KEY", "etl.embed.openai-api-key");

	/** The database URL's names: PgJDBC takes a password (and sslpassword, the key's) from its parameters. */
	private static final List<String> URL_NAMES = List.of("ETL_DB_URL", "spring.datasource.url",
			"spring.datasource.hikari.jdbc-url");

	private static final Pattern URL_PASSWORD_PARAMETER = Pattern.compile("[?&]([A-Za-z]*password)=",
			Pattern.CASE_INSENSITIVE);

	/** A property named as a secret is (relaxed): its value is one, whatever reads it. */
	private static final Pattern SECRET_NAME = Pattern
		.compile("(password|passphrase|secret|secretkey|secretaccesskey|apikey|token|credentials|privatekey)$");

	static final String OTHER_SECRET = "the runner's secrets as their _FILE settings (docs/settings.md), others in the"
			+ " environment";

	/** Spring reads properties from the JSON in this property (or in the variable SPRING_APPLICATION_JSON). */
	private static final String APPLICATION_JSON = "spring.application.json";

	/**
	 * Refuses a secret among the JVM's options (-DETL_DB_PASSWORD=..., as ETL_JAVA_OPTS can give it, or under
	 * the name of its property, in any of Spring's relaxed spellings; a database URL with a password; either in
	 * -Dspring.application.json), naming the option, never its value. Options of JAVA_TOOL_OPTIONS and
	 * JDK_JAVA_OPTIONS ({@code environment}'s) are among them too: not in ps, but printed as java starts.
	 */
	static void refuseSecretsAmong(List<String> javaOptions, UnaryOperator<String> environment) {
		for (String option : javaOptions) {
			if (!option.startsWith("-D")) {
				continue;
			}
			int equals = option.indexOf('=');
			String name = option.substring(2, equals < 0 ? option.length() : equals);
			String value = equals < 0 ? "" : option.substring(equals + 1);
			String why = READ_BY_EVERY_USER;
			Pattern given = Pattern.compile("(^|\\s)[\"']?-D" + Pattern.quote(name) + "([=\"'\\s]|$)");
			for (String variable : OPTION_VARIABLES) {
				String options = environment.apply(variable);
				if (options != null && given.matcher(options).find()) {
					why = String.format(PRINTED_AT_START, variable);
					break;
				}
			}
			if (relaxed(name).equals(relaxed(APPLICATION_JSON))) {
				for (Map.Entry<String, String> property : flattened(value).entrySet()) {
					refuseSecret(property.getKey(), property.getValue(), property.getKey() + " in -D" + name, why);
				}
			}
			else {
				refuseSecret(name, value, "-D" + name, why);
			}
		}
	}

	/** Refuses a secret property, or a database URL with a password, given as {@code given}. */
	private static void refuseSecret(String name, String value, String given, String why) {
		for (SecretFiles.Secret secret : SecretFiles.SECRETS) {
			if (relaxed(name).equals(relaxed(secret.fileSetting())) || relaxed(name).equals(relaxed(secret.fileProperty()))) {
				// a file's path, named like its secret (etl.secret-file.s3-secret-key)
				return;
			}
		}
		for (SecretFiles.Secret secret : SecretFiles.SECRETS) {
			if (relaxed(name).equals(relaxed(secret.setting())) || relaxed(name).equals(relaxed(secret.property()))) {
				throw new UsageException(String.format(SECRET_OPTION, secret.setting(), given, why,
						"it as " + secret.fileSetting() + " (a file holding it) or in the environment"));
			}
		}
		SECRET_PROPERTIES.forEach((setting, property) -> {
			if (relaxed(name).equals(relaxed(setting)) || relaxed(name).equals(relaxed(property))) {
				throw new UsageException(String.format(SECRET_OPTION, setting, given, why, "it in the environment"));
			}
		});
		Matcher password = URL_PASSWORD_PARAMETER.matcher(value);
		if (URL_NAMES.stream().anyMatch(url -> relaxed(url).equals(relaxed(name))) && password.find()) {
			throw new UsageException(String.format(SECRET_OPTION, URL_NAMES.get(0),
					given + " with " + password.group(1) + "=", why, URL_PASSWORD));
		}
		// the same secrets under other properties Spring passes on (spring.datasource.hikari.password,
		// spring.flyway.password...), and any other secret of a library
		if (SECRET_NAME.matcher(relaxed(name)).find()) {
			throw new UsageException(String.format(SECRET_OPTION, name, given, why, OTHER_SECRET));
		}
	}

	/**
	 * The properties of spring.application.json as Spring takes them (a.b.c, a[0]), with their values; none when
	 * it is not JSON (Spring refuses it then).
	 */
	private static Map<String, String> flattened(String json) {
		Map<String, String> properties = new LinkedHashMap<>();
		try {
			flatten("", JsonParserFactory.getJsonParser().parseMap(json), properties);
		}
		catch (RuntimeException notJson) {
			// no properties to check
		}
		return properties;
	}

	private static void flatten(String name, Object value, Map<String, String> properties) {
		if (value instanceof Map<?, ?> map) {
			map.forEach((key, inner) -> flatten(name.isEmpty() ? String.valueOf(key) : name + "." + key, inner, properties));
		}
		else if (value instanceof List<?> list) {
			for (int i = 0; i < list.size(); i++) {
				flatten(name + "[" + i + "]", list.get(i), properties);
			}
		}
		else {
			properties.put(name, String.valueOf(value));
		}
	}

	/**
	 * A name without case, dashes, underscores, dots or brackets: it matches every spelling Spring binds
	 * (etl.s3.secretKey, etl.s3.secret_key, spring.datasource[password]), and a few it would not, which are no
	 * better on a command line.
	 */
	private static String relaxed(String name) {
		return name.replaceAll("[-_.\\[\\]]", "").toLowerCase(Locale.ROOT);
	}

	static void check(UnaryOperator<String> lookup) {
		CHECKS.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(setting -> {
			String value = lookup.apply(setting.getKey());
			String problem = (value == null) ? null : problem(setting.getKey(), value);
			if (problem != null) {
				throw new UsageException(setting.getKey() + ": " + problem);
			}
		});
	}

	/** What is wrong with a value of a setting, or null; secrets are never echoed. */
	static String problem(String name, String value) {
		String problem = CHECKS.get(name).apply(value);
		// a URL may carry a password (user:password@host, ?password=): never echoed either
		if (problem == null || SECRETS.contains(name) || name.endsWith("_URL") || name.endsWith("_ENDPOINT")
				|| problem.contains(value)) {
			return problem;
		}
		return problem + ", got '" + value + "'";
	}

	private static String whole(String value, long min, long max) {
		try {
			long number = Long.parseLong(value.strip());
			return (number < min || number > max) ? "must be between " + min + " and " + max : null;
		}
		catch (NumberFormatException ex) {
			return "must be a whole number between " + min + " and " + max;
		}
	}

	private static String bool(String value) {
		return oneOf(value, "true", "false");
	}

	private static String oneOf(String value, String... allowed) {
		return Set.of(allowed).contains(value) ? null : "must be one of " + String.join(", ", allowed);
	}

	private static String text(String value, int min, int max) {
		if (CONTROL.matcher(value).find()) {
			return "must not contain control characters (a line break, a tab)";
		}
		return (value.length() < min || value.length() > max)
				? "must be " + min + " to " + max + " characters long" : null;
	}

	private static String matches(String value, Pattern pattern, String what) {
		return pattern.matcher(value).matches() ? null : "must be " + what;
	}

	private static String identifier(String value) {
		return matches(value, IDENTIFIER, "a plain name (lower-case letters, digits and _, at most 63)");
	}

	private static String identifiers(String value) {
		for (String part : value.split(",", -1)) {
			if (!IDENTIFIER.matcher(part.strip()).matches()) {
				return "must be schema names separated by commas (lower-case letters, digits and _, at most 63 each)";
			}
		}
		return null;
	}

	private static String prefix(String value) {
		boolean dots = value.equals(".") || value.equals("..") || value.startsWith("./") || value.startsWith("../")
				|| value.contains("/./") || value.contains("/../") || value.endsWith("/.") || value.endsWith("/..");
		return (!PREFIX.matcher(value).matches() || dots || value.length() > 200)
				? "must be an object-store folder: letters, digits, '.', '-', '_', parts separated by '/', no '.' or '..' parts, at most 200 characters"
				: null;
	}

	private static String duration(String value, Duration min, Duration max) {
		Duration duration;
		try {
			duration = DurationStyle.detectAndParse(value.strip());
		}
		catch (IllegalArgumentException ex) {
			return "must be a duration such as 1500ms, 10s or 2m";
		}
		return (duration.compareTo(min) < 0 || duration.compareTo(max) > 0 || duration.getNano() % 1_000_000 != 0)
				? "must be a duration of whole milliseconds from " + min.toMillis() + "ms to " + max.toSeconds() + "s" : null;
	}

	private static String dataSize(String value, DataSize min, DataSize max) {
		DataSize size;
		try {
			size = DataSize.parse(value.strip());
		}
		catch (IllegalArgumentException ex) {
			return "must be a size such as 512MB or 8GB";
		}
		return (size.compareTo(min) < 0 || size.compareTo(max) > 0) ? "must be a size from 1MB to 2147483647KB" : null;
	}

	/** jdbc:postgresql://HOST[:PORT][,HOST[:PORT]...]/DATABASE[?PARAMETERS], ports in range. */
	private static String jdbcUrl(String value) {
		Matcher url = JDBC_URL.matcher(value);
		boolean good = url.matches();
		for (String host : good ? url.group(1).split(",", -1) : new String[0]) {
			Matcher port = HOST_PORT.matcher(host);
			good &= port.matches() && (port.group(1) == null || whole(port.group(1), 1, 65_535) == null);
		}
		return good ? null : "must be a PostgreSQL JDBC URL such as jdbc:postgresql://HOST:PORT/DATABASE";
	}

	private static String httpUrl(String value, boolean withPath) {
		try {
			URI uri = new URI(value);
			boolean plain = uri.getPath() == null || uri.getPath().isEmpty() || uri.getPath().equals("/");
			if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null
					&& uri.getQuery() == null && uri.getFragment() == null && uri.getUserInfo() == null
					&& (withPath || plain)) {
				return null;
			}
		}
		catch (URISyntaxException ex) {
			// said below
		}
		return withPath ? "must be an http or https URL such as https://api.openai.com/v1"
				: "must be an http or https URL of a server, such as http://127.0.0.1:9000";
	}

	private static String path(String value) {
		if (value.isBlank() || CONTROL.matcher(value).find()) {
			return "must be a path";
		}
		try {
			Path.of(value);
			return null;
		}
		catch (InvalidPathException ex) {
			return "must be a path";
		}
	}

	private static String readableFile(String value) {
		String problem = path(value);
		return (problem == null && Files.isRegularFile(Path.of(value)) && Files.isReadable(Path.of(value))) ? null
				: "must be a readable file";
	}

	/** A policy file that is there and holds good policies; its problem names the file and the entry. */
	private static String policy(String value) {
		if (value.isEmpty()) {
			return null;
		}
		String problem = readableFile(value);
		if (problem != null) {
			return problem;
		}
		try {
			new PartitionProperties(value, 1, null, 0, null).policies();
			return null;
		}
		catch (IllegalArgumentException ex) {
			return ex.getMessage();
		}
	}

	private static String directory(String value) {
		String problem = path(value);
		return (problem == null && Files.isDirectory(Path.of(value))) ? null : "must be a directory";
	}

}
