package dev.pgbatch.schedule;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * What Prometheus sees of the schedules: runs per schedule and outcome, and when each schedule last
 * completed (alert on its age: a schedule that stopped completing is the failure that looks healthy).
 */
@Component
@ConditionalOnProperty(name = "etl.scheduler.enabled", havingValue = "true")
class ScheduleMetrics {

	private final MeterRegistry registry;

	private final Clock clock;

	private final Map<String, AtomicLong> lastCompleted = new ConcurrentHashMap<>();

	ScheduleMetrics(MeterRegistry registry) {
		this.registry = registry;
		this.clock = Clock.systemUTC();
	}

	void ran(String schedule, String job, String status) {
		Counter.builder("pgbatch.schedule.runs")
			.description("Firings of a schedule, by the status its execution ended with")
			.tag("schedule", schedule)
			.tag("job", job)
			.tag("status", status)
			.register(this.registry)
			.increment();
		if ("COMPLETED".equals(status)) {
			this.lastCompleted.computeIfAbsent(schedule, name -> {
				AtomicLong seconds = new AtomicLong();
				Gauge.builder("pgbatch.schedule.last.completed", seconds, AtomicLong::get)
					.description("When a run of the schedule last completed, in seconds since the epoch")
					.baseUnit("seconds")
					.tag("schedule", name)
					.register(this.registry);
				return seconds;
			}).set(this.clock.millis() / 1000);
		}
	}

}
