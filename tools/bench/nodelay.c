/*
 * nodelay.c -- LD_PRELOAD shim for tools/bench-api.sh: sets TCP_NODELAY on
 * every connection a server accepts.
 *
 * The API server emulator (libevent's evhttp) leaves Nagle's algorithm on,
 * so the tail of a large reply waits for the client's delayed ACK: about
 * 40 ms per page of a paginated list, which would be counted as clusterdns's
 * sync time.  The real API server (Go) sets TCP_NODELAY on every connection;
 * so does this shim.  Harmless once the emulator sets it itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
}

int accept(int s, struct sockaddr *addr, socklen_t *len)
{
	static int (*real)(int, struct sockaddr *, socklen_t *);
	int fd;

	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(
		    RTLD_NEXT, "accept");
	fd = real(s, addr, len);
	nodelay(fd);
	return fd;
}

int accept4(int s, struct sockaddr *addr, socklen_t *len, int flags)
{
	static int (*real)(int, struct sockaddr *, socklen_t *, int);
	int fd;

	if (!real)
		real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(
		    RTLD_NEXT, "accept4");
	fd = real(s, addr, len, flags);
	nodelay(fd);
	return fd;
}
