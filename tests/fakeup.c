/*
 * fakeup.c -- a misbehaving upstream DNS server for the forward tests, on
 * UDP 127.0.0.1:PORT.
 *
 *   fakeup -p PORT -m drop  [-l LOG]   read queries, never answer
 *   fakeup -p PORT -m spoof [-l LOG]   answer each query (A 192.0.2.99)
 *                                      after three forgeries: wrong ID,
 *                                      wrong source port, wrong question
 *                                      (A 198.51.100.1, .2, .3)
 *   fakeup -p PORT -m garbage [-l LOG] answer with the right ID and
 *                                      question but records cut short
 *   fakeup -p PORT -m tcp [-l LOG]     never answer over UDP; over TCP on
 *                                      the same port, close the first
 *                                      connection unanswered, then answer
 *                                      (A 192.0.2.99)
 *
 * Every query is logged to LOG as "NAME TYPE" (one line each, flushed),
 * "NAME TYPE tcp" when it came over TCP.  Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int udp_socket(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("fakeup: bind");
		exit(1);
	}
	return fd;
}

static int tcp_listener(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 16) < 0) {
		perror("fakeup: tcp");
		exit(1);
	}
	return fd;
}

/* The question's end, or 0. */
static size_t question_end(const uint8_t *m, size_t n)
{
	size_t o = 12;

	while (o < n && m[o] && m[o] < 64)
		o += (size_t)m[o] + 1;
	if (o >= n || m[o] != 0 || n - o < 5)
		return 0;
	return o + 5;
}

/* Answer m (question ending at qe) with one A record of addr. */
static size_t answer(const uint8_t *m, size_t qe, uint8_t *out, uint8_t last)
{
	static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};

	memcpy(out, m, qe);
	out[2] = 0x84 | (m[2] & 1); /* QR AA, RD echoed */
	out[3] = 0x80;		    /* RA */
	out[6] = 0;
	out[7] = 1;
	memset(out + 8, 0, 4);
	memcpy(out + qe, rr, sizeof(rr));
	out[qe + 12] = 192;
	out[qe + 13] = 0;
	out[qe + 14] = 2;
	out[qe + 15] = last;
	return qe + 16;
}

static void log_query(FILE *log, const uint8_t *m, size_t qe, const char *how)
{
	char name[300];
	size_t o = 12, w = 0;

	if (!log)
		return;
	while (m[o] && w < sizeof(name) - 66) {
		memcpy(name + w, m + o + 1, m[o]);
		w += m[o];
		name[w++] = '.';
		o += (size_t)m[o] + 1;
	}
	if (w == 0)
		name[w++] = '.';
	name[w] = 0;
	fprintf(log, "%s %u%s\n", name, (unsigned)(m[qe - 4] << 8 | m[qe - 3]),
		how);
	fflush(log);
}

/* Read exactly n bytes from a connection (2 s at most); false if not. */
static bool read_full(int fd, uint8_t *b, size_t n)
{
	for (size_t got = 0; got < n;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 2000) != 1)
			return false;
		ssize_t k = read(fd, b + got, n - got);
		if (k <= 0)
			return false;
		got += (size_t)k;
	}
	return true;
}

/* One query over a TCP connection, answered; then the connection closes. */
static void serve_tcp(int lfd, FILE *log)
{
	static bool first = true;
	uint8_t len[2], m[4096], out[4200];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		return;
	if (first) {
		/* a failure, so that health checks start */
		first = false;
		close(fd);
		return;
	}
	if (read_full(fd, len, 2)) {
		size_t n = (size_t)len[0] << 8 | len[1];
		size_t qe = n >= 12 && n <= sizeof(m) && read_full(fd, m, n)
				? question_end(m, n)
				: 0;
		if (qe) {
			log_query(log, m, qe, " tcp");
			size_t k = answer(m, qe, out + 2, 99);
			out[0] = (uint8_t)(k >> 8);
			out[1] = (uint8_t)k;
			if (write(fd, out, k + 2) < 0)
				perror("fakeup: write");
		}
	}
	close(fd);
}

int main(int argc, char **argv)
{
	int opt, port = 0;
	const char *mode = "drop", *logpath = NULL;

	while ((opt = getopt(argc, argv, "p:m:l:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'm')
			mode = optarg;
		else if (opt == 'l')
			logpath = optarg;
		else
			return 2;
	}
	if (port <= 0 || port > 65535)
		return 2;
	bool spoof = strcmp(mode, "spoof") == 0;
	bool garbage = strcmp(mode, "garbage") == 0;
	int fd = udp_socket((uint16_t)port);
	int lfd = strcmp(mode, "tcp") == 0 ? tcp_listener((uint16_t)port) : -1;
	int other = udp_socket(0); /* the forger's port */
	FILE *log = logpath ? fopen(logpath, "a") : NULL;

	for (;;) {
		uint8_t m[4096], out[4200];
		struct pollfd pf[2] = {{.fd = fd, .events = POLLIN},
				       {.fd = lfd, .events = POLLIN}};
		if (poll(pf, lfd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (lfd >= 0 && (pf[1].revents & POLLIN))
			serve_tcp(lfd, log);
		if (!(pf[0].revents & POLLIN))
			continue;
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		ssize_t n = recvfrom(fd, m, sizeof(m), 0,
				     (struct sockaddr *)&peer, &pl);
		if (n < 12)
			continue;
		size_t qe = question_end(m, (size_t)n);
		if (!qe)
			continue;
		log_query(log, m, qe, "");
		const struct sockaddr *to = (struct sockaddr *)&peer;
		if (garbage) {
			/* three answers announced, one and a half sent */
			size_t k = answer(m, qe, out, 7);
			out[7] = 3;
			sendto(fd, out, k + 5, 0, to, pl);
			continue;
		}
		if (!spoof)
			continue;
		/* 1: another ID */
		size_t k = answer(m, qe, out, 0);
		out[qe + 12] = 198;
		out[qe + 13] = 51;
		out[qe + 14] = 100;
		out[qe + 15] = 1;
		out[1] ^= 0x5a;
		sendto(fd, out, k, 0, to, pl);
		/* 2: the right ID from another port */
		out[1] ^= 0x5a;
		out[qe + 15] = 2;
		sendto(other, out, k, 0, to, pl);
		/* 3: the right ID and port, another question */
		out[qe + 15] = 3;
		out[13] ^= 0x01; /* the first letter of the name */
		sendto(fd, out, k, 0, to, pl);
		/* then the answer */
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		k = answer(m, qe, out, 99);
		sendto(fd, out, k, 0, to, pl);
	}
}
