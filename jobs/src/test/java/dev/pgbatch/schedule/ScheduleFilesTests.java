package dev.pgbatch.schedule;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;

import dev.pgbatch.core.UsageException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quartz.CronExpression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScheduleFilesTests {

	@Test
	void theShippedSchedulesAreValidAndIncludeNightlyAtOneAndHourlyEmbeddings() {
		List<Schedule> schedules = ScheduleFiles.load(Path.of("..", "schedules"));

		assertThat(schedules).extracting(Schedule::name).contains("nightly", "embed-products-hourly");
		Schedule nightly = shipped(schedules, "nightly");
		assertThat(nightly.job()).isEqualTo("nightly");
		assertThat(nightly.cron()).isEqualTo("0 0 1 * * ?");
		assertThat(schedules.stream().filter(s -> s.job().equals("embed-products")).findFirst().orElseThrow().cron())
			.isEqualTo("0 15 * * * ?");
	}

	/**
	 * schedules/backups.yml is seed 000's plan (7.1.1): a full backup Sunday 02:00, an incr Monday to Saturday 03:00,
	 * a verification daily at 04:00 and a weekly drill (Sunday 05:00, after the full), all UTC, each firing as
	 * Quartz computes it over two weeks; and the nightly (01:00) before them.
	 */
	@Test
	void theShippedBackupSchedulesFollowSeed000sPlan() throws Exception {
		List<Schedule> schedules = ScheduleFiles.load(Path.of("..", "schedules"));
		Instant from = Instant.parse("2026-12-02T12:00:00Z");

		assertThat(shipped(schedules, "backup-full").parameters()).containsExactly(Map.entry("type", "full"));
		assertThat(shipped(schedules, "backup-full").job()).isEqualTo("backup");
		assertThat(shipped(schedules, "backup-incr").parameters()).containsExactly(Map.entry("type", "incr"));
		assertThat(shipped(schedules, "backup-verify").job()).isEqualTo("backup-verify");
		assertThat(shipped(schedules, "backup-verify").parameters()).containsExactly(Map.entry("physical", "true"));
		assertThat(shipped(schedules, "backup-drill").job()).isEqualTo("backup-drill");
		assertThat(schedules.stream().filter(s -> s.source().endsWith("backups.yml")))
			.allSatisfy(schedule -> assertThat(schedule.misfire()).isEqualTo(MisfirePolicy.FIRE_NOW))
			.allSatisfy(schedule -> assertThat(schedule.zone()).isEqualTo(ZoneId.of("UTC")))
			.hasSize(4);

		assertThat(firings(shipped(schedules, "backup-full"), from, 2)).containsExactly("2026-12-06T02:00:00Z",
				"2026-12-13T02:00:00Z");
		assertThat(firings(shipped(schedules, "backup-incr"), from, 7)).containsExactly("2026-12-03T03:00:00Z",
				"2026-12-04T03:00:00Z", "2026-12-05T03:00:00Z", "2026-12-07T03:00:00Z", "2026-12-08T03:00:00Z",
				"2026-12-09T03:00:00Z", "2026-12-10T03:00:00Z");
		assertThat(firings(shipped(schedules, "backup-verify"), from, 8)).containsExactly("2026-12-03T04:00:00Z",
				"2026-12-04T04:00:00Z", "2026-12-05T04:00:00Z", "2026-12-06T04:00:00Z", "2026-12-07T04:00:00Z",
				"2026-12-08T04:00:00Z", "2026-12-09T04:00:00Z", "2026-12-10T04:00:00Z");
		assertThat(firings(shipped(schedules, "backup-drill"), from, 2)).containsExactly("2026-12-06T05:00:00Z",
				"2026-12-13T05:00:00Z");
		assertThat(firings(shipped(schedules, "nightly"), from, 1)).containsExactly("2026-12-03T01:00:00Z");
	}

	private static Schedule shipped(List<Schedule> schedules, String name) {
		return schedules.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
	}

	/** The schedule's next {@code count} firings after {@code from}, as Quartz computes them in its zone. */
	private static List<String> firings(Schedule schedule, Instant from, int count) throws Exception {
		CronExpression cron = new CronExpression(schedule.cron());
		cron.setTimeZone(TimeZone.getTimeZone(schedule.zone()));
		List<String> firings = new ArrayList<>();
		Date next = Date.from(from);
		for (int i = 0; i < count; i++) {
			next = cron.getNextValidTimeAfter(next);
			firings.add(next.toInstant().toString());
		}
		return firings;
	}

	@Test
	void anEntryTakesItsDefaultsForTimeZoneMisfireAndEnabled() {
		Schedule schedule = parse("""
				schedules:
				  - name: views
				    job: refresh-views
				    cron: "0 45 * * * ?"
				    parameters:
				      schema: retail
				""").get(0);

		assertThat(schedule.zone()).isEqualTo(ZoneId.of("UTC"));
		assertThat(schedule.misfire()).isEqualTo(MisfirePolicy.FIRE_NOW);
		assertThat(schedule.enabled()).isTrue();
		assertThat(schedule.parameterArguments()).containsExactly("schema=retail");
		assertThat(schedule.source()).isEqualTo("test.yml");
	}

	@ParameterizedTest
	@CsvSource(delimiter = '|', textBlock = """
			job: no-such-job                         | unknown job 'no-such-job'
			cron: "0 0 25 * * ?"                     | bad cron '0 0 25 * * ?'
			time-zone: Mars/Olympus                  | unknown time zone 'Mars/Olympus'
			time-zone: UTC+5                         | time zone 'UTC+5' cannot be used for a cron
			parameters: {no-such: 1}                 | unknown parameter 'no-such' for job refresh-views
			misfire: whenever                        | unknown misfire policy 'whenever'
			enabled: sometimes                       | enabled must be true or false
			crn: "0 0 * * * ?"                       | unknown key 'crn'
			""")
	void aBadEntryIsRefusedNamingTheFileTheEntryAndTheProblem(String line, String problem) {
		String yaml = """
				schedules:
				  - name: first
				    job: refresh-views
				    cron: "0 0 * * * ?"
				  - name: second
				    job: refresh-views
				    cron: "0 30 * * * ?"
				""";
		// the line replaces the second entry's field of the same key, or is added to it
		String key = line.substring(0, line.indexOf(':'));
		String broken = yaml.contains("    " + key + ":")
				? yaml.replaceFirst("(?s)(name: second.*?)    " + key + ": [^\n]*\n", "$1    " + line + "\n")
				: yaml + "    " + line + "\n";

		assertThatThrownBy(() -> parse(broken)).isInstanceOf(UsageException.class)
			.hasMessageStartingWith("test.yml, entry 'second': ")
			.hasMessageContaining(problem);
	}

	@Test
	void aScheduleNameUsedTwiceIsRefused() {
		assertThatThrownBy(() -> parse("""
				schedules:
				  - {name: twice, job: refresh-views, cron: "0 0 * * * ?"}
				  - {name: twice, job: backup, cron: "0 0 3 * * ?"}
				""")).isInstanceOf(UsageException.class).hasMessage("test.yml, entry 'twice': the name is used twice in this file");
	}

	@Test
	void aFileWithoutAListOfSchedulesIsRefused() {
		assertThatThrownBy(() -> parse("nightly: at two")).isInstanceOf(UsageException.class)
			.hasMessage("test.yml: a list 'schedules' is expected");
	}

	@Test
	void yamlFilesAreReadBesideYmlFiles(@TempDir Path directory) throws Exception {
		Files.writeString(directory.resolve("fast.yml"), "schedules:\n  - {name: fast, job: refresh-views, cron: \"0 0 * * * ?\"}\n");
		Files.writeString(directory.resolve("slow.yaml"), "schedules:\n  - {name: slow, job: backup, cron: \"0 0 3 * * ?\"}\n");

		assertThat(ScheduleFiles.load(directory)).extracting(Schedule::name).containsExactly("fast", "slow");
	}

	@Test
	void aDirectoryWithoutAnyScheduleIsRefused(@TempDir Path directory) throws Exception {
		assertThatThrownBy(() -> ScheduleFiles.load(directory)).isInstanceOf(UsageException.class)
			.hasMessageContaining("holds no schedule");
		Files.writeString(directory.resolve("notes.txt"), "schedules:\n  - {name: x, job: backup, cron: \"0 0 3 * * ?\"}\n");
		Files.writeString(directory.resolve("empty.yml"), "schedules: []\n");
		assertThatThrownBy(() -> ScheduleFiles.load(directory)).isInstanceOf(UsageException.class)
			.hasMessageContaining("holds no schedule");
	}

	@Test
	void aDirectoryThatIsAFileIsRefused(@TempDir Path directory) throws Exception {
		Path file = Files.writeString(directory.resolve("schedules"), "");
		assertThatThrownBy(() -> ScheduleFiles.load(file)).isInstanceOf(UsageException.class)
			.hasMessageContaining("does not exist");
	}

	@Test
	void aCronThatParsesButNeverFiresAgainIsRefused() {
		assertThatThrownBy(() -> parse("""
				schedules:
				  - {name: past, job: refresh-views, cron: "0 0 3 1 1 ? 2020"}
				""")).isInstanceOf(UsageException.class)
			.hasMessage("test.yml, entry 'past': cron '0 0 3 1 1 ? 2020' never fires again");
	}

	private static List<Schedule> parse(String yaml) {
		return ScheduleFiles.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test.yml");
	}

}
