/*
 * test_bgjob.c -- a job runs on a thread of its own at a lower priority
 * with signals blocked, done() on the loop; kicks during a run make one
 * more run; free waits for a run.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "zones/bgjob.h"

struct probe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;	   /* the gate a run waits at */
	int runs, dones;   /* how many of each */
	int last_rc;	   /* done()'s rc */
	bool other_thread; /* run() was not on the loop's thread */
	bool sigs_blocked; /* SIGTERM and SIGHUP blocked in run() */
	int nice;	   /* run()'s priority */
	int policy;	   /* and its scheduling class */
	pthread_t loop;
	struct event_base *base;
};

static int run(void *arg)
{
	struct probe *p = arg;
	sigset_t set;

	pthread_sigmask(SIG_SETMASK, NULL, &set);
	pthread_mutex_lock(&p->mu);
	p->other_thread = !pthread_equal(pthread_self(), p->loop);
	p->sigs_blocked =
	    sigismember(&set, SIGTERM) && sigismember(&set, SIGHUP);
	p->nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	struct sched_param sp;
	pthread_getschedparam(pthread_self(), &p->policy, &sp);
	p->runs++;
	while (!p->open)
		pthread_cond_wait(&p->cv, &p->mu);
	p->open = false; /* one run per opening */
	pthread_mutex_unlock(&p->mu);
	return 40 + p->runs;
}

static void done(void *arg, int rc)
{
	struct probe *p = arg;

	assert_true(pthread_equal(pthread_self(), p->loop));
	p->dones++;
	p->last_rc = rc;
	event_base_loopbreak(p->base);
}

static void open_gate(struct probe *p)
{
	pthread_mutex_lock(&p->mu);
	p->open = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int runs_now(struct probe *p)
{
	int n;

	pthread_mutex_lock(&p->mu);
	n = p->runs;
	pthread_mutex_unlock(&p->mu);
	return n;
}

static void setup_probe(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->loop = pthread_self();
	p->base = event_base_new();
	assert_non_null(p->base);
}

/* A job on a new probe p, kicked once, its run started. */
static struct bgjob *started(struct probe *p)
{
	struct bgjob *j;

	setup_probe(p);
	j = bgjob_new(p->base, run, done, p);
	assert_non_null(j);
	assert_false(bgjob_busy(j));
	assert_int_equal(bgjob_kick(j), 0);
	assert_true(bgjob_busy(j));
	while (runs_now(p) < 1)
		usleep(1000);
	return j;
}

static void test_runs_and_coalesces(void **state)
{
	struct probe p;
	struct bgjob *j;

	(void)state;
	j = started(&p);
	/* three more kicks while it runs: one more run after it */
	for (int i = 0; i < 3; i++)
		assert_int_equal(bgjob_kick(j), 0);
	open_gate(&p);
	event_base_dispatch(p.base); /* until the first done() */
	assert_int_equal(p.dones, 1);
	assert_int_equal(p.last_rc, 41);
	assert_true(bgjob_busy(j)); /* the second run started */
	open_gate(&p);
	event_base_dispatch(p.base);
	assert_int_equal(p.dones, 2);
	assert_int_equal(p.last_rc, 42);
	assert_int_equal(runs_now(&p), 2);
	assert_false(bgjob_busy(j));
	assert_true(p.other_thread);
	assert_true(p.sigs_blocked);
	/* SCHED_IDLE, or where the kernel refuses it a lower nice */
	assert_true(p.policy == SCHED_IDLE || p.nice >= BGJOB_NICE);
	bgjob_free(j);
	event_base_free(p.base);
}

/* Freed while a run is in progress: waits for it, done() not called. */
static void test_free_waits(void **state)
{
	struct probe p;
	struct bgjob *j;

	(void)state;
	j = started(&p);
	open_gate(&p);
	bgjob_free(j);
	assert_int_equal(runs_now(&p), 1);
	assert_int_equal(p.dones, 0);
	event_base_free(p.base);
}

/* Without a done(): the run's end is still noticed on the loop, and the
 * job may run again. */
static void test_no_done(void **state)
{
	struct probe p;
	struct bgjob *j;

	(void)state;
	setup_probe(&p);
	j = bgjob_new(p.base, run, NULL, &p);
	assert_non_null(j);
	for (int n = 1; n <= 2; n++) {
		assert_int_equal(bgjob_kick(j), 0);
		open_gate(&p);
		for (int i = 0; i < 1000 && bgjob_busy(j); i++) {
			event_base_loop(p.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
			usleep(1000);
		}
		assert_false(bgjob_busy(j));
		assert_int_equal(runs_now(&p), n);
	}
	bgjob_free(j);
	event_base_free(p.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_runs_and_coalesces),
	    cmocka_unit_test(test_free_waits),
	    cmocka_unit_test(test_no_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
