/* The render dispatcher (files are written with aie_outfile_*, lib/fs). */
#include <stdio.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "stats_internal.h"

int aie_stats_render(const AieStats *s, AieStatsFormat fmt, FILE *f)
{
    if (!s->finished)
        return AIE_EINVAL;
    switch (fmt) {
    case AIE_STATS_TEXT: return aie_stats_render_text(s, f);
    case AIE_STATS_JSON: return aie_stats_render_json(s, f);
    case AIE_STATS_CSV: return aie_stats_render_csv(s, f);
    case AIE_STATS_PROM: return aie_stats_render_prom(s, f);
    }
    return AIE_EINVAL;
}

int aie_stats_render_file(const AieStats *s, AieStatsFormat fmt, const char *path, const char *const *inputs,
                          int ninputs, char *err, size_t errlen)
{
    AieOutFile *out = NULL;
    FILE *f = NULL;
    int rc = aie_outfile_open(&out, path, inputs, ninputs, 0, &f, err, errlen);
    if (rc)
        return rc;
    rc = aie_stats_render(s, fmt, f);
    if (rc && !ferror(f)) {
        aie_outfile_abort(&out);
        return rc;
    }
    /* a write error is sticky: the commit fails too, naming the file and
     * the reason (quiet for a closed pipe), and removes the temp */
    int crc = aie_outfile_commit(&out, err, errlen);
    return crc ? crc : rc;
}

void aie_stats_skipped_text(const AieStatsCounts *k, char *buf, size_t n)
{
    const struct {
        int64_t v;
        const char *one, *many;
    } parts[] = {
        {k->torn, "torn line", "torn lines"},
        {k->garbage, "garbage line", "garbage lines"},
        {k->oversize, "line over 1 MiB", "lines over 1 MiB"},
        {k->invalid, "record without ts or event", "records without ts or event"},
        {k->unknown_event, "record of an unknown event", "records of unknown events"},
    };
    int total = 0, done = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        total += parts[i].v != 0;
    size_t o = 0;
    if (n)
        buf[0] = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && o < n; i++)
        if (parts[i].v) {
            o += (size_t)snprintf(buf + o, n - o, "%s%lld %s", done ? (done == total - 1 ? " and " : ", ") : "",
                                  (long long)parts[i].v, parts[i].v == 1 ? parts[i].one : parts[i].many);
            done++;
        }
}
