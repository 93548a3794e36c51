package dev.pgbatch.backup;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Grandfather-father-son retention over complete backups: the newest keep-last, the newest of each of the
 * last keep-daily days that have a backup, the newest of each of the last keep-weekly ISO weeks, and always
 * the newest verified backup and the backup the current run made, whatever the numbers say. Ages are the
 * store's last-modified times of the manifests: one clock for every runner, where the ids are each runner's
 * own clock (a runner whose clock is ahead would otherwise make every other runner's backups look old, even
 * the one just made). Days and weeks are UTC.
 */
final class Retention {

	/** A complete backup as retention sees it: when the store wrote its manifest. */
	record Candidate(String id, Instant storedAt, boolean verified) {
	}

	private Retention() {
	}

	/** The ids to keep, of candidates given newest first; {@code current} (the run's own backup) always. */
	static Set<String> keep(List<Candidate> newestFirst, String current, long last, long daily, long weekly) {
		Set<String> kept = new LinkedHashSet<>();
		kept.add(current);
		newestFirst.stream().limit(last).forEach(candidate -> kept.add(candidate.id()));
		kept.addAll(newestPer(newestFirst, daily, candidate -> day(candidate)));
		kept.addAll(newestPer(newestFirst, weekly, candidate -> {
			LocalDate day = day(candidate);
			return day.get(IsoFields.WEEK_BASED_YEAR) * 100 + day.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR);
		}));
		newestFirst.stream().filter(Candidate::verified).findFirst().ifPresent(candidate -> kept.add(candidate.id()));
		return kept;
	}

	private static Set<String> newestPer(List<Candidate> newestFirst, long periods, Function<Candidate, Object> period) {
		Set<Object> seen = new HashSet<>();
		Set<String> kept = new HashSet<>();
		for (Candidate candidate : newestFirst) {
			if (seen.size() == periods && !seen.contains(period.apply(candidate))) {
				break;
			}
			if (seen.add(period.apply(candidate))) {
				kept.add(candidate.id());
			}
		}
		return kept;
	}

	private static LocalDate day(Candidate candidate) {
		return LocalDate.ofInstant(candidate.storedAt(), ZoneOffset.UTC);
	}

}
