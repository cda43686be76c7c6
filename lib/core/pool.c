#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/thread.h"

/* A batch is n indexed pieces of work. Workers and the waiting caller claim
 * pieces with an atomic counter. parallel_for batches go to the front of the
 * list (finish the frame in hand first); submitted tasks go to the back. */
typedef struct Batch {
    struct Batch *next;
    AieTaskFn fn;
    void *ctx;
    int n;
    atomic_int next_index;
    atomic_int done;
    int async; /* freed by the worker that finishes it */
} Batch;

struct AiePool {
    pthread_mutex_t lock;
    pthread_cond_t work;     /* new batch or shutdown */
    pthread_cond_t finished; /* some piece finished */
    Batch *head, *tail;
    int nthreads, quit, pending_async;
    pthread_t *threads;
};

long long aie_time_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int aie_cpu_count(void)
{
    /* the CPUs this process may run on (taskset, cgroup cpusets, Slurm) */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (int)n;
}

/* Unlink b if it is still listed. Called with the lock held. */
static void unlink_batch(AiePool *p, Batch *b)
{
    Batch **pp = &p->head, *prev = NULL;
    while (*pp && *pp != b) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = b->next;
    if (p->tail == b)
        p->tail = prev;
    b->next = NULL;
}

/* Run piece `first` (claimed by the caller while b was known alive), then
 * claim and run more until none is left. Until this thread adds what it ran
 * to b->done, b cannot be finished, so it stays alive. Returns the count run. */
static int run_pieces(Batch *b, int first, int worker)
{
    int ran = 0;
    for (int i = first; i < b->n; i = atomic_fetch_add(&b->next_index, 1)) {
        b->fn(b->ctx, i, worker);
        ran++;
    }
    return ran;
}

static void *worker_main(void *arg)
{
    AiePool *p = arg;
    pthread_mutex_lock(&p->lock);
    int id = 0;
    for (int i = 0; i < p->nthreads; i++)
        if (pthread_equal(p->threads[i], pthread_self()))
            id = i;
    for (;;) {
        while (!p->head && !p->quit)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->head && p->quit)
            break;
        Batch *b = p->head;
        /* claim under the lock: a listed batch is alive */
        int first = atomic_fetch_add(&b->next_index, 1);
        if (first >= b->n) {
            unlink_batch(p, b); /* exhausted: nothing left to claim */
            continue;
        }
        pthread_mutex_unlock(&p->lock);
        int ran = run_pieces(b, first, id);
        pthread_mutex_lock(&p->lock);
        unlink_batch(p, b);
        int total = atomic_fetch_add(&b->done, ran) + ran;
        if (b->async && total == b->n) {
            p->pending_async--;
            free(b);
        }
        pthread_cond_broadcast(&p->finished);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int aie_pool_create(AiePool **out, int nthreads)
{
    *out = NULL;
    if (nthreads < 1)
        return AIE_EINVAL;
    AiePool *p = calloc(1, sizeof(*p));
    if (!p)
        return AIE_ENOMEM;
    p->threads = calloc((size_t)nthreads, sizeof(*p->threads));
    if (!p->threads) {
        free(p);
        return AIE_ENOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->finished, NULL);
    pthread_mutex_lock(&p->lock); /* workers read their ids under the lock */
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main, p)) {
            p->quit = 1;
            pthread_cond_broadcast(&p->work);
            pthread_mutex_unlock(&p->lock);
            for (int j = 0; j < i; j++)
                pthread_join(p->threads[j], NULL);
            free(p->threads);
            free(p);
            return AIE_ENOMEM;
        }
        p->nthreads = i + 1;
    }
    pthread_mutex_unlock(&p->lock);
    *out = p;
    return 0;
}

void aie_pool_destroy(AiePool **pp)
{
    AiePool *p = pp ? *pp : NULL;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    while (p->pending_async)
        pthread_cond_wait(&p->finished, &p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    *pp = NULL; /* only now: the tasks that ran until here may read *pp */
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->finished);
    free(p->threads);
    free(p);
}

int aie_pool_threads(const AiePool *p) { return p ? p->nthreads : 1; }

void aie_pool_parallel_for(AiePool *p, int n, AieTaskFn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (!p) {
        for (int i = 0; i < n; i++)
            fn(ctx, i, 0);
        return;
    }
    int self = p->nthreads; /* a thread outside the pool */
    for (int i = 0; i < p->nthreads; i++)
        if (pthread_equal(p->threads[i], pthread_self()))
            self = i;
    if (n == 1) {
        fn(ctx, 0, self);
        return;
    }
    Batch b = {.fn = fn, .ctx = ctx, .n = n};
    atomic_init(&b.next_index, 0);
    atomic_init(&b.done, 0);
    pthread_mutex_lock(&p->lock);
    b.next = p->head;
    /* b lives on this stack while queued: unlink_batch() takes it out before
     * this function returns */
    p->head = &b; /* cppcheck-suppress autoVariables */
    if (!p->tail)
        p->tail = &b; /* cppcheck-suppress autoVariables */
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);

    int ran = run_pieces(&b, atomic_fetch_add(&b.next_index, 1), self);

    pthread_mutex_lock(&p->lock);
    unlink_batch(p, &b);
    atomic_fetch_add(&b.done, ran);
    while (atomic_load(&b.done) < n)
        pthread_cond_wait(&p->finished, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

int aie_pool_submit(AiePool *p, AieTaskFn fn, void *ctx)
{
    if (!p) {
        fn(ctx, 0, 0);
        return 0;
    }
    Batch *b = calloc(1, sizeof(*b));
    if (!b)
        return AIE_ENOMEM;
    b->fn = fn;
    b->ctx = ctx;
    b->n = 1;
    b->async = 1;
    atomic_init(&b->next_index, 0);
    atomic_init(&b->done, 0);
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    p->pending_async++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}
