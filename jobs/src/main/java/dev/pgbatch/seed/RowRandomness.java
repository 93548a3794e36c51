package dev.pgbatch.seed;

import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Deterministic randomness by row: every row of every table draws from its own generator, seeded by
 * (seed, table, row number). Any row can be made again on its own, so a restart regenerates exactly
 * the rows that were not committed, and the result never depends on chunk boundaries.
 */
final class RowRandomness {

	private RowRandomness() {
	}

	static SplittableRandom random(long seed, long table, long row) {
		return new SplittableRandom(mix(seed, table, row));
	}

	/** A well-mixed 64-bit value of three inputs (SplitMix64's finaliser applied in turn). */
	static long mix(long seed, long table, long row) {
		return finalise(finalise(finalise(seed) ^ table * 0x9E3779B97F4A7C15L) ^ row * 0xC2B2AE3D27D4EB4FL);
	}

	/**
	 * A UUID that is a pure function of its inputs, in the version 7 layout: a millisecond timestamp, as if
	 * the rows were minted one millisecond apart from {@code firstMillis}, then random bits. Rows in order
	 * give ids in order, so primary-key inserts append to the index instead of landing on random pages
	 * (a quarter of the COPY time of a table keyed by random ids), as they would in an application that
	 * mints UUIDv7; the row number in the timestamp keeps the ids of a table distinct.
	 */
	static UUID uuid(long seed, long table, long row, long firstMillis) {
		long random = mix(seed, table, row);
		long high = (firstMillis + row) << 16 | 0x7000L | (random & 0x0FFFL);
		long low = (finalise(random ^ 0x5851F42D4C957F2DL) & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
		return new UUID(high, low);
	}

	/** An index drawn with the given weights. */
	static int weighted(SplittableRandom random, int[] weights) {
		int total = 0;
		for (int weight : weights) {
			total += weight;
		}
		int pick = random.nextInt(total);
		for (int i = 0; i < weights.length; i++) {
			pick -= weights[i];
			if (pick < 0) {
				return i;
			}
		}
		return weights.length - 1;
	}

	/** A whole number with leading zeros to the given width (String.format is ten times slower). */
	static String padded(long value, int width) {
		String digits = Long.toString(value);
		return digits.length() >= width ? digits : "0".repeat(width - digits.length()) + digits;
	}

	/** The letters a-z of a name, lower-cased: "O'Connor" gives "oconnor". */
	static String letters(String name) {
		StringBuilder out = new StringBuilder(name.length());
		for (int i = 0; i < name.length(); i++) {
			char c = Character.toLowerCase(name.charAt(i));
			if (c >= 'a' && c <= 'z') {
				out.append(c);
			}
		}
		return out.toString();
	}

	static <T> T pick(SplittableRandom random, java.util.List<T> values) {
		return values.get(random.nextInt(values.size()));
	}

	private static long finalise(long z) {
		z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
		z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
		return z ^ (z >>> 31);
	}

}
