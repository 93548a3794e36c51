package dev.pgbatch.cli;

import picocli.CommandLine.Option;

/**
 * --json, as every command that reports has it: one JSON document on stdout instead of text (logs go to stderr).
 * What the document holds is the command's own (its description says it where it is not the text's fields).
 */
final class JsonOption {

	@Option(names = "--json", description = "Print one JSON document instead of text.")
	boolean on;

}
