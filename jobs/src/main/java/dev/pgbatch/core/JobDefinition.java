package dev.pgbatch.core;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * What the command line knows of a job without starting Spring: its name, what it does, its parameters.
 * Parameters are validated against this before anything is launched or written. {@code warmUp} is what
 * a command about to run the job starts before Spring: Spring's start keeps one core busy for seconds
 * and leaves the other free. {@code streamsThroughEncryption}: the job streams whole databases or partitions
 * through encryption and hashing, which only the JVM's optimising compiler runs on the CPU's own AES and SHA
 * instructions; bin/etl starts every other run with the quick compiler alone (see the hidden command
 * full-jit-commands).
 */
public record JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters,
		@JsonIgnore Runnable warmUp, @JsonIgnore boolean streamsThroughEncryption) {

	/** A job with nothing to warm up. */
	public JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters) {
		this(name, description, rerun, parameters, () -> {
		}, false);
	}

	/** This job, warming up {@code warmUp} before Spring starts. */
	public JobDefinition warmingUp(Runnable warmUp) {
		return new JobDefinition(this.name, this.description, this.rerun, this.parameters, warmUp,
				this.streamsThroughEncryption);
	}

	/** This job, marked as streaming data through encryption or not. */
	public JobDefinition streamingThroughEncryption(boolean streams) {
		return new JobDefinition(this.name, this.description, this.rerun, this.parameters, this.warmUp, streams);
	}

	public Optional<ParameterDefinition> parameter(String parameterName) {
		return this.parameters.stream().filter(p -> p.name().equals(parameterName)).findFirst();
	}

}
