/*
 * main.c -- command line of clusterdns, with CoreDNS's flags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/daemon.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage of clusterdns:\n"
		   "  -conf string\n"
		   "    \tCorefile to load (default \"Corefile\")\n"
		   "  -dns.port string\n"
		   "    \tDefault port (default \"53\")\n"
		   "  -pidfile string\n"
		   "    \tPath to write pid file\n"
		   "  -plugins\n"
		   "    \tList installed plugins\n"
		   "  -quiet\n"
		   "    \tQuiet mode (no initialization output)\n"
		   "  -version\n"
		   "    \tShow version\n");
}

static void plugins(void)
{
	printf("Server types:\n  dns\n\nCaddyfile loaders:\n  flag\n  "
	       "default\n\nOther plugins:\n");
	for (const char *const *d = config_directives; *d; d++)
		printf("  dns.%s\n", *d);
}

/* Go's flag syntax: -name, --name, -name=value, -name value. */
static const char *flag_value(int argc, char **argv, int *i, const char *eq)
{
	if (eq)
		return eq + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct daemon_opts o = {.conf = "Corefile", .dns_port = 53};
	bool version = false, list = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == 0) {
			fprintf(stderr, "unexpected argument: %s\n", a);
			usage(stderr);
			return 2;
		}
		a += a[1] == '-' ? 2 : 1;
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		const char *v;
#define IS(name) (nl == strlen(name) && strncmp(a, name, nl) == 0)
		if (IS("conf") || IS("dns.port") || IS("pidfile")) {
			if (!(v = flag_value(argc, argv, &i, eq))) {
				fprintf(stderr,
					"flag needs an argument: -%.*s\n",
					(int)nl, a);
				usage(stderr);
				return 2;
			}
			if (IS("conf")) {
				o.conf = v;
			} else if (IS("pidfile")) {
				o.pidfile = v;
			} else {
				char *end;
				errno = 0;
				long p = strtol(v, &end, 10);
				if (errno || *end || p < 1 || p > 65535) {
					fprintf(stderr,
						"invalid -dns.port: %s\n", v);
					return 2;
				}
				o.dns_port = (uint16_t)p;
			}
		} else if (IS("quiet")) {
			o.quiet = true;
		} else if (IS("version")) {
			version = true;
		} else if (IS("plugins")) {
			list = true;
		} else if (IS("help") || IS("h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr,
				"flag provided but not defined: -%.*s\n",
				(int)nl, a);
			usage(stderr);
			return 2;
		}
#undef IS
	}
	if (version) {
		printf("%s\n", daemon_version());
		return 0;
	}
	if (list) {
		plugins();
		return 0;
	}
	const char *t = getenv("CLUSTERDNS_THREADS");
	if (t)
		o.threads = (unsigned)strtoul(t, NULL, 10);
	return daemon_run(&o);
}
