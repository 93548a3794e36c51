package dev.pgbatch.core;

/**
 * Text for a one-line message or log line: control characters in it (a value given with a line break, a tab,
 * a role or table name holding one) are written as escapes (a backslash and n, t, r, or u and four hex digits),
 * so that an error is always exactly one line and a name cannot forge another log line.
 */
public final class OneLine {

	private OneLine() {
	}

	public static String of(String message) {
		String text = String.valueOf(message);
		StringBuilder line = new StringBuilder(text.length());
		text.codePoints().forEach(c -> {
			switch (c) {
				case '\n' -> line.append("\\n");
				case '\r' -> line.append("\\r");
				case '\t' -> line.append("\\t");
				default -> {
					if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029 || c == 0x85) {
						line.append(String.format("\\u%04x", c));
					}
					else {
						line.appendCodePoint(c);
					}
				}
			}
		});
		return line.toString();
	}

}
