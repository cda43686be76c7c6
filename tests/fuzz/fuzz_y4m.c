/*
 * libFuzzer target for the frame reader (lib/io/reader.c) on y4m bytes, as
 * our code sees them through libavformat: open, read every frame, close.
 * The bytes go to a memfd opened by its /proc/self/fd path (nothing is
 * written to any file system); an input that does not start with the y4m
 * magic gets it put in front, so the probe picks the y4m demuxer. A reader
 * that opens must report a sane stream (size within AIE_MAX_DIM, a known
 * layout and depth), and every frame must have that size and format, with
 * every sample readable (ASan sees a short plane). Declared sizes beyond
 * AIE_MAX_DIM must be refused before anything that size is allocated (run
 * with -rss_limit_mb / -malloc_limit_mb). Frames with a range (--frames) are
 * read on every other input, picked by the input's size.
 * Seed corpus: testdata/fuzz/y4m/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define Y4M_FUZZ_MAX_FRAMES 64

static int y4m_write_all(int fd, const void *p, size_t n, off_t at)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t k = pwrite(fd, b, n, at);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
        at += k;
    }
    return 0;
}

/* 1 when a frame disagrees with the stream info */
static int y4m_check_frame(const AieVideoInfo *vi, const AieFrame *f)
{
    if (f->width != vi->width || f->height != vi->height || f->layout != vi->layout || f->depth != vi->depth ||
        f->nplanes < 1 || f->nplanes > 4)
        return 1;
    volatile unsigned sum = 0;
    for (int p = 0; p < f->nplanes; p++) {
        if (f->plane_w[p] < 1 || f->plane_h[p] < 1 || f->plane_w[p] > f->width || f->plane_h[p] > f->height)
            return 1;
        size_t n = (size_t)f->plane_w[p] * (size_t)aie_depth_bytes(f->depth);
        if ((size_t)f->stride[p] < n)
            return 1;
        for (int y = 0; y < f->plane_h[p]; y++) {
            const uint8_t *row = f->data[p] + y * f->stride[p];
            sum += row[0] + row[n - 1];
        }
    }
    (void)sum;
    return 0;
}

/* 0, or 1 when the reader contradicts itself */
static int y4m_fuzz_one(const uint8_t *data, size_t size)
{
    static const char magic[] = "YUV4MPEG2 ";
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("aie-fuzz-y4m", MFD_CLOEXEC)) < 0)
        return 0;
    size_t pre = size >= 9 && !memcmp(data, magic, 9) ? 0 : sizeof(magic) - 1;
    if (ftruncate(fd, 0) || (pre && y4m_write_all(fd, magic, pre, 0)) ||
        (size && y4m_write_all(fd, data, size, (off_t)pre)))
        return 0;
    char path[64], err[512];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    AieReaderOpts o = {.threads = 1, .first = 0, .last = -1};
    if (size & 1) {
        o.first = 1;
        o.last = 2;
    }
    AieReader *r = NULL;
    int e = aie_reader_open(&r, path, &o, err, sizeof(err));
    if (e)
        return r != NULL || e > 0 || !err[0];
    int bad = 0;
    const AieVideoInfo *vi = aie_reader_info(r);
    if (vi->width < 1 || vi->height < 1 || vi->width > AIE_MAX_DIM || vi->height > AIE_MAX_DIM ||
        vi->layout < 0 || vi->layout >= AIE_LAYOUT_COUNT ||
        !(vi->depth == 8 || vi->depth == 10 || vi->depth == 12 || vi->depth == 16))
        bad = 1;
    int64_t n = 0;
    while (!bad && n < Y4M_FUZZ_MAX_FRAMES) {
        AieFrame *f = NULL;
        e = aie_reader_read(r, &f);
        if (e) {
            /* an end, or an error with its reason */
            if (f || e > 0 || (e != AIE_EOF && !aie_reader_error(r)[0]))
                bad = 1;
            break;
        }
        if (!f || y4m_check_frame(vi, f) || f->index != n)
            bad = 1;
        aie_frame_unref(&f);
        n++;
    }
    if (!bad && o.last >= 0 && n > o.last - o.first + 1)
        bad = 1;
    aie_reader_close(&r);
    return bad;
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (y4m_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
