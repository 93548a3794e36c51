package dev.pgbatch.core;

import java.util.List;
import java.util.Optional;

/**
 * What the command line knows of a job without starting Spring: its name, what it does, its parameters.
 * Parameters are validated against this before anything is launched or written.
 */
public record JobDefinition(String name, String description, String rerun, List<ParameterDefinition> parameters) {

	public Optional<ParameterDefinition> parameter(String parameterName) {
		return this.parameters.stream().filter(p -> p.name().equals(parameterName)).findFirst();
	}

}
