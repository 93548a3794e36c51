package dev.pgbatch.core;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OwnConnectionsTests {

	@Test
	void anotherDatabaseKeepsTheHostsAndEveryParameter() {
		assertThat(OwnConnections.urlFor("jdbc:postgresql://db.example:5433/pgbatch?sslmode=verify-full&ApplicationName=x",
				"postgres"))
			.isEqualTo("jdbc:postgresql://db.example:5433/postgres?sslmode=verify-full&ApplicationName=x");
		assertThat(OwnConnections.urlFor("jdbc:postgresql://a:5432,b:5432/pgbatch?targetServerType=primary", "other"))
			.isEqualTo("jdbc:postgresql://a:5432,b:5432/other?targetServerType=primary");
		assertThat(OwnConnections.urlFor("jdbc:postgresql://localhost/pgbatch", "postgres"))
			.isEqualTo("jdbc:postgresql://localhost/postgres");
		assertThat(OwnConnections.urlFor("jdbc:postgresql://localhost?sslmode=disable", "postgres"))
			.isEqualTo("jdbc:postgresql://localhost/postgres?sslmode=disable");
	}

	@Test
	void aUrlOfAnotherKindIsRefused() {
		assertThatThrownBy(() -> OwnConnections.urlFor("jdbc:mysql://h/db", "postgres"))
			.isInstanceOf(IllegalArgumentException.class)
			.hasMessageContaining("not a PostgreSQL JDBC URL");
	}

}
