package dev.pgbatch.backup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.OneLine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;

/**
 * backup-verify's step: `pgbackrest verify` of the stanza. pgBackRest 2.45 ends verify with exit 0 even when it found
 * invalid files (it says so in its text output only), so the step passes only on exit 0 and an output of status ok;
 * otherwise it fails naming each archive or backup set with files that are not valid, and their counts.
 */
class RepositoryVerifyTasklet implements Tasklet {

	private static final Logger log = LoggerFactory.getLogger(RepositoryVerifyTasklet.class);

	static final String NOT_VALID = "pgbackrest verify of stanza %s: status %s: %s";

	/** It reads every file of the repository back: hours for a large one; this bounds only one that hangs. */
	private static final Duration TIMEOUT = Duration.ofHours(24);

	/** "  archiveId: 15-1, total WAL checked: 3, total valid WAL: 2" or "  backup: LABEL, status: valid, ...". */
	private static final Pattern PART = Pattern.compile("^\\s+(archiveId|backup): .*");

	/** The line under a part: "    missing: 0, checksum invalid: 0, size invalid: 0, other: 1". */
	private static final Pattern COUNT = Pattern.compile("([a-z ]+): (\\d+)");

	private static final Pattern CHECKED = Pattern.compile("total (?:WAL|files) checked: (\\d+), total valid (?:WAL|files): (\\d+)");

	private final PgBackRest pgBackRest;

	RepositoryVerifyTasklet(PgBackRest pgBackRest) {
		this.pgBackRest = pgBackRest;
	}

	@Override
	public RepeatStatus execute(StepContribution contribution, ChunkContext chunk) throws Exception {
		this.pgBackRest.ownerWarning().ifPresent(log::warn);
		PgBackRest.Result result = this.pgBackRest.run(TIMEOUT, "verify", "--output=text", "--verbose",
				"--log-level-console=error", "--log-level-stderr=off");
		if (result.timedOut()) {
			throw new IllegalStateException(PhysicalBackups.TIMED_OUT.formatted("verify", TIMEOUT.toHours()));
		}
		if (result.exitCode() != 0) {
			throw new IllegalStateException(OneLine.of(PhysicalBackups.FAILED.formatted("verify",
					result.errors().isEmpty() ? "exit " + result.exitCode() : String.join("; ", result.errors()))));
		}
		List<String> lines = result.stdout().lines().toList();
		String status = lines.stream()
			.filter(line -> line.startsWith("status: "))
			.map(line -> line.substring("status: ".length()).strip())
			.findFirst()
			.orElse("not reported");
		if (!status.equals("ok")) {
			List<String> invalid = invalid(lines);
			throw new IllegalStateException(OneLine.of(NOT_VALID.formatted(this.pgBackRest.stanza(), status,
					invalid.isEmpty() ? String.join("; ", lines) : String.join("; ", invalid))));
		}
		long[] wal = checked(lines, "archiveId");
		long[] files = checked(lines, "backup");
		long sets = lines.stream().filter(line -> PART.matcher(line).matches() && line.strip().startsWith("backup:")).count();
		chunk.getStepContext().getStepExecution().getExecutionContext().putString(ExecutionReport.SUMMARY + "verify",
				String.format(Locale.ROOT, "stanza %s: status ok, %d of %d WAL segments valid, %d backup sets with %d of %d files valid",
						this.pgBackRest.stanza(), wal[1], wal[0], sets, files[1], files[0]));
		return RepeatStatus.FINISHED;
	}

	/** Each archive or backup set whose counts line has a count above 0: "its line (the counts above 0)". */
	private static List<String> invalid(List<String> lines) {
		List<String> invalid = new ArrayList<>();
		for (int i = 0; i + 1 < lines.size(); i++) {
			if (!PART.matcher(lines.get(i)).matches()) {
				continue;
			}
			List<String> counts = new ArrayList<>();
			Matcher count = COUNT.matcher(lines.get(i + 1));
			while (count.find()) {
				if (Long.parseLong(count.group(2)) > 0) {
					counts.add(count.group(1).strip() + ": " + count.group(2));
				}
			}
			if (!counts.isEmpty()) {
				invalid.add(lines.get(i).strip() + " (" + String.join(", ", counts) + ")");
			}
		}
		return invalid;
	}

	/** The files checked and found valid, summed over the parts of that kind. */
	private static long[] checked(List<String> lines, String kind) {
		long[] sum = new long[2];
		for (String line : lines) {
			Matcher checked = CHECKED.matcher(line);
			if (line.strip().startsWith(kind + ":") && checked.find()) {
				sum[0] += Long.parseLong(checked.group(1));
				sum[1] += Long.parseLong(checked.group(2));
			}
		}
		return sum;
	}

}
