package dev.pgbatch.refresh;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Every materialized view of the database as the catalog describes it now, in dependency order: a view comes
 * after the materialized views it reads, directly or through plain views, in whatever schema they are. Names
 * are bound as values here; none reaches a statement's text.
 */
final class MaterializedViews {

	/**
	 * One materialized view.
	 *
	 * @param name schema.view
	 * @param concurrently whether REFRESH ... CONCURRENTLY is possible: populated, with a unique index that
	 * PostgreSQL accepts for it (valid, immediate, btree, on plain columns, not partial)
	 * @param readsFrom the materialized views it reads, directly or through plain views
	 */
	record View(String name, String schema, boolean concurrently, Set<String> readsFrom) {
	}

	private final List<View> ordered;

	private final Map<String, View> byName;

	private MaterializedViews(List<View> ordered) {
		this.ordered = ordered;
		this.byName = new HashMap<>();
		ordered.forEach(view -> this.byName.put(view.name(), view));
	}

	static MaterializedViews read(JdbcTemplate jdbc) {
		Map<Long, String> names = new HashMap<>();
		Map<Long, View> views = new HashMap<>();
		jdbc.query("""
				SELECT c.oid, n.nspname, c.relname, c.relispopulated AND EXISTS (
				           SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
				           WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indimmediate
				             AND i.indpred IS NULL AND i.indexprs IS NULL AND am.amname = 'btree') AS concurrently
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE c.relkind = 'm'
				""", row -> {
			String name = row.getString("nspname") + "." + row.getString("relname");
			names.put(row.getLong("oid"), name);
			views.put(row.getLong("oid"), new View(name, row.getString("nspname"), row.getBoolean("concurrently"),
					new TreeSet<>()));
		});
		// What each view or materialized view reads: the relations its rewrite rule depends on.
		Map<Long, Set<Long>> reads = new HashMap<>();
		Set<Long> plainViews = new HashSet<>();
		jdbc.query("""
				SELECT DISTINCT r.ev_class, d.refobjid, ref.relkind = 'v' AS plain_view
				FROM pg_rewrite r
				JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
				     AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
				JOIN pg_class ref ON ref.oid = d.refobjid AND ref.relkind IN ('v', 'm')
				""", row -> {
			reads.computeIfAbsent(row.getLong("ev_class"), key -> new HashSet<>()).add(row.getLong("refobjid"));
			if (row.getBoolean("plain_view")) {
				plainViews.add(row.getLong("refobjid"));
			}
		});
		views.forEach((oid, view) -> collect(oid, reads, plainViews, names, view.readsFrom(), new HashSet<>()));
		return new MaterializedViews(order(views));
	}

	/** The materialized views {@code oid} reads, going through plain views. */
	private static void collect(long oid, Map<Long, Set<Long>> reads, Set<Long> plainViews, Map<Long, String> names,
			Set<String> into, Set<Long> seen) {
		for (long read : reads.getOrDefault(oid, Set.of())) {
			if (!seen.add(read)) {
				continue;
			}
			if (plainViews.contains(read)) {
				collect(read, reads, plainViews, names, into, seen);
			}
			else {
				into.add(names.get(read));
			}
		}
	}

	/** A topological order (Kahn's), ties by name so that the order is the same from run to run. */
	private static List<View> order(Map<Long, View> views) {
		Map<String, View> byName = new HashMap<>();
		views.values().forEach(view -> byName.put(view.name(), view));
		Map<String, Set<String>> waitingFor = new HashMap<>();
		Map<String, List<String>> readBy = new HashMap<>();
		TreeSet<String> ready = new TreeSet<>();
		for (View view : byName.values()) {
			waitingFor.put(view.name(), new HashSet<>(view.readsFrom()));
			view.readsFrom().forEach(read -> readBy.computeIfAbsent(read, key -> new ArrayList<>()).add(view.name()));
			if (view.readsFrom().isEmpty()) {
				ready.add(view.name());
			}
		}
		List<View> ordered = new ArrayList<>();
		while (!ready.isEmpty()) {
			String next = ready.pollFirst();
			ordered.add(byName.get(next));
			for (String reader : readBy.getOrDefault(next, List.of())) {
				Set<String> waiting = waitingFor.get(reader);
				waiting.remove(next);
				if (waiting.isEmpty()) {
					ready.add(reader);
				}
			}
		}
		return ordered;
	}

	/** Every materialized view, each after those it reads. */
	List<View> ordered() {
		return this.ordered;
	}

	/** The materialized views {@code view} reads, directly or through other views, materialized or not. */
	Set<String> upstream(View view) {
		Set<String> upstream = new LinkedHashSet<>();
		List<String> pending = new ArrayList<>(view.readsFrom());
		while (!pending.isEmpty()) {
			String read = pending.remove(pending.size() - 1);
			if (upstream.add(read)) {
				pending.addAll(this.byName.get(read).readsFrom());
			}
		}
		return upstream;
	}

}
