package dev.pgbatch.seed;

import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.stereotype.Component;

/** The model of the current run, made once per run (the name pools take a moment) and shared by its steps. */
@Component
class SeedModels {

	private final Catalog catalog = Catalog.load();

	private SeedPlan lastPlan;

	private SeedModel lastModel;

	synchronized SeedModel of(JobParameters parameters) {
		SeedPlan plan = SeedPlan.of(parameters);
		if (!plan.equals(this.lastPlan)) {
			this.lastModel = new SeedModel(plan, this.catalog);
			this.lastPlan = plan;
		}
		return this.lastModel;
	}

}
