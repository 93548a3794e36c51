package dev.pgbatch.cli;

import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import dev.pgbatch.core.ExecutionReport;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** How the commands print: aligned text for people, one JSON document with json. */
final class Output {

	/** What bin/etl restart continues (an orphaned run too: recorded as running, its process gone). */
	private static final Set<String> RESTARTABLE = Set.of("FAILED", "STOPPED");


	private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

	private Output() {
	}

	static void json(Object document) {
		System.out.println(JSON.writeValueAsString(document));
	}

	static void execution(ExecutionReport report) {
		PrintStream out = System.out;
		out.printf(Locale.ROOT, "execution %d  %s  %s%s  %s -> %s%s%n", report.executionId(), report.job(),
				report.status(), report.orphaned() ? " (its process is gone: restart continues it)" : "",
				time(report.start()), time(report.end()),
				report.seconds() != null ? String.format(Locale.ROOT, "  (%.1f s)", report.seconds()) : "");
		if (report.exitDescription() != null && !"COMPLETED".equals(report.status())) {
			out.println("  " + report.exitDescription());
		}
		// restart refuses an execution a later one of its job came after: no hint there
		if (!report.superseded() && (report.orphaned() || RESTARTABLE.contains(report.status()))) {
			out.println("  continue it with: bin/etl restart " + report.executionId());
		}
		if (!report.parameters().isEmpty()) {
			out.println("  parameters: " + String.join(" ",
					report.parameters().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
		}
		if (!report.steps().isEmpty()) {
			out.printf(Locale.ROOT, "  %-22s %-10s %12s %12s %8s %9s%n", "step", "status", "read", "written",
					"skipped", "seconds");
			for (ExecutionReport.StepReport step : report.steps()) {
				out.printf(Locale.ROOT, "  %-22s %-10s %,12d %,12d %,8d %9s%n", step.step(), step.status(),
						step.read(), step.written(), step.skipped(),
						step.seconds() != null ? String.format(Locale.ROOT, "%.1f", step.seconds()) : "-");
				if (!step.summary().isEmpty()) {
					out.println("    " + String.join(", ",
							step.summary().entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList()));
				}
			}
		}
	}

	static void executions(List<ExecutionReport> reports) {
		PrintStream out = System.out;
		out.printf(Locale.ROOT, "%-8s %-20s %-10s %-20s %-20s %s%n", "id", "job", "status", "start", "end",
				"exit");
		for (ExecutionReport report : reports) {
			out.printf(Locale.ROOT, "%-8d %-20s %-10s %-20s %-20s %s%n", report.executionId(), report.job(),
					report.status() + (report.orphaned() ? "*" : ""), time(report.start()), time(report.end()),
					report.exitCode());
		}
		if (reports.stream().anyMatch(ExecutionReport::orphaned)) {
			out.println("* recorded as running, but its process is gone: 'bin/etl restart ID' continues it");
		}
	}

	/**
	 * A time as every command prints it for people: ISO 8601 to the second, in UTC ("2026-12-03T02:00:00Z"); JSON
	 * carries the full instant in the same notation.
	 */
	static String time(Instant time) {
		return time == null ? "-" : DateTimeFormatter.ISO_INSTANT.format(time.truncatedTo(ChronoUnit.SECONDS));
	}

	/** A time where its zone matters to the reader (a schedule's next firing): ISO 8601 with that zone's offset. */
	static String time(Instant time, ZoneId zone) {
		return time == null ? "-"
				: DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(time.truncatedTo(ChronoUnit.SECONDS).atZone(zone));
	}

}
