/*
 * libFuzzer target for aie-stats' log reader: the fast scanner against json-c
 * (a line the scanner accepts must give exactly the record json-c gives), and
 * the whole path from bytes to every report format. Seed corpus:
 * testdata/fuzz/aie_stats_line/. tests/test_stats.c replays the corpus through
 * stats_fuzz_one() in make check.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
 *       tests/fuzz/fuzz_stats_line.c build/libaie.a $(pkg-config --libs ...) -o fuzz_stats_line
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/stats.h"
#include "stats/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the scanner and json-c disagree on a line */
static int stats_fuzz_one(const uint8_t *data, size_t size)
{
    static StatsRec a, b;
    static int init;
    int bad = 0;
    if (!init) {
        aie_rec_init(&a);
        aie_rec_init(&b);
        init = 1;
    }
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (aie_rec_scan(&a, p, n) == SCAN_OK) {
            int rc = aie_rec_parse_jsonc(&b, p, n);
            if (rc != 0 || aie_rec_compare(&a, &b) != 0)
                bad = 1;
        }
        aie_rec_release(&a);
        aie_rec_release(&b);
        p += n + 1;
    }
    /* the whole path, fed in two pieces, every format */
    AieStatsOpts o = {.since_ms = INT64_MIN, .until_ms = INT64_MAX, .by = {"tool", "host", "tag:shot"},
                      .nby = 3, .max_open_runs = 16};
    AieStats *s = NULL;
    if (aie_stats_create(&s, &o, NULL, 0))
        return bad;
    size_t half = size / 2;
    if (!aie_stats_feed(s, "fuzz", (const char *)data, half) &&
        !aie_stats_feed(s, "fuzz", (const char *)data + half, size - half) && !aie_stats_finish(s, 0)) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            for (int fmt = AIE_STATS_TEXT; fmt <= AIE_STATS_PROM; fmt++)
                aie_stats_render(s, (AieStatsFormat)fmt, f);
            fclose(f);
        }
        free(buf);
    }
    aie_stats_free(&s);
    return bad;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (stats_fuzz_one(data, size))
        abort();
    return 0;
}
