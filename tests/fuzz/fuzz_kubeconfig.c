/*
 * fuzz_kubeconfig.c -- libFuzzer target: any bytes as a kubeconfig file
 * (apiconf_kubeconfig), for its current context and for context "prod";
 * what it gives must be well formed, and its token must read.
 *
 * The file is written to an empty temporary directory of the target's own,
 * which also holds the files a kubeconfig names by relative path (ca.crt,
 * client.crt, client.key, token), so those paths resolve.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zones/apiconf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(name);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[4096];

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/fuzz-kubeconfig-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror("fuzz_kubeconfig: temporary directory");
		abort();
	}
	put("ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n"
		      "-----END CERTIFICATE-----\n");
	put("client.crt", "-----BEGIN CERTIFICATE-----\nMIIC\n"
			  "-----END CERTIFICATE-----\n");
	put("client.key", "-----BEGIN PRIVATE KEY-----\nMIID\n"
			  "-----END PRIVATE KEY-----\n");
	put("token", "fuzz-token\n");
	return 0;
}

static void check(const struct apiconf *c)
{
	char tok[4096];

	if (!c->server || strncmp(c->server, "http", 4) != 0 || !c->origin)
		abort();
	size_t n = strlen(c->server);
	if (n && c->server[n - 1] == '/')
		abort(); /* never a trailing slash */
	if (c->insecure && (c->ca_file || c->ca_pem))
		abort();
	if ((c->cert_file || c->cert_pem) && !(c->key_file || c->key_pem))
		abort();
	if ((c->ca_pem && c->ca_pem[c->ca_pem_len] != '\0') ||
	    (c->cert_pem && c->cert_pem[c->cert_pem_len] != '\0') ||
	    (c->key_pem && c->key_pem[c->key_pem_len] != '\0'))
		abort();
	int t = apiconf_token(c, tok, sizeof(tok));
	if (t > 0 && strlen(tok) != (size_t)t)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const contexts[] = {NULL, "prod"};
	struct apiconf c;
	char err[512];
	FILE *f = fopen("kubeconfig", "w");

	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	for (int i = 0; i < 2; i++) {
		if (apiconf_kubeconfig(&c, "kubeconfig", contexts[i], err,
				       sizeof(err)) < 0) {
			if (!err[0] || c.server)
				abort(); /* says why, holds nothing */
			continue;
		}
		check(&c);
		apiconf_free(&c);
	}
	return 0;
}
