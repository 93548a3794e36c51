package dev.pgbatch.seed;

import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RowRandomnessTests {

	private static final long MINTED = 1_700_000_000_000L;

	@Test
	void aRowsUuidDependsOnlyOnSeedTableAndRow() {
		assertThat(RowRandomness.uuid(42, SeedModel.CUSTOMER, 7, MINTED)).isEqualTo(RowRandomness.uuid(42, SeedModel.CUSTOMER, 7, MINTED));
		assertThat(RowRandomness.uuid(42, SeedModel.CUSTOMER, 7, MINTED)).isNotEqualTo(RowRandomness.uuid(43, SeedModel.CUSTOMER, 7, MINTED))
			.isNotEqualTo(RowRandomness.uuid(42, SeedModel.PRODUCT, 7, MINTED))
			.isNotEqualTo(RowRandomness.uuid(42, SeedModel.CUSTOMER, 8, MINTED));
	}

	@Test
	void uuidsAreVersionSevenDistinctAndInRowOrder() {
		String previous = "";
		for (long row = 0; row < 200_000; row++) {
			String id = RowRandomness.uuid(42, SeedModel.ITEM, row, MINTED).toString();
			assertThat(id).isGreaterThan(previous);
			previous = id;
		}
		UUID parsed = RowRandomness.uuid(1, 2, 3, MINTED);
		assertThat(parsed.version()).isEqualTo(7);
		assertThat(parsed.variant()).isEqualTo(2);
		assertThat(parsed.getMostSignificantBits() >>> 16).as("the minting time in milliseconds").isEqualTo(MINTED + 3);
	}

	@Test
	void aRowsRandomStreamIsReproducible() {
		assertThat(RowRandomness.random(42, SeedModel.TRANSACTION, 99).nextLong())
			.isEqualTo(RowRandomness.random(42, SeedModel.TRANSACTION, 99).nextLong());
	}

	@Test
	void weightedDrawsFollowTheirWeights() {
		int[] counts = new int[4];
		var random = RowRandomness.random(1, 1, 1);
		for (int i = 0; i < 100_000; i++) {
			counts[RowRandomness.weighted(random, new int[] { 50, 30, 15, 5 })]++;
		}
		assertThat(counts[0]).isBetween(49_000, 51_000);
		assertThat(counts[3]).isBetween(4_500, 5_500);
	}

	@Test
	void paddingAndLetters() {
		assertThat(RowRandomness.padded(42, 6)).isEqualTo("000042");
		assertThat(RowRandomness.padded(1234567, 3)).isEqualTo("1234567");
		assertThat(RowRandomness.letters("O'Connor-Smith")).isEqualTo("oconnorsmith");
	}

}
