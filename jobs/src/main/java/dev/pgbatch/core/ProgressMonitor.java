package dev.pgbatch.core;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import dev.pgbatch.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.stereotype.Component;

/**
 * Shows how far a running job is: a progress bar redrawn in place on a terminal, a log line every ten
 * seconds otherwise. A step announces how many items it will write by putting {@link #TOTAL} into its
 * execution context; steps that do not are shown with counts only.
 */
@Component
public class ProgressMonitor implements JobExecutionListener {

	/** Execution-context key: the number of items the step will write in all. */
	public static final String TOTAL = "progress.total";

	private static final Logger log = LoggerFactory.getLogger(ProgressMonitor.class);

	private static final int BAR_WIDTH = 20;

	private static final String CLEAR_TO_END_OF_LINE = "\u001b[K";

	private final boolean terminal = onTerminal();

	/** The executions under way in this process, oldest first: a scheduler runs several, nightly runs one inside another. */
	private final Map<Long, JobExecution> running = new LinkedHashMap<>();

	private ScheduledExecutorService ticker;

	private PrintStream terminalErr;

	private volatile boolean barShown;

	/** Whether progress is drawn in place: on a terminal, and not in CI, whose logs keep every byte. */
	public static boolean onTerminal() {
		return System.console() != null && Settings.value("CI") == null;
	}

	@Override
	public synchronized void beforeJob(JobExecution execution) {
		this.running.put(execution.getId(), execution);
		if (this.running.size() > 1) {
			return;
		}
		if (this.terminal) {
			// Whatever else writes to stderr (log lines) first clears the bar's line, then the bar is
			// drawn again under it at the next tick.
			this.terminalErr = System.err;
			System.setErr(new PrintStream(new FilterOutputStream(this.terminalErr) {
				@Override
				public void write(byte[] bytes, int offset, int length) throws IOException {
					clearBar();
					this.out.write(bytes, offset, length);
				}

				@Override
				public void write(int b) throws IOException {
					clearBar();
					this.out.write(b);
				}
			}, true));
		}
		this.ticker = BackgroundThreads.scheduler("progress");
		Duration every = this.terminal ? Duration.ofMillis(250) : Duration.ofSeconds(10);
		this.ticker.scheduleAtFixedRate(this::show, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
	}

	@Override
	public synchronized void afterJob(JobExecution execution) {
		this.running.remove(execution.getId());
		if (!this.running.isEmpty()) {
			return;
		}
		this.ticker.shutdownNow();
		this.ticker = null;
		if (this.terminalErr != null) {
			clearBar();
			System.setErr(this.terminalErr);
			this.terminalErr = null;
		}
	}

	private synchronized void show() {
		if (this.terminalErr != null) {
			// One line on a terminal: the innermost execution, the one doing the work.
			JobExecution newest = null;
			for (JobExecution execution : this.running.values()) {
				newest = execution;
			}
			String line = (newest != null) ? describe(newest) : "";
			if (!line.isEmpty()) {
				this.terminalErr.print("\r" + line + CLEAR_TO_END_OF_LINE);
				this.terminalErr.flush();
				this.barShown = true;
			}
		}
		else {
			this.running.values().stream().map(ProgressMonitor::describe).filter(line -> !line.isEmpty()).forEach(log::info);
		}
	}

	private static String describe(JobExecution execution) {
		// Steps of a split run side by side: show each of them.
		String steps = execution.getStepExecutions()
			.stream()
			.filter(step -> step.getStatus().isRunning())
			.sorted(Comparator.comparing(StepExecution::getId))
			.map(ProgressMonitor::describe)
			.collect(Collectors.joining("  |  "));
		return steps.isEmpty() ? "" : execution.getJobInstance().getJobName() + " " + steps;
	}

	private void clearBar() {
		if (this.barShown) {
			this.barShown = false;
			this.terminalErr.print("\r" + CLEAR_TO_END_OF_LINE);
		}
	}

	static String describe(StepExecution step) {
		long done = step.getWriteCount();
		long total = step.getExecutionContext().getLong(TOTAL, -1L);
		String counts = String.format(Locale.ROOT, "%,d", done);
		if (total <= 0) {
			return step.getStepName() + (done > 0 ? ": " + counts + " written" : " ...");
		}
		double fraction = Math.min(1.0, (double) done / total);
		int filled = (int) Math.round(fraction * BAR_WIDTH);
		return String.format(Locale.ROOT, "%s [%s%s] %3.0f%% %s/%,d", step.getStepName(),
				"#".repeat(filled), ".".repeat(BAR_WIDTH - filled), fraction * 100, counts, total);
	}

}
