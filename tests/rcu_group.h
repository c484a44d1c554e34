/*
 * rcu_group.h -- the group setup and teardown of the cmocka tests whose
 * code reads or writes under liburcu: the test thread registers with RCU
 * for the group, and at the end waits for the callbacks the tests queued
 * (so that leak checkers see them freed).
 */
#ifndef CLUSTERDNS_TESTS_RCU_GROUP_H
#define CLUSTERDNS_TESTS_RCU_GROUP_H

#include <urcu.h>

static inline int rcu_group_setup(void **state)
{
	(void)state;
	rcu_register_thread();
	return 0;
}

static inline int rcu_group_teardown(void **state)
{
	(void)state;
	rcu_barrier();
	rcu_unregister_thread();
	return 0;
}

#endif
