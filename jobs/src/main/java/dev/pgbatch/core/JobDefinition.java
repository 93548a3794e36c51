package dev.pgbatch.core;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonIgnore;

import org.springframework.batch.core.job.parameters.JobParameters;

/**
 * What the command line knows of a job without starting Spring: its name, what it does, its parameters.
 * Parameters are validated against this before anything is launched or written. {@code warmUp} is what
 * a command about to run the job starts before Spring: Spring's start keeps one core busy for seconds
 * and leaves the other free. {@code streamsThroughEncryption}: the job streams whole databases or partitions
 * through encryption and hashing, which only the JVM's optimising compiler runs on the CPU's own AES and SHA
 * instructions; bin/etl starts every other run with the quick compiler alone (see the hidden command
 * full-jit-commands). {@code lock}: the name of the lock a run with given parameters takes ({@link ExecutionLock}),
 * the job's own name unless runs of the job that may go on side by side take locks of their own; it reads string
 * parameters only (a report rebuilds those of later executions from the repository's tables, {@code ExecutionReports}).
 */
public record JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters,
		@JsonIgnore Runnable warmUp, @JsonIgnore boolean streamsThroughEncryption,
		@JsonIgnore Function<JobParameters, String> lock) {

	/** A job with nothing to warm up, whose runs all take the lock of its name. */
	public JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters) {
		this(name, description, rerun, parameters, () -> {
		}, false, run -> name);
	}

	/** This job, warming up {@code warmUp} before Spring starts. */
	public JobDefinition warmingUp(Runnable warmUp) {
		return new JobDefinition(this.name, this.description, this.rerun, this.parameters, warmUp,
				this.streamsThroughEncryption, this.lock);
	}

	/** This job, marked as streaming data through encryption or not. */
	public JobDefinition streamingThroughEncryption(boolean streams) {
		return new JobDefinition(this.name, this.description, this.rerun, this.parameters, this.warmUp, streams,
				this.lock);
	}

	/** This job, its runs taking the lock {@code lock} names for their parameters. */
	public JobDefinition lockedBy(Function<JobParameters, String> lock) {
		return new JobDefinition(this.name, this.description, this.rerun, this.parameters, this.warmUp,
				this.streamsThroughEncryption, lock);
	}

	public Optional<ParameterDefinition> parameter(String parameterName) {
		return this.parameters.stream().filter(p -> p.name().equals(parameterName)).findFirst();
	}

}
