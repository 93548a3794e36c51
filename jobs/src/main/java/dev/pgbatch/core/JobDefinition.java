package dev.pgbatch.core;

import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * What the command line knows of a job without starting Spring: its name, what it does, its parameters.
 * Parameters are validated against this before anything is launched or written. {@code warmUp} is what
 * a command about to run the job starts before Spring: Spring's start keeps one core busy for seconds
 * and leaves the other free.
 */
public record JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters,
		@JsonIgnore Runnable warmUp) {

	/** A job with nothing to warm up. */
	public JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters) {
		this(name, description, rerun, parameters, () -> {
		});
	}

	public Optional<ParameterDefinition> parameter(String parameterName) {
		return this.parameters.stream().filter(p -> p.name().equals(parameterName)).findFirst();
	}

}
