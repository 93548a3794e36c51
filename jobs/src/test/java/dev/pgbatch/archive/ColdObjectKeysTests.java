package dev.pgbatch.archive;

import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ColdObjectKeysTests {

	private static final UUID SEGMENT = UUID.fromString("0b6f8e5c-1d2a-4c3b-9e8f-7a6b5c4d3e2f");

	@Test
	void aSegmentsObjectAndManifestSitSideBySideInItsPartitionsFolder() {
		String object = ColdObjectKeys.object("archive", "ops.task_executions", "task_executions_p2025_07", SEGMENT);

		assertThat(object).isEqualTo("archive/ops.task_executions/task_executions_p2025_07/" + SEGMENT + ".copy.zst.tink");
		assertThat(ColdObjectKeys.manifestOf(object))
			.isEqualTo("archive/ops.task_executions/task_executions_p2025_07/" + SEGMENT + ".manifest.zst.tink");
		assertThat(ColdObjectKeys.objectOf(ColdObjectKeys.manifestOf(object))).isEqualTo(object);
		assertThat(ColdObjectKeys.segmentOf(object)).isEqualTo(SEGMENT.toString());
		assertThat(ColdObjectKeys.isObject(object)).isTrue();
		assertThat(ColdObjectKeys.isManifest(ColdObjectKeys.manifestOf(object))).isTrue();
	}

	@Test
	void aPrefixHoldingTheObjectSuffixLeavesTheManifestKeyBesideTheObject() {
		String object = ColdObjectKeys.object("a.copy.zst.tink", "ops.t", "p", SEGMENT);

		assertThat(ColdObjectKeys.manifestOf(object)).isEqualTo("a.copy.zst.tink/ops.t/p/" + SEGMENT + ".manifest.zst.tink");
	}

	@Test
	void aKeyOfAnotherShapeHasNoManifestKey() {
		assertThatThrownBy(() -> ColdObjectKeys.manifestOf("archive/ops.t/p/x.dump"))
			.isInstanceOf(IllegalArgumentException.class)
			.hasMessage("not the key of a cold segment's object: archive/ops.t/p/x.dump");
	}

}
