package dev.pgbatch.backup;

import dev.pgbatch.core.ExecutionReport;
import dev.pgbatch.core.OneLine;

import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.StepContribution;
import org.springframework.batch.core.step.tasklet.Tasklet;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;

/**
 * backup-verify's step: what bin/etl backup verify --physical does ({@link PhysicalVerify}: pgBackRest's verify and
 * the WAL archive's gap check, recorded in etl.physical_verify), failing the step with its problems on one line.
 */
class RepositoryVerifyTasklet implements Tasklet {

	static final String NOT_VERIFIED = "verify of stanza %s found %d problem(s): %s";

	private final PhysicalVerify verify;

	RepositoryVerifyTasklet(PhysicalVerify verify) {
		this.verify = verify;
	}

	@Override
	public RepeatStatus execute(StepContribution contribution, ChunkContext chunk) throws Exception {
		PhysicalVerify.VerifyResult verified = this.verify.verify();
		chunk.getStepContext().getStepExecution().getExecutionContext().putLong(ExecutionReport.SUMMARY + "verify-id",
				verified.id());
		if (!verified.passed()) {
			throw new IllegalStateException(OneLine.of(NOT_VERIFIED.formatted(verified.stanza(),
					verified.problems().size(), String.join("; ", verified.problems()))));
		}
		chunk.getStepContext().getStepExecution().getExecutionContext().putString(ExecutionReport.SUMMARY + "verify",
				verified.summary());
		return RepeatStatus.FINISHED;
	}

}
