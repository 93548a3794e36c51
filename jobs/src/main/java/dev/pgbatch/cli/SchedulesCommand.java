package dev.pgbatch.cli;

import java.time.ZoneId;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.Function;

import dev.pgbatch.schedule.Schedule;
import dev.pgbatch.schedule.ScheduleFiles;
import dev.pgbatch.schedule.Schedules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import org.springframework.context.ConfigurableApplicationContext;

@Command(name = "schedules", mixinStandardHelpOptions = true,
		description = "The schedules of ETL_SCHEDULES_DIR and their state in the job store, shared by every scheduler node.",
		subcommands = { SchedulesCommand.ListSchedules.class, SchedulesCommand.Pause.class, SchedulesCommand.Resume.class,
				SchedulesCommand.Trigger.class, SchedulesCommand.Apply.class })
class SchedulesCommand {


	@Command(name = "list", mixinStandardHelpOptions = true,
			description = "Every schedule the cluster stores (job, cron, time zone, state: NORMAL, PAUSED, BLOCKED while it runs, ERROR; next and previous firing), then those of ETL_SCHEDULES_DIR it does not store (NOT STORED, DISABLED).")
	static class ListSchedules implements Callable<Integer> {

		@Mixin
		JsonOption json;

		@Override
		public Integer call() {
			List<Schedule> schedules = ScheduleFiles.loadAny(ScheduleFiles.directory());
			try (ConfigurableApplicationContext context = SpringRuntime.startScheduling(false)) {
				List<Schedules.State> states = context.getBean(Schedules.class).list(schedules);
				if (this.json.on) {
					Output.json(states);
					return Cli.OK;
				}
				System.out.printf(Locale.ROOT, "%-22s %-20s %-16s %-14s %-10s %-25s %s%n", "schedule", "job", "cron",
						"time zone", "state", "next", "previous");
				for (Schedules.State state : states) {
					ZoneId zone = ZoneId.of(state.timeZone());
					System.out.printf(Locale.ROOT, "%-22s %-20s %-16s %-14s %-10s %-25s %s%n", state.name(), state.job(),
							state.cron(), state.timeZone(), state.state(), Output.time(state.nextFire(), zone),
							Output.time(state.previousFire(), zone));
				}
				return Cli.OK;
			}
		}

	}

	@Command(name = "pause", mixinStandardHelpOptions = true,
			description = "Stop firing a schedule (a run under way goes on); it stays paused across restarts until resumed.")
	static class Pause extends ScheduleChange {

		Pause() {
			super(Schedules::pause, "paused");
		}

	}

	@Command(name = "resume", mixinStandardHelpOptions = true,
			description = "Fire a paused schedule again; a firing missed meanwhile follows its misfire policy.")
	static class Resume extends ScheduleChange {

		Resume() {
			super(Schedules::resume, "resumed");
		}

	}

	@Command(name = "trigger", mixinStandardHelpOptions = true,
			description = "Fire a schedule's job once now, with its parameters, on a running scheduler node.")
	static class Trigger extends ScheduleChange {

		static final String NO_NODE = "triggered, but no scheduler node runs now: the firing waits in the job store"
				+ " until one starts (bin/etl scheduler), then runs at once";

		Trigger() {
			super((schedules, name) -> schedules.trigger(name),
					schedules -> schedules.runningNodes() > 0 ? "triggered: a running scheduler node starts it now"
							: NO_NODE);
		}

	}

	@Command(name = "apply", mixinStandardHelpOptions = true,
			description = { "Make the job store match the schedule files: add new schedules, replace changed ones (a paused one stays paused), remove stored ones that no file enables.",
					"Prints the difference (added, changed, removed); with --dry-run changes nothing." })
	static class Apply implements Callable<Integer> {

		@Option(names = "--dry-run", description = "Print the difference only.")
		boolean dryRun;

		@Override
		public Integer call() {
			List<Schedule> schedules = ScheduleFiles.load(ScheduleFiles.directory());
			try (ConfigurableApplicationContext context = SpringRuntime.startScheduling(false)) {
				Schedules store = context.getBean(Schedules.class);
				Schedules.Difference difference = this.dryRun ? store.difference(schedules) : store.apply(schedules, true);
				print("added", difference.added());
				print("changed", difference.changed());
				print("removed", difference.removed());
				if (difference.isEmpty()) {
					System.out.println("the job store matches the schedule files");
				}
				else if (this.dryRun) {
					System.out.println("dry run: nothing changed");
				}
				return Cli.OK;
			}
		}

		private static void print(String change, List<String> names) {
			names.forEach(name -> System.out.println(change + " " + name));
		}

	}

	/**
	 * A change to one stored schedule. It touches only that one: the files are not read, since a node's
	 * directory may hold only some of the cluster's schedules (`apply` brings the store in line with them).
	 */
	abstract static class ScheduleChange implements Callable<Integer> {

		@Parameters(index = "0", paramLabel = "NAME", description = "The schedule (see: bin/etl schedules list).")
		String name;

		private final BiConsumer<Schedules, String> change;

		/** What is said of the change once made. */
		private final Function<Schedules, String> done;

		ScheduleChange(BiConsumer<Schedules, String> change, String done) {
			this(change, schedules -> done);
		}

		ScheduleChange(BiConsumer<Schedules, String> change, Function<Schedules, String> done) {
			this.change = change;
			this.done = done;
		}

		@Override
		public Integer call() {
			try (ConfigurableApplicationContext context = SpringRuntime.startScheduling(false)) {
				Schedules schedules = context.getBean(Schedules.class);
				this.change.accept(schedules, this.name);
				System.out.println("schedule " + this.name + " " + this.done.apply(schedules));
				return Cli.OK;
			}
		}

	}


}
