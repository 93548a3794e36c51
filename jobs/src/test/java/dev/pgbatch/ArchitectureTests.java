package dev.pgbatch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The packages' dependency direction: core ← store, crypto ← the jobs ← nightly, schedule ← cli; nothing depends on
 * the command line, and the root package (the application and its job catalogue) forms no cycle with it.
 */
class ArchitectureTests {

	private static final JavaClasses CLASSES = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.importPackages("dev.pgbatch");

	private static final String[] JOBS = { "dev.pgbatch.archive..", "dev.pgbatch.backup..", "dev.pgbatch.embed..",
			"dev.pgbatch.partition..", "dev.pgbatch.refresh..", "dev.pgbatch.seed.." };

	@Test
	void eachLayerDependsOnlyOnTheLayersBelowIt() {
		layeredArchitecture().consideringOnlyDependenciesInLayers()
			.layer("core").definedBy("dev.pgbatch.core..")
			.layer("store").definedBy("dev.pgbatch.store..", "dev.pgbatch.crypto..")
			.layer("jobs").definedBy(JOBS)
			.layer("nightly").definedBy("dev.pgbatch.nightly..")
			.layer("schedule").definedBy("dev.pgbatch.schedule..")
			.layer("cli").definedBy("dev.pgbatch.cli..")
			.whereLayer("cli").mayNotBeAccessedByAnyLayer()
			.whereLayer("schedule").mayOnlyBeAccessedByLayers("cli")
			.whereLayer("nightly").mayOnlyBeAccessedByLayers("schedule", "cli")
			.whereLayer("jobs").mayOnlyBeAccessedByLayers("jobs", "nightly", "schedule", "cli")
			.whereLayer("store").mayOnlyBeAccessedByLayers("jobs", "nightly", "schedule", "cli")
			.check(CLASSES);
	}

	@Test
	void settingsAreReadFromTheEnvironmentInOnePlaceOnly() {
		// PostgresTools hands its environment on to the tools it starts; nothing else reads the environment
		noClasses().that().doNotHaveFullyQualifiedName(Settings.class.getName())
			.and().doNotHaveFullyQualifiedName("dev.pgbatch.backup.PostgresTools")
			.should().callMethod(System.class, "getenv", String.class)
			.orShould().callMethod(System.class, "getenv")
			.check(CLASSES);
	}

	@Test
	void theTopLevelPackagesFormNoCycle() {
		slices().matching("dev.pgbatch.(*)..").should().beFreeOfCycles().check(CLASSES);
	}

}
