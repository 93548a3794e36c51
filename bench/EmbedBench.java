package dev.pgbatch.embed;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.pgbatch.PgBatchApplication;
import dev.pgbatch.core.JobParametersParser;
import dev.pgbatch.core.JobRunner;

import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * bench/embed's measurement, in one JVM: the embed-products job over every product, against the model's own
 * embedAll on the same texts, run after run in alternating order (the machine is noisy; read medians).
 * Arguments: runs, batch size. The products must be seeded (bench/embed does it).
 */
public final class EmbedBench {

	private EmbedBench() {
	}

	public static void main(String[] args) {
		int runs = Integer.parseInt(args[0]);
		String batchSize = args[1];
		ProductEmbeddingModel model = ProductEmbeddingModel.ALL_MINILM_L6_V2;
		try (ConfigurableApplicationContext context = new SpringApplicationBuilder(PgBatchApplication.class)
			.logStartupInfo(false)
			.run()) {
			JobRunner runner = context.getBean(JobRunner.class);
			EmbeddingModels models = context.getBean(EmbeddingModels.class);
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			JobParametersParser parser = new JobParametersParser(Clock.systemUTC());

			List<Double> jobRates = new ArrayList<>();
			List<Double> rawRates = new ArrayList<>();
			List<Double> ratios = new ArrayList<>();
			System.out.printf(Locale.ROOT, "%-4s %9s %9s %12s %9s %12s %7s%n", "run", "products", "job_s", "job_per_s",
					"raw_s", "raw_per_s", "ratio");
			// run 0 warms up both sides (model load, JIT, the job's first connections) and is not counted
			for (int run = 0; run <= runs; run++) {
				double raw = 0;
				boolean rawFirst = run > 0 && run % 2 == 0;
				if (rawFirst) {
					raw = raw(models, model, texts(jdbc, model));
				}
				jdbc.update("DELETE FROM retail.product_embeddings WHERE embedding_model = ?", model.id());
				Map<String, Object> values = parser.parse(EmbedProductsJob.DEFINITION,
						List.of("model=" + model.id(), "batch-size=" + batchSize));
				JobExecution execution = runner.start(EmbedProductsJob.NAME,
						parser.toJobParameters(EmbedProductsJob.DEFINITION, values));
				if (execution.getStatus() != BatchStatus.COMPLETED) {
					throw new IllegalStateException("embed-products ended " + execution.getStatus());
				}
				double job = Duration.between(execution.getStartTime(), execution.getEndTime()).toNanos() / 1e9;
				List<String> texts = texts(jdbc, model);
				if (!rawFirst) {
					raw = raw(models, model, texts);
				}
				double jobRate = texts.size() / job;
				double rawRate = texts.size() / raw;
				if (run > 0) {
					jobRates.add(jobRate);
					rawRates.add(rawRate);
					ratios.add(jobRate / rawRate);
				}
				String steps = execution.getStepExecutions()
					.stream()
					.map(step -> String.format(Locale.ROOT, "%s %.2f", step.getStepName(),
							Duration.between(step.getStartTime(), step.getEndTime()).toNanos() / 1e9))
					.collect(java.util.stream.Collectors.joining(", ", "  (", " s)"));
				System.out.printf(Locale.ROOT, "%-4s %9d %9.2f %12.1f %9.2f %12.1f %7.2f%s%n", run == 0 ? "warm" : run, texts.size(), job,
						jobRate, raw, rawRate, jobRate / rawRate, steps);
			}
			System.out.printf(Locale.ROOT,
					"%nmedians of %d runs: job %.1f products/s, embedAll %.1f texts/s, ratio job/embedAll %.2f (target >= 0.9)%n",
					runs, median(jobRates), median(rawRates), median(ratios));
		}
	}

	private static List<String> texts(JdbcTemplate jdbc, ProductEmbeddingModel model) {
		return jdbc.queryForList(
				"SELECT embedding_text FROM retail.product_embeddings WHERE embedding_model = ? ORDER BY product_id",
				String.class, model.id());
	}

	/** Seconds the model takes for the texts in one embedAll: the most it can do, with nothing around it. */
	private static double raw(EmbeddingModels models, ProductEmbeddingModel model, List<String> texts) {
		long start = System.nanoTime();
		models.embed(model, texts);
		return (System.nanoTime() - start) / 1e9;
	}

	private static double median(List<Double> values) {
		List<Double> sorted = new ArrayList<>(values);
		Collections.sort(sorted);
		int n = sorted.size();
		return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
	}

}
