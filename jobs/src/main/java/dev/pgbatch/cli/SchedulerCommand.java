package dev.pgbatch.cli;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.pgbatch.schedule.Schedule;
import dev.pgbatch.schedule.ScheduleFiles;
import dev.pgbatch.schedule.Schedules;
import org.quartz.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;

@StreamsThroughEncryption
@Command(name = "scheduler", mixinStandardHelpOptions = true,
		description = { "Run the Quartz scheduler until SIGTERM: fires the schedules of ETL_SCHEDULES_DIR, one node of a cluster sharing the database.",
				"Health and Prometheus metrics on http://127.0.0.1:ETL_SCHEDULER_PORT/actuator/{health,prometheus}.",
				"On SIGTERM running jobs are asked to stop after their current chunk; 'bin/etl restart ID' continues them." })
class SchedulerCommand implements Callable<Integer> {

	private static final Logger log = LoggerFactory.getLogger(SchedulerCommand.class);

	@Override
	public Integer call() throws Exception {
		// every file is checked before anything is started or stored
		List<Schedule> schedules = ScheduleFiles.load(ScheduleFiles.directory());
		ConfigurableApplicationContext context = SpringRuntime.startScheduling(true);
		CountDownLatch closed = new CountDownLatch(1);
		context.addApplicationListener(event -> {
			if (event instanceof ContextClosedEvent) {
				closed.countDown();
			}
		});
		// adds and updates; a stored schedule that no file here has is kept (only `schedules apply` removes)
		context.getBean(Schedules.class).apply(schedules, false);
		Scheduler scheduler = context.getBean(Scheduler.class);
		scheduler.start();
		log.info("Scheduler {} node {} started: {} schedules ({} enabled) from {}", scheduler.getSchedulerName(),
				scheduler.getSchedulerInstanceId(), schedules.size(),
				schedules.stream().filter(Schedule::enabled).count(), ScheduleFiles.directory());
		// SIGTERM closes the context through Spring's shutdown hook: the scheduler stands by, running
		// jobs are asked to stop, and the process ends when they have.
		closed.await();
		return Cli.OK;
	}

}
