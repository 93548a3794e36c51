package dev.pgbatch.schedule;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;

import dev.pgbatch.core.UsageException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScheduleFilesTests {

	@Test
	void theShippedSchedulesAreValidAndIncludeNightlyAtTwoAndHourlyEmbeddings() {
		List<Schedule> schedules = ScheduleFiles.load(Path.of("..", "schedules"));

		assertThat(schedules).extracting(Schedule::name).contains("nightly", "embed-products-hourly");
		Schedule nightly = schedules.stream().filter(s -> s.name().equals("nightly")).findFirst().orElseThrow();
		assertThat(nightly.job()).isEqualTo("nightly");
		assertThat(nightly.cron()).isEqualTo("0 0 2 * * ?");
		assertThat(schedules.stream().filter(s -> s.job().equals("embed-products")).findFirst().orElseThrow().cron())
			.isEqualTo("0 15 * * * ?");
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
