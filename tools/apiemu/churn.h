/*
 * churn.h -- a steady stream of changes for soak tests: creates, updates and
 * deletes of Services, EndpointSlices and Pods in one namespace of their own,
 * at a given rate, made on the server's event loop.
 *
 * The objects live in a pool of slots: slot i can hold the Service churn-i
 * (even i headless, odd i ClusterIP 10.99.0.0 + i or, after an update
 * maybe, 10.98.0.0 + i; one port "http" whose number changes), its
 * EndpointSlice churn-i (1 to 4 endpoints 10.251.0.1 + 4i + k, even k
 * named "ek", one in four not ready) and the Pod churn-i (Running, at
 * 10.253.0.1 + 2i or the address after it).  Every change picks a slot and
 * a kind at random: an absent object is created, a present one updated
 * (two times in three) or deleted, so about three in four are present.
 * The addresses stay out of what tools/gencluster and the test fixtures
 * use, and the names are in the churn's own namespace, so names asked
 * elsewhere never change.
 */
#ifndef APIEMU_CHURN_H
#define APIEMU_CHURN_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>

struct emu_server;

/* The largest pool: the address ranges hold this many slots. */
#define EMU_CHURN_MAX_SLOTS 16384

/* Start the churn of rate changes a second over slots slots in namespace
 * ns (created when missing), or change a running one; rate 0 stops it.
 * Objects already in the namespace under the pool's names are taken as
 * they are.  Returns 0, or -EINVAL with a message in err. */
int emu_churn_set(struct emu_server *srv, double rate, const char *ns,
		  unsigned slots, char *err, size_t errlen);

/* Append the churn's state as a JSON object to out: rate, namespace, slots,
 * changes made (creates, updates, deletes) and the objects present. */
void emu_churn_write(const struct emu_server *srv, struct evbuffer *out);

/* Stop the churn and free what it holds. */
void emu_churn_free(struct emu_server *srv);

#endif
