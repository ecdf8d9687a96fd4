/*
 * fuzz_table.c: libFuzzer target for the master.cf parser and printer.
 *
 * Built and run by "make fuzz" (clang); "make check" runs it over
 * tests/fuzz/corpus/table through tests/fuzz/fuzz_main.c.
 *
 * Any input must parse without a crash; whatever parses must print, and
 * the printout must parse back into an equal table that prints the same.
 * A mismatch aborts, so the fuzzer keeps the input.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
fuzz_print(const struct table *t, size_t *len)
{
	char	*out = NULL;
	FILE	*fp;

	if ((fp = open_memstream(&out, len)) == NULL)
		abort();
	table_print(fp, t, NULL);
	if (fclose(fp) != 0)
		abort();
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct table_defaults d = { .process_limit = 100 };
	struct errlist	 e;
	struct table	*t, *t2;
	struct tentry	*x, *y;
	char		*out, *out2;
	size_t		 len, len2, i;

	errlist_init(&e);
	t = table_parse_buf("fuzz.cf", (const char *)data, size, &d, &e);
	if (t == NULL) {
		/* Rejected: there must be a reason, each "FILE:LINE: ...". */
		if (e.n == 0)
			abort();
		for (i = 0; i < e.n; i++)
			if (strncmp(e.msg[i], "fuzz.cf:", 8) != 0)
				abort();
		errlist_free(&e);
		return 0;
	}
	if (e.n != 0)
		abort();
	out = fuzz_print(t, &len);
	t2 = table_parse_buf("print.cf", out, len, &d, &e);
	if (t2 == NULL) {
		for (i = 0; i < e.n; i++)
			fprintf(stderr, "%s\n", e.msg[i]);
		fprintf(stderr, "--- printed:\n%s", out);
		abort();
	}
	if (t->n != t2->n)
		abort();
	y = TAILQ_FIRST(&t2->entries);
	TAILQ_FOREACH(x, &t->entries, entry) {
		if (y == NULL || !tentry_equal(x, y) ||
		    table_find(t2, x->name, x->type) != y)
			abort();
		y = TAILQ_NEXT(y, entry);
	}
	out2 = fuzz_print(t2, &len2);
	if (len != len2 || memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	table_free(t);
	table_free(t2);
	errlist_free(&e);
	return 0;
}
