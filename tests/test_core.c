/* core: error table, frames, thread pool, CPU levels */
#include <stdatomic.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/thread.h"
#include "aie/util.h"
#include "tests.h"

static void test_strerror(void)
{
    CU_ASSERT_STRING_EQUAL(aie_strerror(AIE_OK), "success");
    CU_ASSERT_STRING_EQUAL(aie_strerror(AIE_ENOSPC), "no space left on device");
    CU_ASSERT_STRING_EQUAL(aie_strerror(12345), "unknown error");
    /* every code has its own message */
    int codes[] = {
#define X(name, value, msg) value,
        AIE_ERROR_LIST(X)
#undef X
    };
    int n = (int)(sizeof(codes) / sizeof(codes[0]));
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(codes[i], -i); /* dense, released values never move */
        for (int j = i + 1; j < n; j++)
            CU_ASSERT(strcmp(aie_strerror(codes[i]), aie_strerror(codes[j])) != 0);
    }
    CU_ASSERT_EQUAL(aie_error_from_errno(28 /* ENOSPC */), AIE_ENOSPC);
}

static void test_frame_alloc(void)
{
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL(aie_frame_alloc(&f, 0, 10, AIE_LAYOUT_YUV420, 8), AIE_EINVAL);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(aie_frame_alloc(&f, 16385, 10, AIE_LAYOUT_YUV420, 8), AIE_ETOOBIG);
    CU_ASSERT_EQUAL(aie_frame_alloc(&f, 10, 10, AIE_LAYOUT_YUV420, 7), AIE_EINVAL);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, 33, 17, AIE_LAYOUT_YUV420, 10), 0);
    CU_ASSERT_EQUAL(f->nplanes, 3);
    CU_ASSERT_EQUAL(f->plane_w[1], 17);
    CU_ASSERT_EQUAL(f->plane_h[1], 9);
    for (int p = 0; p < 3; p++) {
        CU_ASSERT_EQUAL((uintptr_t)f->data[p] % AIE_FRAME_ALIGN, 0);
        CU_ASSERT(f->stride[p] >= f->plane_w[p] * 2 + AIE_FRAME_ALIGN - 1);
        memset(f->data[p], 0x5a, (size_t)f->stride[p] * (size_t)f->plane_h[p]);
    }
    AieFrame *r = aie_frame_ref(f);
    CU_ASSERT_PTR_EQUAL(r, f);
    aie_frame_unref(&r);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(f->data[0][0], 0x5a); /* still alive: one reference left */
    aie_frame_unref(&f);
    CU_ASSERT_PTR_NULL(f);
    aie_frame_unref(&f); /* NULL is fine */
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, 5, 5, AIE_LAYOUT_RGBA, 8), 0);
    CU_ASSERT_EQUAL(f->nplanes, 4);
    CU_ASSERT_EQUAL(f->plane_w[3], 5);
    aie_frame_unref(&f);
}

static int aux_freed;
static void count_free(void *p)
{
    (void)p;
    aux_freed++;
}

static void test_frame_props(void)
{
    AieFrame *a, *b;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&a, 4, 4, AIE_LAYOUT_GRAY, 8), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&b, 8, 8, AIE_LAYOUT_GRAY, 8), 0);
    a->pts = 1234;
    a->time_base = (AieRational){1, 1000};
    a->color.primaries = 9;
    a->aux = &aux_freed;
    a->aux_free = count_free;
    aux_freed = 0;
    aie_frame_copy_props(b, a);
    CU_ASSERT_EQUAL(b->pts, 1234);
    CU_ASSERT_EQUAL(b->time_base.den, 1000);
    CU_ASSERT_EQUAL(b->color.primaries, 9);
    CU_ASSERT_PTR_NULL(a->aux);
    CU_ASSERT_PTR_NOT_NULL(b->aux);
    aie_frame_unref(&a);
    CU_ASSERT_EQUAL(aux_freed, 0);
    aie_frame_unref(&b);
    CU_ASSERT_EQUAL(aux_freed, 1);
}

static void test_frame_pool(void)
{
    AieFramePool *p;
    CU_ASSERT_EQUAL(aie_frame_pool_create(&p, 0, 4, AIE_LAYOUT_GRAY, 8), AIE_EINVAL);
    CU_ASSERT_EQUAL_FATAL(aie_frame_pool_create(&p, 64, 48, AIE_LAYOUT_YUV420, 8), 0);
    AieFrame *a, *b, *c;
    CU_ASSERT_EQUAL_FATAL(aie_frame_pool_get(p, &a), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_pool_get(p, &b), 0);
    CU_ASSERT_EQUAL(a->width, 64);
    CU_ASSERT_EQUAL(a->plane_h[1], 24);
    CU_ASSERT_PTR_NOT_EQUAL(a->data[0], b->data[0]);
    uint8_t *pa = a->data[0];
    a->pts = 99;
    aie_frame_unref(&a);
    /* the buffer comes back, with fresh metadata */
    CU_ASSERT_EQUAL_FATAL(aie_frame_pool_get(p, &c), 0);
    CU_ASSERT_PTR_EQUAL(c->data[0], pa);
    CU_ASSERT_NOT_EQUAL(c->pts, 99);
    /* frames outlive the pool */
    aie_frame_pool_free(&p);
    CU_ASSERT_PTR_NULL(p);
    memset(b->data[0], 1, (size_t)b->stride[0] * 48);
    aie_frame_unref(&b);
    aie_frame_unref(&c);
}

typedef struct {
    atomic_int hits[1000];
    AiePool *pool;
    atomic_int nested;
    atomic_int bad_worker;
} PoolCtx;

static void mark(void *ctx, int i, int worker)
{
    PoolCtx *c = ctx;
    if (worker < 0 || worker > aie_pool_threads(c->pool)) /* CUnit is not thread-safe */
        atomic_store(&c->bad_worker, 1);
    atomic_fetch_add(&c->hits[i], 1);
}

static void inner(void *ctx, int i, int worker)
{
    (void)i;
    (void)worker;
    atomic_fetch_add(&((PoolCtx *)ctx)->nested, 1);
}

static void outer(void *ctx, int i, int worker)
{
    (void)i;
    (void)worker;
    PoolCtx *c = ctx;
    aie_pool_parallel_for(c->pool, 50, inner, c); /* nested: must not deadlock */
}

static void test_pool(void)
{
    static PoolCtx c;
    for (int threads = 1; threads <= 4; threads++) {
        memset(&c, 0, sizeof(c));
        CU_ASSERT_EQUAL_FATAL(aie_pool_create(&c.pool, threads), 0);
        aie_pool_parallel_for(c.pool, 1000, mark, &c);
        int ok = 1;
        for (int i = 0; i < 1000; i++)
            ok &= atomic_load(&c.hits[i]) == 1;
        CU_ASSERT(ok);
        CU_ASSERT_EQUAL(atomic_load(&c.bad_worker), 0);
        aie_pool_parallel_for(c.pool, 20, outer, &c);
        CU_ASSERT_EQUAL(atomic_load(&c.nested), 20 * 50);
        /* async tasks all run before destroy returns */
        memset(c.hits, 0, sizeof(c.hits));
        for (int i = 0; i < 100; i++)
            CU_ASSERT_EQUAL(aie_pool_submit(c.pool, mark, &c), 0);
        aie_pool_destroy(&c.pool);
        CU_ASSERT_PTR_NULL(c.pool);
        CU_ASSERT_EQUAL(atomic_load(&c.hits[0]), 100);
    }
    CU_ASSERT_EQUAL(aie_pool_create(&c.pool, 0), AIE_EINVAL);
}

static void test_cpu(void)
{
    unsigned m;
    CU_ASSERT_EQUAL(aie_cpu_parse("c", &m), 0);
    CU_ASSERT_EQUAL(m, 0u);
    CU_ASSERT_EQUAL(aie_cpu_parse("avx2", &m), 0);
    CU_ASSERT(m & AIE_CPU_AVX2);
    CU_ASSERT(!(m & AIE_CPU_AVX512));
    CU_ASSERT_EQUAL(aie_cpu_parse("avx9", &m), -1);
    unsigned f = aie_cpu_flags();
    CU_ASSERT_EQUAL(f, aie_cpu_flags()); /* cached, stable */
    if (f & AIE_CPU_AVX512)
        CU_ASSERT(f & AIE_CPU_AVX2);
    CU_ASSERT_STRING_EQUAL(aie_cpu_name(0), "c");
    CU_ASSERT_STRING_EQUAL(aie_cpu_name(AIE_CPU_SSE41 | AIE_CPU_AVX2), "avx2");
}

static void test_util(void)
{
    CU_ASSERT_EQUAL(aie_gcd64(12, 18), 6);
    CU_ASSERT_EQUAL(aie_gcd64(-12, 18), 6);
    CU_ASSERT_EQUAL(aie_gcd64(0, 7), 7);
    CU_ASSERT_EQUAL(aie_gcd64(0, 0), 0);
    AieRational r = aie_rational_reduce(30000 * 2, 1001 * 1);
    CU_ASSERT(r.num == 60000 && r.den == 1001);
    r = aie_rational_reduce(2500, 1000);
    CU_ASSERT(r.num == 5 && r.den == 2);
    /* terms above 10^9 are halved until they fit, keeping the ratio close */
    r = aie_rational_reduce(3000000001LL, 1000000000LL);
    CU_ASSERT(r.num <= 1000000000 && r.den <= 1000000000);
    CU_ASSERT_DOUBLE_EQUAL((double)r.num / r.den, 3.000000001, 1e-8);
    CU_ASSERT_EQUAL(aie_hexval('0'), 0);
    CU_ASSERT_EQUAL(aie_hexval('9'), 9);
    CU_ASSERT_EQUAL(aie_hexval('a'), 10);
    CU_ASSERT_EQUAL(aie_hexval('F'), 15);
    CU_ASSERT_EQUAL(aie_hexval('g'), -1);
    CU_ASSERT_EQUAL(aie_hexval('/'), -1);
    CU_ASSERT_EQUAL(aie_hexval(-1), -1);
}

int test_core_register(void)
{
    CU_pSuite s = CU_add_suite("core", NULL, NULL);
    if (!s || !CU_add_test(s, "strerror", test_strerror) || !CU_add_test(s, "frame_alloc", test_frame_alloc) ||
        !CU_add_test(s, "frame_props", test_frame_props) || !CU_add_test(s, "frame_pool", test_frame_pool) || !CU_add_test(s, "pool", test_pool) ||
        !CU_add_test(s, "cpu", test_cpu) || !CU_add_test(s, "util", test_util))
        return -1;
    return 0;
}
