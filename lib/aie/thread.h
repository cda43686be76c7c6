/*
 * Thread pool and cancellation.
 *
 * AiePool runs tasks on a fixed set of threads. aie_pool_parallel_for() splits
 * work into indexed pieces (slices, tiles); the calling thread takes pieces too,
 * so it may be called from inside a pool task without deadlock. aie_pool_submit()
 * queues one asynchronous task (a frame job).
 *
 * AieCancel is a token the caller owns (cmd/ sets it from its signal thread);
 * long-running library calls poll it and return AIE_ECANCELLED.
 */
#ifndef AIE_THREAD_H
#define AIE_THREAD_H

#include <stdatomic.h>

typedef struct AieCancel {
    atomic_int requested; /* 0, or the signal number / reason that asked to stop */
} AieCancel;

static inline void aie_cancel_request(AieCancel *c, int reason)
{
    if (c)
        atomic_store(&c->requested, reason ? reason : 1);
}

static inline int aie_cancel_requested(const AieCancel *c)
{
    return c ? atomic_load((atomic_int *)&c->requested) : 0;
}

typedef struct AiePool AiePool;

/* index runs over [0, n). worker identifies the thread running the piece: a
 * pool thread's own number in [0, aie_pool_threads(pool)), or
 * aie_pool_threads(pool) for a thread outside the pool. Per-worker scratch
 * therefore needs aie_pool_threads(pool) + 1 slots, and at most one thread
 * outside the pool may call aie_pool_parallel_for() at a time. */
typedef void (*AieTaskFn)(void *ctx, int index, int worker);

/* nthreads >= 1 worker threads. */
int aie_pool_create(AiePool **out, int nthreads);

/* Waits for queued tasks to finish, then joins the threads. Accepts NULL. */
void aie_pool_destroy(AiePool **pool);

int aie_pool_threads(const AiePool *pool);

/* Run fn(ctx, i, worker) for every i in [0, n) and return when all are done.
 * pool may be NULL: then everything runs on the calling thread. */
void aie_pool_parallel_for(AiePool *pool, int n, AieTaskFn fn, void *ctx);

/* Queue fn(ctx, 0, worker) to run asynchronously. Returns 0 or AIE_ENOMEM. */
int aie_pool_submit(AiePool *pool, AieTaskFn fn, void *ctx);

/* Monotonic clock in microseconds. */
long long aie_time_us(void);

/* Number of online CPUs (at least 1). */
int aie_cpu_count(void);

#endif /* AIE_THREAD_H */
