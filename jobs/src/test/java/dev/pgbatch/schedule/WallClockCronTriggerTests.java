package dev.pgbatch.schedule;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;

import org.junit.jupiter.api.Test;
import org.quartz.CronTrigger;
import org.quartz.TriggerBuilder;
import org.quartz.spi.OperableTrigger;

import static org.assertj.core.api.Assertions.assertThat;

/** Fire times of wall-clock cron triggers over the days the clocks change. */
class WallClockCronTriggerTests {

	@Test
	void aDailyTimeTheClocksSkipFiresAtTheFirstInstantAfterTheGapInBerlin() {
		// 2027-03-28: 02:00 CET becomes 03:00 CEST
		assertThat(fireTimes("0 30 2 * * ?", "Europe/Berlin", "2027-03-27T00:00:00Z", 3)).containsExactly(
				"2027-03-27T01:30:00Z", // 02:30 CET
				"2027-03-28T01:00:00Z", // 03:00 CEST, the first instant after the gap
				"2027-03-29T00:30:00Z"); // 02:30 CEST
	}

	@Test
	void aDailyTimeTheClocksSkipFiresAtTheFirstInstantAfterTheGapInNewYork() {
		// 2027-03-14: 02:00 EST becomes 03:00 EDT
		assertThat(fireTimes("0 30 2 * * ?", "America/New_York", "2027-03-13T00:00:00Z", 3)).containsExactly(
				"2027-03-13T07:30:00Z", "2027-03-14T07:00:00Z", "2027-03-15T06:30:00Z");
	}

	@Test
	void aDailyTimeThatHappensTwiceWhenTheClocksFallBackFiresOnceInBerlinAndNewYork() {
		// 2027-10-31: 03:00 CEST becomes 02:00 CET, 02:30 happens twice
		assertThat(fireTimes("0 30 2 * * ?", "Europe/Berlin", "2027-10-30T00:00:00Z", 3)).containsExactly(
				"2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z");
		// 2027-11-07: 02:00 EDT becomes 01:00 EST, 01:30 happens twice
		assertThat(fireTimes("0 30 1 * * ?", "America/New_York", "2027-11-06T00:00:00Z", 3)).containsExactly(
				"2027-11-06T05:30:00Z", "2027-11-07T05:30:00Z", "2027-11-08T06:30:00Z");
		// a trigger computing its next firing in the second pass of 02:30 (02:15 CET) does not fire it again
		assertThat(fireTimes("0 30 2 * * ?", "Europe/Berlin", "2027-10-31T01:15:00Z", 1))
			.containsExactly("2027-11-01T01:30:00Z");
	}

	@Test
	void firingsInsideTheGapBecomeOneAtItsEndAndTheOthersKeepTheirTimes() {
		assertThat(fireTimes("0 0/20 1-3 28 3 ?", "Europe/Berlin", "2027-03-28T00:30:00Z", 4)).containsExactly(
				"2027-03-28T00:40:00Z", // 01:40 CET
				"2027-03-28T01:00:00Z", // 02:00, 02:20, 02:40 do not exist: 03:00 CEST once
				"2027-03-28T01:20:00Z", // 03:20 CEST
				"2027-03-28T01:40:00Z");
	}

	@Test
	void inUtcItFiresAsQuartzsOwnCronTrigger() {
		CronTrigger quartz = TriggerBuilder.newTrigger()
			.withSchedule(org.quartz.CronScheduleBuilder.cronSchedule("0 15 */3 ? * MON-FRI")
				.inTimeZone(TimeZone.getTimeZone("UTC")))
			.build();
		Date after = Date.from(Instant.parse("2027-03-26T20:00:00Z"));
		List<String> expected = new ArrayList<>();
		for (int i = 0; i < 6; i++) {
			after = quartz.getFireTimeAfter(after);
			expected.add(after.toInstant().toString());
		}
		assertThat(fireTimes("0 15 */3 ? * MON-FRI", "UTC", "2027-03-26T20:00:00Z", 6)).isEqualTo(expected);
	}

	private static List<String> fireTimes(String cron, String zone, String from, int count) {
		OperableTrigger trigger = (OperableTrigger) TriggerBuilder.newTrigger()
			.withSchedule(new WallClockCronTrigger.Schedule(cron, TimeZone.getTimeZone(ZoneId.of(zone)),
					CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW))
			.startAt(Date.from(Instant.parse("2020-01-01T00:00:00Z")))
			.build();
		List<String> times = new ArrayList<>();
		Date after = Date.from(Instant.parse(from));
		for (int i = 0; i < count; i++) {
			after = trigger.getFireTimeAfter(after);
			times.add(after.toInstant().toString());
		}
		return times;
	}

}
