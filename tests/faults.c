/* Allocation-failure injection: the --wrap'd allocators (see faults.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>
#include <libswscale/swscale.h>

#include "faults.h"

/* ---- the real functions (resolved by the linker's --wrap) ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
char *__real_strdup(const char *s);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
void *__real_av_malloc(size_t n);
void *__real_av_mallocz(size_t n);
void *__real_av_realloc_array(void *p, size_t nmemb, size_t size);
AVPacket *__real_av_packet_alloc(void);
AVFrame *__real_av_frame_alloc(void);
AVFrame *__real_av_frame_clone(const AVFrame *src);
int __real_av_frame_get_buffer(AVFrame *f, int align);
struct AVSHA *__real_av_sha_alloc(void);
AVFormatContext *__real_avformat_alloc_context(void);
AVCodecContext *__real_avcodec_alloc_context3(const AVCodec *codec);
int __real_avformat_alloc_output_context2(AVFormatContext **ctx, const AVOutputFormat *ofmt,
                                          const char *format_name, const char *filename);
AVStream *__real_avformat_new_stream(AVFormatContext *s, const AVCodec *c);
AVBufferRef *__real_av_buffer_create(uint8_t *data, size_t size,
                                     void (*free_fn)(void *opaque, uint8_t *data), void *opaque,
                                     int flags);
int __real_av_dict_copy(AVDictionary **dst, const AVDictionary *src, int flags);
int __real_avio_open_dyn_buf(AVIOContext **s);
struct SwsContext *__real_sws_getContext(int sw, int sh, enum AVPixelFormat sf, int dw, int dh,
                                         enum AVPixelFormat df, int flags, SwsFilter *srcf,
                                         SwsFilter *dstf, const double *param);
json_object *__real_json_object_new_object(void);
json_object *__real_json_object_new_array(void);
json_tokener *__real_json_tokener_new(void);
json_tokener *__real_json_tokener_new_ex(int depth);
int __real_av_interleaved_write_frame(AVFormatContext *s, AVPacket *p);
int __wrap_av_interleaved_write_frame(AVFormatContext *s, AVPacket *p);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
void *__wrap_av_malloc(size_t n);
void *__wrap_av_mallocz(size_t n);
void *__wrap_av_realloc_array(void *p, size_t nmemb, size_t size);
AVPacket *__wrap_av_packet_alloc(void);
AVFrame *__wrap_av_frame_alloc(void);
AVFrame *__wrap_av_frame_clone(const AVFrame *src);
int __wrap_av_frame_get_buffer(AVFrame *f, int align);
struct AVSHA *__wrap_av_sha_alloc(void);
AVFormatContext *__wrap_avformat_alloc_context(void);
AVCodecContext *__wrap_avcodec_alloc_context3(const AVCodec *codec);
int __wrap_avformat_alloc_output_context2(AVFormatContext **ctx, const AVOutputFormat *ofmt,
                                          const char *format_name, const char *filename);
AVStream *__wrap_avformat_new_stream(AVFormatContext *s, const AVCodec *c);
AVBufferRef *__wrap_av_buffer_create(uint8_t *data, size_t size,
                                     void (*free_fn)(void *opaque, uint8_t *data), void *opaque,
                                     int flags);
int __wrap_av_dict_copy(AVDictionary **dst, const AVDictionary *src, int flags);
int __wrap_avio_open_dyn_buf(AVIOContext **s);
struct SwsContext *__wrap_sws_getContext(int sw, int sh, enum AVPixelFormat sf, int dw, int dh,
                                         enum AVPixelFormat df, int flags, SwsFilter *srcf,
                                         SwsFilter *dstf, const double *param);
json_object *__wrap_json_object_new_object(void);
json_object *__wrap_json_object_new_array(void);
json_tokener *__wrap_json_tokener_new(void);
json_tokener *__wrap_json_tokener_new_ex(int depth);

/* ---- state ---- */

#define TABLE_BITS 17
#define TABLE_SIZE (1u << TABLE_BITS)

typedef struct Block {
    void *p;        /* NULL: empty slot */
    size_t size;
    void *caller;
} Block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Block table[TABLE_SIZE];
static atomic_long live;       /* blocks in the table */
static size_t live_bytes;      /* under lock */
static atomic_int active;      /* counting and injecting */
static atomic_long counted;
static long fail_at;
static atomic_int hit;
static void *hit_caller;
static atomic_int overflow;

static size_t slot_of(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= (uintptr_t)0x9e3779b97f4a7c15ull;
    return (size_t)(x >> (sizeof(uintptr_t) * 8 - TABLE_BITS)) & (TABLE_SIZE - 1);
}

/* Under lock. */
static void table_add(void *p, size_t size, void *caller)
{
    if ((size_t)atomic_load(&live) >= TABLE_SIZE / 2) {
        atomic_store(&overflow, 1);
        return;
    }
    size_t i = slot_of(p);
    while (table[i].p && table[i].p != p)
        i = (i + 1) & (TABLE_SIZE - 1);
    if (table[i].p == p) { /* freed behind our back and handed out again */
        live_bytes -= table[i].size;
        atomic_fetch_sub(&live, 1);
    }
    table[i] = (Block){p, size, caller};
    live_bytes += size;
    atomic_fetch_add(&live, 1);
}

/* Under lock: remove p, with backward-shift deletion. Returns 1 if it was there. */
static int table_del(const void *p)
{
    size_t i = slot_of(p);
    while (table[i].p && table[i].p != p)
        i = (i + 1) & (TABLE_SIZE - 1);
    if (!table[i].p)
        return 0;
    live_bytes -= table[i].size;
    atomic_fetch_sub(&live, 1);
    table[i].p = NULL;
    size_t j = i;
    for (;;) {
        j = (j + 1) & (TABLE_SIZE - 1);
        if (!table[j].p)
            break;
        size_t home = slot_of(table[j].p);
        /* move j back to i unless its home lies cyclically in (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            table[i] = table[j];
            table[j].p = NULL;
            i = j;
        }
    }
    return 1;
}

/* Count one allocation; nonzero when this one must fail. */
#define inject() inject_at(__builtin_return_address(0))
static int inject_at(void *caller)
{
    if (!atomic_load_explicit(&active, memory_order_acquire))
        return 0;
    long n = atomic_fetch_add(&counted, 1) + 1;
    if (n == fail_at) {
        hit_caller = caller;
        atomic_store(&hit, 1);
        return 1;
    }
    return 0;
}

static void track(void *p, size_t size, void *caller)
{
    if (!p || !atomic_load_explicit(&active, memory_order_acquire))
        return;
    pthread_mutex_lock(&lock);
    table_add(p, size, caller);
    pthread_mutex_unlock(&lock);
}

static void untrack(const void *p)
{
    if (!p || atomic_load_explicit(&live, memory_order_acquire) == 0)
        return;
    pthread_mutex_lock(&lock);
    table_del(p);
    pthread_mutex_unlock(&lock);
}

/* ---- control ---- */

void faults_begin(long n)
{
    pthread_mutex_lock(&lock);
    memset(table, 0, sizeof(table));
    atomic_store(&live, 0);
    live_bytes = 0;
    atomic_store(&counted, 0);
    atomic_store(&hit, 0);
    atomic_store(&overflow, 0);
    fail_at = n;
    pthread_mutex_unlock(&lock);
    atomic_store_explicit(&active, 1, memory_order_release);
}

void faults_end(void) { atomic_store_explicit(&active, 0, memory_order_release); }

long faults_count(void) { return atomic_load(&counted); }

int faults_hit(void) { return atomic_load(&hit); }

void *faults_hit_caller(void) { return atomic_load(&hit) ? hit_caller : NULL; }

const char *faults_where(const void *addr, char *buf, size_t size)
{
    Dl_info di;
    if (addr && dladdr(addr, &di) && di.dli_fname)
        snprintf(buf, size, "%s+0x%lx", di.dli_fname,
                 (unsigned long)((uintptr_t)addr - (uintptr_t)di.dli_fbase));
    else
        snprintf(buf, size, "%p", addr);
    return buf;
}

long faults_live(void) { return atomic_load(&live); }

size_t faults_live_bytes(void)
{
    pthread_mutex_lock(&lock);
    size_t b = live_bytes;
    pthread_mutex_unlock(&lock);
    return b;
}

int faults_overflow(void) { return atomic_load(&overflow); }

void faults_dump(FILE *f, int max)
{
    pthread_mutex_lock(&lock);
    int n = 0;
    for (size_t i = 0; i < TABLE_SIZE && n < max; i++)
        if (table[i].p) {
            char w[512];
            fprintf(f, "    leaked %zu bytes at %p, allocated from %s\n", table[i].size, table[i].p,
                    faults_where(table[i].caller, w, sizeof(w)));
            n++;
        }
    pthread_mutex_unlock(&lock);
}

void faults_forget(void)
{
    pthread_mutex_lock(&lock);
    memset(table, 0, sizeof(table));
    atomic_store(&live, 0);
    live_bytes = 0;
    pthread_mutex_unlock(&lock);
}

/* ---- libc allocators: injected and tracked ---- */

#define CALLER __builtin_return_address(0)

void *__wrap_malloc(size_t n)
{
    if (inject())
        return errno = ENOMEM, NULL;
    void *p = __real_malloc(n);
    track(p, n, CALLER);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (inject())
        return errno = ENOMEM, NULL;
    void *p = __real_calloc(n, size);
    track(p, n * size, CALLER);
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    if (inject())
        return errno = ENOMEM, NULL;
    if (!old) {
        void *p = __real_realloc(NULL, n);
        track(p, n, CALLER);
        return p;
    }
    /* a tracked block stays tracked under its new address */
    int was = 0;
    if (atomic_load(&live) > 0) {
        pthread_mutex_lock(&lock);
        was = table_del(old);
        pthread_mutex_unlock(&lock);
    }
    void *p = __real_realloc(old, n);
    if (was || atomic_load_explicit(&active, memory_order_acquire)) {
        void *keep = p ? p : (n ? old : NULL); /* failed: old is still there */
        if (keep) {
            pthread_mutex_lock(&lock);
            table_add(keep, n, CALLER);
            pthread_mutex_unlock(&lock);
        }
    }
    return p;
}

void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    if (inject())
        return errno = ENOMEM, NULL;
    char *p = __real_strdup(s);
    track(p, strlen(s) + 1, CALLER);
    return p;
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    if (inject())
        return errno = ENOMEM, NULL;
    void *p = __real_aligned_alloc(align, n);
    track(p, n, CALLER);
    return p;
}

int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
    if (inject())
        return ENOMEM;
    int e = __real_posix_memalign(out, align, n);
    if (!e)
        track(*out, n, CALLER);
    return e;
}

/* ---- libav, libswscale, json-c constructors: injected only ---- */

void *__wrap_av_malloc(size_t n) { return inject() ? NULL : __real_av_malloc(n); }
void *__wrap_av_mallocz(size_t n) { return inject() ? NULL : __real_av_mallocz(n); }
void *__wrap_av_realloc_array(void *p, size_t nmemb, size_t size)
{
    return inject() ? NULL : __real_av_realloc_array(p, nmemb, size);
}
AVPacket *__wrap_av_packet_alloc(void) { return inject() ? NULL : __real_av_packet_alloc(); }
AVFrame *__wrap_av_frame_alloc(void) { return inject() ? NULL : __real_av_frame_alloc(); }
AVFrame *__wrap_av_frame_clone(const AVFrame *src)
{
    return inject() ? NULL : __real_av_frame_clone(src);
}
int __wrap_av_frame_get_buffer(AVFrame *f, int align)
{
    return inject() ? AVERROR(ENOMEM) : __real_av_frame_get_buffer(f, align);
}
struct AVSHA *__wrap_av_sha_alloc(void) { return inject() ? NULL : __real_av_sha_alloc(); }
AVFormatContext *__wrap_avformat_alloc_context(void)
{
    return inject() ? NULL : __real_avformat_alloc_context();
}
AVCodecContext *__wrap_avcodec_alloc_context3(const AVCodec *codec)
{
    return inject() ? NULL : __real_avcodec_alloc_context3(codec);
}
int __wrap_avformat_alloc_output_context2(AVFormatContext **ctx, const AVOutputFormat *ofmt,
                                          const char *format_name, const char *filename)
{
    if (inject()) {
        *ctx = NULL;
        return AVERROR(ENOMEM);
    }
    return __real_avformat_alloc_output_context2(ctx, ofmt, format_name, filename);
}
AVStream *__wrap_avformat_new_stream(AVFormatContext *s, const AVCodec *c)
{
    return inject() ? NULL : __real_avformat_new_stream(s, c);
}
AVBufferRef *__wrap_av_buffer_create(uint8_t *data, size_t size,
                                     void (*free_fn)(void *opaque, uint8_t *data), void *opaque,
                                     int flags)
{
    return inject() ? NULL : __real_av_buffer_create(data, size, free_fn, opaque, flags);
}
int __wrap_av_dict_copy(AVDictionary **dst, const AVDictionary *src, int flags)
{
    return inject() ? AVERROR(ENOMEM) : __real_av_dict_copy(dst, src, flags);
}
int __wrap_avio_open_dyn_buf(AVIOContext **s)
{
    return inject() ? AVERROR(ENOMEM) : __real_avio_open_dyn_buf(s);
}
struct SwsContext *__wrap_sws_getContext(int sw, int sh, enum AVPixelFormat sf, int dw, int dh,
                                         enum AVPixelFormat df, int flags, SwsFilter *srcf,
                                         SwsFilter *dstf, const double *param)
{
    return inject() ? NULL : __real_sws_getContext(sw, sh, sf, dw, dh, df, flags, srcf, dstf, param);
}
json_object *__wrap_json_object_new_object(void)
{
    return inject() ? NULL : __real_json_object_new_object();
}
json_object *__wrap_json_object_new_array(void)
{
    return inject() ? NULL : __real_json_object_new_array();
}
json_tokener *__wrap_json_tokener_new(void) { return inject() ? NULL : __real_json_tokener_new(); }
json_tokener *__wrap_json_tokener_new_ex(int depth)
{
    return inject() ? NULL : __real_json_tokener_new_ex(depth);
}

/* ---- a muxer that refuses one packet ---- */

static atomic_int mux_stream;
static atomic_long mux_left;

void faults_mux_refuse(int stream, long n)
{
    atomic_store(&mux_stream, stream);
    atomic_store(&mux_left, n);
}

int __wrap_av_interleaved_write_frame(AVFormatContext *s, AVPacket *p)
{
    if (p && p->stream_index == atomic_load(&mux_stream) && atomic_load(&mux_left) > 0 &&
        atomic_fetch_sub(&mux_left, 1) == 1) {
        av_packet_unref(p); /* it owns the packet, also when it fails */
        return AVERROR(EINVAL);
    }
    return __real_av_interleaved_write_frame(s, p);
}
