/*
 * jarena.h -- cJSON's allocations from a bump arena while one document is
 * parsed and decoded.  A LIST page of 500 pods is a tree of hundreds of
 * thousands of small nodes; allocating them one by one from malloc and
 * freeing them again costs more than the parsing itself.
 *
 * The hooks are process-wide: only one thread (the control thread) may use
 * cJSON while an arena is active.  Trees parsed inside the arena must be
 * deleted (or abandoned) before jarena_end().
 */
#ifndef CLUSTERDNS_JARENA_H
#define CLUSTERDNS_JARENA_H

#include <stddef.h>

/* Route cJSON's allocations through the arena hooks (once per process;
 * outside begin/end they are plain malloc and free). */
void jarena_install(void);

/* From now on cJSON allocates from the arena and its frees are no-ops. */
void jarena_begin(void);

/* Back to malloc; the arena's memory is kept for the next begin. */
void jarena_end(void);

/* Give the arena's memory back (when no big document is expected soon). */
void jarena_release(void);

/* Bytes the arena holds, for tests. */
size_t jarena_size(void);

#endif
