package dev.pgbatch.schedule;

import java.text.ParseException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.util.Date;
import java.util.TimeZone;

import org.quartz.CronExpression;
import org.quartz.CronTrigger;
import org.quartz.ScheduleBuilder;
import org.quartz.impl.triggers.CronTriggerImpl;
import org.quartz.spi.MutableTrigger;

/**
 * A cron trigger that reads its expression on the wall clock of its zone, and so keeps every firing across
 * daylight saving time. Quartz's own cron trigger never fires a time the clocks skip: a daily 02:30 in
 * Europe/Berlin simply does not happen on the spring-forward day, and as it is no misfire nothing makes up for
 * it. Here a wall-clock time in a gap fires at the first instant after the gap (03:00, when 02:00 became
 * 03:00); a wall-clock time that happens twice (when the clocks fall back) fires once, at its first occurrence.
 * Stored by {@link WallClockCronTriggerPersistence}.
 */
final class WallClockCronTrigger extends CronTriggerImpl {

	private static final long serialVersionUID = 1L;

	@Override
	protected Date getTimeAfter(Date after) {
		ZoneId zone = getTimeZone().toZoneId();
		CronExpression wallClock = wallClock(getCronExpression());
		Instant threshold = after.toInstant();
		// the expression's times are wall-clock times: walked on a clock that has no transitions (UTC), then placed
		LocalDateTime local = LocalDateTime.ofInstant(threshold, zone);
		while (true) {
			Date next = wallClock.getTimeAfter(Date.from(local.toInstant(ZoneOffset.UTC)));
			if (next == null) {
				return null;
			}
			local = LocalDateTime.ofInstant(next.toInstant(), ZoneOffset.UTC);
			ZoneOffsetTransition transition = zone.getRules().getTransition(local);
			Instant at = (transition != null && transition.isGap()) ? transition.getInstant()
					: ZonedDateTime.ofLocal(local, zone, null).toInstant();
			// at an overlap, a wall-clock time already passed in its first occurrence is not fired again
			if (at.isAfter(threshold)) {
				return Date.from(at);
			}
		}
	}

	/** The same expression read in UTC, on which wall-clock times and instants coincide. */
	private static CronExpression wallClock(String expression) {
		try {
			CronExpression cron = new CronExpression(expression);
			cron.setTimeZone(TimeZone.getTimeZone(ZoneOffset.UTC));
			return cron;
		}
		catch (ParseException ex) {
			throw new IllegalStateException("bad cron '" + expression + "': " + ex.getMessage(), ex);
		}
	}

	/** Keeps Quartz's cron delegate from storing this as a plain cron trigger, which would lose its kind. */
	@Override
	public boolean hasAdditionalProperties() {
		return true;
	}

	@Override
	public ScheduleBuilder<CronTrigger> getScheduleBuilder() {
		return new Schedule(getCronExpression(), getTimeZone(), getMisfireInstruction());
	}

	/** How a trigger of this kind is built, by the schedules and by the job store when it reads one back. */
	static final class Schedule extends ScheduleBuilder<CronTrigger> {

		private final String cron;

		private final TimeZone zone;

		private final int misfireInstruction;

		Schedule(String cron, TimeZone zone, int misfireInstruction) {
			this.cron = cron;
			this.zone = zone;
			this.misfireInstruction = misfireInstruction;
		}

		@Override
		protected MutableTrigger build() {
			WallClockCronTrigger trigger = new WallClockCronTrigger();
			try {
				trigger.setCronExpression(this.cron);
			}
			catch (ParseException ex) {
				throw new IllegalArgumentException("bad cron '" + this.cron + "': " + ex.getMessage(), ex);
			}
			trigger.setTimeZone(this.zone);
			trigger.setMisfireInstruction(this.misfireInstruction);
			return trigger;
		}

	}

}
