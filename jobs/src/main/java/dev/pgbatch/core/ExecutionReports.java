package dev.pgbatch.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.dao.EmptyResultDataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.stereotype.Component;

/** Reads executions back from the job repository for executions, status and run. */
@Component
public class ExecutionReports {

	private final JobRepository repository;

	private final JdbcTemplate jdbc;

	private final ExecutionLock lock;

	ExecutionReports(JobRepository repository, JdbcTemplate jdbc, ExecutionLock lock) {
		this.repository = repository;
		this.jdbc = jdbc;
		this.lock = lock;
	}

	public ExecutionReport report(JobExecution execution) {
		String job = execution.getJobInstance().getJobName();
		// whether its process lives: the lock its run takes, by its parameters (a physical backup's is not "backup")
		boolean orphaned = execution.getStatus().isRunning() && !this.lock.isHeld(job, execution.getJobParameters());
		return ExecutionReport.of(execution, orphaned, newer(this.jdbc, execution) != null);
	}

	/**
	 * An execution of the same job that started after this one and takes the same lock, of any of its instances,
	 * or null: only the newest execution of a job's lock is continued by restart (see {@link JobRunner#restart}),
	 * and so the only one a report tells to restart. Runs of other locks (a logical backup after a physical one)
	 * go on side by side and do not supersede it.
	 */
	static Long newer(JdbcTemplate jdbc, JobExecution execution) {
		String job = execution.getJobInstance().getJobName();
		String lock = ExecutionLock.lockName(job, execution.getJobParameters());
		// one query, parameters and all: loading each later execution through the repository (steps, contexts) is
		// slow, and fails on one deleted meanwhile
		Map<Long, JobParametersBuilder> after = new LinkedHashMap<>();
		jdbc.query("""
				SELECT e.job_execution_id, p.parameter_name, p.parameter_value FROM etl.batch_job_execution e
				JOIN etl.batch_job_instance i ON i.job_instance_id = e.job_instance_id
				LEFT JOIN etl.batch_job_execution_params p ON p.job_execution_id = e.job_execution_id
				  AND p.parameter_type = 'java.lang.String'
				WHERE i.job_name = ? AND e.job_execution_id > ?
				ORDER BY e.job_execution_id
				""", (RowCallbackHandler) row -> {
			JobParametersBuilder parameters = after.computeIfAbsent(row.getLong(1), id -> new JobParametersBuilder());
			if (row.getString(2) != null && row.getString(3) != null) {
				parameters.addString(row.getString(2), row.getString(3));
			}
		}, job, execution.getId());
		return after.entrySet()
			.stream()
			.filter(later -> lock.equals(ExecutionLock.lockName(job, later.getValue().toJobParameters())))
			.map(Map.Entry::getKey)
			.findFirst()
			.orElse(null);
	}

	public ExecutionReport report(long executionId) {
		return report(find(this.repository, executionId));
	}

	/** The execution, or a {@link UsageException} naming the id (the repository throws on unknown ids). */
	static JobExecution find(JobRepository repository, long executionId) {
		JobExecution execution;
		try {
			execution = repository.getJobExecution(executionId);
		}
		catch (EmptyResultDataAccessException ex) {
			execution = null;
		}
		if (execution == null) {
			throw new UsageException("there is no execution " + executionId);
		}
		return execution;
	}

	/** The newest executions first, of one job or of all. */
	public List<ExecutionReport> newest(String jobName, int limit) {
		List<Long> ids = this.jdbc.queryForList("""
				SELECT e.job_execution_id FROM etl.batch_job_execution e
				JOIN etl.batch_job_instance i ON i.job_instance_id = e.job_instance_id
				WHERE ?::text IS NULL OR i.job_name = ?
				ORDER BY e.job_execution_id DESC LIMIT ?
				""", Long.class, jobName, jobName, limit);
		return ids.stream().map(this::report).toList();
	}

}
