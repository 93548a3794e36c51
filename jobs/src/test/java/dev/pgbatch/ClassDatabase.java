package dev.pgbatch;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives every top-level test class a database of its own ({@link TestDatabase#name()}), dropped when the class
 * ends. Registered for every test class through junit-platform.properties (auto-detection), so a new class needs
 * nothing; a class that never asks for its database costs nothing. Its afterAll comes after the Spring
 * extension's, which has closed the class's application context by then (DatabaseIntegrationTest dirties it).
 */
public final class ClassDatabase implements BeforeAllCallback, AfterAllCallback {

	@Override
	public void beforeAll(ExtensionContext context) {
		if (topLevel(context)) {
			TestDatabase.enter(context.getRequiredTestClass());
		}
	}

	@Override
	public void afterAll(ExtensionContext context) throws Exception {
		if (topLevel(context)) {
			TestDatabase.leave();
		}
	}

	private static boolean topLevel(ExtensionContext context) {
		return context.getRequiredTestClass().getEnclosingClass() == null;
	}

}
