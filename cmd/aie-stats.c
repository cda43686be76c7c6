/* aie-stats: percentiles, bottlenecks and recommendations from metrics logs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aie/fs.h"
#include "aie/stats.h"
#include "cli.h"

enum {
    OPT_SINCE = 2000,
    OPT_UNTIL,
    OPT_BY,
    OPT_WHERE,
    OPT_TOP,
    OPT_JSON,
    OPT_CSV,
    OPT_PROM,
    OPT_PLOT,
    OPT_MAX_OPEN,
};

typedef struct Stats {
    Cli *cli;
    AieStatsOpts o;
    const char *since, *until, *output, *plot;
    char by_buf[256];
    AieStatsFormat fmt;
    int nfmt;
} Stats;

static const CliOpt opts[] = {
    {OPT_SINCE, "since", "TIME", "only records at or after TIME: 2026-11-22T10:00:00Z, 2026-11-22, or an age (90s, 30m, 24h, 7d, 2w)", NULL},
    {OPT_UNTIL, "until", "TIME", "only records before TIME (same forms)", NULL},
    {OPT_BY, "by", "KEY[,KEY]", "group by tool, method, model, host, res, batch, day or tag:NAME; none for one group", "tool"},
    {OPT_WHERE, "where", "KEY=VALUE", "keep records whose KEY is VALUE (KEY!=VALUE: is not); repeatable, all must hold", NULL},
    {OPT_TOP, "top", "N", "slowest runs, failures and incomplete runs listed per group (1-1000)", "5"},
    {OPT_JSON, "json", NULL, "print the report as JSON (schema 1, see aie-stats(1))", NULL},
    {OPT_CSV, "csv", NULL, "print one CSV row per group", NULL},
    {OPT_PROM, "prom", NULL, "print the Prometheus text format (for node_exporter's textfile collector)", NULL},
    {OPT_PLOT, "plot", "FILE", "also draw the plots to FILE, a .svg or .png", NULL},
    {'o', "output", "FILE", "write the report to FILE, atomically", "standard output"},
    {OPT_MAX_OPEN, "max-open-runs", "N", "runs without a run_end tracked at once (least recent forgotten)", "32768"},
    {0},
};

static void set_format(Stats *st, AieStatsFormat f)
{
    if (st->nfmt && st->fmt != f)
        cli_usage(st->cli, "--json, --csv and --prom exclude each other");
    st->fmt = f;
    st->nfmt = 1;
}

static int handle(void *ctx, int code, const char *arg)
{
    Stats *st = ctx;
    Cli *c = st->cli;
    switch (code) {
    case OPT_SINCE: st->since = arg; return 0;
    case OPT_UNTIL: st->until = arg; return 0;
    case OPT_BY: {
        if (strlen(arg) >= sizeof(st->by_buf))
            cli_usage(c, "--by: too long");
        snprintf(st->by_buf, sizeof(st->by_buf), "%s", arg);
        st->o.nby = 0;
        if (!strcmp(arg, "none") || !*arg)
            return 0;
        char *save = NULL;
        for (char *k = strtok_r(st->by_buf, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
            if (!aie_stats_key_valid(k))
                cli_usage(c, "--by: unknown key '%s' (tool, method, model, host, res, batch, day, tag:NAME)", k);
            if (st->o.nby == AIE_STATS_MAX_BY)
                cli_usage(c, "--by: at most %d keys", AIE_STATS_MAX_BY);
            for (int i = 0; i < st->o.nby; i++)
                if (!strcmp(st->o.by[i], k))
                    cli_usage(c, "--by: key '%s' given twice", k);
            st->o.by[st->o.nby++] = k;
        }
        return 0;
    }
    case OPT_WHERE: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg || (eq == arg + 1 && arg[0] == '!'))
            cli_usage(c, "--where: expected KEY=VALUE or KEY!=VALUE, not '%s'", arg);
        char key[80];
        size_t kl = (size_t)(eq - arg) - (eq[-1] == '!');
        if (kl >= sizeof(key))
            kl = sizeof(key) - 1;
        memcpy(key, arg, kl);
        key[kl] = 0;
        if (!aie_stats_key_valid(key))
            cli_usage(c, "--where: unknown key '%s' (tool, method, model, host, res, batch, day, tag:NAME)", key);
        if (st->o.nwhere == AIE_STATS_MAX_WHERE)
            cli_usage(c, "--where: at most %d filters", AIE_STATS_MAX_WHERE);
        st->o.where[st->o.nwhere++] = arg;
        return 0;
    }
    case OPT_TOP: st->o.top = cli_int(c, "--top", arg, 1, AIE_STATS_MAX_TOP); return 0;
    case OPT_JSON: set_format(st, AIE_STATS_JSON); return 0;
    case OPT_CSV: set_format(st, AIE_STATS_CSV); return 0;
    case OPT_PROM: set_format(st, AIE_STATS_PROM); return 0;
    case OPT_PLOT: {
        size_t n = strlen(arg);
        if (n < 5 || (strcasecmp(arg + n - 4, ".svg") && strcasecmp(arg + n - 4, ".png")))
            cli_usage(c, "--plot: '%s' must name a .svg or .png file", arg);
        st->plot = arg;
        return 0;
    }
    case 'o': st->output = arg; return 0;
    case OPT_MAX_OPEN: st->o.max_open_runs = cli_int(c, "--max-open-runs", arg, 1, 1 << 24); return 0;
    }
    return -1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One warning line per log for what it could not use. */
static void log_warnings(const Cli *c, const char *name, const AieStatsCounts *k)
{
    char msg[512];
    aie_stats_skipped_text(k, msg, sizeof(msg));
    if (msg[0])
        cli_warn(c, "%s: %s skipped", name, msg);
    if (k->unknown_version)
        cli_warn(c, "%s: %lld record%s of a schema version other than 1 skipped (this aie-stats reads v1)", name,
                 (long long)k->unknown_version, k->unknown_version == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    static Cli cli;
    static Stats st;
    st.cli = &cli;
    st.o.since_ms = INT64_MIN;
    st.o.until_ms = INT64_MAX;
    st.o.by[0] = "tool";
    st.o.nby = 1;
    cli.tool = "aie-stats";
    cli.purpose = "Summarise aie metrics logs: speed, where the time goes, failures, and what to change.";
    cli.usage_args = "[LOG...]";
    cli.features = 0;
    cli.opts = opts;
    cli.handle = handle;
    cli.tool_ctx = &st;
    cli_parse(&cli, argc, argv);

    int64_t now = now_ms();
    if (st.since && aie_stats_parse_time(st.since, now, &st.o.since_ms))
        cli_usage(&cli, "--since: '%s' is not a time (2026-11-22T10:00:00Z, 2026-11-22, 24h, 7d)", st.since);
    if (st.until && aie_stats_parse_time(st.until, now, &st.o.until_ms))
        cli_usage(&cli, "--until: '%s' is not a time (2026-11-22T10:00:00Z, 2026-11-22, 24h, 7d)", st.until);
    if (st.o.since_ms >= st.o.until_ms)
        cli_usage(&cli, "--since must come before --until");

    const char *deflt[1];
    char **logs = argv + optind;
    int nlogs = argc - optind;
    if (!nlogs) {
        if (!cli.metrics_path)
            cli_usage(&cli, "no log: give LOG (or - for standard input), or set AIE_METRICS");
        deflt[0] = cli.metrics_path;
        logs = (char **)deflt;
        nlogs = 1;
    }
    int stdin_logs = 0;
    for (int i = 0; i < nlogs; i++)
        stdin_logs += !strcmp(logs[i], "-");
    if (stdin_logs > 1)
        cli_usage(&cli, "standard input (-) can be read only once");

    st.o.cancel = &cli.cancel;
    char err[AIE_ERRBUF_SIZE] = "";
    AieStats *s = NULL;
    int rc = aie_stats_create(&s, &st.o, err, sizeof(err));
    if (rc == AIE_EINVAL)
        cli_usage(&cli, "%s", err[0] ? err : "bad options");
    if (rc) {
        cli_error(&cli, "%s", aie_strerror(rc));
        return EXIT_FAIL;
    }
    cli_signals_start(&cli, NULL);

    int status = EXIT_OK, readable = 0;
    long long t0 = aie_time_us();
    for (int i = 0; i < nlogs; i++) {
        err[0] = 0;
        rc = aie_stats_read_file(s, logs[i], err, sizeof(err));
        if (rc == AIE_ECANCELLED)
            goto cancelled;
        if (rc == AIE_ENOMEM) {
            cli_error(&cli, "%s", err[0] ? err : "out of memory");
            aie_stats_free(&s);
            return EXIT_FAIL;
        }
        if (rc) {
            cli_error(&cli, "%s", err[0] ? err : aie_strerror(rc));
            status = EXIT_FAIL;
            continue;
        }
        readable++;
        AieStatsCounts lc;
        aie_stats_log_counts(s, &lc);
        log_warnings(&cli, logs[i], &lc);
    }
    if (!readable) {
        aie_stats_free(&s);
        return EXIT_FAIL;
    }
    if ((rc = aie_stats_finish(s, now))) {
        cli_error(&cli, "%s", aie_strerror(rc));
        aie_stats_free(&s);
        return EXIT_FAIL;
    }
    AieStatsCounts c;
    aie_stats_counts(s, &c);
    if (cli.verbose) {
        double secs = (double)(aie_time_us() - t0) / 1e6;
        cli_info(&cli, "%lld lines, %lld records (%lld through json-c) in %.3f s: %.0f records/s", (long long)c.lines,
                 (long long)c.records, (long long)c.fallback, secs, secs > 0 ? (double)c.records / secs : 0);
        cli_info(&cli, "%lld used, %lld filtered out, %lld unknown fields ignored, %lld open runs forgotten",
                 (long long)c.used, (long long)c.filtered, (long long)c.unknown_fields, (long long)c.runs_forgotten);
    }
    if (c.runs_forgotten)
        cli_warn(&cli, "%lld runs without run_end were forgotten (more than %d open at once; --max-open-runs)",
                 (long long)c.runs_forgotten, st.o.max_open_runs ? st.o.max_open_runs : AIE_STATS_DEFAULT_OPEN_RUNS);

    err[0] = 0;
    rc = aie_stats_render_file(s, st.nfmt ? st.fmt : AIE_STATS_TEXT, st.output ? st.output : "-",
                               (const char *const *)logs, nlogs, err, sizeof(err));
    if (rc) {
        if (rc != AIE_EPIPE)
            cli_error(&cli, "%s", err[0] ? err : aie_strerror(rc));
        aie_stats_free(&s);
        return EXIT_FAIL;
    }
    if (st.plot) {
        err[0] = 0;
        size_t n = strlen(st.plot);
        if (n > 4 && !strcasecmp(st.plot + n - 4, ".png")) {
            AieFrame *img = NULL;
            if (!(rc = aie_stats_plot_image(s, &img)))
                rc = aie_image_write_png(st.plot, img, 8, err, sizeof(err));
            aie_frame_unref(&img);
        } else {
            rc = aie_stats_plot(s, st.plot, err, sizeof(err));
        }
        if (rc) {
            cli_error(&cli, "%s", err[0] ? err : aie_strerror(rc));
            status = EXIT_FAIL;
        }
    }
    aie_stats_free(&s);
    return cli_signal(&cli) ? cli_exit_code(&cli, 0) : status;
cancelled:
    aie_stats_free(&s);
    return cli_exit_code(&cli, AIE_ECANCELLED);
}
