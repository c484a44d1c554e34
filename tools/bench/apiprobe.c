/*
 * apiprobe.c -- the timing side of tools/bench-api.sh: writes to the API
 * server emulator over plain HTTP/1.1 and asks the DNS server over UDP
 * itself, so that the numbers carry no process start-up.
 *
 *   apiprobe change -api HOST:PORT -dns PORT [-services N] [-namespaces N]
 *                   [-changes N] [-gap US] [-seed N] [-zone Z] [-out FILE]
 *       N times: pick a service svc-NNNNNN of tools/bench/genapi's cluster,
 *       give it a new ClusterIP through POST /_control/objects, and ask
 *       A of its name until the new address is answered.  One latency in
 *       microseconds per line to -out; p50/p90/p99/max on stdout.
 *   apiprobe ready -dns PORT -name NAME [-type A] [-gap US] [-timeout S]
 *                  [-pidfile FILE] [-log FILE] -- COMMAND...
 *       start COMMAND (its output to -log) and ask NAME until it is answered
 * NOERROR with an answer; print the milliseconds from the start.  COMMAND keeps
 *       running; its pid goes to -pidfile.
 *   apiprobe list -api HOST:PORT [-limit N] RESOURCE_PATH...
 *       read every page of each list as a client does (limit/continue) and
 *       print the time and bytes: what the emulator alone costs.
 *   apiprobe relist -api HOST:PORT -pid PID -watchers N [-interval US]
 *                   [-timeout S]
 *       reset PID's peak RSS, end every watch with a 410 (fault
 *       expire-watches) and sample PID's VmRSS until the N watches are back
 *       and the emulator is quiet; print RSS before, the peak sampled, the
 *       kernel's VmHWM and how long the relist took.
 *
 * Only libc.  Exit status 0 when it measured, 1 when it could not.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ helpers */

static int64_t probe_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void probe_sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void probe_die(const char *what)
{
	fprintf(stderr, "apiprobe: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int probe_split_hostport(const char *hp, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(hp, ':');

	if (!colon || (size_t)(colon - hp) >= sizeof(host))
		return -1;
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------ HTTP */

struct probe_http {
	int fd;
	struct sockaddr_in sa;
	char *buf; /* response body, NUL-terminated */
	size_t len;
	size_t cap;
};

static void probe_http_connect(struct probe_http *h)
{
	int one = 1;

	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (h->fd < 0)
		probe_die("socket");
	if (connect(h->fd, (struct sockaddr *)&h->sa, sizeof(h->sa)) < 0)
		probe_die("connect to the API");
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void probe_write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			probe_die("write to the API");
		p += w;
		n -= (size_t)w;
	}
}

static void probe_reserve(struct probe_http *h, size_t need)
{
	if (need <= h->cap)
		return;
	while (h->cap < need)
		h->cap = h->cap ? h->cap * 2 : 65536;
	h->buf = realloc(h->buf, h->cap);
	if (!h->buf)
		probe_die("realloc");
}

/* One request on the kept-alive connection; the body of the answer in
 * h->buf.  Returns the HTTP status, and the bytes read in *wire. */
static int probe_http(struct probe_http *h, const char *method,
		      const char *path, const char *body, size_t *wire)
{
	char head[1024];
	size_t have = 0, hlen = 0, clen = 0;
	int status = 0, n;
	bool closing;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (h->fd < 0)
			probe_http_connect(h);
		n = snprintf(head, sizeof(head),
			     "%s %s HTTP/1.1\r\nHost: apiemu\r\n"
			     "Accept: application/json\r\n"
			     "Content-Type: application/json\r\n"
			     "Content-Length: %zu\r\n\r\n",
			     method, path, body ? strlen(body) : 0);
		probe_write_all(h->fd, head, (size_t)n);
		if (body)
			probe_write_all(h->fd, body, strlen(body));
		have = 0;
		hlen = 0;
		for (;;) {
			ssize_t r;
			char *end;

			probe_reserve(h, have + 65536);
			r = read(h->fd, h->buf + have, h->cap - have - 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			have += (size_t)r;
			h->buf[have] = '\0';
			if (!hlen && (end = strstr(h->buf, "\r\n\r\n"))) {
				const char *cl;

				hlen = (size_t)(end - h->buf) + 4;
				status = atoi(h->buf + 9);
				cl = strcasestr(h->buf, "\r\ncontent-length:");
				if (!cl || cl > end) {
					errno = EPROTO;
					probe_die("answer without "
						  "Content-Length");
				}
				clen = strtoul(cl + 17, NULL, 10);
				probe_reserve(h, hlen + clen + 1);
			}
			if (hlen && have >= hlen + clen)
				break;
		}
		if (hlen && have >= hlen + clen)
			break;
		/* the server closed a kept-alive connection: once more */
		close(h->fd);
		h->fd = -1;
		if (attempt == 1) {
			errno = ECONNRESET;
			probe_die("read from the API");
		}
	}
	h->buf[hlen + clen] = '\0';
	closing = strcasestr(h->buf, "\r\nconnection: close") != NULL &&
		  strcasestr(h->buf, "\r\nconnection: close") < h->buf + hlen;
	memmove(h->buf, h->buf + hlen, clen + 1);
	h->len = clen;
	if (wire)
		*wire = have;
	if (closing) {
		close(h->fd);
		h->fd = -1;
	}
	return status;
}

/* ------------------------------------------------------------ DNS */

struct probe_dns {
	int fd;
	uint16_t id;
	unsigned char q[512];
	size_t qlen;
};

static void probe_dns_open(struct probe_dns *d, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (d->fd < 0)
		probe_die("socket");
	if (connect(d->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		probe_die("connect to the DNS server");
}

static int probe_dns_question(struct probe_dns *d, const char *name,
			      uint16_t type)
{
	unsigned char *p = d->q + 12;
	const char *s = name;

	memset(d->q, 0, 12);
	d->q[5] = 1; /* QDCOUNT */
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		if (l == 0 || l > 63 || p + l + 6 > d->q + sizeof(d->q) - 1)
			return -1;
		*p++ = (unsigned char)l;
		memcpy(p, s, l);
		p += l;
		s += l;
		if (*s == '.')
			s++;
	}
	*p++ = 0;
	*p++ = (unsigned char)(type >> 8);
	*p++ = (unsigned char)type;
	*p++ = 0;
	*p++ = 1;
	d->qlen = (size_t)(p - d->q);
	return 0;
}

static const unsigned char *probe_skip_name(const unsigned char *p,
					    const unsigned char *end)
{
	while (p < end) {
		if (*p == 0)
			return p + 1;
		if ((*p & 0xc0) == 0xc0)
			return p + 2 <= end ? p + 2 : NULL;
		p += 1 + *p;
	}
	return NULL;
}

/* Ask once and wait up to wait_ms for the answer.  Returns the rcode (and
 * whether want, a 4-byte A rdata, is among the answers in *found; with want
 * NULL: whether there is any answer), -1 when nothing came back. */
static int probe_dns_ask(struct probe_dns *d, const unsigned char *want,
			 bool *found, int wait_ms)
{
	unsigned char r[4096];
	int64_t deadline = probe_now_ns() + (int64_t)wait_ms * 1000000;

	*found = false;
	d->id++;
	d->q[0] = (unsigned char)(d->id >> 8);
	d->q[1] = (unsigned char)d->id;
	if (send(d->fd, d->q, d->qlen, 0) < 0)
		return -1; /* e.g. ECONNREFUSED: nobody listens yet */
	for (;;) {
		struct pollfd pfd = {.fd = d->fd, .events = POLLIN};
		int64_t left = deadline - probe_now_ns();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		n = recv(d->fd, r, sizeof(r), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		if (n < 12 || r[0] != d->q[0] || r[1] != d->q[1])
			continue;
		const unsigned char *p = r + 12, *end = r + n;
		unsigned qd = (unsigned)r[4] << 8 | r[5];
		unsigned an = (unsigned)r[6] << 8 | r[7];

		for (unsigned i = 0; i < qd && p; i++) {
			p = probe_skip_name(p, end);
			p = p && p + 4 <= end ? p + 4 : NULL;
		}
		for (unsigned i = 0; i < an && p; i++) {
			unsigned type, rdlen;

			p = probe_skip_name(p, end);
			if (!p || p + 10 > end)
				break;
			type = (unsigned)p[0] << 8 | p[1];
			rdlen = (unsigned)p[8] << 8 | p[9];
			p += 10;
			if (p + rdlen > end)
				break;
			if (!want)
				*found = true;
			else if (type == 1 && rdlen == 4 &&
				 memcmp(p, want, 4) == 0)
				*found = true;
			p += rdlen;
		}
		return r[3] & 15;
	}
}

/* ------------------------------------------------------------ stats */

static int probe_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of n sorted values. */
static int64_t probe_quantile(const int64_t *v, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

/* ------------------------------------------------------------ change */

static uint64_t probe_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t probe_rand(void)
{
	uint64_t x = probe_rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	probe_rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

struct probe_args {
	const char *api;
	int dns;
	unsigned long services;
	unsigned long namespaces;
	unsigned long changes;
	long gap_us;
	const char *zone;
	const char *out;
	const char *name;
	const char *type;
	const char *pidfile;
	const char *log;
	double timeout_s;
	unsigned long limit;
	long pid;
	unsigned long watchers;
	long interval_us;
};

static int probe_change(const struct probe_args *a)
{
	struct probe_http h = {.fd = -1};
	struct probe_dns d = {0};
	int64_t *lat = calloc(a->changes ? a->changes : 1, sizeof(*lat));
	size_t nlat = 0;
	unsigned long timeouts = 0, queries = 0;
	FILE *out = NULL;
	char body[2048], name[256];

	if (!lat)
		probe_die("calloc");
	if (probe_split_hostport(a->api, &h.sa) < 0) {
		fprintf(stderr, "apiprobe: bad -api %s\n", a->api);
		return 1;
	}
	if (a->out && !(out = fopen(a->out, "w")))
		probe_die(a->out);
	probe_dns_open(&d, a->dns);
	for (unsigned long c = 0; c < a->changes; c++) {
		unsigned long i = (unsigned long)(probe_rand() % a->services);
		/* new addresses from 10.112.0.0, never used by genapi */
		uint32_t ip = (10u << 24 | 112u << 16) + 1 + (uint32_t)c;
		unsigned char want[4] = {ip >> 24, ip >> 16, ip >> 8, ip};
		char ips[16], ns[32];
		int64_t t0, t1, deadline;
		bool found = false;
		int status;

		snprintf(ips, sizeof(ips), "%u.%u.%u.%u", want[0], want[1],
			 want[2], want[3]);
		snprintf(ns, sizeof(ns), "ns-%03lu", i % a->namespaces);
		/* the object genapi wrote, with another ClusterIP */
		snprintf(body, sizeof(body),
			 "{\"kind\":\"Service\",\"apiVersion\":\"v1\","
			 "\"metadata\":{\"name\":\"svc-%06lu\",\"namespace\":"
			 "\"%s\",\"labels\":{\"app\":\"svc-%06lu\"}},"
			 "\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":"
			 "\"TCP\",\"port\":8080,\"targetPort\":8080}],"
			 "\"selector\":{\"app\":\"svc-%06lu\"},\"clusterIP\":"
			 "\"%s\",\"clusterIPs\":[\"%s\"],\"type\":"
			 "\"ClusterIP\",\"sessionAffinity\":\"None\","
			 "\"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":"
			 "\"SingleStack\",\"internalTrafficPolicy\":"
			 "\"Cluster\"},\"status\":{\"loadBalancer\":{}}}",
			 i, ns, i, i, ips, ips);
		snprintf(name, sizeof(name), "svc-%06lu.%s.svc.%s", i, ns,
			 a->zone);
		if (probe_dns_question(&d, name, 1) < 0) {
			fprintf(stderr, "apiprobe: bad name %s\n", name);
			return 1;
		}
		t0 = probe_now_ns();
		status =
		    probe_http(&h, "POST", "/_control/objects", body, NULL);
		if (status != 200) {
			fprintf(stderr,
				"apiprobe: POST /_control/objects: "
				"HTTP %d: %s\n",
				status, h.buf);
			return 1;
		}
		deadline = t0 + (int64_t)(a->timeout_s * 1e9);
		for (;;) {
			int rc = probe_dns_ask(&d, want, &found, 100);

			queries++;
			if (rc == 0 && found)
				break;
			if (probe_now_ns() > deadline)
				break;
			if (a->gap_us > 0)
				probe_sleep_us(a->gap_us);
		}
		t1 = probe_now_ns();
		if (!found) {
			timeouts++;
			if (out)
				fprintf(out, "timeout\n");
			continue;
		}
		lat[nlat++] = (t1 - t0) / 1000;
		if (out)
			fprintf(out, "%lld\n", (long long)((t1 - t0) / 1000));
	}
	if (out)
		fclose(out);
	qsort(lat, nlat, sizeof(*lat), probe_cmp);
	if (nlat == 0) {
		printf("changes %lu answered 0 timeouts %lu\n", a->changes,
		       timeouts);
		return 1;
	}
	printf("changes %lu answered %zu timeouts %lu queries %lu "
	       "p50_us %lld p90_us %lld p99_us %lld max_us %lld\n",
	       a->changes, nlat, timeouts, queries,
	       (long long)probe_quantile(lat, nlat, 0.50),
	       (long long)probe_quantile(lat, nlat, 0.90),
	       (long long)probe_quantile(lat, nlat, 0.99),
	       (long long)lat[nlat - 1]);
	free(lat);
	free(h.buf);
	return 0;
}

/* ------------------------------------------------------------ ready */

static int probe_ready(const struct probe_args *a, char **cmd)
{
	struct probe_dns d = {0};
	uint16_t type = strcmp(a->type, "AAAA") == 0  ? 28
			: strcmp(a->type, "SRV") == 0 ? 33
			: strcmp(a->type, "SOA") == 0 ? 6
						      : 1;
	int64_t t0, deadline;
	pid_t pid;
	int status;

	probe_dns_open(&d, a->dns);
	if (probe_dns_question(&d, a->name, type) < 0) {
		fprintf(stderr, "apiprobe: bad name %s\n", a->name);
		return 1;
	}
	t0 = probe_now_ns();
	pid = fork();
	if (pid < 0)
		probe_die("fork");
	if (pid == 0) {
		if (a->log) {
			int fd =
			    open(a->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
				_exit(127);
			close(fd);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "apiprobe: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (a->pidfile) {
		FILE *f = fopen(a->pidfile, "w");

		if (!f || fprintf(f, "%ld\n", (long)pid) < 0 || fclose(f))
			probe_die(a->pidfile);
	}
	deadline = t0 + (int64_t)(a->timeout_s * 1e9);
	while (probe_now_ns() < deadline) {
		bool found;
		int rc = probe_dns_ask(&d, NULL, &found, 50);

		if (rc == 0 && found) {
			printf("ready_ms %.1f pid %ld\n",
			       (double)(probe_now_ns() - t0) / 1e6, (long)pid);
			return 0;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "apiprobe: the server exited\n");
			return 1;
		}
		probe_sleep_us(a->gap_us);
	}
	printf("ready_ms timeout pid %ld\n", (long)pid);
	return 1;
}

/* ------------------------------------------------------------ list */

/* The value of "continue" in a list's metadata, or "" */
static void probe_continue(const char *body, char *out, size_t len)
{
	const char *p = strstr(body, "\"continue\":\"");
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += 12;
	while (p[n] && p[n] != '"' && n + 1 < len)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

static int probe_list(const struct probe_args *a, char **paths)
{
	struct probe_http h = {.fd = -1};
	char path[2048], cont[1024];
	int64_t t0 = probe_now_ns();
	size_t total = 0, pages = 0;

	if (probe_split_hostport(a->api, &h.sa) < 0) {
		fprintf(stderr, "apiprobe: bad -api %s\n", a->api);
		return 1;
	}
	for (; *paths; paths++) {
		cont[0] = '\0';
		do {
			size_t wire;
			int status;

			snprintf(path, sizeof(path), "%s?limit=%lu%s%s", *paths,
				 a->limit, cont[0] ? "&continue=" : "", cont);
			status = probe_http(&h, "GET", path, NULL, &wire);
			if (status != 200) {
				fprintf(stderr, "apiprobe: GET %s: HTTP %d\n",
					path, status);
				return 1;
			}
			total += wire;
			pages++;
			probe_continue(h.buf, cont, sizeof(cont));
		} while (cont[0]);
	}
	printf("list_ms %.1f pages %zu bytes %zu\n",
	       (double)(probe_now_ns() - t0) / 1e6, pages, total);
	free(h.buf);
	return 0;
}

/* ------------------------------------------------------------ relist */

/* VmRSS and VmHWM of pid in kB; -1 when it is gone. */
static int probe_rss(long pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	*rss = *hwm = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss = atol(line + 6);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm = atol(line + 6);
	}
	fclose(f);
	return 0;
}

/* watchers and requests from the emulator's /_control/state */
static void probe_state(struct probe_http *h, long *watchers, long *requests)
{
	const char *p;

	if (probe_http(h, "GET", "/_control/state", NULL, NULL) != 200)
		probe_die("GET /_control/state");
	p = strstr(h->buf, "\"watchers\":");
	*watchers = p ? atol(p + 11) : -1;
	p = strstr(h->buf, "\"requests\":");
	*requests = p ? atol(p + 11) : -1;
}

static int probe_relist(const struct probe_args *a)
{
	struct probe_http h = {.fd = -1};
	char path[64];
	long rss0, hwm0, rss, hwm, peak = 0, watchers, req0, req, last_req;
	int64_t t0, tquiet = 0, tdone = 0, deadline;
	int fd, status;

	if (probe_split_hostport(a->api, &h.sa) < 0) {
		fprintf(stderr, "apiprobe: bad -api %s\n", a->api);
		return 1;
	}
	if (probe_rss(a->pid, &rss0, &hwm0) < 0)
		probe_die("/proc/PID/status");
	/* "5" resets the peak RSS (VmHWM) to the current RSS */
	snprintf(path, sizeof(path), "/proc/%ld/clear_refs", a->pid);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "5", 1) != 1)
		fprintf(stderr,
			"apiprobe: cannot reset VmHWM (%s); it is "
			"the peak since start\n",
			strerror(errno));
	if (fd >= 0)
		close(fd);
	probe_state(&h, &watchers, &req0);
	last_req = req0;
	t0 = probe_now_ns();
	status = probe_http(&h, "POST", "/_control/fault",
			    "{\"fault\":\"expire-watches\"}", NULL);
	if (status != 200) {
		fprintf(stderr, "apiprobe: fault: HTTP %d %s\n", status, h.buf);
		return 1;
	}
	deadline = t0 + (int64_t)(a->timeout_s * 1e9);
	while (probe_now_ns() < deadline) {
		int64_t now;

		if (probe_rss(a->pid, &rss, &hwm) < 0) {
			fprintf(stderr, "apiprobe: the server is gone\n");
			return 1;
		}
		if (rss > peak)
			peak = rss;
		probe_state(&h, &watchers, &req);
		now = probe_now_ns();
		/* done: every watch is back, after at least a list and a
		 * watch request each, and no request for 300 ms */
		if (req != last_req) {
			last_req = req;
			tquiet = now;
		}
		if ((unsigned long)watchers == a->watchers &&
		    req >= req0 + 1 + 2 * (long)a->watchers) {
			if (!tdone)
				tdone = tquiet;
			if (now - tquiet > 300000000)
				break;
		} else {
			tdone = 0;
		}
		probe_sleep_us(a->interval_us);
	}
	probe_rss(a->pid, &rss, &hwm);
	if (rss > peak)
		peak = rss;
	printf("rss_before_kb %ld peak_sampled_kb %ld hwm_kb %ld "
	       "rss_after_kb %ld relist_ms %s%.0f\n",
	       rss0, peak, hwm, rss, tdone ? "" : ">",
	       (double)((tdone ? tdone : probe_now_ns()) - t0) / 1e6);
	free(h.buf);
	return tdone ? 0 : 1;
}

/* ------------------------------------------------------------ main */

static void probe_usage(void)
{
	fprintf(stderr,
		"usage: apiprobe change -api HOST:PORT -dns PORT [-services N] "
		"[-namespaces N]\n"
		"                [-changes N] [-gap US] [-seed N] [-zone Z] "
		"[-out FILE]\n"
		"       apiprobe ready -dns PORT -name NAME [-type T] "
		"[-gap US] [-timeout S]\n"
		"                [-pidfile FILE] [-log FILE] -- COMMAND...\n"
		"       apiprobe list -api HOST:PORT [-limit N] PATH...\n"
		"       apiprobe relist -api HOST:PORT -pid PID -watchers N "
		"[-interval US]\n"
		"                [-timeout S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct probe_args a = {
	    .services = 1000,
	    .namespaces = 100,
	    .changes = 1000,
	    .gap_us = 100,
	    .zone = "cluster.local",
	    .type = "A",
	    .timeout_s = 5,
	    .limit = 500,
	    .interval_us = 2000,
	};
	const char *mode;
	int i;

	if (argc < 2)
		probe_usage();
	mode = argv[1];
	signal(SIGPIPE, SIG_IGN);
	for (i = 2; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(f, "--") == 0 || f[0] != '-') {
			if (strcmp(f, "--") == 0)
				i++;
			break;
		}
		if (!v)
			probe_usage();
		i++;
		if (strcmp(f, "-api") == 0)
			a.api = v;
		else if (strcmp(f, "-dns") == 0)
			a.dns = atoi(v);
		else if (strcmp(f, "-services") == 0)
			a.services = strtoul(v, NULL, 10);
		else if (strcmp(f, "-namespaces") == 0)
			a.namespaces = strtoul(v, NULL, 10);
		else if (strcmp(f, "-changes") == 0)
			a.changes = strtoul(v, NULL, 10);
		else if (strcmp(f, "-gap") == 0)
			a.gap_us = atol(v);
		else if (strcmp(f, "-seed") == 0)
			probe_rng ^=
			    strtoull(v, NULL, 10) * 0x2545F4914F6CDD1DULL;
		else if (strcmp(f, "-zone") == 0)
			a.zone = v;
		else if (strcmp(f, "-out") == 0)
			a.out = v;
		else if (strcmp(f, "-name") == 0)
			a.name = v;
		else if (strcmp(f, "-type") == 0)
			a.type = v;
		else if (strcmp(f, "-pidfile") == 0)
			a.pidfile = v;
		else if (strcmp(f, "-log") == 0)
			a.log = v;
		else if (strcmp(f, "-timeout") == 0)
			a.timeout_s = atof(v);
		else if (strcmp(f, "-limit") == 0)
			a.limit = strtoul(v, NULL, 10);
		else if (strcmp(f, "-pid") == 0)
			a.pid = atol(v);
		else if (strcmp(f, "-watchers") == 0)
			a.watchers = strtoul(v, NULL, 10);
		else if (strcmp(f, "-interval") == 0)
			a.interval_us = atol(v);
		else
			probe_usage();
	}
	if (!probe_rng)
		probe_rng = 1;
	if (strcmp(mode, "change") == 0) {
		if (!a.api || !a.dns || !a.services || !a.namespaces)
			probe_usage();
		return probe_change(&a);
	}
	if (strcmp(mode, "ready") == 0) {
		if (!a.dns || !a.name || i >= argc)
			probe_usage();
		return probe_ready(&a, argv + i);
	}
	if (strcmp(mode, "list") == 0) {
		if (!a.api || i >= argc)
			probe_usage();
		return probe_list(&a, argv + i);
	}
	if (strcmp(mode, "relist") == 0) {
		if (!a.api || a.pid <= 0 || !a.watchers)
			probe_usage();
		return probe_relist(&a);
	}
	probe_usage();
	return 2;
}
