/*
 * udplat.c -- UDP query latency at a fixed rate, for tools/bench-tcp.sh.
 *
 * Usage: udplat -p PORT [-a ADDR] [-r QPS] [-d SECONDS] -q NAME
 *
 * Sends a query for NAME (A) every 1/QPS s (default 5000 qps, 10 s) from
 * one socket, matches answers by ID, and prints
 * "sent S received R lost L p50_us P50 p99_us P99" (answers later than
 * 1 s count as lost).
 *
 * A latency runs from the moment before send() to the moment the kernel
 * queued the answer on the socket (SO_TIMESTAMPNS), not to the moment
 * udplat read it: the load generators of a benchmark share udplat's CPU,
 * and the time udplat waits for that CPU is theirs, not the server's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_REALTIME: the clock of SO_TIMESTAMPNS */
static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_ns(&ts);
}

/* The kernel's receive time of msg, or now when it carries none. */
static uint64_t rx_ns(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return ts_ns(&ts);
		}
	}
	return now_ns();
}

static int cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	const char *addr = "127.0.0.1", *name = NULL;
	unsigned qps = 5000, secs = 10;
	int port = 0, o;

	while ((o = getopt(argc, argv, "a:p:r:d:q:")) != -1) {
		if (o == 'a')
			addr = optarg;
		else if (o == 'p')
			port = atoi(optarg);
		else if (o == 'r')
			qps = (unsigned)atoi(optarg);
		else if (o == 'd')
			secs = (unsigned)atoi(optarg);
		else if (o == 'q')
			name = optarg;
		else
			return 2;
	}
	to.sin_port = htons((uint16_t)port);
	if (!name || port <= 0 || qps == 0 ||
	    inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		fprintf(stderr, "usage: udplat -p PORT [-a ADDR] [-r QPS] "
				"[-d SECONDS] -q NAME\n");
		return 2;
	}
	uint8_t q[300] = {0};
	size_t n = 12;
	q[5] = 1;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		if (l == 0 || l > 63 || n + l + 6 > sizeof(q))
			return 2;
		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1;
	q[n++] = 0;
	q[n++] = 1;

	int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) < 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("udplat");
		return 1;
	}
	uint64_t total = (uint64_t)qps * secs;
	uint32_t *lat = calloc(total, sizeof(*lat));
	static uint64_t sent_at[65536];
	static uint64_t seq_of[65536];
	if (lat == NULL)
		return 1;
	uint64_t gap = 1000000000u / qps, start = now_ns(), sent = 0, got = 0;
	uint64_t end = start + (uint64_t)secs * 1000000000u + 1000000000u;
	for (;;) {
		uint64_t t = now_ns();
		while (sent < total && t >= start + sent * gap) {
			uint16_t id = (uint16_t)sent;
			q[0] = (uint8_t)(id >> 8);
			q[1] = (uint8_t)id;
			sent_at[id] = now_ns();
			seq_of[id] = sent + 1;
			send(fd, q, n, MSG_DONTWAIT);
			sent++;
		}
		if (t >= end)
			break;
		uint64_t next = sent < total ? start + sent * gap : end;
		int ms = next > t ? (int)((next - t) / 1000000) : 0;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, ms) <= 0)
			continue;
		uint8_t b[4096];
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct timespec))];
		} ctl;
		struct iovec iov = {.iov_base = b, .iov_len = sizeof(b)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		for (;;) {
			msg.msg_control = ctl.buf;
			msg.msg_controllen = sizeof(ctl.buf);
			if (recvmsg(fd, &msg, MSG_DONTWAIT) < 2)
				break;
			uint16_t id = (uint16_t)(b[0] << 8 | b[1]);
			uint64_t at = rx_ns(&msg);
			if (seq_of[id] == 0 || at - sent_at[id] > 1000000000u)
				continue;
			lat[got++] = (uint32_t)((at - sent_at[id]) / 1000);
			seq_of[id] = 0;
		}
	}
	qsort(lat, got, sizeof(*lat), cmp);
	printf("sent %llu received %llu lost %llu p50_us %u p99_us %u\n",
	       (unsigned long long)sent, (unsigned long long)got,
	       (unsigned long long)(sent - got), got ? lat[got / 2] : 0,
	       got ? lat[got * 99 / 100] : 0);
	free(lat);
	return 0;
}
