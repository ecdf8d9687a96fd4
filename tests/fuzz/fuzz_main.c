/*
 * fuzz_main.c: a main() for the fuzz targets without libFuzzer, so that
 * "make check" runs each target over its corpus with any compiler.
 *
 *	fuzz_NAME FILE...
 *
 * Each FILE is one input, read whole and passed to
 * LLVMFuzzerTestOneInput(); a target that finds a broken invariant aborts.
 * Exit 0 when every input went through, 2 when a file cannot be read.
 */
#include <sys/types.h>

#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_file(const char *path)
{
	FILE	*fp;
	uint8_t	*buf = NULL;
	size_t	 len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL) {
		warn("%s", path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if ((buf = realloc(buf, cap)) == NULL)
				err(2, "realloc");
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
	} while (n > 0);
	if (ferror(fp)) {
		warn("%s", path);
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	(void)LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	int	 i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (fuzz_file(argv[i]) == -1)
			rc = 2;
	return rc;
}
