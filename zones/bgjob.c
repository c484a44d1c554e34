/*
 * bgjob.c -- one job at a time on a thread of its own, done on the loop.
 *
 * A run is a thread created for it and joined on the loop when its end
 * is signalled through an eventfd.  The thread blocks every signal (the
 * loop handles them) and puts itself in the SCHED_IDLE class.
 */
#include "zones/bgjob.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct bgjob {
	int (*run)(void *arg);
	void (*done)(void *arg, int rc);
	void *arg;
	int fd; /* eventfd: a run ended */
	struct event *ev;
	pthread_t thread;
	bool running; /* a thread is started and not joined */
	bool again;   /* kicked during the run */
	int rc;	      /* the last run's result, set by its thread */
};

/* Calls of bgjob_pace on this thread; 0: not a job's thread. */
static __thread unsigned pace;

void bgjob_pace(void)
{
	if (pace && ++pace % BGJOB_PACE_EVERY == 0)
		sched_yield();
}

static void *job_main(void *p)
{
	struct bgjob *j = p;
	uint64_t one = 1;

	id_t tid = (id_t)syscall(SYS_gettid);
	struct sched_param sp = {0};

	/* Per thread on Linux: only this thread runs SCHED_IDLE, so that a
	 * worker woken by a query takes the CPU from it at once; where that
	 * is refused, a lower nice (never a higher priority than the process
	 * had). */
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0 &&
	    getpriority(PRIO_PROCESS, tid) < BGJOB_NICE)
		setpriority(PRIO_PROCESS, tid, BGJOB_NICE);
	pace = 1;
	j->rc = j->run(j->arg);
	while (write(j->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

static int job_start(struct bgjob *j)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	j->running = true;
	return 0;
}

static void on_end(evutil_socket_t fd, short what, void *arg)
{
	struct bgjob *j = arg;
	uint64_t n;

	if (read(j->fd, &n, sizeof(n)) < 0 || !j->running)
		return;
	pthread_join(j->thread, NULL);
	j->running = false;
	if (j->done)
		j->done(j->arg, j->rc);
	if (j->again) {
		j->again = false;
		if (job_start(j) < 0 && j->done)
			j->done(j->arg, -EAGAIN);
	}
}

struct bgjob *bgjob_new(struct event_base *base, int (*run)(void *arg),
			void (*done)(void *arg, int rc), void *arg)
{
	struct bgjob *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->run = run;
	j->done = done;
	j->arg = arg;
	j->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->fd < 0) {
		free(j);
		return NULL;
	}
	j->ev = event_new(base, j->fd, EV_READ | EV_PERSIST, on_end, j);
	if (!j->ev || event_add(j->ev, NULL) < 0) {
		if (j->ev)
			event_free(j->ev);
		close(j->fd);
		free(j);
		errno = ENOMEM;
		return NULL;
	}
	return j;
}

int bgjob_kick(struct bgjob *j)
{
	if (j->running) {
		j->again = true;
		return 0;
	}
	return job_start(j);
}

bool bgjob_busy(const struct bgjob *j)
{
	return j->running || j->again;
}

void bgjob_free(struct bgjob *j)
{
	if (!j)
		return;
	if (j->running)
		pthread_join(j->thread, NULL);
	event_free(j->ev);
	close(j->fd);
	free(j);
}
