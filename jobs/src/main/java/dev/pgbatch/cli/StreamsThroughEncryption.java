package dev.pgbatch.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a command that streams whole databases or partitions through encryption and hashing (or runs jobs that
 * do): bin/etl starts it with the JVM's optimising compiler, which alone runs AES and SHA on the CPU's own
 * instructions; every other command starts with the quick compiler alone. As JobDefinition's flag of the same
 * name does for run JOB; {@link FullJitCommands} lists both for bin/etl.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@interface StreamsThroughEncryption {

}
