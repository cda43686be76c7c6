/* RAISR: least squares, hashing, bank files, the upscaler, aie-train and
 * aie-upscale -m raisr / -m auto. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/raisr.h"
#include "aie/scale.h"
#include "sr/raisr_internal.h"
#include "tests.h"

#define AIE_FUZZ_NO_MAIN
#include "fuzz/fuzz_raisrbank.c"
#include <dirent.h>

#define BIN tests_bin_dir()
#define T(name) tests_tmp_path(name)

static char out[16384];
#define run(...) tests_run(out, sizeof(out), __VA_ARGS__)

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

/* A smooth random 8-bit gray image: noise blurred a little, so every
 * structure-tensor bucket sees some samples. */
static AieFrame *smooth_noise(int w, int h)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, w, h, AIE_LAYOUT_GRAY, 8))
        return NULL;
    int *tmp = malloc(sizeof(int) * (size_t)(w * h));
    for (int i = 0; i < w * h; i++)
        tmp[i] = (int)(rnd() % 256);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int s = 0, n = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy, xx = x + dx;
                    if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
                        s += tmp[yy * w + xx];
                        n++;
                    }
                }
            f->data[0][y * f->stride[0] + x] = (uint8_t)(s / n);
        }
    free(tmp);
    return f;
}

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Least squares gets back a known filter: the target of every phase is a
 * known 7x7 kernel (DC gain 1, a different one per phase) applied to the
 * low-resolution neighbourhood, exactly as the upscaler reads it. */
static void test_recover_known_filter(void)
{
    const int r = 2, k = 7, h = 3, lw = 96, lh = 80;
    int K[4][49];
    for (int ph = 0; ph < 4; ph++) {
        int sum = 0;
        for (int i = 0; i < 49; i++) {
            K[ph][i] = (int)(rnd() % 321) - 160; /* -0.01 .. 0.01: targets never clip */
            sum += K[ph][i];
        }
        K[ph][24] += 16384 - sum;
    }
    AieRaisrTrainParams p = {.scale = r, .k = k, .lambda = 1e-9, .min_samples = 1, .no_symmetry = 1, .fit_clamped = 1};
    char err[256];
    AieRaisrTrainer *t = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_raisr_train_create(&t, &p, 1, aie_cpu_flags(), err, sizeof(err)), 0);
    for (int img = 0; img < 6; img++) {
        AieFrame *lr = smooth_noise(lw, lh), *hr = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(lr);
        for (int y = 0; y < lh; y++) /* 64 .. 191 */
            for (int x = 0; x < lw; x++)
                lr->data[0][y * lr->stride[0] + x] = (uint8_t)(64 + lr->data[0][y * lr->stride[0] + x] / 2);
        CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&hr, lw * r, lh * r, AIE_LAYOUT_GRAY, 14), 0);
        for (int cy = 0; cy < lh; cy++)
            for (int cx = 0; cx < lw; cx++)
                for (int ph = 0; ph < 4; ph++) {
                    long long acc = 0;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) {
                            int yy = clampi(cy - h + i, 0, lh - 1), xx = clampi(cx - h + j, 0, lw - 1);
                            acc += (long long)K[ph][i * k + j] * (lr->data[0][yy * lr->stride[0] + xx] << 6);
                        }
                    int v = (int)((acc + 8192) >> 14);
                    CU_ASSERT(v >= 0 && v <= 16383);
                    uint16_t *row = (uint16_t *)(void *)(hr->data[0] + (cy * r + ph / r) * hr->stride[0]);
                    row[cx * r + ph % r] = (uint16_t)v;
                }
        CU_ASSERT_EQUAL(aie_raisr_train_add_pair(t, lr, hr, NULL), 0);
        aie_frame_unref(&lr);
        aie_frame_unref(&hr);
    }
    CU_ASSERT_EQUAL(aie_raisr_train_samples(t), 6 * lw * lh);
    AieRaisrBank *b = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_raisr_train_finish(t, &b, err, sizeof(err)), 0);
    AieRaisrBankInfo bi;
    aie_raisr_bank_info(b, &bi);
    /* every bucket, trained or fallen back, holds K within 16/16384 (0.1%; the
     * targets are rounded to integers, and buckets with few samples are pulled
     * towards the per-phase filter) */
    int worst = 0;
    for (int bk = 0; bk < bi.buckets; bk++)
        for (int ph = 0; ph < 4; ph++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    int d = abs(aie_raisr_bank_weight(b, bk, ph, i, j) - K[ph][i * k + j]);
                    worst = d > worst ? d : worst;
                }
    CU_ASSERT(worst <= 16);
    if (worst > 16 || getenv("AIE_TEST_VERBOSE"))
        fprintf(stderr, "recovered filter off by %d/16384\n", worst);
    aie_raisr_bank_free(&b);
    aie_raisr_train_free(&t);
}

/* Ramps at known angles land in the expected angle, strength and coherence
 * bins; a flat picture in the weakest one. */
static void test_hash_bins(void)
{
    AieRaisrDSP dsp[2];
    aie_raisr_dsp_init(&dsp[0], 0);
    aie_raisr_dsp_init(&dsp[1], aie_cpu_flags());
    AieRaisrHashParams hp = {.nstrength = 3, .ncoherence = 3};
    aie_raisr_default_thresholds(3, 3, hp.strength_thr, hp.coherence_thr);
    const int w = 40, hh = 40;
    static const double angles[] = {3.75, 18.75, 48.75, 86.25, 108.75, 146.25, 176.25}; /* mid-sector */
    static const double slopes[] = {0.3, 5, 12}; /* l1 below, between and above 6000 and 60000 */
    for (int d = 0; d < 2; d++)
        for (size_t ai = 0; ai < sizeof(angles) / sizeof(angles[0]); ai++)
            for (int si = 0; si < 3; si++) {
                double th = angles[ai] * M_PI / 180, s = slopes[si];
                AieFrame *f = NULL;
                CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, w, hh, AIE_LAYOUT_GRAY, 8), 0);
                for (int y = 0; y < hh; y++)
                    for (int x = 0; x < w; x++)
                        f->data[0][y * f->stride[0] + x] =
                            (uint8_t)clampi((int)lround(128 + s * ((x - 20) * cos(th) + (y - 20) * sin(th))), 0, 255);
                RaisrRows rows;
                CU_ASSERT_EQUAL_FATAL(aie_raisr_rows_init(&rows, f->data[0], f->stride[0], w, hh, 8, 7, &dsp[d], &hp), 0);
                const int16_t *src[8];
                aie_raisr_rows_prepare(&rows, 20, src);
                int b = rows.bucket[20];
                int angle = b / 9, strength = b / 3 % 3, coherence = b % 3;
                /* twice the gradient angle, counted from -180 in 15-degree sectors */
                double phi = fmod(2 * angles[ai] + 180, 360);
                int want = (int)(phi / 15) % 24;
                if (si > 0) {
                    CU_ASSERT_EQUAL(angle, want);
                    CU_ASSERT_EQUAL(coherence, 2);
                }
                CU_ASSERT_EQUAL(strength, si == 0 ? 0 : si == 1 ? 1 : 2);
                if (si > 0 && angle != want)
                    fprintf(stderr, "angle %g: bin %d, expected %d\n", angles[ai], angle, want);
                aie_raisr_rows_free(&rows);
                aie_frame_unref(&f);
            }
    /* flat: weakest strength, lowest coherence */
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, w, hh, AIE_LAYOUT_GRAY, 8), 0);
    for (int y = 0; y < hh; y++)
        memset(f->data[0] + y * f->stride[0], 77, (size_t)w);
    RaisrRows rows;
    CU_ASSERT_EQUAL_FATAL(aie_raisr_rows_init(&rows, f->data[0], f->stride[0], w, hh, 8, 7, &dsp[1], &hp), 0);
    const int16_t *src[8];
    aie_raisr_rows_prepare(&rows, 10, src);
    CU_ASSERT_EQUAL(rows.bucket[10] % 9, 0);
    aie_raisr_rows_free(&rows);
    aie_frame_unref(&f);
}

static AieRaisrBank *small_bank(int scale, int threads_for_pool)
{
    AieRaisrTrainParams p = {.scale = scale, .min_samples = 20, .seed = 7, .noise = 1.0};
    snprintf(p.desc, sizeof(p.desc), "test bank");
    char err[256];
    AieRaisrTrainer *t = NULL;
    AiePool *pool = NULL;
    if (threads_for_pool && aie_pool_create(&pool, threads_for_pool))
        return NULL;
    if (aie_raisr_train_create(&t, &p, threads_for_pool + 1, aie_cpu_flags(), err, sizeof(err)))
        return NULL;
    rng = 99;
    for (int i = 0; i < 3; i++) {
        AieFrame *f = smooth_noise(120 + 8 * i, 90);
        if (aie_raisr_train_add(t, f, i, pool))
            fprintf(stderr, "train_add failed\n");
        aie_frame_unref(&f);
    }
    AieRaisrBank *b = NULL;
    if (aie_raisr_train_finish(t, &b, err, sizeof(err)))
        fprintf(stderr, "finish: %s\n", err);
    aie_raisr_train_free(&t);
    aie_pool_destroy(&pool);
    return b;
}

/* Save, load and serialise again: the same bytes. Threads do not change a
 * trained bank. */
static void test_bank_roundtrip(void)
{
    AieRaisrBank *a = small_bank(3, 0), *b = small_bank(3, 3), *c = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    uint8_t *da, *db, *dc;
    size_t na, nb, nc;
    CU_ASSERT_EQUAL_FATAL(aie_raisr_bank_serialize(a, &da, &na), 0);
    CU_ASSERT_EQUAL_FATAL(aie_raisr_bank_serialize(b, &db, &nb), 0);
    CU_ASSERT(na == nb && !memcmp(da, db, na)); /* 0 and 3 pool threads: identical */
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s", T("rt.bank"));
    CU_ASSERT_EQUAL_FATAL(aie_raisr_bank_save(a, path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(aie_raisr_bank_load(&c, path, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(aie_raisr_bank_serialize(c, &dc, &nc), 0);
    CU_ASSERT(na == nc && !memcmp(da, dc, na));
    AieRaisrBankInfo ia, ic;
    aie_raisr_bank_info(a, &ia);
    aie_raisr_bank_info(c, &ic);
    CU_ASSERT_EQUAL(ic.scale, 3);
    CU_ASSERT_EQUAL(ic.k, 7);
    CU_ASSERT_EQUAL(ic.buckets, 216);
    CU_ASSERT_EQUAL(ic.samples, ia.samples);
    CU_ASSERT_STRING_EQUAL(ic.desc, "test bank");
    CU_ASSERT_EQUAL(ic.file_size, na);
    for (int bk = 0; bk < 216; bk += 7)
        for (int ph = 0; ph < 9; ph++)
            CU_ASSERT_EQUAL(aie_raisr_bank_weight(a, bk, ph, 3, 3), aie_raisr_bank_weight(c, bk, ph, 3, 3));
    free(da);
    free(db);
    free(dc);
    aie_raisr_bank_free(&a);
    aie_raisr_bank_free(&b);
    aie_raisr_bank_free(&c);
}

/* Truncated, corrupt or foreign banks are refused with a reason. */
static void test_bad_banks(void)
{
    AieRaisrBank *a = small_bank(2, 0), *b = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    uint8_t *d;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(aie_raisr_bank_serialize(a, &d, &n), 0);
    char err[256];
    for (size_t cut = 0; cut < n; cut += 1 + cut / 3) {
        err[0] = 0;
        CU_ASSERT_EQUAL(aie_raisr_bank_parse(&b, d, cut, err, sizeof(err)), AIE_EINVAL);
        CU_ASSERT_PTR_NULL(b);
        CU_ASSERT(err[0] != 0);
    }
    CU_ASSERT_EQUAL(aie_raisr_bank_parse(&b, d, n - 1, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
    for (size_t pos = 0; pos < n; pos += 997) { /* any flipped byte: refused */
        d[pos] ^= 0x40;
        CU_ASSERT_EQUAL(aie_raisr_bank_parse(&b, d, n, err, sizeof(err)), AIE_EINVAL);
        d[pos] ^= 0x40;
    }
    CU_ASSERT_EQUAL(aie_raisr_bank_parse(&b, d, n, err, sizeof(err)), 0);
    aie_raisr_bank_free(&b);
    d[8] = 2; /* a newer version */
    CU_ASSERT_EQUAL(aie_raisr_bank_parse(&b, d, n, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "version 2"));
    /* from the command line: one line, exit 1, no output */
    char path[512];
    snprintf(path, sizeof(path), "%s", T("bad.bank"));
    d[8] = 1;
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite(d, 1, n / 2, f);
    fclose(f);
    char in[512];
    snprintf(in, sizeof(in), "%s", T("bb.y4m"));
    CU_ASSERT_EQUAL(run("printf 'YUV4MPEG2 W32 H32 F25:1 C420jpeg\\nFRAME\\n' > %s && head -c 1536 /dev/zero >> %s", in,
                        in), 0);
    CU_ASSERT_EQUAL(run("%s/aie-upscale --bank %s -i %s -o %s", BIN, path, in, T("never.y4m")), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "truncated filter bank"));
    CU_ASSERT_PTR_NULL(strchr(out, '\n') == out + strlen(out) - 1 ? NULL : strchr(out, '\n'));
    CU_ASSERT_EQUAL(run("test -e %s", T("never.y4m")), 1);
    CU_ASSERT_EQUAL(run("%s/aie-upscale --bank /nonexistent.bank -i %s -o %s", BIN, in, T("never.y4m")), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/nonexistent.bank"));
    CU_ASSERT_EQUAL(run("%s/aie-upscale --bank %s -i %s -o %s", BIN, tests_tmp_dir(), in, T("never.y4m")), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "directory"));
    free(d);
    aie_raisr_bank_free(&a);
}

/* The upscaler: 8- and 16-bit, every layout, output sizes other than the
 * bank's scale, the same output on every CPU level and thread count. */
static void test_upscaler_frames(void)
{
    AieRaisrBank *bank = NULL;
    if (aie_raisr_bank_builtin(&bank, 2)) {
        bank = small_bank(2, 0);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(bank);
    static const AieLayout layouts[] = {AIE_LAYOUT_YUV420, AIE_LAYOUT_YUV444, AIE_LAYOUT_GRAY, AIE_LAYOUT_RGBA};
    static const int depths[] = {8, 10, 16};
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
    for (size_t li = 0; li < 4; li++)
        for (size_t di = 0; di < 3; di++) {
            const int w = 46, h = 34, depth = depths[di];
            AieFrame *src = NULL;
            CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&src, w, h, layouts[li], depth), 0);
            for (int p = 0; p < src->nplanes; p++)
                for (int y = 0; y < src->plane_h[p]; y++)
                    for (int x = 0; x < src->plane_w[p]; x++) {
                        int v = (int)((x * 13 + y * 7 + (x * y) % 29 + p * 40) % 256);
                        if (depth > 8)
                            ((uint16_t *)(void *)(src->data[p] + y * src->stride[p]))[x] = (uint16_t)(v << (depth - 8));
                        else
                            src->data[p][y * src->stride[p] + x] = (uint8_t)v;
                    }
            const int sizes[2][2] = {{92, 68}, {70, 52}};
            for (int si = 0; si < 2; si++) {
                AieFrame *ref = NULL;
                for (int cfg = 0; cfg < 3; cfg++) {
                    unsigned flags = cfg == 0 ? 0 : aie_cpu_flags() & (cfg == 1 ? AIE_CPU_AVX2 | AIE_CPU_SSE41 : ~0u);
                    AieRaisrParams rp = {.src_w = w, .src_h = h, .dst_w = sizes[si][0], .dst_h = sizes[si][1],
                                         .layout = layouts[li], .depth = depth};
                    AieRaisrUpscaler *u = NULL;
                    CU_ASSERT_EQUAL_FATAL(aie_raisr_create(&u, bank, &rp, flags), 0);
                    AieFrame *dst = NULL;
                    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&dst, sizes[si][0], sizes[si][1], layouts[li], depth), 0);
                    CU_ASSERT_EQUAL(aie_raisr_upscale(u, src, dst, cfg == 2 ? pool : NULL), 0);
                    if (!ref) {
                        ref = dst;
                        /* in range, and not a copy of nothing */
                        int max = (1 << depth) - 1, nonzero = 0;
                        for (int y = 0; y < dst->plane_h[0]; y++)
                            for (int x = 0; x < dst->plane_w[0]; x++) {
                                int v = depth > 8 ? ((uint16_t *)(void *)(dst->data[0] + y * dst->stride[0]))[x]
                                                  : dst->data[0][y * dst->stride[0] + x];
                                CU_ASSERT(v >= 0 && v <= max);
                                nonzero += v != 0;
                            }
                        CU_ASSERT(nonzero > 0);
                    } else {
                        for (int p = 0; p < dst->nplanes; p++)
                            for (int y = 0; y < dst->plane_h[p]; y++)
                                CU_ASSERT(!memcmp(dst->data[p] + y * dst->stride[p], ref->data[p] + y * ref->stride[p],
                                                  (size_t)dst->plane_w[p] * (depth > 8 ? 2 : 1)));
                        aie_frame_unref(&dst);
                    }
                    aie_raisr_free(&u);
                }
                aie_frame_unref(&ref);
            }
            aie_frame_unref(&src);
        }
    aie_pool_destroy(&pool);
    aie_raisr_bank_free(&bank);
}

/* The built-in bank beats lanczos on a picture with edges and texture: the
 * picture is downscaled with bicubic and brought back both ways. */
static void test_builtin_beats_lanczos(void)
{
    AieRaisrBank *bank = NULL;
    if (aie_raisr_bank_builtin(&bank, 2)) {
        tests_skip("raisr builtin_beats_lanczos", "no built-in 2x bank (make bank)");
        return;
    }
    const int W = 256, H = 192;
    AieFrame *hr = NULL, *lr = NULL, *a = NULL, *b = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&hr, W, H, AIE_LAYOUT_GRAY, 8), 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double cx = x - 128.0, cy = y - 96.0, rr = sqrt(cx * cx + cy * cy);
            double v = 128 + 90 * sin(rr * rr / 900.0) * (rr < 90) + (x > 200 ? 40 : 0) + ((x / 9 + y / 9) & 1) * 20;
            hr->data[0][y * hr->stride[0] + x] = (uint8_t)clampi((int)v, 0, 255);
        }
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&lr, W / 2, H / 2, AIE_LAYOUT_GRAY, 8), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&a, W, H, AIE_LAYOUT_GRAY, 8), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&b, W, H, AIE_LAYOUT_GRAY, 8), 0);
    AieScaleParams dp = {.src_w = W, .src_h = H, .dst_w = W / 2, .dst_h = H / 2, .layout = AIE_LAYOUT_GRAY, .depth = 8,
                         .filter = AIE_FILTER_BICUBIC};
    AieScaler *down = NULL, *up = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_scaler_create(&down, &dp, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_scaler_scale(down, hr, lr, NULL), 0);
    AieScaleParams upp = {.src_w = W / 2, .src_h = H / 2, .dst_w = W, .dst_h = H, .layout = AIE_LAYOUT_GRAY, .depth = 8,
                          .filter = AIE_FILTER_LANCZOS};
    CU_ASSERT_EQUAL_FATAL(aie_scaler_create(&up, &upp, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_scaler_scale(up, lr, a, NULL), 0);
    AieRaisrParams rp = {.src_w = W / 2, .src_h = H / 2, .dst_w = W, .dst_h = H, .layout = AIE_LAYOUT_GRAY, .depth = 8};
    AieRaisrUpscaler *u = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_raisr_create(&u, bank, &rp, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_raisr_upscale(u, lr, b, NULL), 0);
    double sa = 0, sb = 0;
    for (int y = 8; y < H - 8; y++)
        for (int x = 8; x < W - 8; x++) {
            double t = hr->data[0][y * hr->stride[0] + x];
            sa += pow(a->data[0][y * a->stride[0] + x] - t, 2);
            sb += pow(b->data[0][y * b->stride[0] + x] - t, 2);
        }
    double n = (double)(W - 16) * (H - 16), pa = 10 * log10(255.0 * 255 * n / sa), pb = 10 * log10(255.0 * 255 * n / sb);
    CU_ASSERT(pb > pa + 0.1);
    if (!(pb > pa + 0.1))
        fprintf(stderr, "raisr %.2f dB vs lanczos %.2f dB\n", pb, pa);
    aie_raisr_free(&u);
    aie_scaler_free(&down);
    aie_scaler_free(&up);
    aie_frame_unref(&hr);
    aie_frame_unref(&lr);
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_raisr_bank_free(&bank);
}

/* aie-train: a bank from a folder, deterministic across -j, bad inputs
 * refused with one clear line and no output. */
static void test_train_cli(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("raisr train_cli", "ffmpeg is needed to make the training pictures");
        return;
    }
    char dir[512], b1[512], b2[512];
    snprintf(dir, sizeof(dir), "%s", T("train"));
    snprintf(b1, sizeof(b1), "%s", T("t1.bank"));
    snprintf(b2, sizeof(b2), "%s", T("t2.bank"));
    CU_ASSERT_EQUAL_FATAL(run("mkdir -p %s/sub && ffmpeg -v error -f lavfi -i mandelbrot=s=160x120 -frames:v 1 %s/a.png "
                              "&& ffmpeg -v error -f lavfi -i testsrc2=s=128x96 -frames:v 12 -pix_fmt yuv420p %s/sub/b.y4m",
                              dir, dir, dir), 0);
    CU_ASSERT_EQUAL(run("%s/aie-train -q -j1 -s 2 --every 4 -o %s %s", BIN, b1, dir), 0);
    CU_ASSERT_EQUAL(run("%s/aie-train -j3 -s 2 --every 4 -o %s %s", BIN, b2, dir), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2 files") == NULL ? strstr(out, "4 images") : strstr(out, "4 images"));
    CU_ASSERT_EQUAL(run("cmp %s %s", b1, b2), 0);
    /* the bank works */
    CU_ASSERT_EQUAL(run("%s/aie-upscale -q --bank %s -i %s/a.png -o %s && head -c 24 %s | od -An -tx1", BIN, b1, dir,
                        T("t.png"), T("t.png")), 0);
    /* a list file */
    CU_ASSERT_EQUAL(run("echo %s/a.png > %s && %s/aie-train -q -s 3 --list %s -o %s", dir, T("list.txt"), BIN,
                        T("list.txt"), T("t3.bank")), 0);
    /* empty folder */
    CU_ASSERT_EQUAL(run("mkdir -p %s && %s/aie-train -s 2 -o %s %s", T("empty"), BIN, T("e.bank"), T("empty")), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no images or videos found"));
    CU_ASSERT_EQUAL(run("test -e %s", T("e.bank")), 1);
    /* an unreadable file */
    CU_ASSERT_EQUAL(run("echo 'not a picture' > %s/zz.png && %s/aie-train -s 2 -o %s %s", dir, BIN, T("e.bank"), dir), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "zz.png"));
    CU_ASSERT_EQUAL(run("test -e %s", T("e.bank")), 1);
    CU_ASSERT_EQUAL(run("rm %s/zz.png", dir), 0);
    /* a picture smaller than the patch */
    CU_ASSERT_EQUAL(run("ffmpeg -v error -f lavfi -i color=red:s=12x12 -frames:v 1 %s && %s/aie-train -s 4 -o %s %s",
                        T("tiny.png"), BIN, T("e.bank"), T("tiny.png")), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "too small"));
    CU_ASSERT_EQUAL(run("test -e %s", T("e.bank")), 1);
    /* a missing input, and usage errors */
    CU_ASSERT_EQUAL(run("%s/aie-train -s 2 -o %s /nonexistent", BIN, T("e.bank")), 1);
    CU_ASSERT_EQUAL(run("%s/aie-train -s 5 -o %s %s", BIN, T("e.bank"), dir), 2);
    CU_ASSERT_EQUAL(run("%s/aie-train -s 2 %s", BIN, dir), 2);
    CU_ASSERT_EQUAL(run("%s/aie-train -s 2 --bins 9x3 -o %s %s", BIN, T("e.bank"), dir), 2);
}

/* aie-upscale -m raisr and -m auto on video; the choice in the metrics;
 * --list-models shows the banks. */
static void test_upscale_cli(void)
{
    char in[512], log[512];
    snprintf(in, sizeof(in), "%s", T("auto.y4m"));
    snprintf(log, sizeof(log), "%s", T("auto.jsonl"));
    FILE *f = fopen(in, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n");
    for (int k = 0; k < 3; k++) {
        fprintf(f, "FRAME\n");
        for (int i = 0; i < 64 * 48; i++)
            fputc(30 + (i * 7 + (i / 64) * 5 + k * 3) % 190, f);
        for (int i = 0; i < 2 * 32 * 24; i++)
            fputc(110 + i % 30, f);
    }
    fclose(f);
    AieRaisrBank *bank = NULL;
    int builtin = aie_raisr_bank_builtin(&bank, 2) == 0;
    aie_raisr_bank_free(&bank);
    if (builtin) {
        /* no CNN model: auto uses RAISR for video, and says so in the metrics */
        CU_ASSERT_EQUAL(run("AIE_MODEL_DIR= XDG_CACHE_HOME=/nonexistent HOME=/nonexistent %s/aie-upscale -q --metrics %s "
                            "-i %s -o %s && grep run_start %s", BIN, log, in, T("a.y4m"), log), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\":\"raisr\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"requested\":\"auto\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "raisr-x2 (built-in)"));
        /* an impossible budget: lanczos, with a warning (on 512x384: a 64x48
         * frame can calibrate above any budget the option takes) */
        char big[512];
        snprintf(big, sizeof(big), "%s", T("auto_big.y4m"));
        CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(big, "wb"));
        fprintf(f, "YUV4MPEG2 W512 H384 F25:1 Ip A1:1 C420jpeg\nFRAME\n");
        for (int i = 0; i < 512 * 384 * 3 / 2; i++)
            fputc(30 + (i * 7 + (i / 512) * 5) % 190, f);
        fclose(f);
        CU_ASSERT_EQUAL(run("AIE_MODEL_DIR= XDG_CACHE_HOME=/nonexistent HOME=/nonexistent %s/aie-upscale --budget-fps 99999 "
                            "--metrics %s -i %s -o %s && grep run_start %s | tail -1", BIN, log, big, T("b.y4m"), log), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "even lanczos"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\":\"lanczos\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "predicted_fps_raisr"));
        /* a generous budget keeps RAISR */
        CU_ASSERT_EQUAL(run("AIE_MODEL_DIR= XDG_CACHE_HOME=/nonexistent HOME=/nonexistent %s/aie-upscale -q --budget-fps 0.01 "
                            "--metrics %s -i %s -o %s && grep run_start %s | tail -1", BIN, log, in, T("c.y4m"), log), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\":\"raisr\""));
        /* -m raisr: 3x and a non-integer size, 8 and 10 bits, the same for every -j and --cpu */
        for (int s = 0; s < 2; s++) {
            const char *sz = s ? "--size 100x76" : "-s 3";
            CU_ASSERT_EQUAL(run("%s/aie-upscale -q -m raisr %s -j1 --cpu c -i %s -o %s && %s/aie-upscale -q -m raisr %s "
                                "-j3 -i %s -o %s && cmp %s %s && head -c 40 %s",
                                BIN, sz, in, T("r1.y4m"), BIN, sz, in, T("r2.y4m"), T("r1.y4m"), T("r2.y4m"),
                                T("r1.y4m")), 0);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, s ? "W100 H76" : "W192 H144"));
        }
        if (tests_have_ffmpeg()) {
            CU_ASSERT_EQUAL(run("ffmpeg -v error -y -i %s -pix_fmt yuv420p10le -f yuv4mpegpipe -strict -1 %s && "
                                "%s/aie-upscale -q -m raisr -i %s -o %s && ffprobe -v error -show_entries "
                                "stream=width,height,pix_fmt -of csv=p=0 %s",
                                in, T("in10.y4m"), BIN, T("in10.y4m"), T("o10.mkv"), T("o10.mkv")), 0);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "128,96,yuv420p10le"));
        }
        CU_ASSERT_EQUAL(run("AIE_MODEL_DIR= XDG_CACHE_HOME=/nonexistent HOME=/nonexistent %s/aie-upscale --list-models", BIN),
                        0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "raisr-x2"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "raisr-x4"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "built-in"));
    } else {
        tests_skip("raisr upscale_cli auto", "no built-in bank (make bank)");
    }
    /* dry run: the method asked, not a timing */
    CU_ASSERT_EQUAL(run("%s/aie-upscale --budget-fps 30 -i %s -o %s --dry-run --json", BIN, in, T("d.y4m")), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\": \"auto\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"budget_fps\": 30"));
    /* usage */
    CU_ASSERT_EQUAL(run("%s/aie-upscale -m lanczos --budget-fps 30 -i %s -o /dev/null", BIN, in), 2);
    CU_ASSERT_EQUAL(run("%s/aie-upscale -m cnn --bank x.bank -i %s -o /dev/null", BIN, in), 2);
    CU_ASSERT_EQUAL(run("%s/aie-upscale -m nosuch -i %s -o /dev/null", BIN, in), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "raisr"));
}

/* The fuzz corpus of the bank reader (regression inputs included). */
static void test_fuzz_corpus(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/testdata/fuzz/raisrbank", tests_src_dir());
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int files = 0, parsed = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        CU_ASSERT_EQUAL(raisrbank_fuzz_one(buf, n), 0);
        AieRaisrBank *b = NULL;
        char err[256];
        if (aie_raisr_bank_parse(&b, buf, n, err, sizeof(err)) == 0)
            parsed++;
        aie_raisr_bank_free(&b);
        files++;
    }
    closedir(d);
    CU_ASSERT(files >= 5);
    CU_ASSERT(parsed >= 3 && parsed < files); /* valid seeds and damaged ones */
}

int test_raisr_register(void)
{
    CU_pSuite s = CU_add_suite("raisr", NULL, NULL);
    if (!s || !CU_add_test(s, "recover_known_filter", test_recover_known_filter) ||
        !CU_add_test(s, "hash_bins", test_hash_bins) || !CU_add_test(s, "bank_roundtrip", test_bank_roundtrip) ||
        !CU_add_test(s, "bad_banks", test_bad_banks) || !CU_add_test(s, "upscaler_frames", test_upscaler_frames) ||
        !CU_add_test(s, "builtin_beats_lanczos", test_builtin_beats_lanczos) ||
        !CU_add_test(s, "train_cli", test_train_cli) || !CU_add_test(s, "upscale_cli", test_upscale_cli) ||
        !CU_add_test(s, "fuzz_corpus", test_fuzz_corpus))
        return -1;
    return 0;
}
