package dev.pgbatch.cli;

import dev.pgbatch.core.ExecutionReport;

/** Prints a finished execution and turns its status into the exit code. */
final class Reporting {

	private Reporting() {
	}

	static int finished(ExecutionReport report, boolean json) {
		if (json) {
			Output.json(report);
		}
		else {
			Output.execution(report);
		}
		return "COMPLETED".equals(report.status()) ? Cli.OK : Cli.FAILED;
	}

}
