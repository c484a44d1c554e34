/*
 * bgjob.h -- one job at a time on a thread of its own, done on the loop.
 *
 * Reading a large objects PATH takes seconds of CPU, and applying it a
 * fifth of a second more.  A bgjob runs such work on a thread of its own
 * in the SCHED_IDLE class (nice BGJOB_NICE where the kernel refuses it),
 * so the event loop keeps serving /health, /ready and /metrics meanwhile
 * and a worker woken by a query takes the CPU from it at once: when the
 * workers keep the CPUs busy, the job waits for them.  When the job
 * returns, done() runs on the event loop, where the result is used.  A
 * kick while a run is in progress asks for one more run after it: any
 * number of kicks during a run make one more run, never two at once.
 */
#ifndef CLUSTERDNS_BGJOB_H
#define CLUSTERDNS_BGJOB_H

#include <stdbool.h>

#include <event2/event.h>

#define BGJOB_NICE 10

struct bgjob;

/* A job: run(arg) on its thread, then done(arg, rc) with run's return
 * value on base's loop (done may be NULL).  NULL with errno set on
 * failure. */
struct bgjob *bgjob_new(struct event_base *base, int (*run)(void *arg),
			void (*done)(void *arg, int rc), void *arg);

/* Start a run, or ask for one more after the run in progress.  Returns 0
 * or a negative errno (the thread could not start). */
int bgjob_kick(struct bgjob *j);

/* Whether a run is in progress or asked for. */
bool bgjob_busy(const struct bgjob *j);

/* Wait for a run in progress to end (its done() is not called), then
 * free. */
void bgjob_free(struct bgjob *j);

/* A point where a long job may give its CPU away: on a job's thread, every
 * BGJOB_PACE_EVERY calls, the thread yields to any thread waiting for the
 * CPU (a worker woken by a query); elsewhere it does nothing.  A lower
 * priority alone is not enough: a kernel that does not preempt at wakeup
 * lets a running job keep the CPU until the next tick, 4 ms at HZ 250, and
 * even a SCHED_IDLE job was seen to keep it that long.  (Without the
 * yields, a reload of 150,000 services beside a spinning SCHED_IDLE process
 * took 1.3-1.7 s instead of 14, and the UDP p99 meanwhile 0.9-3.6 ms
 * instead of 0.4-0.5 in the same runs.) */
#define BGJOB_PACE_EVERY 32
void bgjob_pace(void);

#endif
