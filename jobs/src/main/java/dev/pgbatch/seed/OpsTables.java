package dev.pgbatch.seed;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The ops schema of seed 000: users, agents, tasks, and task executions spread over the 18 months
 * before as-of, so that many monthly partitions hold data.
 */
final class OpsTables {

	static final long DAY = 86_400;

	private static final List<String> ROLES = List.of("[\"admin\"]", "[\"operator\"]", "[\"operator\", \"developer\"]",
			"[\"viewer\"]", "[\"developer\"]");

	private static final int[] ROLE_WEIGHTS = { 5, 35, 15, 30, 15 };

	private static final List<String> AGENT_TYPES = List.of("customer_service", "data_analysis", "document_review",
			"code_review", "report_generation", "email_triage", "invoice_processing", "translation", "research",
			"scheduling", "monitoring", "qa_testing");

	private static final List<String> AGENT_STATUSES = List.of("active", "inactive", "suspended");

	private static final int[] AGENT_STATUS_WEIGHTS = { 70, 20, 10 };

	private static final List<String> MODELS = List.of("gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama-3-70b");

	private static final List<String> PRIORITIES = List.of("low", "medium", "high", "critical");

	private static final int[] PRIORITY_WEIGHTS = { 30, 45, 20, 5 };

	private static final List<String> TASK_STATUSES = List.of("completed", "failed", "pending", "running", "cancelled");

	private static final int[] TASK_STATUS_WEIGHTS = { 70, 10, 10, 5, 5 };

	private static final List<String> SOURCES = List.of("email", "api", "web_form", "schedule", "slack", "crm");

	private static final List<String> EXECUTION_STATUSES = List.of("completed", "failed", "timeout", "cancelled",
			"running");

	private static final int[] EXECUTION_STATUS_WEIGHTS = { 80, 10, 5, 3, 2 };

	private static final List<String> ERRORS = List.of("upstream API returned 503 Service Unavailable",
			"input document could not be parsed: unexpected end of file", "rate limit exceeded for model endpoint",
			"permission denied reading customer record", "validation failed: required field 'due_date' is missing",
			"connection reset by peer while uploading result");

	private static final String HASH_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	private OpsTables() {
	}

	static final SeedTable USERS = new SeedTable() {

		@Override
		public String name() {
			return "users";
		}

		@Override
		public long count(SeedModel model) {
			return model.plan.users();
		}

		@Override
		public List<String> copyTargets() {
			return List.of("ops.users (user_id, username, email, password_hash, roles, is_active, created_at,"
					+ " updated_at)");
		}

		@Override
		public void write(SeedModel model, long row, List<BinaryCopy> out) {
			SplittableRandom random = model.random(SeedModel.USER, row);
			String username = RowRandomness.letters(RowRandomness.pick(random, model.firstNames).charAt(0)
					+ RowRandomness.pick(random, model.lastNames)) + row;
			StringBuilder hash = new StringBuilder("$2b$12$");
			for (int i = 0; i < 53; i++) {
				hash.append(HASH_ALPHABET.charAt(random.nextInt(HASH_ALPHABET.length())));
			}
			long created = model.plan.historyStartEpochSecond() - random.nextInt(365) * DAY;
			out.get(0)
				.uuid(model.id(SeedModel.USER, row))
				.text(username)
				.text(username + "@example.com")
				.text(hash.toString())
				.jsonb(ROLES.get(RowRandomness.weighted(random, ROLE_WEIGHTS)))
				.bool(random.nextInt(20) != 0)
				.timestamp(created)
				.timestamp(created)
				.endRow();
		}

	};

	static final SeedTable AGENTS = new SeedTable() {

		@Override
		public String name() {
			return "agents";
		}

		@Override
		public long count(SeedModel model) {
			return model.plan.agents();
		}

		@Override
		public List<String> copyTargets() {
			return List.of("ops.agents (agent_id, agent_type, version, config, status, created_at, updated_at,"
					+ " created_by)");
		}

		@Override
		public void write(SeedModel model, long row, List<BinaryCopy> out) {
			SplittableRandom random = model.random(SeedModel.AGENT, row);
			String type = AGENT_TYPES.get((int) (row % AGENT_TYPES.size()));
			long generation = row / AGENT_TYPES.size();
			// (agent_type, version) is unique: each generation of a type gets its own version.
			String version = (1 + generation / 100) + "." + (generation % 100) + "." + random.nextInt(10);
			String config = "{\"name\": \"" + type.replace('_', ' ') + " agent " + (generation + 1) + "\", \"model\": \""
					+ RowRandomness.pick(random, MODELS) + "\", \"max_concurrent_tasks\": " + (1 + random.nextInt(16))
					+ ", \"timeout_seconds\": " + 60 * (1 + random.nextInt(30)) + "}";
			long created = model.plan.historyStartEpochSecond() - random.nextInt(180) * DAY;
			out.get(0)
				.uuid(model.id(SeedModel.AGENT, row))
				.text(type)
				.text(version)
				.jsonb(config)
				.text(AGENT_STATUSES.get(RowRandomness.weighted(random, AGENT_STATUS_WEIGHTS)))
				.timestamp(created)
				.timestamp(created)
				.uuid(model.id(SeedModel.USER, random.nextLong(model.plan.users())))
				.endRow();
		}

	};

	static final SeedTable TASKS = new SeedTable() {

		@Override
		public String name() {
			return "tasks";
		}

		@Override
		public long count(SeedModel model) {
			return model.plan.tasks();
		}

		@Override
		public List<String> copyTargets() {
			return List.of("ops.tasks (task_id, task_type, priority, data, status, deadline, created_at, updated_at,"
					+ " assigned_agent)");
		}

		@Override
		public void write(SeedModel model, long row, List<BinaryCopy> out) {
			SplittableRandom random = model.random(SeedModel.TASK, row);
			long agent = model.agentOfTask(row);
			String type = AGENT_TYPES.get((int) (agent % AGENT_TYPES.size()));
			long start = model.plan.historyStartEpochSecond();
			long created = start + random.nextLong(model.plan.asOfEpochSecond() - start);
			String data = "{\"source\": \"" + RowRandomness.pick(random, SOURCES) + "\", \"items\": " + (1 + random.nextInt(200))
					+ ", \"reference\": \"T-" + RowRandomness.padded(row, 8) + "\"}";
			out.get(0)
				.uuid(model.id(SeedModel.TASK, row))
				.text(type)
				.text(PRIORITIES.get(RowRandomness.weighted(random, PRIORITY_WEIGHTS)))
				.jsonb(data)
				.text(TASK_STATUSES.get(RowRandomness.weighted(random, TASK_STATUS_WEIGHTS)))
				.timestamp(created + (1 + random.nextInt(14)) * DAY)
				.timestamp(created)
				.timestamp(created)
				.uuid(model.id(SeedModel.AGENT, agent))
				.endRow();
		}

	};

	static final SeedTable TASK_EXECUTIONS = new SeedTable() {

		@Override
		public String name() {
			return "task-executions";
		}

		@Override
		public long count(SeedModel model) {
			return model.plan.taskExecutions();
		}

		@Override
		public List<String> copyTargets() {
			return List.of("ops.task_executions (execution_id, task_id, agent_id, status, execution_time,"
					+ " error_message, created_at)");
		}

		@Override
		public void write(SeedModel model, long row, List<BinaryCopy> out) {
			SplittableRandom random = model.random(SeedModel.TASK_EXECUTION, row);
			long task = random.nextLong(model.plan.tasks());
			long start = model.plan.historyStartEpochSecond();
			long created = start + random.nextLong(model.plan.asOfEpochSecond() - start);
			String status = EXECUTION_STATUSES.get(RowRandomness.weighted(random, EXECUTION_STATUS_WEIGHTS));
			BinaryCopy copy = out.get(0)
				.uuid(model.id(SeedModel.TASK_EXECUTION, row))
				.uuid(model.id(SeedModel.TASK, task))
				.uuid(model.id(SeedModel.AGENT, model.agentOfTask(task)))
				.text(status);
			if (status.equals("running")) {
				copy.nul();
			}
			else {
				// Durations are skewed: most runs take seconds, a few take many minutes.
				double seconds = 0.2 + StrictMath.pow(random.nextDouble(), 3) * 900;
				copy.thousandths(Math.round(seconds * 1000));
			}
			copy.text((status.equals("failed") || status.equals("timeout")) ? RowRandomness.pick(random, ERRORS) : null)
				.timestamp(created)
				.endRow();
		}

	};

}
