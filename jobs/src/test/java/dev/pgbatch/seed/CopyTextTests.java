package dev.pgbatch.seed;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CopyTextTests {

	@Test
	void valuesAreEscapedAsCopyTextFormatRequires() {
		CopyText copy = new CopyText();
		copy.text("tab\there").text("line\nbreak").text("back\\slash").text(null).text("Levi's").endRow();
		assertThat(new String(copy.drain(), StandardCharsets.UTF_8))
			.isEqualTo("tab\\there\tline\\nbreak\tback\\\\slash\t\\N\tLevi's\n");
	}

	@Test
	void numbersDatesAndTimesAreFormattedExactly() {
		CopyText copy = new CopyText();
		long epoch = LocalDate.of(2026, 1, 2).atTime(3, 4, 5).toEpochSecond(ZoneOffset.UTC);
		copy.cents(123456).cents(7).cents(-250).thousandths(1005).bool(true).timestamp(epoch).date(LocalDate.of(2024, 2, 29))
			.endRow();
		assertThat(new String(copy.drain(), StandardCharsets.UTF_8))
			.isEqualTo("1234.56\t0.07\t-2.50\t1.005\tt\t2026-01-02 03:04:05+00\t2024-02-29\n");
	}

	@Test
	void drainingEmptiesTheBuffer() {
		CopyText copy = new CopyText();
		copy.number(1).endRow();
		copy.drain();
		assertThat(copy.length()).isZero();
	}

}
