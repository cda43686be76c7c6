/* The render dispatcher (files are written with aie_outfile_*, lib/fs). */
#include <stdio.h>

#include "aie/error.h"
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
