/*
 * CUnit suite "png": lib/io/png.c.
 *
 * Reference PNGs are built by hand here (chunks, CRC-32 and a zlib stream of
 * stored deflate blocks), so the decoder is checked against files that do not
 * come from the encoder under test and the suite needs neither libpng nor zlib.
 * When the ffmpeg program is present it serves as an independent oracle too.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "io/png.h"
#include "tests.h"

#define AIE_FUZZ_NO_MAIN
#include "fuzz/fuzz_png.c"


/* ---- helpers: random numbers, byte buffers, files ------------------------ */

static uint64_t rng_state;

static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

typedef struct Buf {
    uint8_t *p;
    size_t n, cap;
} Buf;

static void buf_put(Buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void buf_u8(Buf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    buf_put(b, &c, 1);
}

static void buf_be32(Buf *b, uint32_t v)
{
    uint8_t c[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    buf_put(b, c, 4);
}

static void aie_buf_free(Buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static uint32_t crc32_png(uint32_t crc, const uint8_t *p, size_t n)
{
    static uint32_t table[256];
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* Append a chunk; declared_len lets a test lie about the length. */
static void put_chunk_len(Buf *b, const char *type, const void *data, size_t n,
                          uint32_t declared_len)
{
    buf_be32(b, declared_len);
    size_t start = b->n;
    buf_put(b, type, 4);
    buf_put(b, data, n);
    buf_be32(b, crc32_png(0, b->p + start, b->n - start));
}

static void put_chunk(Buf *b, const char *type, const void *data, size_t n)
{
    put_chunk_len(b, type, data, n, (uint32_t)n);
}

/* zlib stream made of stored (uncompressed) deflate blocks. */
static void zlib_stored(Buf *out, const uint8_t *src, size_t n)
{
    uint32_t a = 1, b2 = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + src[i]) % 65521;
        b2 = (b2 + a) % 65521;
    }
    buf_u8(out, 0x78);
    buf_u8(out, 0x01);
    size_t off = 0;
    do {
        size_t len = n - off > 65535 ? 65535 : n - off;
        buf_u8(out, off + len == n);
        buf_u8(out, len & 0xff);
        buf_u8(out, len >> 8);
        buf_u8(out, ~len & 0xff);
        buf_u8(out, (~len >> 8) & 0xff);
        buf_put(out, src + off, len);
        off += len;
    } while (off < n);
    buf_be32(out, b2 << 16 | a);
}

static const uint8_t png_sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};

static int type_channels(int color_type)
{
    static const int ch[7] = {1, 0, 3, 1, 2, 0, 4};
    return ch[color_type];
}

static size_t png_rowbytes(int w, int bit_depth, int color_type)
{
    return ((size_t)w * (size_t)type_channels(color_type) * (size_t)bit_depth + 7) / 8;
}

typedef struct Spec {
    int w, h, bit_depth, color_type, interlace;
    const uint8_t *plte; /* rgb triplets */
    int nplte;
    const uint8_t *trns;
    int ntrns;
    const Buf *extra;    /* raw chunks inserted after IHDR (and PLTE) */
} Spec;

/* Build a PNG from img: h rows of png_rowbytes() bytes in PNG sample format
 * (big-endian 16-bit, packed sub-byte pixels). Interlace needs bit_depth >= 8. */
static void build_png(Buf *out, const Spec *s, const uint8_t *img)
{
    uint8_t ihdr[13];
    uint32_t w = (uint32_t)s->w, h = (uint32_t)s->h;
    ihdr[0] = (uint8_t)(w >> 24), ihdr[1] = (uint8_t)(w >> 16), ihdr[2] = (uint8_t)(w >> 8),
    ihdr[3] = (uint8_t)w;
    ihdr[4] = (uint8_t)(h >> 24), ihdr[5] = (uint8_t)(h >> 16), ihdr[6] = (uint8_t)(h >> 8),
    ihdr[7] = (uint8_t)h;
    ihdr[8] = (uint8_t)s->bit_depth;
    ihdr[9] = (uint8_t)s->color_type;
    ihdr[10] = ihdr[11] = 0;
    ihdr[12] = (uint8_t)s->interlace;
    buf_put(out, png_sig, 8);
    put_chunk(out, "IHDR", ihdr, 13);
    if (s->nplte)
        put_chunk(out, "PLTE", s->plte, (size_t)s->nplte * 3);
    if (s->ntrns)
        put_chunk(out, "tRNS", s->trns, (size_t)s->ntrns);
    if (s->extra)
        buf_put(out, s->extra->p, s->extra->n);

    Buf raw = {0}, z = {0};
    size_t rb = png_rowbytes(s->w, s->bit_depth, s->color_type);
    if (!s->interlace) {
        for (int y = 0; y < s->h; y++) {
            buf_u8(&raw, 0);
            buf_put(&raw, img + (size_t)y * rb, rb);
        }
    } else {
        static const int x0[7] = {0, 4, 0, 2, 0, 1, 0}, y0[7] = {0, 0, 4, 0, 2, 0, 1};
        static const int dx[7] = {8, 8, 4, 4, 2, 2, 1}, dy[7] = {8, 8, 8, 4, 4, 2, 2};
        size_t bpp = (size_t)type_channels(s->color_type) * (size_t)s->bit_depth / 8;
        for (int p = 0; p < 7; p++) {
            if (x0[p] >= s->w || y0[p] >= s->h)
                continue; /* empty pass: no rows at all */
            for (int y = y0[p]; y < s->h; y += dy[p]) {
                buf_u8(&raw, 0);
                for (int x = x0[p]; x < s->w; x += dx[p])
                    buf_put(&raw, img + (size_t)y * rb + (size_t)x * bpp, bpp);
            }
        }
    }
    zlib_stored(&z, raw.p, raw.n);
    put_chunk(out, "IDAT", z.p, z.n);
    put_chunk(out, "IEND", NULL, 0);
    aie_buf_free(&raw);
    aie_buf_free(&z);
}

static int write_bytes(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t put = n ? fwrite(p, 1, n, fp) : 0;
    return fclose(fp) == 0 && put == n ? 0 : -1;
}

static int read_bytes(const char *path, Buf *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    uint8_t tmp[4096];
    size_t got;
    while ((got = fread(tmp, 1, sizeof(tmp), fp)) > 0)
        buf_put(out, tmp, got);
    fclose(fp);
    return 0;
}

/* ---- helpers: frames ----------------------------------------------------- */

static unsigned px(const AieFrame *f, int p, int x, int y)
{
    const uint8_t *r = f->data[p] + (ptrdiff_t)y * f->stride[p];
    return f->depth > 8 ? ((const uint16_t *)r)[x] : r[x];
}

static void set_px(AieFrame *f, int p, int x, int y, unsigned v)
{
    uint8_t *r = f->data[p] + (ptrdiff_t)y * f->stride[p];
    if (f->depth > 8)
        ((uint16_t *)r)[x] = (uint16_t)v;
    else
        r[x] = (uint8_t)v;
}

static AieFrame *random_frame(AieLayout layout, int depth, int w, int h)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, w, h, layout, depth) != 0)
        return NULL;
    unsigned mask = (1u << depth) - 1;
    for (int p = 0; p < f->nplanes; p++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                set_px(f, p, x, y, rng() & mask);
    return f;
}

/* Number of samples that differ (all planes); -1 when the shapes differ. */
static long frame_diff(const AieFrame *a, const AieFrame *b)
{
    if (!a || !b || a->width != b->width || a->height != b->height || a->layout != b->layout ||
        a->depth != b->depth)
        return -1;
    long bad = 0;
    for (int p = 0; p < a->nplanes; p++)
        for (int y = 0; y < a->height; y++)
            for (int x = 0; x < a->width; x++)
                bad += px(a, p, x, y) != px(b, p, x, y);
    return bad;
}

static AieFrame *read_png(const char *path, int *ret)
{
    AieFrame *f = NULL;
    char err[AIE_ERRBUF_SIZE];
    *ret = aie_png_read_file(path, &f, err, sizeof(err));
    return f;
}

static int read_buf(const Buf *b, const char *name, AieFrame **f)
{
    const char *path = tests_tmp_path(name);
    char err[AIE_ERRBUF_SIZE];
    *f = NULL;
    if (write_bytes(path, b->p, b->n) != 0)
        return -1000;
    return aie_png_read_file(path, f, err, sizeof(err));
}

/* ---- tests --------------------------------------------------------------- */

static void roundtrip(int depth)
{
    static const AieLayout layouts[3] = {AIE_LAYOUT_GRAY, AIE_LAYOUT_RGB, AIE_LAYOUT_RGBA};
    static const int sizes[][2] = {{1, 1}, {37, 23}, {64, 3}, {3, 50}};
    char err[AIE_ERRBUF_SIZE];
    rng_seed(100 + (uint64_t)depth);
    for (int l = 0; l < 3; l++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            AieFrame *src = random_frame(layouts[l], depth, sizes[s][0], sizes[s][1]);
            CU_ASSERT_PTR_NOT_NULL_FATAL(src);
            const char *path = tests_tmp_path("rt.png");
            int ret = aie_png_write_file(path, src, depth, err, sizeof(err));
            CU_ASSERT_EQUAL(ret, 0);

            int w = 0, h = 0, pd = 0;
            AieLayout pl = AIE_LAYOUT_COUNT;
            CU_ASSERT_EQUAL(aie_png_probe_file(path, &w, &h, &pl, &pd, err, sizeof(err)), 0);
            CU_ASSERT(w == src->width && h == src->height && pl == src->layout && pd == depth);

            AieFrame *dst = read_png(path, &ret);
            CU_ASSERT_EQUAL(ret, 0);
            CU_ASSERT_EQUAL(frame_diff(src, dst), 0);
            if (dst) {
                CU_ASSERT_EQUAL(dst->color.range, 2);
                CU_ASSERT_EQUAL(dst->color.matrix, layouts[l] == AIE_LAYOUT_GRAY ? 2 : 0);
            }
            aie_frame_unref(&src);
            aie_frame_unref(&dst);
        }
}

static void test_roundtrip_8(void) { roundtrip(8); }
static void test_roundtrip_16(void) { roundtrip(16); }

/* 16, 12 and 10-bit frames written as 8-bit PNG round to nearest; 8/10/12-bit
 * frames written as 16-bit PNG scale by bit replication. */
static void test_depth_conversion(void)
{
    static const unsigned edges16[] = {0,     1,     127,   128,   129,   255,   256,
                                       257,   32767, 32768, 32896, 65277, 65278, 65279,
                                       65280, 65534, 65535};
    static const int depths[] = {8, 10, 12, 16};
    char err[AIE_ERRBUF_SIZE];
    rng_seed(7);
    for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        int depth = depths[d];
        unsigned max = (1u << depth) - 1;
        AieFrame *src = random_frame(AIE_LAYOUT_RGB, depth, 61, 9);
        CU_ASSERT_PTR_NOT_NULL_FATAL(src);
        if (depth == 16)
            for (size_t i = 0; i < sizeof(edges16) / sizeof(edges16[0]); i++)
                set_px(src, (int)i % 3, (int)i, 0, edges16[i]);
        else
            for (unsigned i = 0; i < 16; i++) /* both ends of the range */
                set_px(src, 0, (int)i, 1, i < 8 ? i : max - (i - 8));
        const char *path = tests_tmp_path("conv.png");
        for (int out = 8; out <= 16; out += 8) {
            if (depth == out)
                continue;
            CU_ASSERT_EQUAL(aie_png_write_file(path, src, out, err, sizeof(err)), 0);
            int ret;
            AieFrame *dst = read_png(path, &ret);
            CU_ASSERT_EQUAL_FATAL(ret, 0);
            CU_ASSERT_EQUAL(dst->depth, out);
            long bad = 0;
            for (int p = 0; p < 3; p++)
                for (int y = 0; y < src->height; y++)
                    for (int x = 0; x < src->width; x++) {
                        unsigned v = px(src, p, x, y), got = px(dst, p, x, y);
                        if (out == 8) {
                            bad += got != (unsigned)lround(v * 255.0 / max);
                        } else {
                            /* bit replication, and within 1 of exact scaling */
                            unsigned rep = (v << (16 - depth) | v >> (2 * depth - 16)) & 0xffff;
                            bad += got != rep;
                            bad += fabs((double)got - v * 65535.0 / max) > 1.0;
                        }
                    }
            CU_ASSERT_EQUAL(bad, 0);
            aie_frame_unref(&dst);
        }
        aie_frame_unref(&src);
    }
}

/* Palette images at 8, 4 and 1 bits, with and without tRNS. */
static void test_palette(void)
{
    static const int bds[] = {8, 4, 1};
    rng_seed(11);
    for (size_t b = 0; b < 3; b++)
        for (int with_trns = 0; with_trns <= 1; with_trns++) {
            int bd = bds[b], w = 19, h = 7, n = 1 << bd > 16 ? 16 : 1 << bd;
            uint8_t plte[16 * 3], trns[5];
            for (int i = 0; i < n * 3; i++)
                plte[i] = (uint8_t)rng();
            for (int i = 0; i < 5; i++)
                trns[i] = (uint8_t)(i * 60);
            int ntrns = with_trns ? (n < 5 ? n : 5) : 0;
            size_t rb = png_rowbytes(w, bd, 3);
            uint8_t *img = calloc(rb, (size_t)h);
            int *idx = malloc(sizeof(int) * (size_t)(w * h));
            CU_ASSERT_FATAL(img && idx);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int i = (int)(rng() % (unsigned)n);
                    idx[y * w + x] = i;
                    int bit = x * bd;
                    img[(size_t)y * rb + (size_t)(bit / 8)] |= (uint8_t)(i << (8 - bd - bit % 8));
                }
            Spec s = {.w = w, .h = h, .bit_depth = bd, .color_type = 3, .plte = plte,
                      .nplte = n, .trns = trns, .ntrns = ntrns};
            Buf png = {0};
            build_png(&png, &s, img);
            AieFrame *f = NULL;
            int ret = read_buf(&png, "pal.png", &f);
            CU_ASSERT_EQUAL(ret, 0);
            if (f) {
                CU_ASSERT_EQUAL(f->layout, with_trns ? AIE_LAYOUT_RGBA : AIE_LAYOUT_RGB);
                CU_ASSERT_EQUAL(f->depth, 8);
                long bad = 0;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        int i = idx[y * w + x];
                        for (int c = 0; c < 3; c++)
                            bad += px(f, c, x, y) != plte[i * 3 + c];
                        if (with_trns)
                            bad += px(f, 3, x, y) != (unsigned)(i < ntrns ? trns[i] : 255);
                    }
                CU_ASSERT_EQUAL(bad, 0);
            }
            aie_frame_unref(&f);
            aie_buf_free(&png);
            free(img);
            free(idx);
        }
}

/* Gray+alpha (8/16) -> RGBA; gray and rgb with tRNS -> RGBA; 2-bit gray -> 8. */
static void test_gray_alpha(void)
{
    rng_seed(12);
    for (int bd = 8; bd <= 16; bd += 8) {
        int w = 13, h = 5, bps = bd / 8;
        size_t rb = png_rowbytes(w, bd, 4);
        uint8_t *img = malloc(rb * (size_t)h);
        CU_ASSERT_PTR_NOT_NULL_FATAL(img);
        for (size_t i = 0; i < rb * (size_t)h; i++)
            img[i] = (uint8_t)rng();
        Spec s = {.w = w, .h = h, .bit_depth = bd, .color_type = 4};
        Buf png = {0};
        build_png(&png, &s, img);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&png, "ga.png", &f), 0);
        if (f) {
            CU_ASSERT_EQUAL(f->layout, AIE_LAYOUT_RGBA);
            CU_ASSERT_EQUAL(f->depth, bd);
            long bad = 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    const uint8_t *q = img + (size_t)y * rb + (size_t)(x * 2 * bps);
                    unsigned g = bps == 2 ? (unsigned)(q[0] << 8 | q[1]) : q[0];
                    unsigned a = bps == 2 ? (unsigned)(q[2] << 8 | q[3]) : q[1];
                    for (int c = 0; c < 3; c++)
                        bad += px(f, c, x, y) != g;
                    bad += px(f, 3, x, y) != a;
                }
            CU_ASSERT_EQUAL(bad, 0);
        }
        aie_frame_unref(&f);
        aie_buf_free(&png);
        free(img);
    }

    /* 16-bit gray with tRNS key 0x1234 */
    {
        uint8_t img[2 * 4] = {0x12, 0x34, 0xff, 0xff, 0x00, 0x00, 0x12, 0x35};
        uint8_t key[2] = {0x12, 0x34};
        Spec s = {.w = 4, .h = 1, .bit_depth = 16, .color_type = 0, .trns = key, .ntrns = 2};
        Buf png = {0};
        build_png(&png, &s, img);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&png, "gt.png", &f), 0);
        if (f) {
            CU_ASSERT(f->layout == AIE_LAYOUT_RGBA && f->depth == 16);
            CU_ASSERT(px(f, 0, 0, 0) == 0x1234 && px(f, 2, 0, 0) == 0x1234);
            CU_ASSERT(px(f, 3, 0, 0) == 0 && px(f, 3, 1, 0) == 65535);
            CU_ASSERT(px(f, 3, 2, 0) == 65535 && px(f, 3, 3, 0) == 65535);
            CU_ASSERT(px(f, 1, 3, 0) == 0x1235);
        }
        aie_frame_unref(&f);
        aie_buf_free(&png);
    }

    /* 8-bit rgb with tRNS key (10, 20, 30) */
    {
        uint8_t img[3 * 3] = {10, 20, 30, 10, 20, 31, 200, 100, 50};
        uint8_t key[6] = {0, 10, 0, 20, 0, 30};
        Spec s = {.w = 3, .h = 1, .bit_depth = 8, .color_type = 2, .trns = key, .ntrns = 6};
        Buf png = {0};
        build_png(&png, &s, img);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&png, "rt.png", &f), 0);
        if (f) {
            CU_ASSERT(f->layout == AIE_LAYOUT_RGBA && f->depth == 8);
            CU_ASSERT(px(f, 3, 0, 0) == 0 && px(f, 3, 1, 0) == 255 && px(f, 3, 2, 0) == 255);
            CU_ASSERT(px(f, 0, 2, 0) == 200 && px(f, 1, 2, 0) == 100 && px(f, 2, 2, 0) == 50);
        }
        aie_frame_unref(&f);
        aie_buf_free(&png);
    }

    /* 2-bit gray expands to 0, 85, 170, 255 */
    {
        uint8_t img[1] = {0x1b}; /* 00 01 10 11 */
        Spec s = {.w = 4, .h = 1, .bit_depth = 2, .color_type = 0};
        Buf png = {0};
        build_png(&png, &s, img);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&png, "g2.png", &f), 0);
        if (f) {
            CU_ASSERT(f->layout == AIE_LAYOUT_GRAY && f->depth == 8);
            CU_ASSERT(px(f, 0, 0, 0) == 0 && px(f, 0, 1, 0) == 85);
            CU_ASSERT(px(f, 0, 2, 0) == 170 && px(f, 0, 3, 0) == 255);
        }
        aie_frame_unref(&f);
        aie_buf_free(&png);
    }
}

/* Adam7 images, including sizes where some passes are empty. */
static void test_interlaced(void)
{
    static const int sizes[][2] = {{1, 1}, {2, 3}, {5, 1}, {7, 5}, {33, 17}};
    static const struct {
        int ct, bd;
        AieLayout layout;
    } kinds[] = {{0, 8, AIE_LAYOUT_GRAY}, {2, 8, AIE_LAYOUT_RGB}, {6, 16, AIE_LAYOUT_RGBA},
                 {4, 8, AIE_LAYOUT_RGBA}};
    rng_seed(13);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            int w = sizes[s][0], h = sizes[s][1];
            size_t rb = png_rowbytes(w, kinds[k].bd, kinds[k].ct);
            uint8_t *img = malloc(rb * (size_t)h);
            CU_ASSERT_PTR_NOT_NULL_FATAL(img);
            for (size_t i = 0; i < rb * (size_t)h; i++)
                img[i] = (uint8_t)rng();
            Spec sp = {.w = w, .h = h, .bit_depth = kinds[k].bd, .color_type = kinds[k].ct};
            Buf plain = {0}, inter = {0};
            build_png(&plain, &sp, img);
            sp.interlace = 1;
            build_png(&inter, &sp, img);
            AieFrame *a = NULL, *b = NULL;
            CU_ASSERT_EQUAL(read_buf(&plain, "plain.png", &a), 0);
            CU_ASSERT_EQUAL(read_buf(&inter, "adam7.png", &b), 0);
            CU_ASSERT(a && a->layout == kinds[k].layout && a->depth == kinds[k].bd);
            CU_ASSERT_EQUAL(frame_diff(a, b), 0);
            /* and against the source bytes directly (gray/rgb/rgba kinds) */
            if (a && kinds[k].ct != 4) {
                int ch = type_channels(kinds[k].ct), bps = kinds[k].bd / 8;
                long bad = 0;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int c = 0; c < ch; c++) {
                            const uint8_t *q = img + (size_t)y * rb + (size_t)((x * ch + c) * bps);
                            unsigned v = bps == 2 ? (unsigned)(q[0] << 8 | q[1]) : q[0];
                            bad += px(a, c, x, y) != v;
                        }
                CU_ASSERT_EQUAL(bad, 0);
            }
            aie_frame_unref(&a);
            aie_frame_unref(&b);
            aie_buf_free(&plain);
            aie_buf_free(&inter);
            free(img);
        }
}

static AieColor read_color_of(const Buf *extra, int color_type, AieRational *sar)
{
    uint8_t img[4 * 2] = {0};
    Spec s = {.w = 2, .h = 1, .bit_depth = 8, .color_type = color_type, .extra = extra};
    Buf png = {0};
    build_png(&png, &s, img);
    AieFrame *f = NULL;
    AieColor c = {-1, -1, -1, -1, -1};
    if (read_buf(&png, "color.png", &f) == 0 && f) {
        c = f->color;
        if (sar)
            *sar = f->sar;
    }
    aie_frame_unref(&f);
    aie_buf_free(&png);
    return c;
}

static int file_has_chunk(const char *path, const char *type)
{
    Buf b = {0};
    int found = 0;
    if (read_bytes(path, &b) == 0)
        for (size_t off = 8; off + 8 <= b.n;) {
            uint32_t len = (uint32_t)b.p[off] << 24 | (uint32_t)b.p[off + 1] << 16 |
                           (uint32_t)b.p[off + 2] << 8 | b.p[off + 3];
            if (!memcmp(b.p + off + 4, type, 4))
                found = 1;
            off += 12 + (size_t)len;
        }
    aie_buf_free(&b);
    return found;
}

static void test_color_metadata(void)
{
    /* no colour chunk: sRGB */
    AieColor c = read_color_of(NULL, 2, NULL);
    CU_ASSERT(c.range == 2 && c.matrix == 0 && c.primaries == 1 && c.transfer == 13);
    c = read_color_of(NULL, 0, NULL);
    CU_ASSERT(c.range == 2 && c.matrix == 2 && c.primaries == 1 && c.transfer == 13);

    Buf x = {0};
    uint8_t srgb = 0;
    put_chunk(&x, "sRGB", &srgb, 1);
    c = read_color_of(&x, 6, NULL);
    CU_ASSERT(c.primaries == 1 && c.transfer == 13 && c.matrix == 0);
    aie_buf_free(&x);

    uint8_t gama[4] = {0, 0, 0xb1, 0x8f}; /* 45455 */
    put_chunk(&x, "gAMA", gama, 4);
    c = read_color_of(&x, 2, NULL);
    CU_ASSERT(c.transfer == 4 && c.primaries == 2);
    aie_buf_free(&x);

    uint8_t cicp[4] = {9, 16, 0, 1};
    put_chunk(&x, "cICP", cicp, 4);
    put_chunk(&x, "gAMA", gama, 4);
    c = read_color_of(&x, 2, NULL);
    CU_ASSERT(c.primaries == 9 && c.transfer == 16 && c.range == 2 && c.matrix == 0);
    aie_buf_free(&x);

    /* an ICC profile we do not parse: unspecified (and never inflated) */
    uint8_t iccp[] = "prof\0\0garbage-not-zlib";
    put_chunk(&x, "iCCP", iccp, sizeof(iccp));
    c = read_color_of(&x, 2, NULL);
    CU_ASSERT(c.primaries == 2 && c.transfer == 2);
    aie_buf_free(&x);

    /* pHYs 9 x 8 pixels per unit: pixels are 8:9 wide */
    uint8_t phys[9] = {0, 0, 0, 9, 0, 0, 0, 8, 0};
    put_chunk(&x, "pHYs", phys, 9);
    AieRational sar = {0, 0};
    c = read_color_of(&x, 2, &sar);
    CU_ASSERT(sar.num == 8 && sar.den == 9);
    aie_buf_free(&x);

    /* writer: sRGB, cICP, gAMA, pHYs, read back */
    char err[AIE_ERRBUF_SIZE];
    const char *path = tests_tmp_path("meta.png");
    static const struct {
        int pri, trc, chunk_srgb, chunk_cicp, chunk_gama, rpri, rtrc;
    } cases[] = {
        {2, 2, 1, 0, 0, 1, 13},  {1, 13, 1, 0, 0, 1, 13}, {1, 2, 1, 0, 0, 1, 13},
        {9, 16, 0, 1, 0, 9, 16}, {1, 1, 0, 1, 0, 1, 1},   {2, 4, 0, 0, 1, 2, 4},
    };
    rng_seed(14);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        AieFrame *f = random_frame(AIE_LAYOUT_RGB, 16, 4, 4), *g = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        f->color.primaries = cases[i].pri;
        f->color.transfer = cases[i].trc;
        f->sar = (AieRational){4, 3};
        CU_ASSERT_EQUAL(aie_png_write_file(path, f, 16, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(file_has_chunk(path, "sRGB"), cases[i].chunk_srgb);
        CU_ASSERT_EQUAL(file_has_chunk(path, "cICP"), cases[i].chunk_cicp);
        CU_ASSERT_EQUAL(file_has_chunk(path, "gAMA"), cases[i].chunk_gama);
        CU_ASSERT_EQUAL(file_has_chunk(path, "pHYs"), 1);
        int ret;
        g = read_png(path, &ret);
        CU_ASSERT_EQUAL(ret, 0);
        if (g) {
            CU_ASSERT(g->color.primaries == cases[i].rpri && g->color.transfer == cases[i].rtrc);
            CU_ASSERT(g->sar.num == 4 && g->sar.den == 3);
        }
        aie_frame_unref(&f);
        aie_frame_unref(&g);
    }
}

/* Redirect stderr to a file to prove the library prints nothing. */
static int stderr_save = -1;

static void quiet_begin(void)
{
    fflush(stderr);
    stderr_save = dup(2);
    int fd = open(tests_tmp_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
}

static long quiet_end(void)
{
    fflush(stderr);
    if (stderr_save >= 0) {
        dup2(stderr_save, 2);
        close(stderr_save);
        stderr_save = -1;
    }
    struct stat st;
    return stat(tests_tmp_path("stderr.txt"), &st) == 0 ? (long)st.st_size : -1;
}

static Buf ihdr_only(uint32_t w, uint32_t h, int with_idat)
{
    Buf b = {0};
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                        8,                  6,                  0,                 0,
                        0};
    buf_put(&b, png_sig, 8);
    put_chunk(&b, "IHDR", ihdr, 13);
    if (with_idat) {
        uint8_t row[1] = {0};
        Buf z = {0};
        zlib_stored(&z, row, 1);
        put_chunk(&b, "IDAT", z.p, z.n);
        aie_buf_free(&z);
        put_chunk(&b, "IEND", NULL, 0);
    }
    return b;
}

/* Dimension bombs are refused from the IHDR, before any pixel allocation (a
 * 100000x100000 RGBA frame would need 40 GB, so any attempt would surface as
 * AIE_ENOMEM, not AIE_ETOOBIG); chunk-length bombs are refused without a
 * matching allocation. */
static void test_bomb(void)
{
    char err[AIE_ERRBUF_SIZE];
    static const uint32_t dims[][2] = {{100000, 100000}, {16385, 1}, {1, 16385},
                                       {0x7fffffff, 0x7fffffff}};
    quiet_begin();
    for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
        Buf b = ihdr_only(dims[i][0], dims[i][1], 1);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&b, "bomb.png", &f), AIE_ETOOBIG);
        CU_ASSERT_PTR_NULL(f);
        int w = -1;
        CU_ASSERT_EQUAL(aie_png_probe_file(tests_tmp_path("bomb.png"), &w, NULL, NULL, NULL, err,
                                           sizeof(err)),
                        AIE_ETOOBIG);
        CU_ASSERT(strstr(err, "16384") != NULL);
        aie_buf_free(&b);
    }

    /* 16384 wide is allowed */
    {
        size_t rb = png_rowbytes(16384, 8, 0);
        uint8_t *img = calloc(rb, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(img);
        img[16383] = 77;
        Spec s = {.w = 16384, .h = 1, .bit_depth = 8, .color_type = 0};
        Buf b = {0};
        build_png(&b, &s, img);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&b, "wide.png", &f), 0);
        CU_ASSERT(f && f->width == 16384 && px(f, 0, 16383, 0) == 77);
        aie_frame_unref(&f);
        aie_buf_free(&b);
        free(img);
    }

    /* chunks declaring ~2 GiB (text, ICC profile, unknown) in a small file */
    static const char *types[] = {"zTXt", "iCCP", "tEXt", "abCd", "IDAT"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        Buf b = ihdr_only(8, 8, 0);
        uint8_t junk[64] = {'k', 0, 0};
        put_chunk_len(&b, types[i], junk, sizeof(junk), 0x7ffffff0u);
        AieFrame *f = NULL;
        int ret = read_buf(&b, "chunkbomb.png", &f);
        CU_ASSERT_EQUAL(ret, AIE_ETRUNC);
        CU_ASSERT_PTR_NULL(f);
        aie_buf_free(&b);
    }

    /* a 2 MiB zTXt before IDAT is skipped and the image still reads */
    {
        Buf extra = {0};
        uint8_t *big = calloc(2u << 20, 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(big);
        memcpy(big, "Comment", 7);
        put_chunk(&extra, "zTXt", big, 2u << 20);
        uint8_t img[3 * 2] = {1, 2, 3, 4, 5, 6};
        Spec s = {.w = 2, .h = 1, .bit_depth = 8, .color_type = 2, .extra = &extra};
        Buf b = {0};
        build_png(&b, &s, img);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&b, "ztxt.png", &f), 0);
        CU_ASSERT(f && px(f, 2, 1, 0) == 6);
        aie_frame_unref(&f);
        aie_buf_free(&b);
        aie_buf_free(&extra);
        free(big);
    }
    CU_ASSERT_EQUAL(quiet_end(), 0);
}

/* Every prefix length class of a valid file fails cleanly, and so does a
 * damaged IDAT; nothing is printed. */
static void test_truncated(void)
{
    char err[AIE_ERRBUF_SIZE];
    rng_seed(15);
    AieFrame *src = random_frame(AIE_LAYOUT_RGBA, 8, 40, 40);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    const char *full = tests_tmp_path("full.png");
    CU_ASSERT_EQUAL_FATAL(aie_png_write_file(full, src, 8, err, sizeof(err)), 0);
    Buf b = {0};
    CU_ASSERT_EQUAL_FATAL(read_bytes(full, &b), 0);
    CU_ASSERT_FATAL(b.n > 200);
    size_t cuts[] = {1, 4, 7, 8, 12, 20, 32, 33, 40, 60, b.n / 3, b.n / 2, b.n - 100,
                     b.n - 13, b.n - 12, b.n - 5, b.n - 1};
    quiet_begin();
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        const char *path = tests_tmp_path("cut.png");
        CU_ASSERT_EQUAL_FATAL(write_bytes(path, b.p, cuts[i]), 0);
        AieFrame *f = NULL;
        int ret = aie_png_read_file(path, &f, err, sizeof(err));
        CU_ASSERT_EQUAL(ret, AIE_ETRUNC);
        CU_ASSERT_PTR_NULL(f);
        CU_ASSERT(err[0] != 0 && strchr(err, '\n') == NULL && !strstr(err, "cut.png"));
        aie_frame_unref(&f);
    }
    /* flip one byte inside the IDAT data: CRC or inflate error */
    for (size_t off = 60; off < b.n - 20; off += (b.n - 80) / 7) {
        Buf d = {0};
        buf_put(&d, b.p, b.n);
        d.p[off] ^= 0x5a;
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(read_buf(&d, "damaged.png", &f), AIE_ETRUNC);
        CU_ASSERT_PTR_NULL(f);
        aie_buf_free(&d);
    }
    CU_ASSERT_EQUAL(quiet_end(), 0);
    aie_buf_free(&b);
    aie_frame_unref(&src);
}

static void test_not_png(void)
{
    char err[AIE_ERRBUF_SIZE];
    const char *path = tests_tmp_path("text.png");
    static const char text[] = "this is not a PNG file, just some text\n";
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, text, sizeof(text) - 1), 0);
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL(aie_png_read_file(path, &f, err, sizeof(err)), AIE_EFORMAT);
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT_EQUAL(aie_png_probe_file(path, NULL, NULL, NULL, NULL, err, sizeof(err)),
                    AIE_EFORMAT);
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F'};
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, jpeg, sizeof(jpeg)), 0);
    CU_ASSERT_EQUAL(aie_png_read_file(path, &f, err, sizeof(err)), AIE_EFORMAT);

    CU_ASSERT(aie_png_is_png(png_sig, 8));
    CU_ASSERT(!aie_png_is_png(png_sig, 7));
    CU_ASSERT(!aie_png_is_png(jpeg, sizeof(jpeg)));
    CU_ASSERT(!aie_png_is_png(NULL, 0));
}

static void test_empty_and_open(void)
{
    char err[AIE_ERRBUF_SIZE];
    const char *path = tests_tmp_path("empty.png");
    CU_ASSERT_EQUAL_FATAL(write_bytes(path, NULL, 0), 0);
    AieFrame *f = NULL;
    int ret = aie_png_read_file(path, &f, err, sizeof(err));
    CU_ASSERT(ret < 0);
    CU_ASSERT_EQUAL(ret, AIE_ETRUNC);
    CU_ASSERT_PTR_NULL(f);

    ret = aie_png_read_file(tests_tmp_path("does-not-exist.png"), &f, err, sizeof(err));
    CU_ASSERT_EQUAL(ret, AIE_ENOENT);
    CU_ASSERT(strstr(err, "does-not-exist") == NULL);

    if (geteuid() != 0) { /* root ignores permissions */
        const char *locked = tests_tmp_path("locked.png");
        CU_ASSERT_EQUAL_FATAL(write_bytes(locked, png_sig, 8), 0);
        chmod(locked, 0);
        CU_ASSERT_EQUAL(aie_png_read_file(locked, &f, err, sizeof(err)), AIE_EACCES);
    }
}

static void test_write_errors(void)
{
    char err[AIE_ERRBUF_SIZE];
    AieFrame *yuv = NULL, *rgb = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&yuv, 8, 8, AIE_LAYOUT_YUV420, 8), 0);
    const char *path = tests_tmp_path("bad.png");
    CU_ASSERT_EQUAL(aie_png_write_file(path, yuv, 8, err, sizeof(err)), AIE_EINVAL);
    rng_seed(16);
    rgb = random_frame(AIE_LAYOUT_RGB, 8, 8, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rgb);
    CU_ASSERT_EQUAL(aie_png_write_file(path, rgb, 12, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_png_write_file(tests_tmp_path("no/such/dir.png"), rgb, 8, err,
                                       sizeof(err)),
                    AIE_ENOENT);
    if (access("/dev/full", W_OK) == 0) {
        AieFrame *big = random_frame(AIE_LAYOUT_RGB, 8, 300, 300);
        CU_ASSERT_PTR_NOT_NULL_FATAL(big);
        quiet_begin();
        CU_ASSERT_EQUAL(aie_png_write_file("/dev/full", big, 8, err, sizeof(err)), AIE_ENOSPC);
        CU_ASSERT_EQUAL(quiet_end(), 0);
        aie_frame_unref(&big);
    }
    aie_frame_unref(&yuv);
    aie_frame_unref(&rgb);
}

/* Two PNGs back to back in one stream read one after the other. */
static void test_stream(void)
{
    char err[AIE_ERRBUF_SIZE];
    rng_seed(17);
    AieFrame *a = random_frame(AIE_LAYOUT_RGBA, 16, 9, 4), *b = random_frame(AIE_LAYOUT_GRAY, 8, 5, 6);
    CU_ASSERT_FATAL(a && b);
    const char *path = tests_tmp_path("stream.bin");
    FILE *fp = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    CU_ASSERT_EQUAL(aie_png_write(fp, a, 16, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(aie_png_write(fp, b, 8, err, sizeof(err)), 0);
    fclose(fp);
    fp = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    AieFrame *ra = NULL, *rb = NULL, *rc = NULL;
    CU_ASSERT_EQUAL(aie_png_read(fp, &ra, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(aie_png_read(fp, &rb, err, sizeof(err)), 0);
    CU_ASSERT(aie_png_read(fp, &rc, err, sizeof(err)) < 0);
    fclose(fp);
    CU_ASSERT_EQUAL(frame_diff(a, ra), 0);
    CU_ASSERT_EQUAL(frame_diff(b, rb), 0);
    CU_ASSERT_PTR_NULL(rc);
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_frame_unref(&ra);
    aie_frame_unref(&rb);
}

/* Cross-check with ffmpeg: it decodes what we write, and we decode what it
 * writes (palette, interlaced), with identical pixels. */
static void test_ffmpeg_oracle(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("png/ffmpeg_oracle", "ffmpeg not found");
        return;
    }
    char err[AIE_ERRBUF_SIZE], out[2048];
    rng_seed(18);
    AieFrame *src = random_frame(AIE_LAYOUT_RGBA, 16, 23, 11);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    const char *ours = tests_tmp_path("ours.png"), *raw = tests_tmp_path("ours.raw");
    CU_ASSERT_EQUAL_FATAL(aie_png_write_file(ours, src, 16, err, sizeof(err)), 0);
    int st = tests_run(out, sizeof(out),
                       "ffmpeg -nostdin -v error -y -i '%s' -f rawvideo -pix_fmt rgba64le '%s'",
                       ours, raw);
    CU_ASSERT_EQUAL(st, 0);
    Buf b = {0};
    CU_ASSERT_EQUAL(read_bytes(raw, &b), 0);
    CU_ASSERT_EQUAL_FATAL(b.n, (size_t)23 * 11 * 8);
    long bad = 0;
    for (int y = 0; y < 11; y++)
        for (int x = 0; x < 23; x++)
            for (int c = 0; c < 4; c++) {
                const uint8_t *q = b.p + ((size_t)(y * 23 + x) * 4 + (size_t)c) * 2;
                bad += px(src, c, x, y) != (unsigned)(q[0] | q[1] << 8);
            }
    CU_ASSERT_EQUAL(bad, 0);
    aie_buf_free(&b);
    aie_frame_unref(&src);

    static const struct {
        const char *args, *fmt;
        AieLayout layout;
    } theirs[] = {
        {"-pix_fmt pal8", "rgb24", AIE_LAYOUT_RGB}, /* opaque: no tRNS */
        {"-pix_fmt rgb24 -flags +ildct", "rgb24", AIE_LAYOUT_RGB},
        {"-pix_fmt gray", "gray", AIE_LAYOUT_GRAY},
    };
    for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
        const char *png = tests_tmp_path("theirs.png"), *raw2 = tests_tmp_path("theirs.raw");
        st = tests_run(out, sizeof(out),
                       "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=38x20 -frames:v 1 "
                       "%s '%s' && ffmpeg -nostdin -v error -y -i '%s' -f rawvideo -pix_fmt %s '%s'",
                       theirs[i].args, png, png, theirs[i].fmt, raw2);
        CU_ASSERT_EQUAL(st, 0);
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL(aie_png_read_file(png, &f, err, sizeof(err)), 0);
        Buf r = {0};
        CU_ASSERT_EQUAL(read_bytes(raw2, &r), 0);
        if (f) {
            int ch = aie_layout_planes(f->layout);
            CU_ASSERT_EQUAL(f->layout, theirs[i].layout);
            CU_ASSERT_EQUAL_FATAL(r.n, (size_t)38 * 20 * (size_t)ch);
            bad = 0;
            for (int y = 0; y < 20; y++)
                for (int x = 0; x < 38; x++)
                    for (int c = 0; c < ch; c++)
                        bad += px(f, c, x, y) != r.p[(size_t)(y * 38 + x) * (size_t)ch + (size_t)c];
            CU_ASSERT_EQUAL(bad, 0);
        }
        aie_frame_unref(&f);
        aie_buf_free(&r);
    }
}

/* The fuzz seed corpus through the fuzz target's body (make check replays it). */
static void test_fuzz_corpus(void)
{
    char dir[1024], cmd[1200];
    snprintf(dir, sizeof(dir), "%s/testdata/fuzz/png", tests_src_dir());
    snprintf(cmd, sizeof(cmd), "ls %s", dir);
    FILE *ls = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ls);
    char name[512];
    int n = 0, bad = 0;
    static uint8_t data[1 << 20];
    while (fgets(name, sizeof(name), ls)) {
        name[strcspn(name, "\n")] = 0;
        char path[1600];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t len = fread(data, 1, sizeof(data), f);
        fclose(f);
        bad += png_fuzz_one(data, len);
        n++;
    }
    pclose(ls);
    CU_ASSERT(n >= 10);
    CU_ASSERT_EQUAL(bad, 0);
}

int test_png_register(void)
{
    CU_pSuite s = CU_add_suite("png", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "roundtrip_8", test_roundtrip_8) ||
        !CU_add_test(s, "roundtrip_16", test_roundtrip_16) ||
        !CU_add_test(s, "depth_conversion", test_depth_conversion) ||
        !CU_add_test(s, "palette", test_palette) ||
        !CU_add_test(s, "gray_alpha", test_gray_alpha) ||
        !CU_add_test(s, "interlaced", test_interlaced) ||
        !CU_add_test(s, "color_metadata", test_color_metadata) ||
        !CU_add_test(s, "bomb", test_bomb) || !CU_add_test(s, "truncated", test_truncated) ||
        !CU_add_test(s, "not_png", test_not_png) ||
        !CU_add_test(s, "empty_and_open", test_empty_and_open) ||
        !CU_add_test(s, "write_errors", test_write_errors) ||
        !CU_add_test(s, "stream", test_stream) ||
        !CU_add_test(s, "ffmpeg_oracle", test_ffmpeg_oracle) ||
        !CU_add_test(s, "fuzz_corpus", test_fuzz_corpus))
        return -1;
    return 0;
}
