/*
 * fuzz_corefile.c -- libFuzzer target: any bytes as a Corefile, through
 * the parser (corefile_parse_text, on the bytes as they are) and through
 * the whole configuration build with every directive's setup
 * (config_load_text, on a NUL-terminated copy).  A failure must say why.
 *
 * Nothing here opens a socket.  The target works in an empty temporary
 * directory of its own, so that relative imports find nothing; what a
 * Corefile names by absolute path is only read.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "server/corefile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-corefile-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror("fuzz_corefile: temporary directory");
		abort();
	}
	/* {$ENV} substitution has something to find */
	setenv("CLUSTERDNS_FUZZ_ZONE", "cluster.local", 1);
	setenv("CLUSTERDNS_FUZZ_TTL", "30", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct corefile *cf = NULL;
	struct config *cfg = NULL;
	char err[1024];

	if (corefile_parse_text("Corefile", (const char *)data, size, &cf, err,
				sizeof(err)) < 0) {
		if (cf || !err[0])
			abort();
	}
	corefile_free(cf);

	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_text("Corefile", text, 53, &cfg, err, sizeof(err)) <
	    0) {
		if (cfg || !err[0])
			abort();
	} else if (!cfg || !cfg->nblocks) {
		abort(); /* an empty Corefile is an error */
	}
	config_free(cfg);
	free(text);
	return 0;
}
