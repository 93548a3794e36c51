package dev.pgbatch.core;

import org.junit.jupiter.api.Test;

import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

import static org.assertj.core.api.Assertions.assertThat;

/** Which lock a run takes (issue 15): physical backups their own, every other run its job's. */
class ExecutionLockTests {

	@Test
	void physicalBackupsTakeTheirOwnLockAndAMissingOrUnknownTypeIsLogical() {
		for (String type : new String[] { "full", "diff", "incr" }) {
			assertThat(ExecutionLock.lockName("backup", typed(type))).isEqualTo("backup physical");
		}
		for (String type : new String[] { "logical", "FULL", "" }) {
			assertThat(ExecutionLock.lockName("backup", typed(type))).isEqualTo("backup");
		}
		assertThat(ExecutionLock.lockName("backup", new JobParameters())).isEqualTo("backup");
	}

	@Test
	void anyOtherJobTakesTheLockOfItsNameWhateverItsParameters() {
		assertThat(ExecutionLock.lockName("nightly", typed("full"))).isEqualTo("nightly");
		assertThat(ExecutionLock.lockName("backup-verify", typed("full"))).isEqualTo("backup-verify");
		assertThat(ExecutionLock.lockName("no such job", typed("full"))).isEqualTo("no such job");
	}

	private static JobParameters typed(String type) {
		return new JobParametersBuilder().addString("type", type).toJobParameters();
	}

}
