/*
 * replay.c -- run a libFuzzer target without libFuzzer: call
 * LLVMFuzzerInitialize (when the target has one), then
 * LLVMFuzzerTestOneInput on every file named on the command line and on
 * every file of the directories named (recursively, in name order).
 * Prints "replayed N inputs" and exits 0; a crash or abort of the target
 * ends the process as it would under libFuzzer.  Exits 1 when an argument
 * cannot be read.  Paths are made absolute before the target starts.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			if (!(nb = realloc(buf, cap)))
				goto fail;
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	if (ferror(f))
		goto fail;
	fclose(f);
	/* an exact-size copy, so that ASan sees reads past the end */
	nb = malloc(len ? len : 1);
	if (!nb) {
		free(buf);
		return -1;
	}
	memcpy(nb, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(nb, len);
	free(nb);
	replayed++;
	return 0;
fail:
	fprintf(stderr, "replay: %s: cannot read\n", path);
	free(buf);
	fclose(f);
	return -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path);

static int replay_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL, **nn;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(nn = realloc(names, cap * sizeof(*names)))) {
				rc = -1;
				goto out;
			}
			names = nn;
		}
		size_t l = strlen(path) + strlen(de->d_name) + 2;
		if (!(names[n] = malloc(l))) {
			rc = -1;
			goto out;
		}
		snprintf(names[n++], l, "%s/%s", path, de->d_name);
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = replay_path(names[i]);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

static int replay_path(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(sb.st_mode) ? replay_dir(path) : replay_file(path);
}

int main(int argc, char **argv)
{
	char **paths = calloc((size_t)argc, sizeof(*paths));
	int rc = 0;

	if (!paths)
		return 1;
	/* absolute first: a target may change directory when it starts */
	for (int i = 1; i < argc; i++)
		if (!(paths[i] = realpath(argv[i], NULL))) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			rc = 1;
			goto out;
		}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && rc == 0; i++)
		if (replay_path(paths[i]) < 0)
			rc = 1;
	if (rc == 0)
		printf("replayed %zu inputs\n", replayed);
out:
	for (int i = 1; i < argc; i++)
		free(paths[i]);
	free(paths);
	return rc;
}
