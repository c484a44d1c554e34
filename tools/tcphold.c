/*
 * tcphold.c -- TCP clients that hold a DNS server's connections, for the
 * connection-limit tests and tools/bench-tcp.sh.
 *
 * Usage: tcphold -p PORT [-a ADDR] [-s SRC [-S COUNT]] [-n N]
 *                [-m idle|trickle|flood] [-q NAME] [-f QUERIES]
 *                [-i MS] [-r] [-t SECONDS]
 *
 *   idle     open N connections one after the other; with -q, ask NAME (A)
 *            on each and wait (3 s at most) for the answer: a connection
 *            closed before it is "refused"; then hold them
 *   trickle  open N connections, each writing a query for NAME one byte
 *            every -i MS (default 1000), again and again (slowloris)
 *   flood    open N connections, each writing -f QUERIES (default 5000)
 *            pipelined queries for NAME as far as the server takes them,
 *            and never reading
 *
 * -a the server's IPv4 address (127.0.0.1), -s the first source address
 * and -S how many to use in turn (SRC, SRC+1, ...; default: the kernel's
 * choice), -r opens a new connection for each the server closes, -t stops
 * after SECONDS (default 600).  Prints "held H refused R written W" once
 * the connections are open, then "open O closed C answered A" on SIGUSR1
 * and at the end (SIGTERM, SIGINT or -t); closed counts the connections the
 * server closed, answered the answers that came on trickle connections.
 * The connections are watched with epoll, so that holding many costs the
 * CPU it shares with a benchmark's other clients nothing while they idle.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* POLLRDHUP */
#endif
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { IDLE, TRICKLE, FLOOD };

struct cl {
	int fd;	      /* -1: closed by the server */
	size_t off;   /* trickle: bytes of the query written */
	uint32_t src; /* source address, host order (0: any) */
};

static volatile sig_atomic_t want_status, want_stop;

static void on_usr1(int sig)
{
	(void)sig;
	want_status = 1;
}

static void on_stop(int sig)
{
	(void)sig;
	want_stop = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A framed query for name, type A, no RD, id id; returns its length. */
static size_t frame(uint8_t *b, size_t cap, const char *name, uint16_t id)
{
	size_t n = 14;
	const char *p = name;

	if (cap < 14 + strlen(name) + 6)
		return 0;
	memset(b, 0, 14);
	b[2] = (uint8_t)(id >> 8);
	b[3] = (uint8_t)id;
	b[7] = 1; /* qdcount */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63)
			return 0;
		b[n++] = (uint8_t)l;
		memcpy(b + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 1; /* A */
	b[n++] = 0;
	b[n++] = 1; /* IN */
	b[0] = (uint8_t)((n - 2) >> 8);
	b[1] = (uint8_t)(n - 2);
	return n;
}

static int dial(const struct sockaddr_in *to, uint32_t src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (src) {
		struct sockaddr_in from = {.sin_family = AF_INET};
		from.sin_addr.s_addr = htonl(src);
		if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) < 0)
		goto fail;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	close(fd);
	return -1;
}

/* Ask on fd and wait for the answer's first bytes: true when they came. */
static bool answered(int fd, const uint8_t *q, size_t qlen)
{
	uint8_t b[4096];
	if (send(fd, q, qlen, MSG_NOSIGNAL) != (ssize_t)qlen)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 3000) != 1)
		return false;
	ssize_t r = recv(fd, b, sizeof(b), 0);
	return r > 2;
}

/* Write as much of buf as the server takes (no progress for 1 s: stop). */
static size_t flood(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (off < len) {
		ssize_t s = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (s > 0) {
			off += (size_t)s;
			continue;
		}
		if (s < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 1000) != 1 || !(p.revents & POLLOUT))
			break;
	}
	return off;
}

/* Watch c (number i) for the server's close, and for answers but in
 * flood mode (its answers are never read). */
static void watch(int ep, const struct cl *c, unsigned i, enum mode mode)
{
	struct epoll_event e = {.events =
				    EPOLLRDHUP | (mode == FLOOD ? 0 : EPOLLIN),
				.data.u32 = i};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
		perror("tcphold: epoll_ctl");
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	const char *addr = "127.0.0.1", *name = NULL;
	uint32_t src = 0;
	unsigned nsrc = 1, n = 1, nq = 5000, interval = 1000, secs = 600;
	enum mode mode = IDLE;
	bool renew = false;
	int port = 0, o;

	while ((o = getopt(argc, argv, "a:p:s:S:n:m:q:f:i:rt:")) != -1) {
		switch (o) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 's': {
			struct in_addr a;
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "tcphold: bad -s %s\n", optarg);
				return 2;
			}
			src = ntohl(a.s_addr);
			break;
		}
		case 'S':
			nsrc = (unsigned)atoi(optarg);
			break;
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'm':
			mode = strcmp(optarg, "trickle") == 0 ? TRICKLE
			       : strcmp(optarg, "flood") == 0 ? FLOOD
							      : IDLE;
			break;
		case 'q':
			name = optarg;
			break;
		case 'f':
			nq = (unsigned)atoi(optarg);
			break;
		case 'i':
			interval = (unsigned)atoi(optarg);
			break;
		case 'r':
			renew = true;
			break;
		case 't':
			secs = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: tcphold -p PORT [-a ADDR] [-s SRC "
				"[-S COUNT]] [-n N] [-m idle|trickle|"
				"flood] [-q NAME] [-f QUERIES] [-i MS] "
				"[-r] [-t SECONDS]\n");
			return 2;
		}
	}
	to.sin_port = htons((uint16_t)port);
	if (port <= 0 || n == 0 || nsrc == 0 ||
	    inet_pton(AF_INET, addr, &to.sin_addr) != 1 ||
	    (mode != IDLE && name == NULL)) {
		fprintf(stderr, "tcphold: -p, a valid -a, and -q for trickle "
				"and flood are needed\n");
		return 2;
	}

	uint8_t q[512];
	size_t qlen = name ? frame(q, sizeof(q), name, 1) : 0;
	if (name && qlen == 0) {
		fprintf(stderr, "tcphold: bad name %s\n", name);
		return 2;
	}
	uint8_t *fl = NULL;
	if (mode == FLOOD) {
		fl = malloc(qlen * nq);
		if (fl == NULL)
			return 1;
		for (unsigned i = 0; i < nq; i++)
			frame(fl + i * qlen, qlen, name, (uint16_t)i);
	}
	struct cl *cs = calloc(n, sizeof(*cs));
	struct epoll_event evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (cs == NULL || ep < 0)
		return 1;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);

	unsigned held = 0, refused = 0, closed = 0, answers = 0;
	size_t written = 0;
	for (unsigned i = 0; i < n && !want_stop; i++) {
		cs[i].src = src ? src + i % nsrc : 0;
		cs[i].fd = dial(&to, cs[i].src);
		if (cs[i].fd < 0) {
			refused++;
			continue;
		}
		if (mode == IDLE && name && !answered(cs[i].fd, q, qlen)) {
			close(cs[i].fd);
			cs[i].fd = -1;
			refused++;
			continue;
		}
		if (mode == FLOOD)
			written += flood(cs[i].fd, fl, qlen * nq) / qlen;
		watch(ep, &cs[i], i, mode);
		held++;
	}
	printf("held %u refused %u written %zu\n", held, refused, written);
	fflush(stdout);

	uint64_t end = now_ms() + (uint64_t)secs * 1000;
	uint64_t next = now_ms();
	while (!want_stop && now_ms() < end) {
		if (want_status) {
			want_status = 0;
			printf("open %u closed %u answered %u\n", held - closed,
			       closed, answers);
			fflush(stdout);
		}
		if (mode == TRICKLE && now_ms() >= next) {
			next += interval;
			for (unsigned i = 0; i < n; i++) {
				if (cs[i].fd < 0)
					continue;
				if (send(cs[i].fd, q + cs[i].off, 1,
					 MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
					cs[i].off = (cs[i].off + 1) % qlen;
			}
		}
		/* idle and flood: nothing to do but notice closes */
		int ne =
		    epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])),
			       mode == TRICKLE ? 100 : 1000);
		for (int k = 0; k < ne; k++) {
			unsigned i = evs[k].data.u32;
			uint32_t ev = evs[k].events;
			bool gone = ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
			if (cs[i].fd < 0)
				continue;
			if (!gone && (ev & EPOLLIN)) {
				uint8_t b[4096];
				ssize_t r = recv(cs[i].fd, b, sizeof(b), 0);
				if (r > 0)
					answers++;
				gone = r == 0 || (r < 0 && errno != EAGAIN &&
						  errno != EINTR);
			}
			if (!gone)
				continue;
			close(cs[i].fd);
			cs[i].fd = -1;
			closed++;
			if (renew) {
				cs[i].off = 0;
				cs[i].fd = dial(&to, cs[i].src);
				if (cs[i].fd >= 0) {
					watch(ep, &cs[i], i, mode);
					held++;
				}
			}
		}
	}
	printf("open %u closed %u answered %u\n", held - closed, closed,
	       answers);
	fflush(stdout);
	for (unsigned i = 0; i < n; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	close(ep);
	free(cs);
	free(fl);
	return 0;
}
